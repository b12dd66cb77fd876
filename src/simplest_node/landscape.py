"""The loss landscape of the simplest Neural ODE (exact flow), beyond what ``LinearProblem`` gives.

With x0 ~ N(0, sigma^2), data e^{a* t} x0 and the model's exact flow e^{a t} x0,

    Loss(a)   = sigma^2/2 (e^{a t} - e^{a* t})^2
    Loss'(a)  = sigma^2 t e^{a t} (e^{a t} - e^{a* t})
    Loss''(a) = sigma^2 t^2 e^{a t} (2 e^{a t} - e^{a* t})

Everything depends on a only through the *growth ratio* u = e^{(a - a*) t}, the model's terminal
standard deviation divided by the data's. With sigma_*^2 = sigma^2 e^{2 a* t} (the data's terminal
variance) and sigma_a^2(t) = sigma^2 e^{2 a t} = u^2 sigma_*^2 (the model's),

    Loss = sigma_*^2/2 (u - 1)^2,   Loss' = t sigma_*^2 u (u - 1),   |Loss'|^2 = 2 t^2 sigma_a^2(t) Loss.

So every landmark of the landscape sits at a = a* + ln(u_c)/t for a fixed ratio u_c:

* the plateau, u < eps (the model's terminal spread is below eps times the data's): the loss is
  within a factor (1 - eps)^2 of its limit sigma_*^2/2 (as a -> -inf; half the data's terminal
  second moment, not a maximum: the loss is unbounded on the wall) and |Loss'| < t sigma_*^2 eps;
* the concavity threshold u = 1/2, a = a* - ln(2)/t: Loss'' < 0 below it;
* the minimum u = 1, a = a*;
* the wall, u > wall (the model's terminal spread exceeds ``wall`` times the data's): the loss grows
  like e^{2 a t} and its gradient like t e^{2 a t}.

All landmarks approach a* like 1/t as the sampling interval t grows.
"""

import numpy as np

from . import _checks
from .linear import _LOG_MAX, LinearProblem, _scale

__all__ = [
    "growth_ratio",
    "landmark",
    "concavity_threshold",
    "plateau_edge",
    "wall_edge",
    "curvature",
    "classify",
    "gradient_identity_gap",
    "gradient_vs_t",
    "steepest_t",
    "gd_loss_ratio",
]

# The default ratios that define the plateau and the wall (model's terminal std / data's).
PLATEAU_RATIO = 0.1
WALL_RATIO = 10.0


def _problem(a_star, t, sigma):
    return LinearProblem(a_star=a_star, t=t, sigma=sigma)


def growth_ratio(a, a_star=1.0, t=1.0):
    """u = e^{(a - a*) t}: the model's terminal standard deviation divided by the data's."""
    p = _problem(a_star, t, 1.0)
    a = _checks.finite_array("a", a)
    with np.errstate(over="ignore"):
        return np.exp((a - p.a_star) * p.t)


def landmark(ratio, a_star=1.0, t=1.0):
    """The rate a = a* + ln(ratio)/t at which the growth ratio e^{(a - a*) t} equals ``ratio`` (> 0)."""
    ratio = _checks.positive_finite("ratio", ratio)
    p = _problem(a_star, t, 1.0)
    return p.a_star + np.log(ratio) / p.t


def concavity_threshold(a_star=1.0, t=1.0):
    """a* - ln(2)/t: the loss is concave (Loss'' < 0) below it and convex above it."""
    return landmark(0.5, a_star, t)


def plateau_edge(a_star=1.0, t=1.0, eps=PLATEAU_RATIO):
    """a* + ln(eps)/t: below it the model's terminal spread is less than eps times the data's.

    ``eps`` must lie in (0, 1/2) so that the plateau lies inside the concave region.
    """
    eps = _checks.positive_finite("eps", eps)
    if not eps < 0.5:
        raise ValueError(f"eps must lie in (0, 0.5), got {eps!r}")
    return landmark(eps, a_star, t)


def wall_edge(a_star=1.0, t=1.0, wall=WALL_RATIO):
    """a* + ln(wall)/t: above it the model's terminal spread exceeds ``wall`` (> 1) times the data's."""
    wall = _checks.positive_finite("wall", wall)
    if not wall > 1.0:
        raise ValueError(f"wall must be a finite number > 1, got {wall!r}")
    return landmark(wall, a_star, t)


def curvature(a, a_star=1.0, t=1.0, sigma=1.0):
    """Loss''(a) = sigma^2 t^2 e^{a t} (2 e^{a t} - e^{a* t}) (exact flow); inf where it overflows."""
    p = _problem(a_star, t, sigma)
    a = _checks.finite_array("a", a)
    with np.errstate(over="ignore", invalid="ignore"):
        growth = np.exp(a * p.t)
        return p.sigma**2 * p.t**2 * growth * (2 * growth - p.target())


def classify(a, a_star=1.0, t=1.0, eps=PLATEAU_RATIO, wall=WALL_RATIO):
    """Label each a: 'plateau' (a < plateau edge), 'concave' (up to a* - ln2/t), 'basin'
    (convex, below the wall edge) or 'wall' (a >= wall edge). Returns an array of strings."""
    a = _checks.finite_array("a", a)
    edges = [plateau_edge(a_star, t, eps), concavity_threshold(a_star, t), wall_edge(a_star, t, wall)]
    names = np.array(["plateau", "concave", "basin", "wall"])
    return names[np.searchsorted(edges, a, side="right")]


def gradient_identity_gap(a, a_star=1.0, t=1.0, sigma=1.0, x0=None):
    """Relative gap of the identity |Loss'|^2 = 2 t^2 sigma_a^2(t) Loss, evaluated numerically.

    Uses ``LinearProblem.grad``, ``.loss`` and ``.second_moment`` (with the batch ``x0`` if given,
    where the identity holds with the batch's second moment). Returns |lhs - rhs| / max(lhs, tiny);
    inf where a side overflows (the gap cannot be evaluated there).
    """
    p = _problem(a_star, t, sigma)
    a = _checks.finite_array("a", a)
    with np.errstate(over="ignore", invalid="ignore"):
        lhs = p.grad(a, x0) ** 2
        rhs = 2 * p.t**2 * p.second_moment(a, x0) * p.loss(a, x0)
        gap = np.abs(lhs - rhs) / np.maximum(lhs, np.finfo(float).tiny)
        return np.where(np.isfinite(lhs) & np.isfinite(rhs), gap, np.inf)


def gradient_vs_t(a, t, a_star=1.0, sigma=1.0):
    """|Loss'(a)| for a fixed rate(s) ``a`` over sampling intervals ``t`` (broadcast together).

    |Loss'(a; t)| = sigma^2 t e^{a t} |e^{a t} - e^{a* t}|. For small t it behaves like
    sigma^2 |a - a*| t^2; for large t like sigma^2 t e^{(a + max(a, a*)) t}.
    """
    a = _checks.finite_array("a", a)
    t = _checks.finite_array("t", t)
    if np.any(t < 1e-100) or np.any(t > 1e100):
        raise ValueError("t must contain only numbers in [1e-100, 1e100]")
    a_star = _checks.finite("a_star", a_star)
    with np.errstate(over="ignore", invalid="ignore"):
        too_large = np.any(a_star * t > _LOG_MAX)
    if too_large:
        raise ValueError(f"a_star * t must be at most {_LOG_MAX:g} for every t (else the data e^(a* t) overflow)")
    sigma = _scale("sigma", sigma)
    with np.errstate(over="ignore", invalid="ignore"):
        growth = np.exp(a * t)
        return sigma**2 * t * growth * np.abs(growth - np.exp(a_star * t))


def steepest_t(a, a_star=1.0, t_max=100.0, tol=1e-12):
    """The sampling interval t in (0, t_max] that maximizes |Loss'(a; t)| at fixed a < a*.

    Solves d/dt log|Loss'| = 1/t + a + (a* e^{a* t} - a e^{a t}) / (e^{a* t} - e^{a t}) = 0 by
    vectorized bisection. The derivative is positive near t = 0 and tends to a + a* as t grows, so
    an interior maximum exists exactly when a + a* < 0; elsewhere the result is ``t_max`` (the
    gradient keeps growing with t). Vectorized over ``a``; every entry must satisfy a < a*.
    """
    a = _checks.finite_array("a", a)
    a_star = _checks.finite("a_star", a_star)
    t_max = _checks.positive_finite("t_max", t_max)
    tol = _checks.positive_finite("tol", tol)
    if np.any(a >= a_star):
        raise ValueError("steepest_t needs every a < a_star (above a* the gradient grows with t)")

    def slope(t):
        # Written with d = a* - a > 0 and e^{-d t} to stay finite for large t.
        d = a_star - a
        decay = np.exp(-d * t)
        return 1 / t + a + (a_star - a * decay) / (1 - decay)

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        lo = np.zeros_like(a) + 1e-9 * t_max
        hi = np.zeros_like(a) + t_max
        interior = slope(hi) < 0
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            up = slope(mid) > 0
            lo = np.where(up, mid, lo)
            hi = np.where(up, hi, mid)
            if np.all(hi - lo < tol * np.maximum(1.0, hi)):
                break
        return np.where(interior, 0.5 * (lo + hi), t_max)


def gd_loss_ratio(a, lr, a_star=1.0, t=1.0, sigma=1.0):
    """The exact one-step loss ratio of gradient descent, Loss(a - lr Loss'(a)) / Loss(a) (exact flow).

    With u = e^{(a - a*) t} and eps = lr t^2 sigma_a^2(t) = lr t^2 sigma^2 e^{2 a t}, one step maps u to
    u e^{-w} with w = t lr Loss'(a) = eps (u - 1)/u, so the ratio is
    (u e^{-w} - 1)^2 / (u - 1)^2 = (1 + eps (e^{-w} - 1)/w)^2. It depends on a only through (eps, u)
    and expands as 1 - 2 eps + (2 - 1/u) eps^2 - (u - 1)(4u - 1)/(3u^2) eps^3 + O(eps^4): the
    first-order contraction 1 - 2 eps holds only for eps << 1 and eps << u. Written with expm1 and
    without dividing by u, so it stays accurate at the minimum (u = 1, where the ratio is
    (1 - eps)^2), for tiny steps and deep on the plateau; inf where the loss overflows.
    Vectorized over ``a`` and ``lr`` (broadcast together); every ``lr`` must be > 0.
    """
    a = _checks.finite_array("a", a)
    lr = _checks.finite_array("lr", lr)
    if np.any(lr <= 0):
        raise ValueError("lr must contain only finite numbers > 0")
    p = _problem(a_star, t, sigma)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        eps = lr * p.t**2 * p.second_moment(a)
        w = lr * p.t * p.grad_exact_flow(a)  # = eps (u - 1)/u = t (a_k - a_{k+1}), without dividing by u
        small = np.abs(w) < 1e-300
        factor = np.where(small, -1.0, np.expm1(-w) / np.where(small, 1.0, w))  # (e^{-w} - 1)/w, -1 at w = 0
        ratio = (1 + eps * factor) ** 2
        return np.where(np.isnan(ratio), np.inf, ratio)
