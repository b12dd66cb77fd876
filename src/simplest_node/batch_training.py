"""Many training runs of a model with array-valued parameters, advanced together.

Chapter 6 trains stacks of matrices (``matrix.train_matrix``) and of parameter pairs
(``nonlinear.train_nonlinear``) the same way: one optimizer step for every run still moving, a run
frozen once its loss falls below ``tol`` (to save work: with ``tol`` set a run's settling time is
its first hit by construction, so pass ``tol=None`` where a run might climb back) or once its loss or
parameters stop being finite (flagged in ``diverged_at``, its loss set to inf from then on). Their line-search variants
share ``backtrack``. Only ``BatchHistory`` is public: ``run_batched`` and ``backtrack`` are the trainers'
machinery, called with arguments the trainers have checked.
"""

import numpy as np

from . import _checks

__all__ = ["BatchHistory"]


class BatchHistory:
    """Mixin for training histories (``run_batched``'s and ``training.train``'s): ``loss`` has shape
    (n_iter + 1, n_runs) and ``diverged_at`` holds each run's first non-finite iteration, -1 if none."""

    @property
    def diverged(self):
        """Boolean mask of the runs that diverged."""
        return self.diverged_at >= 0

    def converged_at(self, tol):
        """Settling time per run: the first iteration k with loss < ``tol`` at k and at every later
        iteration to the end of the run, -1 where the last loss is not below ``tol``.

        This is what the book calls convergence. A run that dips below ``tol`` and climbs back
        counts from its last entry below ``tol``, not its first (see ``first_below``).
        """
        below = self.loss < _checks.positive_finite("tol", tol)
        # last iteration that is not below tol, per run; the run settles one step later
        above = ~below
        last_above = np.where(above.any(axis=0), below.shape[0] - 1 - above[::-1].argmax(axis=0), -1)
        return np.where(below[-1], last_above + 1, -1)

    def first_below(self, tol):
        """First iteration with loss < ``tol`` per run (a first hit), -1 where that never happens."""
        below = self.loss < _checks.positive_finite("tol", tol)
        return np.where(below.any(axis=0), below.argmax(axis=0), -1)


def run_batched(problem, optimizer, params, n_iter, tol=None, store=True):
    """Advance every run of ``params`` (n_runs, ...) by ``n_iter`` steps of ``optimizer``.

    ``optimizer.init(params)`` returns a state dict; entries that are arrays with a leading
    n_runs axis are per-run and are sliced to the moving runs before ``optimizer.update(problem,
    params[moving], state, k)``. Returns ``(history, losses, diverged_at)``: the parameters of
    every iteration (None unless ``store``), the losses (n_iter + 1, n_runs), and the first
    non-finite iteration of each run (-1 if never). Arguments are checked by the callers, with
    ``check_training``. The one loop for models trained through ``problem.loss`` and an optimizer
    (``train_matrix``, ``train_nonlinear``, ``troubleshooting.adjoint_training``); ``training.train``
    says why it keeps its own.
    """
    params = params.copy()
    n = params.shape[0]
    per_run = (n,) + (1,) * (params.ndim - 1)
    param_axes = tuple(range(1, params.ndim))
    losses = np.empty((n_iter + 1, n))
    history = np.empty((n_iter + 1,) + params.shape) if store else None
    diverged_at = np.full(n, -1)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        state = optimizer.init(params)
        losses[0] = problem.loss(params)
        if store:
            history[0] = params
        active = np.isfinite(losses[0]) & np.all(np.isfinite(params), axis=param_axes)
        diverged_at[~active] = 0
        losses[0, ~active] = np.inf  # as documented: a diverged run's loss is inf, never nan
        done = np.zeros(n, bool) if tol is None else losses[0] < tol
        for k in range(1, n_iter + 1):
            moving = active & ~done
            losses[k] = losses[k - 1]
            if moving.any():
                sub = {
                    key: (value[moving] if isinstance(value, np.ndarray) and value.shape[:1] == (n,) else value)
                    for key, value in state.items()
                }
                proposal = params.copy()
                proposal[moving] = optimizer.update(problem, params[moving], sub, k)
                for key, value in sub.items():
                    if isinstance(state[key], np.ndarray) and state[key].shape[:1] == (n,):
                        state[key][moving] = value
                    else:
                        state[key] = value
                finite = np.all(np.isfinite(proposal), axis=param_axes)
                loss = np.full(n, np.inf)
                evaluate = moving & finite  # the stack the next step asks for (models cache their map)
                loss[evaluate] = problem.loss(proposal[evaluate])
                ok = finite & np.isfinite(loss)
                newly = moving & ~ok
                diverged_at[newly] = k
                active &= ~newly
                step = moving & ok
                params = np.where(step.reshape(per_run), proposal, params)
                losses[k] = np.where(step, loss, losses[k])
                if tol is not None:
                    done |= step & (loss < tol)
            losses[k, ~active] = np.inf
            if store:
                history[k] = params
    return history, losses, diverged_at


def check_training(what, problem, problem_type, optimizer, n_iter, batch):
    """The argument checks ``train_matrix`` and ``train_nonlinear`` share: ``problem`` an instance of
    ``problem_type``, ``optimizer`` an object with ``init`` and ``update`` methods (the package's
    optimizers), ``n_iter`` an integer >= 0, and the work n_iter x ``batch`` within
    ``_checks.MAX_WORK``. Returns n_iter."""
    if not isinstance(problem, problem_type):
        raise TypeError(f"problem must be a {problem_type.__name__}, got {type(problem).__name__} {problem!r:.60}")
    _checks.optimizer("optimizer", optimizer)
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
    _checks.bounded_work(what, n_iter=n_iter, batch=batch)
    return n_iter


def backtrack(problem, params, direction, grad, lr, max_halvings=30, chunk=10):
    """Armijo backtracking along ``direction`` for every run of ``params`` (n_runs, ...) at once.

    The step is alpha = lr 2^-j for the smallest j with
    Loss(p + alpha D) <= Loss(p) + 1e-4 alpha <grad, D>; the trial steps are evaluated ``chunk`` at
    a time in one stacked call of ``problem.loss``. If no j < ``max_halvings`` passes
    (alpha < lr / 10^9), the run stays where it is (it stalls, it never diverges).
    """
    param_axes = tuple(range(1, params.ndim))
    per_run = (-1,) + (1,) * (params.ndim - 1)
    loss0 = problem.loss(params)
    slope = np.sum(grad * direction, axis=param_axes)  # < 0 for a descent direction
    alpha = np.zeros(loss0.shape)
    pending = np.isfinite(loss0) & np.isfinite(slope)
    for start in range(0, max_halvings, chunk):
        if not pending.any():
            break
        steps = lr * 0.5 ** np.arange(start, min(start + chunk, max_halvings))
        idx = np.flatnonzero(pending)
        trial = problem.loss(params[idx, None] + steps.reshape((1,) + per_run) * direction[idx, None])
        ok = np.isfinite(trial) & (trial <= loss0[idx, None] + 1e-4 * steps[None, :] * slope[idx, None])
        found = ok.any(axis=1)
        alpha[idx[found]] = steps[ok[found].argmax(axis=1)]
        pending[idx[found]] = False
    return params + alpha.reshape(per_run) * direction
