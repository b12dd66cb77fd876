"""Small experiments behind the troubleshooting chapter: each answers one question newcomers ask.

All of them use the linear model dx/dt = a x of ``LinearProblem`` (data from the exact flow, x0 ~ N(0,
sigma^2), compared at time t), except ``oscillator_fit``, which needs a complex rate.

* ``adjoint_training``: gradient descent on the discrete loss of a fixed-step solver, once with the exact
  gradient of the discretization (backpropagation through the solver) and once with the continuous
  adjoint solved by the same solver. For Euler with n steps the adjoint equals the backprop gradient
  times (1 + z) sum_{k<n} (1 - z^2)^k / n, z = a h: the two agree as h -> 0 but can have different
  zeros and opposite signs at a coarse step. ``adjoint_slope_ratio`` compares their slopes at the
  solver's optimum a_h (a ratio <= 0 makes a_h repelling for adjoint-driven descent).
* ``rescaled_problem`` / ``time_rescaling_runs``: t -> c t, a -> a / c leaves the loss unchanged,
  Loss_c(a / c) = Loss(a), but multiplies the gradient by c, so plain gradient descent with a
  learning rate lr in the new units is gradient descent with lr c^2 in the old ones.
* ``rk4_scalar_fit`` / ``oscillator_fit``: the rate a model learns when the data step is taken by one
  solver step of size h, i.e. the root z of R(z) = e^{lambda* h} nearest lambda* h, divided by h.
* ``precision_run``: loss and gradient of the RK4-discretized model computed entirely in float32 or
  float64 (state and forward-mode sensitivity), at many horizons.
* ``train_in_stages``: gradient descent that grows the horizon in stages (continuation in t), with the
  learning rate 1 / (t^2 E[y^2]) computed from the data at each stage.
* ``adaptive_cost``: function evaluations of ``scipy.integrate.solve_ivp`` on dx/dt = a x against a;
  ``real_stability_limit`` the step times rate at which an explicit method stops being stable.
* ``blow_up_solve``: ``solve_ivp`` (RK45) on dx/dt = x^2, whose solution 1 / (1/x0 - s) blows up at
  s = 1/x0: the accepted step collapses until it is below the spacing of floats and the solver stops.
* ``backsolve_run``: the continuous adjoint of dx/dt = A x, A = diag(slow, a), with the state
  reconstructed backwards from x(t) (backsolve) or taken from the forward solve (interpolated), against
  the exact gradient: the reconstruction multiplies the forward error in the fast coordinate by e^{|a| t}.
* ``implicit_midpoint_fit``: the rate the implicit midpoint rule learns from one data step.
"""

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.linalg import expm_frechet

from . import _checks
from .batch_training import run_batched
from .gradients import adjoint_gradient, backprop_gradient, discrete_optimum
from .linear import LinearProblem
from .optimizers import GD
from .runge_kutta import STABILITY_DERIVATIVES, STABILITY_POLYNOMIALS, polyval
from .training import train

__all__ = [
    "AdjointRun",
    "adjoint_training",
    "adjoint_slope_ratio",
    "euler_adjoint_ratio",
    "rescaled_problem",
    "time_rescaling_runs",
    "rk4_scalar_fit",
    "oscillator_fit",
    "PrecisionRun",
    "precision_run",
    "StagedRun",
    "train_in_stages",
    "adaptive_cost",
    "ADAPTIVE_METHODS",
    "RK45_STABILITY",
    "real_stability_limit",
    "BlowUpSolve",
    "blow_up_solve",
    "BacksolveRun",
    "backsolve_run",
    "implicit_midpoint_fit",
]

ADAPTIVE_METHODS = ("RK45", "RK23", "DOP853", "Radau", "BDF")
_MAX_EXPONENT = float(np.log(np.finfo(float).max))  # e^z overflows a double above this (709.78)
_MIN_RTOL = 100 * np.finfo(float).eps  # scipy's solve_ivp raises smaller rtol to this, with a warning


def _data_exponent(what, z):
    """Refuse data e^z that overflow a double: z = a* t (or a* h) must stay below 709.78."""
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.asarray(z, dtype=float)
    if not np.all(np.isfinite(z)) or np.any(z > _MAX_EXPONENT):
        raise ValueError(f"{what} is too large: e^({what}) overflows a double (it must stay below {_MAX_EXPONENT:.2f})")


def _rtol(value):
    rtol = _checks.positive_finite("rtol", value)
    if not _MIN_RTOL <= rtol <= 1.0:
        raise ValueError(f"rtol must lie in [{_MIN_RTOL:.3g}, 1] (scipy's solve_ivp floor), got {value!r}")
    return rtol


# --- adjoint vs backpropagation during training ---------------------------------------------------
@dataclass
class AdjointRun:
    """Two gradient-descent runs on the same discrete loss.

    ``a_backprop`` / ``a_adjoint`` and ``loss_backprop`` / ``loss_adjoint`` have shape
    (n_iter + 1, len(a0)); the loss is the discrete loss of the solver model. ``diverged_*[j]`` is the
    first iteration whose iterate or loss was not finite (-1 if never); from there the entry is
    frozen at its last finite iterate and its loss is inf. ``a_h`` is the solver's optimum, the zero
    of the discrete loss (None when the step is too coarse for the discrete loss to have a zero).
    """

    a_h: float
    a_backprop: np.ndarray
    a_adjoint: np.ndarray
    loss_backprop: np.ndarray
    loss_adjoint: np.ndarray
    diverged_backprop: np.ndarray
    diverged_adjoint: np.ndarray


def adjoint_training(a_star=2.0, t=1.0, n_steps=2, lr=0.05, a0=(3.0,), n_iter=200, method="euler"):
    """Gradient descent with the backprop gradient and with the continuous adjoint, side by side.

    Both runs minimize the discrete loss Loss_h(a) = sigma^2/2 (R(a h)^n - e^{a* t})^2 of ``n_steps``
    steps of ``method`` (sigma = 1). The backprop gradient is Loss_h'(a) exactly; the adjoint gradient
    integrates the adjoint system backwards with the same solver (``adjoint_gradient``). The work
    n_iter x n_steps x len(a0) is limited by ``_checks.MAX_WORK``.
    """
    _data_exponent("a_star * t", _checks.finite("a_star", a_star) * _checks.positive_finite("t", t))
    n_steps = _checks.positive_int("n_steps", n_steps)
    problem = LinearProblem(a_star=a_star, t=t, method=method, n_steps=n_steps)
    lr = _checks.positive_finite("lr", lr)
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
    a0 = np.atleast_1d(_checks.finite_array("a0", a0)).astype(float)
    if a0.ndim != 1:
        raise ValueError(f"a0 must be a scalar or a 1-D array, got shape {a0.shape}")
    _checks.bounded_work("adjoint_training", n_iter=n_iter + 1, n_steps=2 * problem.n_steps, batch=a0.size)
    try:
        a_h = float(discrete_optimum(problem.a_star, problem.t, method, problem.n_steps))
    except ValueError:
        a_h = None  # the step is too coarse for a zero of the discrete loss
    runs = [
        run_batched(problem, GD(lr, gradient=lambda a, g=g: g(problem, a, method, problem.n_steps)), a0, n_iter)
        for g in (backprop_gradient, adjoint_gradient)
    ]
    (ab, lb, db), (aa, la, da) = runs
    return AdjointRun(a_h, ab, aa, lb, la, db, da)


def euler_adjoint_ratio(z, n_steps):
    """Adjoint gradient over backprop gradient for n Euler steps of z = a h: (1 + z) sum_{k<n} (1 - z^2)^k / n.

    Per step the adjoint carries lambda back by (1 + z) but rebuilds x backwards by (1 - z) instead of
    1 / (1 + z); the ratio is 1 only for z = 0 and tends to 1 as h -> 0 at fixed a. ``z`` is finite
    (a number or an array); where the ratio overflows it is +-inf (the sign of its largest term).
    The work n_steps x z.size is limited by ``_checks.MAX_WORK``.
    """
    z = _checks.finite_array("z", z)
    n_steps = _checks.positive_int("n_steps", n_steps)
    _checks.bounded_work("euler_adjoint_ratio", n_steps=n_steps, batch=z.size)
    with np.errstate(over="ignore", invalid="ignore"):
        q = 1.0 - z**2
        out = (1.0 + z) * sum(q**k for k in range(n_steps)) / n_steps
        if not np.all(np.isfinite(out)):
            # |q| > 1 there: the last term (1 + z) q^(n-1) dominates and gives the sign
            sign = np.sign(1.0 + z) * np.sign(q) ** (n_steps - 1)
            out = np.where(np.isfinite(out), out, sign * np.inf)
    return out if out.ndim else float(out)


def adjoint_slope_ratio(a_star, t, n_steps, method="euler", rel_step=1e-6):
    """Slope of the adjoint gradient over slope of the backprop gradient at the solver's optimum a_h.

    Both gradients vanish at a_h; gradient descent converges to a_h for small learning rates only if
    the slope there is positive. A ratio <= 0 means adjoint-driven descent is repelled from a_h.
    Central differences with step ``rel_step`` max(1, |a_h|), rel_step in [1e-12, 0.1]; a ValueError
    if the backprop slope comes out 0 or not finite (no ratio then).
    """
    _data_exponent("a_star * t", _checks.finite("a_star", a_star) * _checks.positive_finite("t", t))
    n_steps = _checks.positive_int("n_steps", n_steps, maximum=_checks.MAX_WORK)
    problem = LinearProblem(a_star=a_star, t=t, method=method, n_steps=n_steps)
    rel_step = _checks.positive_finite("rel_step", rel_step)
    if not 1e-12 <= rel_step <= 0.1:
        raise ValueError(f"rel_step must lie in [1e-12, 0.1], got {rel_step!r}")
    a_h = float(discrete_optimum(problem.a_star, problem.t, method, problem.n_steps))
    d = rel_step * max(1.0, abs(a_h))
    pair = np.array([a_h - d, a_h + d])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        slope_b = np.diff(backprop_gradient(problem, pair, method, problem.n_steps))[0]
        slope_a = np.diff(adjoint_gradient(problem, pair, method, problem.n_steps))[0]
        ratio = slope_a / slope_b
    if not (np.isfinite(slope_b) and slope_b != 0 and np.isfinite(ratio)):
        raise ValueError(
            f"the backprop gradient's slope at a_h = {a_h!r} is {slope_b!r} for a_star = {a_star!r}, "
            f"t = {t!r}, n_steps = {n_steps}: no ratio (try a larger rel_step or t)"
        )
    return float(ratio)


# --- time rescaling ----------------------------------------------------------------------------------
def rescaled_problem(problem, c):
    """The same data measured in a time unit 1/c times as long: t -> c t, a* -> a* / c.

    The rescaled problem's loss at a / c equals ``problem``'s loss at a; its gradient there is
    ``problem``'s gradient times c (chain rule).
    """
    if not isinstance(problem, LinearProblem):
        raise TypeError(f"problem must be a LinearProblem, got {type(problem).__name__}")
    c = _checks.positive_finite("c", c)
    steps = {} if problem.method is None else {"method": problem.method, "n_steps": problem.n_steps}
    return LinearProblem(a_star=problem.a_star / c, t=problem.t * c, sigma=problem.sigma, **steps)


def time_rescaling_runs(c=2.0, lr=0.1, a0=-1.0, n_iter=100, a_star=1.0, t=1.0):
    """Plain gradient descent with the same ``lr`` in the original and in the rescaled time unit.

    Returns ``(original, rescaled)`` Histories; the rescaled run starts at a0 / c, and its iterates
    times c are those of gradient descent in the original unit with learning rate lr c^2.
    """
    a0 = _checks.finite("a0", a0)
    n_iter = _checks.positive_int("n_iter", n_iter)
    _checks.bounded_work("time_rescaling_runs", n_iter=n_iter, batch=2)
    problem = LinearProblem(a_star=a_star, t=t)
    other = rescaled_problem(problem, c)
    optimizer = GD(lr)
    return train(problem, optimizer, [a0], n_iter), train(other, optimizer, [a0 / other.t * problem.t], n_iter)


# --- what a coarse solver step learns ------------------------------------------------------------------
def rk4_scalar_fit(a_star, h):
    """The real rate a scalar RK4 model learns from one data step of size h: (z / h, exact).

    If R(z) = e^{a* h} has a root on the increasing branch of R (a* h > log min R, about -1.3), the
    fit is exact and z is that root (``discrete_optimum``). Otherwise R(z) > e^{a* h} for every real z
    (R is positive) and the loss (R(z) - e^{a* h})^2 is smallest where R is: at the real root of
    R'(z) = 0, z = -1.596..., and ``exact`` is False.
    """
    a_star = _checks.finite("a_star", a_star)
    h = _checks.positive_finite("h", h)
    _data_exponent("a_star * h", a_star * h)
    coeffs = STABILITY_POLYNOMIALS["rk4"]
    critical = np.roots(STABILITY_DERIVATIVES["rk4"][::-1])
    z_min = float(np.real(critical[np.abs(np.imag(critical)) < 1e-12][0]))
    if np.exp(a_star * h) > polyval(coeffs, np.array(z_min)):
        return float(discrete_optimum(a_star, h, "rk4", 1)), True
    return z_min / h, False


def _rate_and_step(rate, h):
    """``rate`` as a complex array and ``h`` as a float array, both finite and non-empty, h > 0,
    broadcast together, with e^{rate h} finite."""
    arr = _checks.numeric_array("rate", rate, kinds="iufc", what="real or complex numbers")
    if arr.size == 0:
        raise ValueError("rate must not be empty")
    rate = arr.astype(complex)
    if not np.all(np.isfinite(rate)):
        raise ValueError("rate must be finite")
    h = _checks.finite_array("h", h)
    if np.any(h <= 0):
        raise ValueError("h must be > 0")
    try:
        rate, h = np.broadcast_arrays(rate, h)
    except ValueError as err:
        raise ValueError(f"rate and h must broadcast, got shapes {rate.shape} and {h.shape}") from err
    with np.errstate(over="ignore", invalid="ignore"):
        growth = np.exp(rate * h)
    if not np.all(np.isfinite(growth)):
        raise ValueError("rate * h is too large: e^(rate h) overflows (its real part must stay below 709.78)")
    return rate, h


def oscillator_fit(rate, h, method="rk4"):
    """The complex rate a linear model learns when one step of ``method`` of size h must reproduce e^{rate h}.

    ``rate`` = alpha + i omega is an eigenvalue of the true linear system (a damped oscillator has
    alpha < 0). A linear model with eigenvalue w advances that eigen-direction by the factor R(w h) per
    step, where R is the method's stability polynomial, so a zero loss needs R(w h) = e^{rate h}. Returns
    w = z / h for the root z nearest rate h (array like ``rate``; vectorized over ``rate`` and ``h``).
    """
    _checks.choice("method", method, STABILITY_POLYNOMIALS)
    rate, h = _rate_and_step(rate, h)
    coeffs = np.array(STABILITY_POLYNOMIALS[method], dtype=complex)
    out = np.empty(rate.shape, dtype=complex)
    for index in np.ndindex(rate.shape):
        target = np.exp(rate[index] * h[index])
        poly = coeffs.copy()
        poly[0] -= target
        roots = np.roots(poly[::-1])
        out[index] = roots[np.argmin(np.abs(roots - rate[index] * h[index]))] / h[index]
    return out if out.ndim else out[()]


def implicit_midpoint_fit(rate, h):
    """The rate the implicit midpoint rule learns from one data step: z / h with R(z) = e^{rate h}.

    R(z) = (1 + z/2) / (1 - z/2), so z = 2 (w - 1) / (w + 1), w = e^{rate h}. |R(z)| < 1 exactly when
    Re z < 0: a decaying truth (|w| < 1) is always learned as a decaying field, whatever h.
    """
    rate, h = _rate_and_step(rate, h)
    w = np.exp(rate * h)
    if np.any(w == -1.0):
        raise ValueError("no rate reproduces e^(rate h) = -1 (rate h = i pi): R(z) = -1 has no finite root")
    with np.errstate(over="ignore"):
        out = 2.0 * (w - 1.0) / (w + 1.0) / h
    return out if out.ndim else out[()]


# --- float32 against float64 -----------------------------------------------------------------------------
@dataclass
class PrecisionRun:
    """Loss and gradient of the RK4 model at each horizon in ``t``, computed in ``dtype``."""

    dtype: str
    t: np.ndarray
    loss: np.ndarray
    grad: np.ndarray


def precision_run(a, t_values, dtype="float32", a_star=1.0, h=0.05):
    """Loss and exact discrete gradient of RK4 with step ``h`` on dx/dt = a x, all in ``dtype``.

    The state x (from x0 = 1) and its forward-mode sensitivity s = dx/da advance together:
    x <- R(a h) x,  s <- R(a h) s + h R'(a h) x, every operation in ``dtype``; the data
    y = e^{a* t} are rounded to ``dtype``. Loss = (x_n - y)^2 / 2 and Loss' = (x_n - y) s_n (sigma = 1).
    Every horizon must be a multiple of h. Overflow gives inf, inf - inf gives nan, as on a GPU (that
    nan is the experiment's point). ``a h``, ``a_star h`` and ``h`` must be representable in ``dtype``,
    and the step count max(t_values) / h is limited by ``_checks.MAX_WORK``.
    """
    _checks.choice("dtype", dtype, ("float32", "float64"))
    a = _checks.finite("a", a)
    a_star = _checks.finite("a_star", a_star)
    h = _checks.positive_finite("h", h)
    t = _checks.finite_array("t_values", t_values)
    if t.ndim != 1 or np.any(t <= 0):
        raise ValueError("t_values must be a 1-D array of horizons > 0")
    info = np.finfo(dtype)
    for name, value in (("a * h", a * h), ("a_star * h", a_star * h), ("h", h)):
        if not abs(value) <= float(info.max):
            raise ValueError(f"{name} = {value!r} overflows {dtype} (its largest number is {info.max:.3g})")
    with np.errstate(over="ignore"):
        ratio = t / h
    _checks.bounded_work("precision_run", max_t_values_over_h=min(np.ceil(np.max(ratio)), 1e30))
    steps = np.rint(ratio).astype(int)
    if np.any(np.abs(steps * h - t) > 1e-9 * np.maximum(1.0, t)):
        raise ValueError(f"every horizon in t_values must be a multiple of h = {h!r}")
    kind = np.dtype(dtype).type
    z, hh = kind(a * h), kind(h)
    r = polyval([kind(c) for c in STABILITY_POLYNOMIALS["rk4"]], z)
    dr = polyval([kind(c) for c in STABILITY_DERIVATIVES["rk4"]], z)
    x, s = kind(1.0), kind(0.0)
    loss, grad = np.empty(t.size, dtype=dtype), np.empty(t.size, dtype=dtype)
    wanted = {}
    for j, n in enumerate(steps):
        wanted.setdefault(int(n), []).append(j)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for k in range(1, int(steps.max()) + 1):
            x, s = r * x, r * s + hh * dr * x
            for j in wanted.get(k, ()):
                y = kind(np.exp(a_star * t[j])) if a_star * t[j] < 709 else kind(np.inf)
                residual = x - y
                loss[j] = kind(0.5) * residual * residual
                grad[j] = residual * s
    return PrecisionRun(dtype, t, loss, grad)


# --- continuation in the horizon -------------------------------------------------------------------------
@dataclass
class StagedRun:
    """Gradient descent over stages of growing horizon.

    ``a`` (length n_iter_total + 1) holds every iterate; ``loss_final`` the loss of each iterate on the
    final horizon (the one that matters); ``stage_ends`` the iteration at which each stage ended;
    ``lr`` the learning rate used in each stage.
    """

    horizons: tuple
    a: np.ndarray
    loss_final: np.ndarray
    stage_ends: np.ndarray
    lr: np.ndarray

    def settled_at(self, tol):
        """Settling time on the final horizon: the first iteration k with ``loss_final`` < ``tol`` at k
        and at every later iteration, -1 if the last loss is not below ``tol``."""
        tol = _checks.positive_finite("tol", tol)
        below = self.loss_final < tol
        if not below[-1]:
            return -1
        above = np.flatnonzero(~below)
        return int(above[-1] + 1) if above.size else 0


def train_in_stages(a0, horizons, n_iter, a_star=1.0, sigma=1.0, lr_scale=1.0, n_samples=256, seed=0):
    """Plain gradient descent on a growing horizon: ``n_iter`` steps at each horizon in turn.

    The data are a seeded batch of ``n_samples`` pairs (x0, y = e^{a* t} x0). At horizon t the learning
    rate is lr_scale / (t^2 mean(y^2)), the inverse of the curvature Loss''(a*) = t^2 E[y^2] computed
    from the data alone (it never uses a*). ``horizons=(T,)`` with n_iter = total gives the
    full-horizon baseline with the same rule. ``horizons`` is a non-empty sequence of horizons > 0;
    the work n_iter x len(horizons) x n_samples is limited by ``_checks.MAX_WORK``.
    """
    a = _checks.finite("a0", a0)
    if isinstance(horizons, (str, bytes)) or not isinstance(horizons, (list, tuple, np.ndarray)):
        raise TypeError(f"horizons must be a sequence of horizons > 0, got {type(horizons).__name__} {horizons!r:.40}")
    horizons = tuple(_checks.positive_finite("horizons", h) for h in horizons)
    if not horizons:
        raise ValueError("horizons must hold at least one horizon")
    n_iter = _checks.positive_int("n_iter", n_iter)
    lr_scale = _checks.positive_finite("lr_scale", lr_scale)
    n_samples = _checks.positive_int("n_samples", n_samples)
    seed = _checks.seed("seed", seed)
    _checks.bounded_work("train_in_stages", n_iter=n_iter, horizons=len(horizons), n_samples=n_samples)
    _data_exponent("a_star * max(horizons)", _checks.finite("a_star", a_star) * max(horizons))
    final = LinearProblem(a_star=a_star, t=horizons[-1], sigma=sigma)
    x0 = final.sample_x0(n_samples, np.random.default_rng(seed))
    iterates, ends, rates = [np.array([a])], [], []
    for horizon in horizons:
        problem = LinearProblem(a_star=a_star, t=horizon, sigma=sigma)
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            y = problem.target() * x0
            lr = lr_scale / (horizon**2 * np.mean(y**2))
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(
                f"the learning rate lr_scale / (t^2 mean(y^2)) at horizon {horizon!r} is {lr!r}: "
                f"a_star = {a_star!r}, sigma = {sigma!r}, lr_scale = {lr_scale!r} are too extreme"
            )
        history = train(problem, GD(lr), iterates[-1][-1:], n_iter)
        iterates.append(history.a[1:, 0])
        ends.append(sum(len(i) for i in iterates) - 1)
        rates.append(lr)
    a_all = np.concatenate(iterates)
    with np.errstate(over="ignore", invalid="ignore"):
        loss_final = final.loss(a_all, x0=x0)
    return StagedRun(
        horizons, a_all, np.where(np.isfinite(loss_final), loss_final, np.inf), np.array(ends), np.array(rates)
    )


# --- stiffness and adaptive solvers ----------------------------------------------------------------------
def adaptive_cost(a_values, t=1.0, method="RK45", rtol=1e-6, atol=1e-9, max_nfev=200_000):
    """Function evaluations ``solve_ivp(method)`` needs for dx/dt = a x, x(0) = 1, on [0, t], per a.

    Returns ``(nfev, rel_error)`` arrays over ``a_values``: the number of right-hand-side evaluations
    and |x(t) - e^{a t}| / max(e^{a t}, atol). The step of an explicit method on a fast-decaying field
    is limited by stability (about 3.3 / |a| for RK45), not by accuracy: nfev grows like |a| t. Runs that
    would need more than ``max_nfev`` evaluations are stopped and reported as nfev = -1, error inf
    (as are solves that fail). ``rtol`` lies in [100 eps, 1]; e^{a t} must not overflow; the work
    len(a_values) x max_nfev is limited by ``_checks.MAX_WORK``.
    """
    _checks.choice("method", method, ADAPTIVE_METHODS)
    t = _checks.positive_finite("t", t)
    rtol = _rtol(rtol)
    atol = _checks.positive_finite("atol", atol)
    max_nfev = _checks.positive_int("max_nfev", max_nfev)
    a_values = np.atleast_1d(_checks.finite_array("a_values", a_values))
    _data_exponent("a_values * t", np.max(a_values) * t)
    _checks.bounded_work("adaptive_cost", max_nfev=max_nfev, a_values=a_values.size)
    nfev, error = np.empty(a_values.size, dtype=int), np.empty(a_values.size)
    for j, a in enumerate(a_values):
        count = [0]

        def field(_, x, a=a, count=count):
            count[0] += 1
            if count[0] > max_nfev:
                raise _Budget
            return a * x

        options = {"jac": np.array([[a]])} if method in ("Radau", "BDF") else {}
        try:
            with np.errstate(all="ignore"):  # extreme a, t or tolerances: judged by the result below
                sol = solve_ivp(field, (0.0, t), [1.0], method=method, rtol=rtol, atol=atol, **options)
        except _Budget:
            nfev[j], error[j] = -1, np.inf
            continue
        with np.errstate(all="ignore"):
            exact = np.exp(a * t)
            err = abs(sol.y[0, -1] - exact) / max(exact, atol) if sol.success else np.inf
        nfev[j] = sol.nfev
        error[j] = err if np.isfinite(err) else np.inf
    return nfev, error


class _Budget(Exception):
    """Raised inside a right-hand side to stop a solve that exceeds its evaluation budget."""


# RK45 (Dormand-Prince 5(4), advancing with the fifth-order solution): stability polynomial coefficients.
RK45_STABILITY = (1.0, 1.0, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 600)


def real_stability_limit(coeffs):
    """The most negative real z with |R(z)| <= 1 on [z, 0] for the polynomial R = sum coeffs[k] z^k.

    An explicit method with stability polynomial R is stable on dx/dt = a x, a < 0, only for steps
    h <= limit / a: about 2 for Euler, 2.785 for RK4, 3.307 for RK45 (``RK45_STABILITY``).
    """
    coeffs = np.asarray(_checks.finite_array("coeffs", coeffs), dtype=float)
    if coeffs.ndim != 1 or coeffs.size < 2 or coeffs[0] != 1.0 or coeffs[1] != 1.0:
        raise ValueError("coeffs must be a 1-D sequence starting 1, 1 (a consistent method)")
    candidates = []
    for target in (1.0, -1.0):  # the boundary of |R| <= 1 on the real line: R(z) = +-1
        poly = coeffs.copy()
        poly[0] -= target
        roots = np.roots(poly[::-1])
        real = roots[(np.abs(roots.imag) < 1e-9) & (roots.real < -1e-12)].real
        candidates.extend(real)
    if not candidates:
        return float("-inf")
    return float(max(candidates))


# --- a field that blows up in finite time ------------------------------------------------------------
@dataclass
class BlowUpSolve:
    """``solve_ivp`` on dx/dt = x^2 from x0: accepted times ``t``, states ``x``, steps ``h = diff(t)``.

    ``status`` and ``message`` are scipy's (-1 and "Required step size is less than spacing between
    numbers." when the step collapsed); ``blow_up_time`` = 1 / x0 is where the exact solution ends;
    ``min_step`` is scipy's floor at the last time, 10 times the spacing of floats there.
    """

    t: np.ndarray
    x: np.ndarray
    h: np.ndarray
    status: int
    message: str
    nfev: int
    blow_up_time: float
    min_step: float


def blow_up_solve(x0=1.0, t_end=2.0, method="RK45", rtol=1e-6, atol=1e-9):
    """Integrate dx/dt = x^2, x(0) = x0 > 0, on [0, t_end] with ``solve_ivp``; return a ``BlowUpSolve``.

    The exact solution x(s) = 1 / (1/x0 - s) is infinite at s = 1/x0. An adaptive solver keeps its
    local error below rtol |x| + atol, so its step shrinks with the distance to the blow-up, until it is
    smaller than scipy's minimum step 10 |nextafter(t) - t| and the solver stops (status -1). This is
    the mechanism of torchdiffeq's ``underflow in dt`` (which asserts t + dt > t).
    """
    x0 = _checks.positive_finite("x0", x0)
    t_end = _checks.positive_finite("t_end", t_end)
    _checks.choice("method", method, ("RK45", "RK23", "DOP853"))
    rtol = _rtol(rtol)
    atol = _checks.positive_finite("atol", atol)
    with np.errstate(over="ignore", invalid="ignore"):
        sol = solve_ivp(lambda _, x: x * x, (0.0, t_end), [x0], method=method, rtol=rtol, atol=atol)
    t_last = float(sol.t[-1])
    return BlowUpSolve(
        sol.t,
        sol.y[0],
        np.diff(sol.t),
        int(sol.status),
        str(sol.message),
        int(sol.nfev),
        1.0 / x0,
        10.0 * abs(float(np.nextafter(t_last, np.inf)) - t_last),
    )


# --- backward reconstruction in the adjoint ----------------------------------------------------------
@dataclass
class BacksolveRun:
    """The adjoint of dx/dt = A x, A = diag(slow, a), for each fast rate a in ``a``.

    Per rate: ``forward_error`` |x_h(t) - x(t)| / |x(t)| of the forward solve; ``fast_error`` the
    absolute error of its fast coordinate at t; ``reconstruction_error`` |x_rec(0) - x0| of the
    state rebuilt backwards from x_h(t) (close to fast_error e^{|a| t} once that dominates);
    ``amplification`` e^{|a| t}; ``grad_error_backsolve`` and
    ``grad_error_interpolated`` the relative (Frobenius) errors of dLoss/dA with the rebuilt state and
    with the forward solve's dense output; ``nfev_forward`` / ``nfev_backward`` the evaluations of the
    forward solve and of the backsolve adjoint.
    """

    a: np.ndarray
    forward_error: np.ndarray
    fast_error: np.ndarray
    reconstruction_error: np.ndarray
    amplification: np.ndarray
    grad_error_backsolve: np.ndarray
    grad_error_interpolated: np.ndarray
    nfev_forward: np.ndarray
    nfev_backward: np.ndarray


def backsolve_run(a_values, t=1.0, slow=-1.0, slow_star=-0.8, x0=(1.0, 1.0), rtol=1e-8, atol=1e-10):
    """Backsolve against interpolated continuous adjoint for the linear field A = diag(slow, a).

    Data y = e^{A* t} x0 with A* = diag(slow_star, a); Loss = |x(t) - y|^2 / 2; the parameter is the
    whole matrix A. Forward: ``solve_ivp`` (RK45, ``rtol``, ``atol``, dense output). Backsolve adjoint
    (as ``odeint_adjoint`` does): integrate (x, lambda, G) backwards from (x_h(t), x_h(t) - y, 0) with
    dx/ds = A x, dlambda/ds = -A^T lambda, dG/ds = -lambda x^T. Interpolated adjoint: the same for
    (lambda, G) with x(s) from the forward dense output. Reference: the exact gradient
    r^T Dexp_{At}[t E_ij] x0 (Frechet derivative of the matrix exponential), r = e^{At} x0 - y.
    Going backwards the fast coordinate grows like e^{|a|(t-s)}, so an error e in x_h(t) along it
    becomes e e^{|a| t} at s = 0. ``rtol`` lies in [100 eps, 1]; an explicit solver's step is limited by
    the fastest rate, so the work (|slow| + max |a|) t x len(a_values) is limited by
    ``_checks.MAX_WORK``; the data e^{slow_star t} must not overflow. Where the exact gradient is 0
    the gradient errors are absolute, not relative.
    """
    a_values = np.atleast_1d(_checks.finite_array("a_values", a_values)).astype(float)
    if a_values.ndim != 1 or np.any(a_values >= 0):
        raise ValueError("a_values must be a 1-D array of negative rates (the fast, decaying mode)")
    t = _checks.positive_finite("t", t)
    slow, slow_star = _checks.finite("slow", slow), _checks.finite("slow_star", slow_star)
    x0 = np.asarray(_checks.finite_array("x0", x0), dtype=float)
    if x0.shape != (2,):
        raise ValueError(f"x0 must hold two numbers, got shape {x0.shape}")
    rtol = _rtol(rtol)
    atol = _checks.positive_finite("atol", atol)
    with np.errstate(over="ignore"):
        stiffness = (abs(slow) + np.max(np.abs(a_values))) * t
    _checks.bounded_work("backsolve_run", stiffness_x_t=min(np.ceil(stiffness), 1e30), a_values=a_values.size)
    _data_exponent("slow_star * t", slow_star * t)
    _data_exponent("slow * t", slow * t)
    keys = (
        "forward_error",
        "fast_error",
        "reconstruction_error",
        "amplification",
        "grad_error_backsolve",
        "grad_error_interpolated",
        "nfev_forward",
        "nfev_backward",
    )
    out = {key: np.empty(a_values.size) for key in keys}
    with np.errstate(all="ignore"):  # extreme tolerances or rates: judged by the results below
        for j, a in enumerate(a_values):
            A = np.diag([slow, a])
            exact = np.exp(np.array([slow, a]) * t) * x0
            y = np.exp(np.array([slow_star, a]) * t) * x0
            options = {"method": "RK45", "rtol": rtol, "atol": atol}
            forward = solve_ivp(lambda _, x, A=A: A @ x, (0.0, t), x0, dense_output=True, **options)
            x_t = forward.y[:, -1]
            residual = x_t - y

            def backsolve(_, state, A=A):
                x, lam = state[:2], state[2:4]
                return np.concatenate([A @ x, -A.T @ lam, -np.outer(lam, x).ravel()])

            def interpolated(s, state, A=A, dense=forward.sol):
                lam = state[:2]
                return np.concatenate([-A.T @ lam, -np.outer(lam, dense(s)).ravel()])

            back = solve_ivp(backsolve, (t, 0.0), np.concatenate([x_t, residual, np.zeros(4)]), **options)
            inter = solve_ivp(interpolated, (t, 0.0), np.concatenate([residual, np.zeros(4)]), **options)
            r_exact = exact - y
            basis = np.eye(2)
            grad = np.array(
                [
                    [
                        r_exact @ expm_frechet(A * t, t * np.outer(basis[i], basis[k]), compute_expm=False) @ x0
                        for k in range(2)
                    ]
                    for i in range(2)
                ]
            )
            norm = np.linalg.norm(grad)
            norm = norm if norm > 0 else 1.0  # an exact gradient 0: absolute errors
            out["forward_error"][j] = np.linalg.norm(x_t - exact) / np.linalg.norm(exact)
            out["fast_error"][j] = abs(x_t[1] - exact[1])
            out["reconstruction_error"][j] = np.linalg.norm(back.y[:2, -1] - x0)
            out["amplification"][j] = np.exp(abs(a) * t)
            out["grad_error_backsolve"][j] = np.linalg.norm(back.y[4:, -1].reshape(2, 2) - grad) / norm
            out["grad_error_interpolated"][j] = np.linalg.norm(inter.y[2:, -1].reshape(2, 2) - grad) / norm
            out["nfev_forward"][j], out["nfev_backward"][j] = forward.nfev, back.nfev
    for key in keys[:6]:  # a failed or overflowing solve: infinite error, never nan
        out[key] = np.where(np.isfinite(out[key]), out[key], np.inf)
    out["nfev_forward"] = out["nfev_forward"].astype(int)
    out["nfev_backward"] = out["nfev_backward"].astype(int)
    return BacksolveRun(a_values, **out)
