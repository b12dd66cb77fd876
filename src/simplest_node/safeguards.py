"""Safeguarded variance-corrected rules: the same direction, a step that cannot overshoot.

The variance-corrected rule (``VarianceCorrected``) steps along the preconditioned direction

    d(a) = -Loss'(a) / (t^2 sigma_a^2(t)),   sigma_a^2(t) = E[x_a(t)^2],

which for the exact flow is d(a) = -(1/t)(1 - e^{(a* - a) t}), with a_{k+1} = a_k + lr d(a_k).
Far below a* the factor e^{(a* - a) t} is huge and one step throws a far above a* (from a0 = -5,
a* = t = 1, lr = 1/2 the loss jumps to about 1e170; from a0 = -10 the next e^{2 a t} overflows).
The two optimizers here keep the direction and limit the step; both have the interface of the
optimizers in ``simplest_node.optimizers`` (``init(a)``, ``update(problem, a, state, k)``), are
elementwise in ``a`` and never use a*:

* ``VarianceCorrectedClipped(lr, max_step)``: a <- a + clip(lr d(a), -max_step/t, max_step/t),
  so the model's terminal state changes by at most a factor e^{max_step} per step.
* ``VarianceCorrectedLineSearch(lr, shrink, c, max_backtracks)``: backtracking (Armijo) on the
  loss: the step alpha d with alpha = lr, lr shrink, lr shrink^2, ... is the first that satisfies

      Loss(a + alpha d) <= Loss(a) + c alpha Loss'(a) d = (1 - 2 c alpha) Loss(a)

  (the last equality holds for the exact flow, where Loss'(a) d = -2 Loss(a)). Near a* the full
  step alpha = lr is accepted (for lr <= 2 (1 - c)), so the rule then IS the variance-corrected rule
  and keeps its contraction (1 - lr)^2 per step; every accepted step decreases the loss.
"""

import numpy as np
from scipy.optimize import brentq

from . import _checks
from .linear import LinearProblem
from .optimizers import _grad, _loss, _second_moment
from .runge_kutta import STABILITY_POLYNOMIALS

__all__ = [
    "variance_corrected_direction",
    "overshoot_threshold",
    "VarianceCorrectedClipped",
    "VarianceCorrectedLineSearch",
]


def variance_corrected_direction(problem, a):
    """d(a) = -Loss'(a) / (t^2 E[x_a(t)^2]): the variance-corrected rule's step for lr = 1.

    For the exact flow d(a) = -(1/t)(1 - e^{(a* - a) t}), which is also the Gauss-Newton step for
    the residual e^{a t} - e^{a* t}. Elementwise in ``a``. Where the quotient overflows (inf/inf,
    0/0 far from a*) the direction is written as -(1 - e^{a* t}/M(a)) (M'(a)/M(a)) / t^2 instead
    (for the exact flow -(1/t)(1 - e^{(a* - a) t})): a finite value or inf, never NaN.
    """
    if not isinstance(problem, LinearProblem):
        raise TypeError(f"problem must be a LinearProblem, got {type(problem).__name__}")
    a = _checks.finite_array("a", a)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        d = _direction(problem, a)
        nan = np.isnan(d)
        if np.any(nan):
            if problem.method is None:
                other = -(1.0 - np.exp((problem.a_star - a) * problem.t)) / problem.t
            else:
                h, n = problem.t / problem.n_steps, problem.n_steps
                growth, derivative = problem._map_and_derivative(a)
                log_slope = derivative / growth  # M'/M = n h R'(z)/R(z), ~ n h p / z for large |z|
                degree = len(STABILITY_POLYNOMIALS[problem.method]) - 1
                log_slope = np.where(np.isnan(log_slope), n * h * degree / (a * h), log_slope)
                other = -(1.0 - problem.target() / growth) * log_slope / problem.t**2
            d = np.where(nan, np.where(np.isnan(other), 0.0, other), d)
        return d


def _direction(problem, a):
    """``variance_corrected_direction`` without checks or the overflow rewrite (the optimizers' step)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return -_grad(problem, a) / (problem.t**2 * _second_moment(problem, a))


def overshoot_threshold(lr):
    """The scaled offset x_c < 0 below which one plain variance-corrected step increases the exact-flow loss.

    Write x = delta t for the scaled offset, delta = a - a* (the book's notation; u = e^x is the
    growth ratio). The plain rule is x <- x + lr (e^{-x} - 1) and the loss is proportional to
    (e^x - 1)^2, whatever t and sigma. For 0 < lr <= 1 a step from x >= 0 never increases the loss,
    and a step from x < 0 increases it exactly when x < x_c, the root of

        |e^{x + lr (e^{-x} - 1)} - 1| = 1 - e^x    on x < 0,

    which this returns (the chapter's delta_c(lr), the threshold at t = 1). So the loss decreases
    monotonically from a0 iff a0 >= a* + x_c / t. Needs 0 < lr <= 1.
    """
    lr = _checks.positive_finite("lr", lr)
    if lr > 1.0:
        raise ValueError(f"lr must lie in (0, 1] for overshoot_threshold, got {lr!r}")

    def log_distance(x):
        # log|e^x - 1|, accurate also where e^x is tiny (log1p) or huge (x itself)
        if x < 0.0:
            return np.log1p(-np.exp(x))
        return x + np.log(-np.expm1(-x)) if x > 0.0 else -np.inf

    def excess(x):
        # log of the one-step loss ratio, > 0 iff the loss increases; the step lr (e^{-x} - 1) is
        # formed in logs, so that even lr = 1e-300 (root near x = -690) needs no overflowing number
        log_step = np.log(lr) - x + np.log1p(-np.exp(x))
        if log_step > 700.0:  # the step is astronomically large: so is the loss ratio
            return log_step
        return log_distance(x + np.exp(log_step)) - log_distance(x)

    # On [log lr, 0) the loss decreases (see the chapter), so the root lies below min(log lr, -1e-3).
    high = min(float(np.log(lr)), -1e-3)
    width = 1.0
    while excess(high - width) <= 0.0:
        width *= 2.0
    return float(brentq(excess, high - width, high, xtol=1e-14, rtol=1e-14))


class VarianceCorrectedClipped:
    """The variance-corrected rule with its step clipped to |a_{k+1} - a_k| <= max_step / t."""

    def __init__(self, lr, max_step=1.0):
        self.lr = _checks.positive_finite("lr", lr)
        self.max_step = _checks.positive_finite("max_step", max_step)

    def __repr__(self):
        return f"VarianceCorrectedClipped(lr={self.lr}, max_step={self.max_step})"

    def init(self, a):
        return {}

    def update(self, problem, a, state, k):
        bound = self.max_step / problem.t
        with np.errstate(over="ignore", invalid="ignore"):
            return a + np.clip(self.lr * _direction(problem, a), -bound, bound)


class VarianceCorrectedLineSearch:
    """The variance-corrected direction with a backtracking (Armijo) line search on the loss.

    Trial steps alpha = lr shrink^j, j = 0, 1, ..., max_backtracks, each entry of ``a`` on its own;
    the first alpha with Loss(a + alpha d) <= Loss(a) + c alpha Loss'(a) d is taken. An entry for
    which no trial is accepted stays where it is. The state counts, per entry, the loss evaluations
    spent (``state["evaluations"]``, one per trial) and the steps that had to be shortened
    (``state["shortened"]``).
    """

    def __init__(self, lr, shrink=0.5, c=1e-4, max_backtracks=60):
        self.lr = _checks.positive_finite("lr", lr)
        self.shrink = _checks.open_interval("shrink", shrink, 0.0, 1.0)
        self.c = _checks.open_interval("c", c, 0.0, 0.5)
        self.max_backtracks = _checks.positive_int(
            "max_backtracks", max_backtracks, minimum=0, maximum=_checks.MAX_WORK
        )

    def __repr__(self):
        return (
            f"VarianceCorrectedLineSearch(lr={self.lr}, shrink={self.shrink}, c={self.c}, "
            f"max_backtracks={self.max_backtracks})"
        )

    def init(self, a):
        shape = np.shape(a)
        return {"evaluations": np.zeros(shape, dtype=int), "shortened": np.zeros(shape, dtype=int)}

    def update(self, problem, a, state, k):
        a = np.asarray(a, dtype=float)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss = _loss(problem, a)
            direction = _direction(problem, a)
            slope = _grad(problem, a) * direction  # directional derivative Loss'(a) d <= 0
            alpha = np.full(a.shape, self.lr)
            new = a.copy()
            pending = np.isfinite(direction) & np.isfinite(loss)
            for j in range(self.max_backtracks + 1):
                if not pending.any():
                    break
                trial = a + alpha * direction
                accept = pending & (_loss(problem, trial) <= loss + self.c * alpha * slope)
                state["evaluations"] += pending
                if j == 1:
                    state["shortened"] += pending
                new = np.where(accept, trial, new)
                pending &= ~accept
                alpha = alpha * self.shrink
        return new
