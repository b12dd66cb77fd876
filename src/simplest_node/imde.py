"""The inverse modified differential equation (IMDE): what a Neural ODE trained through a solver learns.

Training pairs ``(x0, x1)`` come from the exact flow of ``dx/dt = f(x)`` over a data step; the model
applies a fixed one-step ``method`` of step ``h`` to a learned field. The field that makes the
method reproduce the exact flow, ``Phi_h[f_h] = phi_h[f]``, is the IMDE

    f_h = f + h f_1 + h^2 f_2 + ...,

and a model that drives the loss to zero learns ``f_h``, not ``f`` (Zhu et al., ICML 2022).

* ``linear_rate(a_star, h, method)``: for ``f(x) = a* x`` the IMDE is linear, ``f_h(x) = a_h x``, with
  ``R(a_h h) = e^{a* h}`` for the method's stability polynomial ``R``. Closed forms:
  euler ``a_h = (e^{a* h} - 1)/h``; midpoint and heun ``a_h = (-1 + sqrt(2 e^{a* h} - 1))/h``; rk4 the
  real root nearest ``a* h`` of the quartic (companion-matrix eigenvalues, polished by Newton steps).
* ``modified_field(f, x, h, method, order)``: the terms ``f_1 .. f_order`` for a SymPy field, found by
  expanding one step of the method applied to ``f + h f_1 + ... + h^k f_k`` in powers of ``h`` and
  matching the exact flow's expansion ``x + sum_k h^k / k! (D_f^{k-1} f)(x)``, ``D_f g = g' f``, order by
  order: the coefficient of ``h^{k+1}`` is ``f_k`` plus terms in ``f, f_1, .., f_{k-1}`` only.
"""

import functools
import math

import numpy as np
import sympy as sp

from . import _checks
from .runge_kutta import STABILITY_DERIVATIVES, STABILITY_POLYNOMIALS, TABLEAUX, polyval
from .solvers import EXPLICIT_METHODS, SYMPLECTIC_METHODS

__all__ = [
    "LINEAR_METHODS",
    "rk4_minimum",
    "linear_rate",
    "modified_field",
    "one_step",
    "exact_flow_series",
    "linear_imde_coefficients",
    "fit_linear_rate",
]

LINEAR_METHODS = EXPLICIT_METHODS  # the methods linear_rate knows (scalar fields)
# The highest series order (IMDE terms f_1..f_order, degrees of the Taylor polynomials) the symbolic
# functions accept: the expressions grow so fast with the order that SymPy needs minutes at about 8
# and hours beyond, so larger requests are refused before any work starts.
MAX_SERIES_ORDER = 10


def rk4_minimum():
    """(w_min, R_min): the minimum of RK4's stability polynomial R(w) on the real line.

    R'(w) = 1 + w + w^2/2 + w^3/6 has one real root w_min (about -1.596); R is convex, so R >= R_min
    (about 0.2704) everywhere and e^{a* h} < R_min has no real preimage.
    """
    roots = np.roots(STABILITY_DERIVATIVES["rk4"][::-1])
    w = float(roots[np.argmin(np.abs(roots.imag))].real)
    return w, float(polyval(STABILITY_POLYNOMIALS["rk4"], np.float64(w)))


def _positive_array(name, value):
    arr = _checks.finite_array(name, value)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must contain only finite numbers > 0, got {value!r}")
    return arr


def linear_rate(a_star, h, method):
    """The rate ``a_h`` with ``R(a_h h) = e^{a* h}``: the IMDE of ``dx/dt = a* x`` for ``method``.

    ``a_star`` (finite) and ``h`` (> 0) broadcast against each other; returns an array of that shape
    (a float for scalar input). One step of ``method`` on ``dx/dt = a_h x`` maps x to ``R(a_h h) x``,
    which equals the exact ``e^{a* h} x``, so a model trained on exact data with step ``h`` learns
    ``a_h``. Where no real ``a_h`` exists (``e^{a* h}`` below the minimum of ``R``: ``a* h < -log 2``
    for the second-order methods, ``e^{a* h} < 0.2704`` for rk4) a ValueError says so.
    """
    _checks.choice("method", method, LINEAR_METHODS)
    a_star = _checks.finite_array("a_star", a_star)
    h = _positive_array("h", h)
    a_star, h = np.broadcast_arrays(a_star, h)
    z = a_star * h
    with np.errstate(over="ignore"):
        m = np.expm1(z)  # e^z - 1, accurate for small z
    if not np.all(np.isfinite(m)):
        raise ValueError("a_star * h is too large: e^{a_star h} overflows a double")
    coeffs = STABILITY_POLYNOMIALS[method]
    if method == "euler":
        w = m
    elif len(coeffs) == 3:  # midpoint, heun, ralston: 1 + w + w^2/2 = e^z  <=>  (1 + w)^2 = 1 + 2 m
        disc = 1.0 + 2.0 * m
        if np.any(disc < 0):
            bad = z[disc < 0].flat[0]
            raise ValueError(
                f"no real rate exists for method {method!r} at a_star * h = {bad:.6g}: its stability "
                f"polynomial 1 + w + w^2/2 >= 1/2 never reaches e^(a_star h) = {np.exp(bad):.6g} "
                "(needs a_star * h >= -log 2)"
            )
        w = 2.0 * m / (1.0 + np.sqrt(disc))  # = -1 + sqrt(1 + 2 m), without cancellation
    else:
        w = _quartic_root(coeffs, z, m, method)
    out = w / h
    return float(out) if out.ndim == 0 else out


def _quartic_root(coeffs, z, m, method):
    """Real root nearest z of R(w) = e^z for a quartic R, vectorized (companion matrices + Newton)."""
    w_min, r_min = rk4_minimum()
    goal = 1.0 + m
    low = goal < r_min * (1 - 1e-12)
    if np.any(low):
        bad = z[low].flat[0]
        raise ValueError(
            f"no real rate exists for method {method!r} at a_star * h = {bad:.6g}: its stability "
            f"polynomial never falls below {r_min:.6f} (at w = {w_min:.4f}), so it never reaches "
            f"e^(a_star h) = {np.exp(bad):.6g}"
        )
    flat_z, flat_goal = z.ravel(), goal.ravel()
    n = flat_z.size
    # R(w) - goal = sum c_k w^k; companion matrix of the monic polynomial.
    c = np.array(coeffs, dtype=float)
    monic = np.broadcast_to(c / c[-1], (n, c.size)).copy()
    monic[:, 0] = (c[0] - flat_goal) / c[-1]
    deg = c.size - 1
    comp = np.zeros((n, deg, deg))
    comp[:, 1:, :-1] = np.eye(deg - 1)
    comp[:, :, -1] = -monic[:, :-1]
    roots = np.linalg.eigvals(comp)
    scale = np.maximum(1.0, np.abs(roots))
    real = np.abs(roots.imag) <= 1e-6 * scale
    dist = np.where(real, np.abs(roots.real - flat_z[:, None]), np.inf)
    # At the double root (goal = R_min) the pair may come out slightly complex: take its real part.
    dist = np.where(np.isinf(dist).all(axis=1, keepdims=True), np.abs(roots - flat_z[:, None]), dist)
    w = roots.real[np.arange(n), np.argmin(dist, axis=1)]
    # Newton polish on P(w) = R(w) - 1 - m = sum_{k >= 1} c_k w^k - m: without the constant term
    # there is no cancellation when w and m are small.
    flat_m = m.ravel()
    shifted = (0.0,) + tuple(coeffs[1:])
    derivative = STABILITY_DERIVATIVES[method]
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(4):  # keep a step only where it lowers the residual
            r = polyval(shifted, w) - flat_m
            trial = w - r / polyval(derivative, w)
            better = np.isfinite(trial) & (np.abs(polyval(shifted, trial) - flat_m) < np.abs(r))
            w = np.where(better, trial, w)
    return w.reshape(z.shape)


# --- symbolic IMDE --------------------------------------------------------------------------


def _as_state(f, x):
    """Column matrices (F, X) and whether the input was scalar."""
    if isinstance(f, sp.MatrixBase):
        if not isinstance(x, (sp.MatrixBase, list, tuple)):
            raise TypeError("x must be a SymPy Matrix (or list) of symbols when f is a Matrix")
        X = sp.Matrix(list(x))
        F = sp.Matrix(list(f))
        if F.shape != X.shape:
            raise ValueError(f"f has {F.shape[0]} components but x has {X.shape[0]}")
        scalar = False
    elif isinstance(f, (sp.Expr, int, float)):
        if not isinstance(x, sp.Symbol):
            raise TypeError("x must be a SymPy Symbol when f is a scalar expression")
        X, F, scalar = sp.Matrix([x]), sp.Matrix([sp.sympify(f)]), True
    else:
        raise TypeError(f"f must be a SymPy expression or Matrix, got {type(f).__name__}")
    if not all(isinstance(s, sp.Symbol) for s in X):
        raise TypeError("x must hold SymPy symbols")
    return F, X, scalar


def _truncate(M, h, n):
    """Taylor polynomial in h of degree n of every entry of the Matrix M (coefficients expanded)."""
    out = []
    for e in M:
        d, terms = e, []
        for k in range(n + 1):
            terms.append(sp.expand(d.subs(h, 0)) / math.factorial(k) * h**k)
            if k < n:
                d = sp.diff(d, h)
        out.append(sp.Add(*terms))
    return sp.Matrix(out).reshape(*M.shape)


def _substitute(G, X, Y):
    return G.subs(dict(zip(list(X), list(Y))), simultaneous=True)


def one_step(g, X, h, method, degree):
    """One step of ``method`` applied to the field ``g`` (column Matrix in X), truncated at h^degree.

    ``method`` is an explicit Runge-Kutta method (one of ``LINEAR_METHODS``), applied through its
    Butcher tableau (``simplest_node.runge_kutta.TABLEAUX``) with exact rational coefficients.
    ``g`` and ``X`` are SymPy column matrices of the same shape (X of symbols), ``h`` a Symbol and
    ``degree`` an integer from 1 to ``MAX_SERIES_ORDER`` + 1.
    """
    if not isinstance(g, sp.MatrixBase):
        raise TypeError(f"g must be a SymPy column Matrix (the field), got {type(g).__name__}")
    if not isinstance(X, sp.MatrixBase) or not all(isinstance(s, sp.Symbol) for s in X):
        raise TypeError(f"X must be a SymPy column Matrix of symbols, got {type(X).__name__}")
    if g.shape != X.shape:
        raise ValueError(f"g and X must have the same shape, got {g.shape} and {X.shape}")
    _symbol("h", h)
    _checks.choice("method", method, LINEAR_METHODS)
    degree = _checks.positive_int("degree", degree, maximum=MAX_SERIES_ORDER + 1)
    return _one_step(g, X, h, method, degree)


def _symbol(name, value):
    if not isinstance(value, sp.Symbol):
        raise TypeError(f"{name} must be a SymPy Symbol, got {type(value).__name__} {value!r:.40}")
    return value


def _one_step(g, X, h, method, degree):
    """``one_step`` without the argument checks (``modified_field`` calls it once per order)."""
    n = degree - 1  # stages are multiplied by h: they are needed to degree - 1
    A = [[sp.Rational(v) for v in row] for row in TABLEAUX[method].a]
    b = [sp.Rational(v) for v in TABLEAUX[method].b]
    stages = []
    for i in range(len(b)):
        y = X + h * sum((A[i][j] * stages[j] for j in range(i)), sp.zeros(*X.shape))
        stages.append(_truncate(_substitute(g, X, _truncate(y, h, n)), h, n))
    return _truncate(X + h * sum((b[i] * stages[i] for i in range(len(b))), sp.zeros(*X.shape)), h, degree)


def exact_flow_series(f, x, h, degree):
    """x + sum_{k=1}^{degree} h^k / k! (D_f^{k-1} f)(x), D_f g = g' f (the Lie derivative along f).

    The exact flow's Taylor polynomial.

    ``degree`` is an integer from 1 to ``MAX_SERIES_ORDER`` + 1; ``h`` a SymPy Symbol."""
    F, X, scalar = _as_state(f, x)
    _symbol("h", h)
    degree = _checks.positive_int("degree", degree, maximum=MAX_SERIES_ORDER + 1)
    return _exact_flow_series(F, X, h, degree, scalar)


def _exact_flow_series(F, X, h, degree, scalar=False):
    term, out = F, X
    for k in range(1, degree + 1):
        out = out + h**k / math.factorial(k) * term
        term = term.jacobian(X) * F
    return out[0] if scalar else out


def modified_field(f, x, h, method, order=3):
    """The IMDE terms ``[f_1, ..., f_order]`` of ``method`` for the field ``f``.

    ``f`` is a SymPy expression in the Symbol ``x`` or a column Matrix in the symbols of ``x``
    (a Matrix or list); ``h`` is a SymPy Symbol; ``method`` one of ``LINEAR_METHODS``.
    ``f_k`` is the coefficient of h^{k+1} in (exact flow) - (one step applied to f + h f_1 + .. +
    h^{k-1} f_{k-1}): adding ``h^k f_k`` to the field adds exactly ``h^{k+1} f_k`` at that order, so
    one step of the truncated IMDE matches the exact flow up to O(h^{order+2}). Terms are simplified.
    ``order`` is an integer from 1 to ``MAX_SERIES_ORDER``.
    """
    F, X, scalar = _as_state(f, x)
    if not isinstance(h, sp.Symbol):
        raise TypeError(f"h must be a SymPy Symbol, got {type(h).__name__}")
    if h in F.free_symbols or h in set(X):
        raise ValueError("h must not occur in f or x")
    if method in SYMPLECTIC_METHODS:
        raise ValueError(
            f"modified_field does not support method {method!r}: the solvers' symplectic formulas are "
            "explicit (and symplectic) only for separable fields, and the IMDE terms f_1, f_2, .. are "
            "not separable; accepted: " + ", ".join(LINEAR_METHODS)
        )
    _checks.choice("method", method, LINEAR_METHODS)
    order = _checks.positive_int("order", order, maximum=MAX_SERIES_ORDER)
    exact = _exact_flow_series(F, X, h, order + 1)
    terms, g = [], F
    for k in range(1, order + 1):
        stepped = _one_step(g, X, h, method, k + 1)
        gap = (exact - stepped).applyfunc(lambda e, k=k: sp.expand(e).coeff(h, k + 1))
        fk = gap.applyfunc(lambda e: sp.simplify(sp.expand_trig(e)) if e != 0 else e)
        terms.append(fk)
        g = g + h**k * fk
    return [t[0] for t in terms] if scalar else terms


def linear_imde_coefficients(method, order=3):
    """c_1..c_order with f_k = c_k a^{k+1} x: the IMDE series a_h = a (1 + sum_k c_k (a h)^k).

    Obtained from ``modified_field`` for f = a x (cached, so a widget pays for SymPy once);
    ``order`` from 1 to ``MAX_SERIES_ORDER``.
    """
    _checks.choice("method", method, LINEAR_METHODS)
    order = _checks.positive_int("order", order, maximum=MAX_SERIES_ORDER)
    return _linear_coefficients(method, order)


@functools.cache
def _linear_coefficients(method, order):
    a, x, h = sp.symbols("a x h")
    terms = modified_field(a * x, x, h, method, order)
    return tuple(float(sp.simplify(t / (a ** (k + 2) * x))) for k, t in enumerate(terms))


def fit_linear_rate(a_star, T, method, n_sub, n_iter=100, a0=0.0):
    """Train the rate a of dx/dt = a x on exact data: minimize (R(a h)^S - e^{a* T})^2, h = T/S.

    Levenberg-Marquardt on the scalar residual rho(a) = R(a h)^S - e^{a* T} (the data's second
    moment only scales the loss), started at ``a0`` (default 0: a model with no dynamics), vectorized
    over ``a_star`` and ``n_sub`` (broadcast). Where ``linear_rate`` exists this converges to it
    (rho = 0); where it does not, to the stationary point rho' = 0 (the minimum of R): the loss then
    stays positive. For even S the loss has a second zero, R(a h) = -e^{a* h} (a one-step map that
    flips the sign of the state); a step into R(a h) <= 0 is rejected, so training stays on the
    branch that contains a = 0.
    """
    _checks.choice("method", method, LINEAR_METHODS)
    a_star = _checks.finite_array("a_star", a_star)
    T = _checks.positive_finite("T", T)
    n = np.asarray(n_sub)
    if n.dtype.kind not in "iu" or np.any(n < 1):
        raise ValueError(f"n_sub must hold integers >= 1, got {n_sub!r}")
    n_iter = _checks.positive_int("n_iter", n_iter)
    try:
        a_star, n = np.broadcast_arrays(a_star, n)
    except ValueError as err:
        raise ValueError(f"a_star and n_sub must broadcast, got shapes {a_star.shape} and {n.shape}") from err
    _checks.bounded_work("fit_linear_rate", n_iter=n_iter, batch=a_star.size)
    a0 = _checks.finite("a0", a0)
    h = T / n
    coeffs, derivative = STABILITY_POLYNOMIALS[method], STABILITY_DERIVATIVES[method]
    with np.errstate(over="ignore"):
        target = np.exp(a_star * T)
    if not np.all(np.isfinite(target)):
        raise ValueError(
            "a_star * T is too large: the data e^(a_star T) overflow "
            f"(a_star * T must be below {np.log(np.finfo(float).max):.1f})"
        )

    def residual(a):
        R = polyval(coeffs, a * h)
        return R**n - target, n * R ** (n - 1) * polyval(derivative, a * h) * h

    a = np.full(a_star.shape, a0)
    with np.errstate(over="ignore", invalid="ignore"):
        start = polyval(coeffs, a * h)
    if not np.all(np.isfinite(start) & (start > 0)):
        raise ValueError(f"a0 = {a0!r} must give a positive, finite one-step factor R(a0 h)")
    lam = np.full(a.shape, 1e-6)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        rho, drho = residual(a)
        for _ in range(n_iter):
            trial = a - rho * drho / (drho**2 + lam * np.maximum(drho**2, 1e-300) + 1e-300)
            rho_t, drho_t = residual(trial)
            better = np.isfinite(rho_t) & (np.abs(rho_t) < np.abs(rho)) & (polyval(coeffs, trial * h) > 0)
            a = np.where(better, trial, a)
            rho, drho = np.where(better, rho_t, rho), np.where(better, drho_t, drho)
            lam = np.where(better, np.maximum(lam / 10, 1e-12), lam * 10)
    return float(a) if a.ndim == 0 else a
