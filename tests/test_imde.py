"""simplest_node.imde: the linear IMDE rate and the symbolic IMDE terms."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from simplest_node.gradients import discrete_optimum
from simplest_node.imde import (
    LINEAR_METHODS,
    exact_flow_series,
    fit_linear_rate,
    linear_imde_coefficients,
    linear_rate,
    modified_field,
    one_step,
    rk4_minimum,
)
from simplest_node.runge_kutta import STABILITY_POLYNOMIALS
from simplest_node.runge_kutta import polyval as _poly

x, h = sp.symbols("x h")
q, p = sp.symbols("q p")


# --- linear_rate ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", LINEAR_METHODS)
def test_linear_rate_reproduces_the_exact_step(method):
    a_star = np.linspace(-0.6, 3.0, 37)[:, None]  # a* h >= -0.6 > -log 2: a real rate exists
    step = np.array([0.01, 0.1, 0.25, 0.5, 1.0])
    rate = linear_rate(a_star, step, method)
    assert rate.shape == (37, 5)
    R = _poly(STABILITY_POLYNOMIALS[method], rate * step)
    goal = np.exp(a_star * step)
    assert np.max(np.abs(R - goal) / goal) < 1e-12


def test_closed_forms():
    a_star, step = 0.7, 0.3
    assert linear_rate(a_star, step, "euler") == pytest.approx((np.exp(a_star * step) - 1) / step, rel=1e-14)
    mid = (-1 + np.sqrt(2 * np.exp(a_star * step) - 1)) / step
    assert linear_rate(a_star, step, "midpoint") == pytest.approx(mid, rel=1e-13)
    assert linear_rate(a_star, step, "heun") == linear_rate(a_star, step, "midpoint")


@pytest.mark.parametrize("method", LINEAR_METHODS)
def test_linear_rate_agrees_with_chapter_3s_newton_root(method):
    n = np.array([1, 2, 4, 8, 16])
    ours = linear_rate(-0.5, 1.0 / n, method)
    assert np.allclose(ours, discrete_optimum(-0.5, 1.0, method, n), rtol=1e-12, atol=1e-14)


def test_tiny_steps_keep_full_accuracy():
    # expm1 and the rationalized square root: no cancellation as h -> 0
    for method in LINEAR_METHODS:
        c1 = 0.5 if method == "euler" else 0.0  # a_h = a (1 + c1 a h + O(h^2))
        assert abs(linear_rate(1.0, 1e-9, method) - 1.0 - c1 * 1e-9) < 1e-15


@settings(max_examples=60, deadline=None)
@given(st.floats(-1.0, 3.0), st.floats(1e-4, 1.0))
def test_rk4_root_is_the_real_root_nearest_a_star_h(a_star, step):
    z = linear_rate(a_star, step, "rk4") * step
    roots = np.roots([1 / 24, 1 / 6, 1 / 2, 1, 1 - np.exp(a_star * step)])
    real = roots[np.abs(roots.imag) < 1e-7].real
    assert abs(z - real[np.argmin(np.abs(real - a_star * step))]) < 1e-9
    assert abs(z - a_star * step) <= np.min(np.abs(real - a_star * step)) + 1e-9


def test_no_real_root_errors():
    with pytest.raises(ValueError, match="no real rate exists for method 'midpoint'"):
        linear_rate(-1.0, 1.0, "midpoint")  # a* h = -1 < -log 2
    with pytest.raises(ValueError, match="no real rate exists for method 'heun'"):
        linear_rate([-0.5, -0.8], 1.0, "heun")
    with pytest.raises(ValueError, match="no real rate exists for method 'rk4'.*never falls below 0.27"):
        linear_rate(-1.5, 1.0, "rk4")  # e^-1.5 = 0.22 < R_min
    linear_rate(-0.69, 1.0, "midpoint")  # just inside
    linear_rate(-1.3, 1.0, "rk4")  # e^-1.3 = 0.2725 > R_min


def test_rk4_minimum():
    w, r = rk4_minimum()
    assert abs(1 + w + w**2 / 2 + w**3 / 6) < 1e-12
    assert r == pytest.approx(1 + w + w**2 / 2 + w**3 / 6 + w**4 / 24)
    assert r == pytest.approx(0.27039476, abs=1e-8)


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((1.0, 0.1, "leapfrog"), ValueError, "method"),
        ((1.0, 0.1, "Euler"), ValueError, "accepted"),
        ((1.0, 0.0, "euler"), ValueError, "h must"),
        ((1.0, -0.1, "euler"), ValueError, "h must"),
        ((1.0, [0.1, np.inf], "euler"), ValueError, "h must"),
        ((np.nan, 0.1, "euler"), ValueError, "a_star"),
        ((np.inf, 0.1, "euler"), ValueError, "a_star"),
        (("fast", 0.1, "euler"), TypeError, "a_star"),
        ((1000.0, 1.0, "euler"), ValueError, "overflows"),
    ],
)
def test_linear_rate_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        linear_rate(*args)


def test_linear_rate_scalar_in_scalar_out():
    assert isinstance(linear_rate(1.0, 0.5, "rk4"), float)


# --- fit_linear_rate ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", LINEAR_METHODS)
def test_training_finds_the_imde_rate(method):
    n = np.array([1, 2, 4, 8, 16, 32])
    learned = fit_linear_rate(-0.5, 1.0, method, n)
    assert np.max(np.abs(learned - linear_rate(-0.5, 1.0 / n, method))) < 1e-10


def test_training_without_a_real_rate_stops_at_the_minimum_of_R():
    assert fit_linear_rate(-1.5, 1.0, "midpoint", 1) == pytest.approx(-1.0, abs=1e-6)
    assert fit_linear_rate(-1.5, 1.0, "rk4", 1) == pytest.approx(rk4_minimum()[0], abs=1e-6)


def test_fit_linear_rate_bad_input():
    with pytest.raises(ValueError, match="n_sub"):
        fit_linear_rate(1.0, 1.0, "euler", 0)
    with pytest.raises(ValueError, match="n_sub"):
        fit_linear_rate(1.0, 1.0, "euler", 1.5)
    with pytest.raises(ValueError, match="T"):
        fit_linear_rate(1.0, -1.0, "euler", 1)
    with pytest.raises(ValueError, match="method"):
        fit_linear_rate(1.0, 1.0, "exact", 1)
    with pytest.raises(ValueError, match="a_star"):
        fit_linear_rate(np.nan, 1.0, "euler", 1)


# --- modified_field ----------------------------------------------------------------------------


def _derivatives(F, X):
    """f'(v), f''(u, v), f'''(u, v, w) for a column field F in the symbols X."""
    J = F.jacobian(X)

    def d1(v):
        return J * v

    def d2(u, v):
        return sp.Matrix(
            [
                sum(sp.diff(F[c], X[i], X[j]) * u[i] * v[j] for i in range(len(X)) for j in range(len(X)))
                for c in range(len(X))
            ]
        )

    def d3(u, v, w):
        n = len(X)
        return sp.Matrix(
            [
                sum(
                    sp.diff(F[c], X[i], X[j], X[k]) * u[i] * v[j] * w[k]
                    for i in range(n)
                    for j in range(n)
                    for k in range(n)
                )
                for c in range(n)
            ]
        )

    return d1, d2, d3


def _known_terms(F, X, method):
    """The terms listed in papers.md (part 3), typed in here only to test the derivation."""
    d1, d2, d3 = _derivatives(F, X)
    if method == "euler":
        return [
            d1(F) / 2,
            (d2(F, F) + d1(d1(F))) / 6,
            (d3(F, F, F) + 3 * d2(d1(F), F) + d1(d2(F, F)) + d1(d1(d1(F)))) / 24,
        ]
    return [sp.zeros(*F.shape), d2(F, F) / 24 + d1(d1(F)) / 6, -d1(d2(F, F)) / 16 - d1(d1(d1(F))) / 8]


FIELDS = [
    (sp.Matrix([-(x**3)]), sp.Matrix([x])),
    (sp.Matrix([sp.sin(x)]), sp.Matrix([x])),
    (sp.Matrix([p, -10 * sp.sin(q)]), sp.Matrix([q, p])),  # the pendulum
    (sp.Matrix([q * p, -q + p**2]), sp.Matrix([q, p])),  # a non-separable polynomial field
]


@pytest.mark.parametrize("method", ["euler", "midpoint"])
@pytest.mark.parametrize("field", range(len(FIELDS)))
def test_terms_match_papers_md(method, field):
    F, X = FIELDS[field]
    arg = F[0] if X.shape[0] == 1 else F
    var = X[0] if X.shape[0] == 1 else X
    ours = modified_field(arg, var, h, method, order=3)
    for k, (mine, known) in enumerate(zip(ours, _known_terms(F, X, method)), start=1):
        mine = sp.Matrix([mine]) if X.shape[0] == 1 else mine
        assert sp.simplify(mine - known) == sp.zeros(*F.shape), (method, field, k)


@pytest.mark.parametrize("field", range(len(FIELDS)))
def test_rk4_corrections_vanish_to_order_3(field):
    F, X = FIELDS[field]
    arg = F[0] if X.shape[0] == 1 else F
    var = X[0] if X.shape[0] == 1 else X
    assert all(
        sp.simplify(sp.Matrix([t]) if X.shape[0] == 1 else t).is_zero_matrix
        for t in modified_field(arg, var, h, "rk4", order=3)
    )


def test_rk4_first_nonzero_term_is_at_order_4():
    # one step of RK4 has local error h^5 (...), so f_4 = -(error coefficient) != 0 for f = x^2
    f4 = modified_field(x**2, x, h, "rk4", order=4)[3]
    assert sp.simplify(f4) != 0


def test_one_step_of_truncated_imde_matches_exact_flow():
    # by construction: one_step(f + h f1 + h^2 f2 + h^3 f3) = exact flow + O(h^5), term by term
    for method in ["euler", "midpoint", "heun"]:
        terms = modified_field(sp.sin(x), x, h, method, order=3)
        g = sp.Matrix([sp.sin(x) + sum(h ** (k + 1) * t for k, t in enumerate(terms))])
        gap = one_step(g, sp.Matrix([x]), h, method, 4)[0] - exact_flow_series(sp.sin(x), x, h, 4)
        assert sp.simplify(sp.expand(gap)) == 0, method


def test_numerical_order_of_the_truncated_imde():
    # one Euler step on f_h (order 2) vs the exact flow of -x^3 from x0 = 1: error ~ h^4
    terms = modified_field(-(x**3), x, h, "euler", order=2)
    g = sp.lambdify((x, h), -(x**3) + h * terms[0] + h**2 * terms[1])
    steps = np.array([0.04, 0.02, 0.01])
    err = np.abs(1 + steps * g(1.0, steps) - 1 / np.sqrt(1 + 2 * steps))
    slope = np.polyfit(np.log(steps), np.log(err), 1)[0]
    assert 3.8 < slope < 4.2


def test_scalar_and_matrix_outputs():
    terms = modified_field(-(x**3), x, h, "euler", order=2)
    assert len(terms) == 2 and all(isinstance(t, sp.Expr) for t in terms)
    assert sp.simplify(terms[0] - sp.Rational(3, 2) * x**5) == 0
    terms = modified_field(sp.Matrix([p, -q]), [q, p], h, "euler", order=1)
    assert isinstance(terms[0], sp.MatrixBase) and terms[0].shape == (2, 1)
    assert sp.simplify(terms[0] - sp.Matrix([-q, -p]) / 2) == sp.zeros(2, 1)


def test_linear_imde_coefficients_match_linear_rate():
    # a_h = a (1 + c1 (a h) + c2 (a h)^2 + c3 (a h)^3) + O(h^4)
    for method in LINEAR_METHODS:
        c = linear_imde_coefficients(method, 3)
        steps = np.array([0.02, 0.01, 0.005])
        series = 0.8 * (1 + sum(ck * (0.8 * steps) ** (k + 1) for k, ck in enumerate(c)))
        err = np.abs(linear_rate(0.8, steps, method) - series)
        if method == "rk4":
            assert np.max(err) < 1e-9  # O(h^4) with a tiny constant
        else:
            assert 3.7 < np.polyfit(np.log(steps), np.log(err), 1)[0] < 4.3
    assert linear_imde_coefficients("euler", 2) == pytest.approx((0.5, 1 / 6))


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        ((-(x**3), x, h, "implicit"), {}, ValueError, "method"),
        ((sp.Matrix([p, -q]), [q, p], h, "leapfrog"), {}, ValueError, "separable"),
        ((-(x**3), x, h, "euler"), {"order": 0}, ValueError, "order"),
        ((-(x**3), x, 0.1, "euler"), {}, TypeError, "h must be a SymPy Symbol"),
        ((-(x**3) * h, x, h, "euler"), {}, ValueError, "h must not occur"),
        ((-(x**3), "x", h, "euler"), {}, TypeError, "x must be a SymPy Symbol"),
        ((sp.Matrix([p, -q]), [q], h, "euler"), {}, ValueError, "components"),
        (("x**2", x, h, "euler"), {}, TypeError, "f must be"),
    ],
)
def test_modified_field_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        modified_field(*args, **kwargs)


def test_training_stays_on_the_positive_branch():
    # Euler, S = 2, a* h = -1.5: R(a h)^2 = e^{-3} also at R = -e^{-1.5}; training finds R > 0
    learned = fit_linear_rate(-3.0, 1.0, "euler", 2)
    assert learned == pytest.approx(linear_rate(-3.0, 0.5, "euler"), abs=1e-10)
    mirror = (-1 - np.exp(-1.5)) / 0.5  # the other zero of the loss
    assert (1 + mirror * 0.5) ** 2 == pytest.approx(np.exp(-3.0))
    with pytest.raises(ValueError, match="a0"):
        fit_linear_rate(-3.0, 1.0, "euler", 2, a0=-5.0)


# --- robustness regressions: bad and extreme inputs that once crashed, warned or gave NaN ------
@pytest.mark.parametrize(
    "call",
    [
        lambda: modified_field(x, x, h, "euler", 10**12),
        lambda: linear_imde_coefficients("euler", 10**12),
        lambda: exact_flow_series(x, x, h, 10**12),
        lambda: one_step(sp.Matrix([x]), sp.Matrix([x]), h, "euler", 10**12),
    ],
)
def test_series_orders_are_bounded(call):
    with pytest.raises(ValueError, match="10"):
        call()


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: one_step(None, sp.Matrix([x]), h, "euler", 2), TypeError, "g"),
        (lambda: one_step(sp.Matrix([x]), None, h, "euler", 2), TypeError, "X"),
        (lambda: one_step(sp.Matrix([x]), sp.Matrix([x]), 3, "euler", 2), TypeError, "h"),
        (lambda: exact_flow_series(x, x, None, 2), TypeError, "h"),
        (lambda: exact_flow_series(x, x, h, 2.5), TypeError, "degree"),
        (lambda: fit_linear_rate(-1.0, 1.0, "euler", 2, n_iter=10**12), ValueError, "MAX_WORK"),
        (lambda: fit_linear_rate(1e308, 1.0, "euler", 2), ValueError, "a_star"),
        (lambda: fit_linear_rate(-1.0, 1.0, "euler", 2, a0=-1e308), ValueError, "a0"),
    ],
)
def test_imde_functions_refuse_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
