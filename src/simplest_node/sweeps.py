"""Optimizer sweeps: one training run over a whole grid of initializations (or learning rates).

Every sweep here is a single call of ``train`` on a vector of entries (initializations a0, or
learning rates, or independent SGD streams), so a grid costs one array operation per iteration.

* ``iterations_to_tolerance(problem, optimizer, a0, n_iter, tol)``: per a0, the settling time, the
  first iteration k with Loss(a_j) < tol for every j >= k to the end of the run (a run that dips
  below tol and climbs back has not converged there), and the outcome of every run that does not
  settle:

  - ``"diverged"``: the loss or the parameter overflowed (``History.diverged_at``);
  - ``"plateau"``: the run ended on the plateau, where the model's terminal spread is less than
    ``plateau_ratio`` times the data's, M(a)/e^{a* t} < plateau_ratio (for the exact flow
    a < a* + ln(plateau_ratio)/t): the gradient there is ~ t sigma^2 e^{a t} e^{a* t}, tiny;
  - ``"not converged"``: anything else (still moving, or bouncing around the minimum).

* ``gd_stability_limit(problem)``: the local stability limit of gradient descent at the minimum
  a_opt (a* for the exact flow, the solver's own optimum otherwise). Linearizing a <- a - lr Loss'(a)
  at a_opt gives u <- (1 - lr Loss''(a_opt)) u, stable iff 0 < lr < 2 / Loss''(a_opt), with
  Loss''(a_opt) = m2 M'(a_opt)^2 (the term with M(a_opt) - e^{a* t} vanishes); for the exact flow
  2 / (t^2 sigma^2 e^{2 a* t}) = 2 / (t^2 sigma_*^2), sigma_*^2 the terminal variance at a*.
* ``lr_stability_sweep(problem, lrs, offset, n_iter)``: gradient descent from a_opt + offset with
  one learning rate per entry; measures whether the distance to a_opt shrinks, and the contraction
  factor per step. ``stability_boundary`` refines the measured boundary by repeated sweeps.
* ``gd_overshoot_onset(problem, lr, ratio)``: the smallest a0 above the minimum from which one GD
  step lands on the plateau, a0 - lr Loss'(a0) <= a* + ln(ratio)/t (the divergence region's edge).
* ``gd_bound(problem, lr, a0)``: the bound of GD on the exact-flow loss, which never overflows:
  every iterate stays below M = max(a0, a* + lr sigma^2 t e^{2 a* t} / 4) and every loss below
  max(Loss(M), sigma^2 e^{2 a* t} / 2) (below a* the step is at most lr sigma^2 t e^{2 a* t} / 4,
  above a* it points down; below a* the loss is less than its plateau value sigma_*^2 / 2).
* ``GDPerEntry(lrs)`` and ``SGDPerEntry(lr, batch_size, seed)``: gradient descent with one learning
  rate per entry, and minibatch SGD with an independent stream of minibatches for every entry (so
  that many seeds train in one call; ``SGD`` shares one minibatch between entries).
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from . import _checks
from .gradients import discrete_optimum
from .linear import LinearProblem
from .optimizers import _grad, _sample_x0
from .training import History, check_training, train

__all__ = [
    "OUTCOMES",
    "Sweep",
    "iterations_to_tolerance",
    "GDPerEntry",
    "SGDPerEntry",
    "optimum",
    "gd_stability_limit",
    "StabilitySweep",
    "lr_stability_sweep",
    "stability_boundary",
    "gd_overshoot_onset",
    "gd_bound",
]

OUTCOMES = ("converged", "plateau", "not converged", "diverged")


@dataclass
class Sweep:
    """Result of ``iterations_to_tolerance``; arrays have one entry per initialization.

    ``iterations[j]`` is the settling time, the first k with Loss(a_i) < ``tol`` for every i >= k
    up to ``n_iter`` (-1 if the last loss is not below ``tol``; ``history.first_below(tol)`` gives
    the first hit instead),
    ``outcome[j]`` one of ``OUTCOMES``; ``history`` is the full training history.
    """

    a0: np.ndarray
    tol: float
    iterations: np.ndarray
    outcome: np.ndarray
    history: History

    @property
    def diverged(self):
        """Boolean mask of the runs whose loss or parameter overflowed."""
        return self.history.diverged

    @property
    def final_a(self):
        """The last iterate of every run (the last finite one for a run that diverged)."""
        h = self.history
        last = np.where(h.diverged, np.maximum(h.diverged_at - 1, 0), h.a.shape[0] - 1)
        return h.a[last, np.arange(h.a.shape[1])]

    def counts(self):
        """Number of runs with each outcome, as a dict in the order of ``OUTCOMES``."""
        return {name: int(np.sum(self.outcome == name)) for name in OUTCOMES}


def iterations_to_tolerance(problem, optimizer, a0, n_iter, tol=1e-8, plateau_ratio=0.1):
    """Train ``optimizer`` on ``problem`` from every entry of ``a0`` at once; see ``Sweep``.

    One ``train`` call; ``tol`` > 0 is the loss threshold and ``plateau_ratio`` in (0, 1) the ratio
    M(a)/e^{a* t} below which a run that did not converge is classified as stuck on the plateau.
    """
    check_training(problem, optimizer)
    tol = _checks.positive_finite("tol", tol)
    plateau_ratio = _checks.open_interval("plateau_ratio", plateau_ratio, 0.0, 1.0)
    a0 = _checks.finite_array("a0", a0)
    if a0.ndim != 1:
        raise ValueError(f"a0 must be a 1-D array of initializations, got shape {a0.shape}")
    history = train(problem, optimizer, a0, n_iter)
    iterations = history.converged_at(tol)
    sweep = Sweep(a0=a0, tol=tol, iterations=iterations, outcome=None, history=history)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ratio = problem._growth(sweep.final_a)[1] / problem.target()
    outcome = np.full(a0.size, "not converged", dtype=object)
    outcome[ratio < plateau_ratio] = "plateau"
    outcome[history.diverged] = "diverged"
    outcome[iterations >= 0] = "converged"
    sweep.outcome = outcome
    return sweep


class GDPerEntry:
    """Gradient descent with its own learning rate for each entry: a_j <- a_j - lrs_j Loss'(a_j)."""

    def __init__(self, lrs):
        lrs = _checks.finite_array("lrs", lrs)
        if lrs.ndim != 1 or np.any(lrs <= 0):
            raise ValueError("lrs must be a 1-D array of finite learning rates > 0")
        self.lrs = lrs

    def __repr__(self):
        return f"GDPerEntry({self.lrs.size} learning rates in [{self.lrs.min():g}, {self.lrs.max():g}])"

    def init(self, a):
        if np.shape(a) != self.lrs.shape:
            raise ValueError(f"a has shape {np.shape(a)}, but there are {self.lrs.size} learning rates")
        return {}

    def update(self, problem, a, state, k):
        return a - self.lrs * _grad(problem, a)


class SGDPerEntry:
    """Minibatch SGD with an independent minibatch of ``batch_size`` fresh x0 for every entry.

    Entry j's gradient is m2(B_jk) (M(a_j) - e^{a* t}) M'(a_j) with m2(B) the batch mean of x0^2:
    the exact gradient times the random factor m2(B_jk)/sigma^2 (mean 1, variance 2/batch_size for
    Gaussian x0). Entry j's stream of batches depends on ``seed`` only, not on the other entries.
    """

    def __init__(self, lr, batch_size, seed=0):
        self.lr = _checks.positive_finite("lr", lr)
        self.batch_size = _checks.positive_int("batch_size", batch_size, maximum=_checks.MAX_WORK)
        self.seed = _checks.seed("seed", seed)

    def __repr__(self):
        return f"SGDPerEntry(lr={self.lr}, batch_size={self.batch_size}, seed={self.seed})"

    def init(self, a):
        return {"rng": np.random.default_rng(self.seed)}

    def update(self, problem, a, state, k):
        batch = _sample_x0(problem, (np.size(a), self.batch_size), state["rng"])
        return a - self.lr * _grad(problem, a, x0=batch)


def _linear(problem):
    if not isinstance(problem, LinearProblem):
        raise TypeError(f"problem must be a LinearProblem, got {type(problem).__name__}")
    return problem


def optimum(problem):
    """The minimizer a_opt of the problem's loss: a* for the exact flow, the solver's optimum else."""
    if _linear(problem).method is None:
        return problem.a_star
    return float(discrete_optimum(problem.a_star, problem.t, problem.method, problem.n_steps))


def gd_stability_limit(problem):
    """2 / Loss''(a_opt) = 2 / (m2 M'(a_opt)^2): GD is locally stable at a_opt iff lr is below it.

    For the exact flow this is 2 / (t^2 sigma^2 e^{2 a* t}). Where Loss''(a_opt) overflows (a* t
    above ~354) the limit is below the smallest float and 0.0 is returned; where it underflows to 0,
    inf.
    """
    a_opt = optimum(problem)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        growth, derivative = problem._map_and_derivative(np.asarray(a_opt, dtype=float))
        m2 = problem._second_moment(a_opt) / growth**2
        if not (np.isfinite(m2) and m2 > 0):  # M(a_opt)^2 over- or underflowed: m2 itself
            m2 = problem._m2(None)
        return float(2.0 / (m2 * derivative**2))


@dataclass
class StabilitySweep:
    """Result of ``lr_stability_sweep``: per learning rate, stability and the contraction factor.

    ``factor[j]`` = (|a_n - a_opt| / |a_0 - a_opt|)^(1/n) over the n iterations (inf if diverged);
    near a_opt it approaches |1 - lr Loss''(a_opt)|. ``stable[j]``: the run did not diverge and
    every iterate of the second half stayed closer to a_opt than the start.
    """

    lrs: np.ndarray
    a_opt: float
    offset: float
    stable: np.ndarray
    factor: np.ndarray
    history: History

    @property
    def boundary(self):
        """(largest lr before the first unstable one, first unstable lr); nan where not bracketed."""
        unstable = np.flatnonzero(~self.stable)
        if unstable.size == 0 or unstable[0] == 0:
            return (np.nan, float(self.lrs[unstable[0]]) if unstable.size else np.nan)
        return float(self.lrs[unstable[0] - 1]), float(self.lrs[unstable[0]])


def lr_stability_sweep(problem, lrs, offset=1e-4, n_iter=200):
    """Gradient descent from a_opt + ``offset`` with every learning rate of the increasing ``lrs``.

    One ``train`` call with ``GDPerEntry``; see ``StabilitySweep``. ``offset`` (nonzero, small) sets
    how nonlinear the test is: the measured boundary tends to 2/Loss''(a_opt) as offset -> 0.
    """
    _linear(problem)
    lrs = _checks.finite_array("lrs", lrs)
    if lrs.ndim != 1 or np.any(lrs <= 0) or np.any(np.diff(lrs) <= 0):
        raise ValueError("lrs must be a 1-D increasing array of finite learning rates > 0")
    offset = _checks.finite("offset", offset)
    if offset == 0.0:
        raise ValueError("offset must be nonzero: from a_opt itself every learning rate stays put")
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=2)
    a_opt = optimum(problem)
    history = train(problem, GDPerEntry(lrs), np.full(lrs.size, a_opt + offset), n_iter)
    distance = np.abs(history.a - a_opt)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        factor = (distance[-1] / abs(offset)) ** (1.0 / n_iter)
    factor = np.where(history.diverged, np.inf, factor)
    stable = ~history.diverged & np.all(distance[n_iter // 2 :] < abs(offset), axis=0)
    return StabilitySweep(lrs=lrs, a_opt=a_opt, offset=offset, stable=stable, factor=factor, history=history)


def stability_boundary(problem, lr_low, lr_high, n_points=33, n_rounds=4, offset=1e-4, n_iter=200):
    """Bracket GD's measured stability boundary by ``n_rounds`` sweeps of ``n_points`` rates each.

    Starts from the bracket [lr_low, lr_high] (lr_low stable, lr_high unstable, else ValueError);
    each round sweeps a linear grid over the bracket and keeps the interval where stability is lost,
    shrinking it by a factor n_points - 1. Returns (low, high) with low stable and high unstable.
    Refining stops early once the grid over the bracket would repeat a float (the bracket is then
    as narrow as float spacing allows).
    """
    _linear(problem)
    lr_low = _checks.positive_finite("lr_low", lr_low)
    lr_high = _checks.positive_finite("lr_high", lr_high)
    if not lr_low < lr_high:
        raise ValueError(f"lr_low must be below lr_high, got {lr_low!r} and {lr_high!r}")
    n_points = _checks.positive_int("n_points", n_points, minimum=3, maximum=_checks.MAX_WORK)
    n_rounds = _checks.positive_int("n_rounds", n_rounds, maximum=_checks.MAX_WORK)
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=2)
    _checks.bounded_work("stability_boundary", n_rounds=n_rounds + 1, n_points=n_points, n_iter=n_iter)
    ends = lr_stability_sweep(problem, np.array([lr_low, lr_high]), offset, n_iter).stable
    if not ends[0] or ends[1]:
        raise ValueError(
            f"[lr_low, lr_high] = [{lr_low:g}, {lr_high:g}] does not bracket the boundary: "
            f"stable at the ends = {bool(ends[0])}, {bool(ends[1])}"
        )
    low, high = lr_low, lr_high
    for _ in range(n_rounds):
        grid = np.linspace(low, high, n_points)
        if np.any(np.diff(grid) <= 0):  # narrower than float spacing: nothing left to refine
            break
        sweep = lr_stability_sweep(problem, grid, offset, n_iter)
        low, high = sweep.boundary
    return low, high


def gd_overshoot_onset(problem, lr, ratio=0.1, a_max=None):
    """The smallest a0 > a_opt whose first GD step lands on the plateau (exact-flow problems).

    Solves a0 - lr Loss'(a0) = a* + ln(ratio)/t for the first root above a_opt (scanned on a grid
    up to ``a_max``, default a* + 20/t, then refined with Brent's method). Above a*, Loss' grows like
    sigma^2 t e^{2 a0 t}, so the step overshoots once lr sigma^2 t e^{2 a0 t} exceeds the distance to
    the plateau. Returns inf if no a0 up to ``a_max`` overshoots that far.
    """
    if _linear(problem).method is not None:
        raise ValueError("gd_overshoot_onset is for the exact flow: pass a LinearProblem with method=None")
    lr = _checks.positive_finite("lr", lr)
    ratio = _checks.open_interval("ratio", ratio, 0.0, 1.0)
    a_star, t = problem.a_star, problem.t
    a_max = a_star + 20.0 / t if a_max is None else _checks.finite("a_max", a_max)
    if not a_max > a_star:
        raise ValueError(f"a_max must lie above a* = {a_star:g}, got {a_max!r}")
    edge = a_star + np.log(ratio) / t

    def gap(a0):
        with np.errstate(over="ignore", invalid="ignore"):
            return a0 - lr * problem._grad(np.asarray(a0, dtype=float)) - edge

    grid = np.linspace(a_star, a_max, 4001)
    values = gap(grid)
    below = np.flatnonzero(~(values > 0))  # non-finite values count as landing below
    if below.size == 0:
        return np.inf
    j = below[0]
    if not np.isfinite(values[j]):
        return float(grid[j])
    return float(brentq(gap, grid[j - 1], grid[j], xtol=1e-13))


def gd_bound(problem, lr, a0):
    """(M, loss bound): GD on the exact-flow loss from ``a0`` with rate ``lr`` never leaves them.

    Every iterate satisfies a_k <= M = max(a0, a* + lr sigma^2 t e^{2 a* t} / 4) and every loss
    Loss(a_k) <= max(Loss(M), sigma^2 e^{2 a* t} / 2). Both terms are needed: from below a* the
    loss can exceed Loss(M) (it is at most the plateau value sigma^2 e^{2 a* t} / 2 there), and
    from high above a* Loss(M) = Loss(a0) is the larger. ``a0`` may be an array (one bound each).
    Either may be inf where it overflows.
    """
    if _linear(problem).method is not None:
        raise ValueError("gd_bound is for the exact flow: pass a LinearProblem with method=None")
    lr = _checks.positive_finite("lr", lr)
    a0 = _checks.finite_array("a0", a0)
    a_star, t = problem.a_star, problem.t
    with np.errstate(over="ignore", invalid="ignore"):
        plateau = problem.sigma**2 * np.exp(2.0 * a_star * t) / 2.0
        top = np.maximum(a0, a_star + lr * plateau * t / 2.0)
        bound = np.maximum(problem._loss(top), plateau)
    if top.ndim == 0:
        return float(top), float(bound)
    return top, bound
