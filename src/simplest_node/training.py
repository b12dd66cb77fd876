"""``train``: run an optimizer from a whole vector of initializations at once."""

from dataclasses import dataclass

import numpy as np

from . import _checks
from .batch_training import BatchHistory
from .linear import LinearProblem

__all__ = ["History", "train"]


@dataclass
class History(BatchHistory):
    """What training did. ``a`` and ``loss`` have shape (n_iter + 1, len(a0)), row k after k steps.

    ``diverged_at[j]`` is the first iteration whose loss or parameter for entry j was not finite
    (-1 if never); from there on that entry is frozen: ``a`` keeps the value that diverged (inf in
    place of a NaN, from an update such as 0/0) and ``loss`` is inf.
    """

    a: np.ndarray
    loss: np.ndarray
    diverged_at: np.ndarray


def _fresh(values, shape):
    """``values`` as a new float array of ``shape`` (what np.where(all-True mask, values, ...) gives)."""
    if type(values) is np.ndarray and values.shape == shape and values.dtype == np.float64:
        return values.copy()
    return np.array(np.broadcast_to(np.asarray(values, dtype=float), shape))


def train(problem, optimizer, a0, n_iter):
    """Train every entry of the 1-D array ``a0`` for ``n_iter`` steps of ``optimizer`` on ``problem``.

    One array operation per iteration updates all entries; an entry whose loss or parameter stops
    being finite is frozen and reported in ``History.diverged_at``; no overflow warnings escape.
    ``problem`` is a ``LinearProblem``; ``optimizer`` has ``init(a)`` and ``update(problem, a,
    state, k)``. The work, n_iter x len(a0) x the optimizer's draws or trials per step
    (``batch_size``, ``max_backtracks + 1``), must stay within ``_checks.MAX_WORK``.

    The same iteration as ``batch_training.run_batched`` (which trains the matrix and nonlinear
    models), kept apart for what the scalar chapters rely on: the optimizer sees every entry at every
    step, diverged ones included, so a stochastic optimizer draws the same numbers whichever entries
    diverge; a diverged entry keeps the value that diverged; and the loop stores the iterates on a
    fast path with the unchecked ``LinearProblem`` methods, once per step.
    """
    check_training(problem, optimizer)
    a = _checks.finite_array("a0", a0)
    if a.ndim > 1:
        raise ValueError(f"a0 must be a scalar or a 1-D array, got shape {a.shape}")
    a = np.atleast_1d(a).copy()
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
    per_step = getattr(optimizer, "batch_size", 1) * (getattr(optimizer, "max_backtracks", 0) + 1)
    _checks.bounded_work("train", n_iter=n_iter + 1, entries=a.size, per_step=per_step)

    params = np.empty((n_iter + 1, a.size))
    losses = np.empty((n_iter + 1, a.size))
    diverged_at = np.full(a.size, -1)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        state = optimizer.init(a)
        params[0], losses[0] = a, problem._loss(a)
        active = np.isfinite(losses[0])
        diverged_at[~active] = 0
        all_active = bool(active.all())
        for k in range(1, n_iter + 1):
            proposal = optimizer.update(problem, a, state, k)
            if all_active:
                # Fast path while no entry has diverged: np.where(active, ...) would copy the
                # same values; the proposal is copied once so no optimizer state aliases it.
                a = _fresh(proposal, a.shape)
                loss = problem._loss(a)
                if np.isfinite(loss).all() and np.isfinite(a).all():
                    params[k], losses[k] = a, loss
                    continue
                all_active = False
                loss = _fresh(loss, a.shape)
            else:
                a = np.where(active, proposal, a)
                loss = np.where(active, problem._loss(a), np.inf)
            newly = active & ~(np.isfinite(loss) & np.isfinite(a))
            diverged_at[newly] = k
            a[newly & np.isnan(a)] = np.inf
            active &= ~newly
            loss[~active] = np.inf
            params[k], losses[k] = a, loss
    return History(a=params, loss=losses, diverged_at=diverged_at)


def check_training(problem, optimizer):
    """TypeError unless ``problem`` is a LinearProblem and ``optimizer`` has init and update."""
    if not isinstance(problem, LinearProblem):
        raise TypeError(f"problem must be a LinearProblem, got {type(problem).__name__}")
    _checks.optimizer("optimizer", optimizer)
