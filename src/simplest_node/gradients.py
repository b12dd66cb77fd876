"""Three ways to differentiate the loss of dx/dt = a x through an ODE solve.

The loss compares the model's state at time t with the data, Loss(a) = 1/2 E[(x_a(t) - e^{a* t} x0)^2].

1. ``closed_form_gradient``: the exact flow x_a(t) = e^{a t} x0 gives
   Loss'(a) = sigma^2 t e^{a t} (e^{a t} - e^{a* t}).

2. ``backprop_gradient``: "discretize, then differentiate". The model's prediction is the output
   x_n of ``n_steps`` steps of an explicit Runge-Kutta method (Butcher tableau A, b, step h = t/n)
   on f(x, a) = a x:  X_i = x_k + h sum_{j<i} A_ij K_j,  K_i = f(X_i, a),  x_{k+1} = x_k + h sum_i b_i K_i.
   The forward pass stores every stage state X_i of every step (the "tape"); the reverse pass starts
   from xbar_n = dLoss/dx_n = x_n - e^{a* t} x0 and applies the transposed one-step Jacobians stage by
   stage, last step first:
       Kbar_i = h b_i xbar_{k+1} + h sum_{j>i} A_ji Xbar_j,   Xbar_i = (df/dx) Kbar_i = a Kbar_i,
       abar  += (df/da) Kbar_i = X_i Kbar_i,                  xbar_k = xbar_{k+1} + sum_i Xbar_i.
   The result is the exact derivative of the discrete loss (what automatic differentiation through
   the solver returns), equal to ``LinearProblem(method=..., n_steps=...).grad`` up to rounding.

3. ``adjoint_gradient``: "differentiate, then discretize" (Chen et al. 2018). With
   lambda(s) = dLoss/dx(s), the continuous adjoint solves d lambda/ds = -a lambda backwards from
   lambda(t) = x_n - e^{a* t} x0, and Loss'(a) = int_0^t lambda(s) x(s) ds. The state x is
   integrated backwards too (from the forward pass's final state x_n), all three with the same
   solver and step: memory does not grow with n_steps, but the result is an O(h^p) approximation of
   the exact-flow gradient, not the derivative of the discrete loss.

4. Several parameters (``LinearSystemFit``, ``damped_oscillator``): dx/dt = A(theta) x in R^d with
   A affine in theta. The same three gradients, with the continuous adjoint optionally given the
   exact states x(s) = e^{A s} x0. Even then it is not the discrete adjoint (a Runge-Kutta method
   applied to lambda is the discrete adjoint of the forward method only for symplectic pairs, and
   no explicit method is one): the two differ at O(h^p). With one parameter both gradients are the
   residual factor R(ah)^n - e^{a* t} times a scalar, so they share their zero a_h; with several
   parameters and a solver optimum that keeps a residual, the adjoint's zero (``gradient_root``)
   is not the solver's optimum.

Expectations over x0 ~ N(0, sigma^2): every quantity is linear in x0 and the loss quadratic, so the
expected gradient is sigma^2 times the gradient for x0 = 1. A batch ``x0`` (along the last axis)
replaces the expectation by the batch mean.
"""

import functools
import time
import tracemalloc
from dataclasses import dataclass

import numpy as np
from scipy.linalg import expm

from . import _checks
from .linear import _LOG_MAX, LinearProblem, _overflowed_to_inf, _scale
from .matrix import frechet_expm
from .runge_kutta import BUTCHER_TABLEAUX, STABILITY_DERIVATIVES, STABILITY_POLYNOMIALS, polyval

__all__ = [
    "closed_form_gradient",
    "backprop_gradient",
    "adjoint_gradient",
    "ErrorTable",
    "gradient_error_table",
    "observed_orders",
    "discrete_optimum",
    "descend",
    "CostTable",
    "gradient_cost",
    "LinearSystemFit",
    "damped_oscillator",
    "gradient_root",
]


def _setup(problem, a, method, n_steps, x0, flag, what):
    if not isinstance(problem, LinearProblem):
        raise TypeError(f"problem must be a LinearProblem, got {type(problem).__name__}")
    _checks.choice("method", method, BUTCHER_TABLEAUX)
    n_steps = _checks.positive_int("n_steps", n_steps)
    a = _checks.finite_array("a", a)
    if not isinstance(flag[1], (bool, np.bool_)):
        raise TypeError(f"{flag[0]} must be True or False, got {flag[1]!r}")
    if x0 is None:
        x0, weight = np.ones(1), problem.sigma**2
    else:
        x0 = problem._checked_x0(x0)
        if x0.ndim != 1:
            raise ValueError(f"x0 must be a 1-D batch of initial states, got shape {x0.shape}")
        weight = 1.0 / x0.size
    _checks.bounded_work(what, n_steps=n_steps, stages=len(BUTCHER_TABLEAUX[method][1]), batch=a.size * x0.size)
    # Parameters along the leading axes, initial states along the last one.
    return a[..., None], x0, weight, n_steps, problem.t / n_steps


def closed_form_gradient(problem, a):
    """Loss'(a) = sigma^2 t e^{a t}(e^{a t} - e^{a* t}), the exact flow's gradient (array like a)."""
    if not isinstance(problem, LinearProblem):
        raise TypeError(f"problem must be a LinearProblem, got {type(problem).__name__}")
    return problem.grad_exact_flow(_checks.finite_array("a", a))


def _rk_steps(field, x, h, n_steps, A, b, tape):
    """n_steps steps of the explicit tableau (A, b) on x' = field(x); appends each step's stage
    states to ``tape`` if it is a list (the reverse passes read them)."""
    s = len(b)
    for _ in range(n_steps):
        stages = np.empty((s,) + x.shape)
        slopes = np.empty_like(stages)
        for i in range(s):
            stages[i] = x + h * np.tensordot(A[i, :i], slopes[:i], axes=1) if i else x
            slopes[i] = field(stages[i])
        x = x + h * np.tensordot(b, slopes, axes=1)
        if tape is not None:
            tape.append(stages)
    return x


def _forward(a, x0, h, n_steps, A, b, tape):
    """n_steps RK steps of x' = a x, vectorized over the entries of ``a`` and ``x0``."""
    x = np.broadcast_to(x0, np.broadcast_shapes(a.shape, x0.shape)).copy()
    return _rk_steps(lambda y: a * y, x, h, n_steps, A, b, tape)


def _reverse(a, x_bar, h, A, b, tape):
    """Walk the tape backwards applying transposed one-step Jacobians; returns dLoss/da per entry."""
    a_bar = np.zeros_like(x_bar)
    s = len(b)
    while tape:
        stages = tape.pop()  # release each step's memory as soon as it has been used
        stage_bar = np.zeros_like(stages)
        for i in range(s - 1, -1, -1):
            slope_bar = h * b[i] * x_bar + h * np.tensordot(A[i + 1 :, i], stage_bar[i + 1 :], axes=1)
            stage_bar[i] = a * slope_bar
            a_bar += stages[i] * slope_bar
        x_bar = x_bar + stage_bar.sum(axis=0)
    return a_bar


def backprop_gradient(problem, a, method="rk4", n_steps=10, x0=None, return_tape_size=False):
    """Exact derivative of the discrete loss, by reverse-mode differentiation through the solver.

    ``a``: array of rates (any shape); the result has the same shape. ``x0``: optional 1-D batch of
    initial states (default: the expectation over N(0, sigma^2)). With ``return_tape_size=True``
    also returns the number of floats the forward pass stored for the reverse pass
    (n_steps * stages * len(a) * len(x0)): memory that grows linearly with n_steps. Where the
    reverse pass overflows (inf - inf), the result is the closed form of the same derivative,
    m2 (R^n - e^{a* t}) (R^n)' (inf there), never NaN.
    """
    batch = x0
    a, x0, weight, n_steps, h = _setup(
        problem, a, method, n_steps, x0, ("return_tape_size", return_tape_size), "backprop_gradient"
    )
    A, b = BUTCHER_TABLEAUX[method]
    tape = []
    with np.errstate(over="ignore", invalid="ignore"):
        x_n = _forward(a, x0, h, n_steps, A, b, tape)
        tape_size = sum(stages.size for stages in tape)
        x_bar = x_n - problem.target() * x0  # dLoss/dx_n for one sample
        grad = weight * _reverse(a, x_bar, h, A, b, tape).sum(axis=-1)
        if np.isnan(grad).any():
            discrete = _discrete(problem, method, n_steps)
            closed = discrete._grad(a[..., 0], None if batch is None else x0)
            grad = np.where(np.isnan(grad), np.where(np.isnan(closed), np.inf, closed), grad)
    return (grad, tape_size) if return_tape_size else grad


def _discrete(problem, method, n_steps):
    """The LinearProblem of ``problem``'s data with the model ``method``, ``n_steps``."""
    return LinearProblem(problem.a_star, problem.t, problem.sigma, method=method, n_steps=n_steps)


def _rk_step(field, y, h, A, b):
    slopes = []
    for i in range(len(b)):
        stage = y + h * sum(A[i, j] * slopes[j] for j in range(i)) if i else y
        slopes.append(field(stage))
    return y + h * sum(bi * k for bi, k in zip(b, slopes))


def adjoint_gradient(problem, a, method="rk4", n_steps=10, x0=None, return_state_size=False):
    """The continuous adjoint gradient, integrated backwards with the same solver and step.

    Forward: x_n from n_steps of ``method`` (nothing stored). Backward, in reversed time r = t - s,
    the augmented state y = (x, lambda, g) solves dx/dr = -a x, dlambda/dr = a lambda,
    dg/dr = lambda x from (x_n, x_n - e^{a* t} x0, 0); Loss'(a) is approximated by g at r = t.
    With ``return_state_size=True`` also returns the floats carried between steps: 3 per entry
    (x, lambda, g), independent of n_steps. Where the solve overflows (inf - inf), the result is
    inf with the sign of the exact integrand lambda x = (x_n - e^{a* t} x0) x_n, never NaN.
    """
    a, x0, weight, n_steps, h = _setup(
        problem, a, method, n_steps, x0, ("return_state_size", return_state_size), "adjoint_gradient"
    )
    A, b = BUTCHER_TABLEAUX[method]

    def backward(y):
        x, lam, _ = y
        return np.stack([-a * x, a * lam, lam * x])

    with np.errstate(over="ignore", invalid="ignore"):
        x_n = _forward(a, x0, h, n_steps, A, b, None)
        y = np.stack([x_n, x_n - problem.target() * x0, np.zeros_like(x_n)])
        for _ in range(n_steps):
            y = _rk_step(backward, y, h, A, b)
        grad = weight * y[2].sum(axis=-1)
        if np.isnan(grad).any():
            growth = _discrete(problem, method, n_steps)._growth(a[..., 0])[1]
            grad = _overflowed_to_inf(grad, (growth - problem.target()) * growth)
    return (grad, y.size) if return_state_size else grad


def observed_orders(n_steps, errors):
    """Observed orders p_k = log(e_k / e_{k+1}) / log(n_{k+1} / n_k) between consecutive rows.

    ``errors`` has the rows of ``n_steps`` on its first axis; returns one row fewer.
    """
    n = _checks.finite_array("n_steps", n_steps)
    e = _checks.finite_array("errors", errors)
    if e.ndim == 0 or np.any(e < 0):
        raise ValueError("errors must be an array of errors >= 0 with one row per entry of n_steps")
    if n.ndim != 1 or n.size < 2 or e.shape[0] != n.size:
        raise ValueError("n_steps must be 1-D with >= 2 entries and errors must have one row per entry")
    if np.any(np.diff(n) <= 0):
        raise ValueError("n_steps must be strictly increasing")
    if np.any((e[:-1] == 0) & (e[1:] == 0)):
        raise ValueError("errors are zero in two consecutive rows: there is no order to observe between them")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(e[:-1] / e[1:])
    shape = (-1,) + (1,) * (e.ndim - 1)
    return ratio / np.log(n[1:] / n[:-1]).reshape(shape)


@dataclass
class ErrorTable:
    """Relative errors |g - g_exact| / |g_exact| of the backprop and adjoint gradients.

    ``backprop[m]`` and ``adjoint[m]`` are arrays over ``n_steps`` for method m; ``orders`` gives the
    observed orders between consecutive rows (``observed_orders``) for each kind and method.
    """

    a: float
    n_steps: np.ndarray
    methods: tuple
    exact: float
    backprop: dict
    adjoint: dict

    def orders(self, kind):
        errors = self.backprop if kind == "backprop" else self.adjoint
        return {m: observed_orders(self.n_steps, errors[m]) for m in self.methods}

    def format(self, kind, digits=3):
        """A fixed-width text table of the relative errors of ``kind`` with the observed orders."""
        _checks.choice("kind", kind, ("backprop", "adjoint"))
        errors, orders = (self.backprop if kind == "backprop" else self.adjoint), self.orders(kind)
        head = f"{'n_steps':>8}" + "".join(f"{m:>12}{'order':>7}" for m in self.methods)
        lines = [head]
        for k, n in enumerate(self.n_steps):
            row = f"{n:>8d}"
            for m in self.methods:
                order = "" if k == 0 else f"{orders[m][k - 1]:.2f}"
                row += f"{errors[m][k]:>12.{digits - 1}e}{order:>7}"
            lines.append(row)
        return "\n".join(lines)


def gradient_error_table(problem, a=0.5, methods=("euler", "midpoint", "rk4"), n_steps=(4, 8, 16, 32, 64)):
    """Relative error of the backprop and adjoint gradients against the closed form, per method.

    ``problem`` must use the exact flow (method=None): its closed-form gradient is the reference.
    """
    if not isinstance(problem, LinearProblem) or problem.method is not None:
        raise ValueError("problem must be an exact-flow LinearProblem (method=None)")
    a = _checks.finite("a", a)
    methods = tuple(_sequence("methods", methods))
    if not methods:
        raise ValueError("methods must not be empty")
    for m in methods:
        _checks.choice("method", m, BUTCHER_TABLEAUX)
    steps = np.array(
        [_checks.positive_int("n_steps", n, maximum=_checks.MAX_WORK) for n in _sequence("n_steps", n_steps)]
    )
    if steps.size < 2 or np.any(np.diff(steps) <= 0):
        raise ValueError("n_steps must hold at least 2 strictly increasing integers")
    _checks.bounded_work("gradient_error_table", n_steps=int(steps.sum()), methods=2 * len(methods), stages=4)
    exact = float(closed_form_gradient(problem, a))
    if exact == 0:
        raise ValueError("a must differ from a_star: the exact gradient vanishes there")
    if not np.isfinite(exact):
        raise ValueError(f"a = {a!r} is too far above a_star: the exact gradient overflows")
    tables = {"backprop": {}, "adjoint": {}}
    for m in methods:
        for kind, function in (("backprop", backprop_gradient), ("adjoint", adjoint_gradient)):
            g = np.array([float(function(problem, a, m, int(n))) for n in steps])
            with np.errstate(over="ignore"):  # an error beyond the floats is inf
                tables[kind][m] = np.abs(g - exact) / abs(exact)
    return ErrorTable(a, steps, methods, exact, tables["backprop"], tables["adjoint"])


def _sequence(name, value):
    """``value`` as a list, after checking it is a list, tuple or 1-D array (not a string or number)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray)):
        raise TypeError(f"{name} must be a list or tuple, got {type(value).__name__} {value!r:.40}")
    return list(value)


def discrete_optimum(a_star, t, method, n_steps):
    """The solver's own optimum a_h: the rate with R(a_h h)^n = e^{a* t}, i.e. R(a_h h) = e^{a* h}.

    R is the method's stability polynomial and h = t / n_steps. The root is taken near a* by
    Newton's method (vectorized over ``n_steps`` if it is an array). It minimizes the discrete loss
    (to zero), so gradient descent with the exact discrete gradient converges to it, not to a*.
    Euler: a_h = (e^{a* h} - 1)/h; midpoint: a_h = (sqrt(2 e^{a* h} - 1) - 1)/h.
    """
    a_star = _checks.finite("a_star", a_star)
    t = _scale("t", t)
    if not a_star * t <= _LOG_MAX:
        raise ValueError(f"a_star * t must be at most {_LOG_MAX:g} (else e^(a* t) overflows), got {a_star * t!r}")
    _checks.choice("method", method, STABILITY_POLYNOMIALS)
    n = np.asarray(n_steps) if not isinstance(n_steps, (str, bytes)) else np.asarray(None)
    if n.dtype.kind not in "iu" or n.size == 0 or np.any(n < 1):
        raise ValueError(f"n_steps must be integers >= 1, got {n_steps!r:.60}")
    h = t / n.astype(float)
    coeffs, derivative = STABILITY_POLYNOMIALS[method], STABILITY_DERIVATIVES[method]
    goal = np.exp(a_star * h)
    z = a_star * h
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(100):
            step = (polyval(coeffs, z) - goal) / polyval(derivative, z)
            z = z - step
            if np.all(np.abs(step) <= 1e-15 * np.maximum(1.0, np.abs(z))):
                break
    with np.errstate(invalid="ignore"):
        converged = np.abs(polyval(coeffs, z) - goal) <= 1e-12 * goal
        increasing = polyval(derivative, z) > 0
    if not np.all(converged & increasing):
        raise ValueError(
            f"no root of R(z) = e^(a* h) on the increasing branch of {method}'s stability "
            "polynomial: the step h = t / n_steps is too large for this a_star"
        )
    return z / h


def descend(gradient_function, a0, lr, n_iter):
    """Plain gradient descent a <- a - lr g(a) from the array ``a0``, with any gradient function.

    Returns the final iterates (same shape as a0); an entry that stops being finite is returned as
    inf with the sign of its last finite value's step (+inf or -inf: the run diverged).

    Not ``batch_training.run_batched`` (the loop of ``adjoint_training``): there is no loss to track
    and ``gradient_function`` always gets the whole array ``a0`` (any shape; it may couple entries),
    so no entry can be frozen or left out.
    """
    if not callable(gradient_function):
        raise TypeError(f"gradient_function must be callable: a -> dLoss/da, got {type(gradient_function).__name__}")
    a = _checks.finite_array("a0", a0).copy()
    lr = _checks.positive_finite("lr", lr)
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
    _checks.bounded_work("descend", n_iter=n_iter, batch=a.size)
    escaped = np.zeros(a.shape)  # the sign of the step that left the floats, per entry (0: none yet)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(n_iter):
            new = a - lr * np.asarray(gradient_function(a))
            if not np.isfinite(new).all():
                lost = ~np.isfinite(new) & (escaped == 0) & np.isfinite(a)
                escaped[lost] = np.where(
                    np.isnan(new[lost]), 1.0, np.sign(new[lost] - a[lost]) + (new[lost] == a[lost])
                )
            a = new
    return np.where(np.isfinite(a), a, np.where(escaped < 0, -np.inf, np.inf))


@dataclass
class CostTable:
    """Cost of one gradient, backprop through the solver vs continuous adjoint, per n_steps.

    ``*_floats``: floats kept in memory between steps (deterministic counts); ``*_peak_bytes``: peak
    memory traced by tracemalloc during the call; ``*_seconds``: median wall time (machine-dependent).
    """

    method: str
    batch: int
    n_steps: np.ndarray
    backprop_floats: np.ndarray
    adjoint_floats: np.ndarray
    backprop_peak_bytes: np.ndarray
    adjoint_peak_bytes: np.ndarray
    backprop_seconds: np.ndarray
    adjoint_seconds: np.ndarray


def gradient_cost(method="rk4", n_steps=(4, 16, 64, 256), batch=256, repeat=3, seed=0):
    """Measure memory and time of ``backprop_gradient`` and ``adjoint_gradient`` as n_steps grows.

    One rate a = 0 and a seeded batch of ``batch`` initial states x0 ~ N(0, 1) (a* = 1, t = 1).
    Float counts are exact; peak bytes (above what was allocated before the call) come from
    tracemalloc (numpy reports its buffers to it) in a separate run; the time is the median of
    ``repeat`` runs without tracing.
    """
    _checks.choice("method", method, BUTCHER_TABLEAUX)
    steps = np.array(
        [_checks.positive_int("n_steps", n, maximum=_checks.MAX_WORK) for n in _sequence("n_steps", n_steps)]
    )
    if steps.size == 0:
        raise ValueError("n_steps must hold at least one step count")
    batch = _checks.positive_int("batch", batch, maximum=_checks.MAX_WORK)
    repeat = _checks.positive_int("repeat", repeat, maximum=_checks.MAX_WORK)
    seed = _checks.seed("seed", seed)
    _checks.bounded_work(
        "gradient_cost",
        n_steps=int(steps.sum()),
        runs=2 * (repeat + 2),
        stages=len(BUTCHER_TABLEAUX[method][1]),
        batch=batch,
    )
    problem = LinearProblem(1.0, 1.0, 1.0)
    x0 = np.random.default_rng(seed).normal(size=batch)
    out = {k: [] for k in ("bf", "af", "bb", "ab", "bs", "as")}
    for n in steps:
        n = int(n)
        _, tape = backprop_gradient(problem, 0.0, method, n, x0, return_tape_size=True)
        _, state = adjoint_gradient(problem, 0.0, method, n, x0, return_state_size=True)
        out["bf"].append(tape)
        out["af"].append(state)
        for key, function in (("b", backprop_gradient), ("a", adjoint_gradient)):
            already = tracemalloc.is_tracing()  # leave a caller's tracing running
            if already:
                tracemalloc.reset_peak()
            else:
                tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            function(problem, 0.0, method, n, x0)
            out[key + "b"].append(tracemalloc.get_traced_memory()[1] - before)
            if not already:
                tracemalloc.stop()
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                function(problem, 0.0, method, n, x0)
                times.append(time.perf_counter() - start)
            out[key + "s"].append(float(np.median(times)))
    return CostTable(
        method,
        batch,
        steps,
        np.array(out["bf"]),
        np.array(out["af"]),
        np.array(out["bb"]),
        np.array(out["ab"]),
        np.array(out["bs"]),
        np.array(out["as"]),
    )


# --- Several parameters: a linear system dx/dt = A(theta) x --------------------------------------
#
# With one rate a both solver gradients are a residual factor times a scalar that depends on a only,
# so they vanish together. With several parameters and a model family that cannot reproduce the data
# exactly, the solver's optimum keeps a residual, lambda(t) does not vanish there, and the adjoint's
# zero moves away from it. ``LinearSystemFit`` makes this measurable with closed-form references.


def _overflow_checked(method):
    """A LinearSystemFit method run without overflow warnings: inf where its result overflows, and
    a ValueError naming theta where the overflow leaves NaN (inf - inf) instead of a number."""

    @functools.wraps(method)
    def checked(self, theta, *args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            out = method(self, theta, *args, **kwargs)
        if np.isnan(out).any():
            raise ValueError(
                f"theta = {np.asarray(theta)!r:.60} is too far out: the model's solution overflows (inf - inf) there"
            )
        return out

    return checked


class LinearSystemFit:
    """dx/dt = A(theta) x in R^d with A(theta) = offset + sum_j theta_j basis[j], fitted to e^{A* t}.

    Initial states x0 ~ N(0, sigma^2 I); the data are y = e^{A* t} x0. Every quantity is linear in x0,
    so the expectation is exact with the d columns of sigma I as the batch:
        Loss(theta)   = sigma^2/2 ||e^{A(theta) t}     - e^{A* t}||_F^2   (exact flow),
        Loss_h(theta) = sigma^2/2 ||x_n(I) - e^{A* t}||_F^2              (n steps of an RK method),
    where x_n(I) is the solver's map applied to the identity. ``basis`` has shape (p, d, d).

    Gradients (arrays of shape (p,)):
      ``exact_grad``: d Loss/d theta_j = <E_j, sigma^2 t L(t A^T, e^{At} - e^{A*t})>_F (Frechet derivative).
      ``backprop_grad``: the discrete adjoint: the exact derivative of Loss_h, by the reverse pass of
        the module docstring with the field K = A X: Xbar_i = A^T Kbar_i, Abar += Kbar_i X_i^T.
      ``adjoint_grad``: the continuous adjoint lambda' = -A^T lambda, d Loss/d theta_j =
        int_0^t lambda^T E_j x ds, from lambda(t) = x_n - y (the solver's residual), integrated
        backwards with the same method and step. ``states="exact"`` supplies x(s) = e^{A s} x0 at every
        stage (no reconstruction error at all); ``states="reconstructed"`` integrates x backwards from
        x_n too, as the memory-saving adjoint method does.
    """

    def __init__(self, basis, A_star, t=1.0, offset=None, sigma=1.0):
        basis = _checks.finite_array("basis", basis)
        if basis.ndim != 3 or basis.shape[1] != basis.shape[2] or basis.shape[0] < 1:
            raise ValueError(f"basis must have shape (p, d, d) with p >= 1, got {basis.shape}")
        self.p, self.d = basis.shape[0], basis.shape[1]
        self.basis = basis
        A_star = _checks.finite_array("A_star", A_star)
        if A_star.shape != (self.d, self.d):
            raise ValueError(f"A_star must be {self.d} x {self.d}, got shape {A_star.shape}")
        self.A_star = A_star
        offset = np.zeros((self.d, self.d)) if offset is None else _checks.finite_array("offset", offset)
        if offset.shape != (self.d, self.d):
            raise ValueError(f"offset must be {self.d} x {self.d}, got shape {offset.shape}")
        self.offset = offset
        self.t = _scale("t", t)
        self.sigma = _scale("sigma", sigma)
        with np.errstate(over="ignore", invalid="ignore"):
            self._target = expm(A_star * self.t)
        if not np.all(np.isfinite(self._target)):
            raise ValueError("e^(A_star t) overflows: A_star * t is too large")

    def __repr__(self):
        return f"LinearSystemFit(p={self.p}, d={self.d}, t={self.t}, sigma={self.sigma})"

    def _theta(self, theta):
        theta = _checks.finite_array("theta", theta)
        if theta.shape != (self.p,):
            raise ValueError(f"theta must have shape ({self.p},), got {theta.shape}")
        return theta

    @_overflow_checked
    def matrix(self, theta):
        """A(theta) = offset + sum_j theta_j basis[j]."""
        return self.offset + np.tensordot(self._theta(theta), self.basis, axes=1)

    def target(self):
        """The data's map e^{A* t}."""
        return self._target

    def _setup(self, theta, method, n_steps):
        _checks.choice("method", method, BUTCHER_TABLEAUX)
        n_steps = _checks.positive_int("n_steps", n_steps)
        _checks.bounded_work(
            "LinearSystemFit", n_steps=n_steps, stages=len(BUTCHER_TABLEAUX[method][1]), batch=3 * self.d**3
        )
        return self.matrix(theta), self.sigma * np.eye(self.d), n_steps, self.t / n_steps, BUTCHER_TABLEAUX[method]

    @_overflow_checked
    def solver_map(self, theta, method, n_steps):
        """The d x d matrix x_n(I): n_steps of ``method`` on dx/dt = A(theta) x (= R(hA)^n)."""
        A, _, n_steps, h, (At, b) = self._setup(theta, method, n_steps)
        return _system_forward(A, np.eye(self.d), h, n_steps, At, b, None)

    @_overflow_checked
    def loss(self, theta, method=None, n_steps=None):
        """Loss(theta) (exact flow, method=None) or Loss_h(theta) (``n_steps`` of ``method``)."""
        if method is None:
            M = expm(self.matrix(theta) * self.t)
        else:
            M = self.solver_map(theta, method, n_steps)
        return 0.5 * self.sigma**2 * float(np.sum((M - self._target) ** 2))

    def _project(self, G):
        return np.tensordot(self.basis, G, axes=([1, 2], [0, 1]))

    @_overflow_checked
    def exact_grad(self, theta):
        """The gradient of the exact-flow Loss (closed form through the Frechet derivative of expm)."""
        A = self.matrix(theta)
        R = expm(A * self.t) - self._target
        return self._project(self.sigma**2 * self.t * frechet_expm(self.t * A.T, R))

    @_overflow_checked
    def backprop_grad(self, theta, method, n_steps):
        """The discrete adjoint: the exact gradient of Loss_h, by the reverse pass through the stages."""
        A, X0, n_steps, h, (At, b) = self._setup(theta, method, n_steps)
        tape = []
        x_n = _system_forward(A, X0, h, n_steps, At, b, tape)
        x_bar = x_n - self._target @ X0
        A_bar = np.zeros_like(A)
        s = len(b)
        while tape:
            stages = tape.pop()
            stage_bar = np.zeros_like(stages)
            for i in range(s - 1, -1, -1):
                slope_bar = h * b[i] * x_bar + h * np.tensordot(At[i + 1 :, i], stage_bar[i + 1 :], axes=1)
                stage_bar[i] = A.T @ slope_bar
                A_bar += slope_bar @ stages[i].T
            x_bar = x_bar + stage_bar.sum(axis=0)
        return self._project(A_bar)

    @_overflow_checked
    def adjoint_grad(self, theta, method, n_steps, states="exact"):
        """The continuous adjoint integrated backwards with ``method`` (see the class docstring).

        In reversed time r = t - s the method integrates dlambda/dr = A^T lambda, dG/dr = lambda x^T
        (summed over the batch) from lambda = x_n - y, G = 0, with x(s) exact or reconstructed
        (dx/dr = -A x from x_n); the gradient is <E_j, G(r = t)>.
        """
        _checks.choice("states", states, ("exact", "reconstructed"))
        A, X0, n_steps, h, (At, b) = self._setup(theta, method, n_steps)
        x_n = _system_forward(A, X0, h, n_steps, At, b, None)
        c = At.sum(axis=1)  # the stage times (fractions of a step)
        d = self.d

        states_at = {}  # stages of different steps share times: one exponential per distinct time

        def exact_state(r):
            key = round(r / h * 1e6)
            if key not in states_at:
                states_at[key] = expm(A * (self.t - r)) @ X0
            return states_at[key]

        def field(r, y):
            lam, x = y[0], (y[2] if states == "reconstructed" else exact_state(r))
            out = [A.T @ lam, lam @ x.T]
            if states == "reconstructed":
                out.append(-A @ x)
            return np.stack(out)

        y0 = [x_n - self._target @ X0, np.zeros((d, d))]
        if states == "reconstructed":
            y0.append(x_n)
        y = np.stack(y0)
        for k in range(n_steps):
            r = k * h
            slopes = []
            for i in range(len(b)):
                stage = y + h * sum(At[i, j] * slopes[j] for j in range(i)) if i else y
                slopes.append(field(r + c[i] * h, stage))
            y = y + h * sum(bi * kk for bi, kk in zip(b, slopes))
        return self._project(y[1])


def _system_forward(A, x, h, n_steps, At, b, tape):
    """n_steps RK steps (tableau At, b) of x' = A x for a d x B batch of columns."""
    return _rk_steps(lambda y: A @ y, x, h, n_steps, At, b, tape)


def damped_oscillator(k_star=4.0, c_star=1.0, t=1.0, sigma=1.0):
    """The two-parameter ``LinearSystemFit`` of a damped oscillator q'' = -k q - c q'.

    State x = (q, q'), A(k, c) = [[0, 1], [-k, -c]] (theta = (k, c)), data from A* = A(k*, c*). The
    solver's map R(hA)^n is not the exponential of any such companion matrix, so no (k, c) fits
    the data exactly: the solver's optimum keeps a residual.
    """
    k_star = _checks.finite("k_star", k_star)
    c_star = _checks.finite("c_star", c_star)
    t, sigma = _scale("t", t), _scale("sigma", sigma)
    basis = np.array([[[0.0, 0.0], [-1.0, 0.0]], [[0.0, 0.0], [0.0, -1.0]]])
    offset = np.array([[0.0, 1.0], [0.0, 0.0]])
    return LinearSystemFit(basis, offset + k_star * basis[0] + c_star * basis[1], t, offset, sigma)


def gradient_root(gradient, theta0, tol=1e-12, max_iter=50, eps=1e-6):
    """A zero of ``gradient`` (a function theta -> array of the same shape) by Newton's method.

    The Jacobian is taken by central differences of step ``eps``; iteration stops when the Newton
    step is below ``tol`` (relative to max(1, |theta|)). Raises ValueError if it does not converge.
    Applied to a backprop gradient it finds the solver's optimum; to an adjoint gradient, the point
    where gradient descent with that gradient stops.
    """
    if not callable(gradient):
        raise TypeError(f"gradient must be callable: theta -> gradient array, got {type(gradient).__name__}")
    theta = _checks.finite_array("theta0", theta0).astype(float).copy()
    if theta.ndim != 1:
        raise ValueError(f"theta0 must be 1-D, got shape {theta.shape}")
    tol = _checks.positive_finite("tol", tol)
    eps = _checks.positive_finite("eps", eps)
    max_iter = _checks.positive_int("max_iter", max_iter, maximum=_checks.MAX_WORK)
    p = theta.size
    _checks.bounded_work("gradient_root", max_iter=max_iter, evaluations=2 * p + 1)
    for _ in range(max_iter):
        with np.errstate(over="ignore", invalid="ignore"):
            g = np.asarray(gradient(theta), dtype=float)
            J = np.empty((p, p))
            for j in range(p):
                e = np.zeros(p)
                e[j] = eps
                J[:, j] = (np.asarray(gradient(theta + e)) - np.asarray(gradient(theta - e))) / (2 * eps)
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(J))):
            raise ValueError(
                f"the gradient or its central differences (eps = {eps:g}) are not finite at "
                f"theta = {theta}: start closer to the root or take a smaller eps"
            )
        step = np.linalg.solve(J, g)
        theta = theta - step
        if np.max(np.abs(step)) <= tol * max(1.0, float(np.max(np.abs(theta)))):
            return theta
    raise ValueError(f"gradient_root did not converge in {max_iter} Newton steps")
