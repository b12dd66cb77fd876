"""The Runge-Kutta tableaux: their stability polynomials, orders and steps, against SymPy and the textbook formulas."""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from simplest_node import integrate
from simplest_node.runge_kutta import (
    BUTCHER_TABLEAUX,
    STABILITY_DERIVATIVES,
    STABILITY_POLYNOMIALS,
    TABLEAUX,
    ButcherTableau,
    polyval,
)

METHODS = list(TABLEAUX)
z = sp.Symbol("z")


def sympy_tableau(method):
    t = TABLEAUX[method]
    A = sp.zeros(t.stages, t.stages)
    for i, row in enumerate(t.a):
        for j, v in enumerate(row):
            A[i, j] = sp.Rational(v)
    return A, sp.Matrix([sp.Rational(v) for v in t.b]), sp.Matrix([sp.Rational(v) for v in t.c])


@pytest.mark.parametrize("method", METHODS)
def test_stability_polynomial_is_that_of_the_tableau_by_sympy(method):
    A, b, _ = sympy_tableau(method)
    s = A.shape[0]
    R = sp.expand(sp.simplify(1 + z * (b.T * (sp.eye(s) - z * A).inv() * sp.ones(s, 1))[0]))
    exact = TABLEAUX[method].stability_polynomial()
    assert sp.Poly(R, z).all_coeffs()[::-1] == [sp.Rational(c) for c in exact]
    assert STABILITY_POLYNOMIALS[method] == tuple(float(c) for c in exact)


@pytest.mark.parametrize("method", METHODS)
def test_stability_polynomial_is_one_step_on_the_linear_field(method):
    rates = np.linspace(-3.0, 1.0, 9)
    one_step = TABLEAUX[method].step(lambda t, x: rates * x, 0.0, np.ones_like(rates), 0.7)
    assert np.allclose(one_step, polyval(STABILITY_POLYNOMIALS[method], 0.7 * rates), rtol=1e-14, atol=0)


@pytest.mark.parametrize("method", METHODS)
def test_derivative_coefficients_are_those_of_r_prime(method):
    R = sum(sp.Rational(c) * z**k for k, c in enumerate(TABLEAUX[method].stability_polynomial()))
    dR = sp.Poly(sp.diff(R, z), z).all_coeffs()[::-1]
    assert STABILITY_DERIVATIVES[method] == tuple(float(c) for c in dR)


@pytest.mark.parametrize("method", METHODS)
def test_r_matches_the_exponential_to_the_order_and_no_further(method):
    p = TABLEAUX[method].order
    coeffs = TABLEAUX[method].stability_polynomial() + (Fraction(0),) * 2
    assert all(coeffs[k] == Fraction(1, sp.factorial(k)) for k in range(p + 1))
    assert coeffs[p + 1] != Fraction(1, sp.factorial(p + 1))


def order_conditions(A, b, c):
    """The rooted-tree conditions of orders 1 to 4: (order, lhs, rhs)."""
    ones = sp.ones(len(b), 1)
    cc = c.multiply_elementwise(c)
    return [
        (1, (b.T * ones)[0], 1),
        (2, (b.T * c)[0], sp.Rational(1, 2)),
        (3, (b.T * cc)[0], sp.Rational(1, 3)),
        (3, (b.T * A * c)[0], sp.Rational(1, 6)),
        (4, (b.T * cc.multiply_elementwise(c))[0], sp.Rational(1, 4)),
        (4, (b.T * c.multiply_elementwise(A * c))[0], sp.Rational(1, 8)),
        (4, (b.T * A * cc)[0], sp.Rational(1, 12)),
        (4, (b.T * A * A * c)[0], sp.Rational(1, 24)),
    ]


@pytest.mark.parametrize("method", METHODS)
def test_order_is_the_highest_whose_tree_conditions_hold(method):
    order = TABLEAUX[method].order
    conditions = order_conditions(*sympy_tableau(method))
    assert all(lhs == rhs for q, lhs, rhs in conditions if q <= order)
    if order < 4:
        assert any(lhs != rhs for q, lhs, rhs in conditions if q == order + 1)


@pytest.mark.parametrize("method", METHODS)
def test_float_arrays_hold_the_exact_entries(method):
    t = TABLEAUX[method]
    A, b = BUTCHER_TABLEAUX[method]
    assert np.array_equal(A, np.tril(A, -1)) and A.shape == (t.stages, t.stages)
    assert np.array_equal(A.sum(axis=1), t.c_float)
    assert np.array_equal(b, [float(v) for v in t.b])


def textbook(method, f, t, x, h):
    """The methods as the textbooks write them."""
    k1 = f(t, x)
    if method == "euler":
        return x + h * k1
    if method == "midpoint":
        return x + h * f(t + h / 2, x + (h / 2) * k1)
    if method == "heun":
        return x + (h / 2) * (k1 + f(t + h, x + h * k1))
    if method == "ralston":
        return x + (h / 4) * (k1 + 3 * f(t + 2 * h / 3, x + (2 * h / 3) * k1))
    k2 = f(t + h / 2, x + (h / 2) * k1)
    k3 = f(t + h / 2, x + (h / 2) * k2)
    k4 = f(t + h, x + h * k3)
    return x + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)


@pytest.mark.parametrize("method", METHODS)
def test_step_is_the_textbook_formula(method):
    rng = np.random.default_rng(0)

    def f(t, x):
        return np.sin(3 * t + x) * x + t

    for _ in range(50):
        x, t, h = rng.normal(size=4), rng.normal(), rng.normal()
        ours, theirs = TABLEAUX[method].step(f, t, x, h), textbook(method, f, t, x, h)
        if method == "ralston":  # other groupings of 2/3 and 1/4: equal to rounding
            np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=1e-14)
        else:  # the same roundings
            assert np.array_equal(ours, theirs)


def test_ralston_converges_at_order_two_on_a_nonlinear_field():
    def f(t, x):
        return np.sin(t) - x**3 + 0.5 * x

    reference = integrate(f, 0.8, 2.0, 4096, "rk4")
    errors = [abs(integrate(f, 0.8, 2.0, n, "ralston") - reference) for n in (40, 80, 160)]
    slope = -np.polyfit(np.log([40, 80, 160]), np.log(errors), 1)[0]
    assert abs(slope - 2) < 0.1


def test_polyval_is_numpys_polyval():
    z_values = np.linspace(-4, 2, 13)
    for coeffs in STABILITY_POLYNOMIALS.values():
        assert np.allclose(
            polyval(coeffs, z_values.copy()), np.polynomial.polynomial.polyval(z_values, coeffs), rtol=1e-14, atol=1e-14
        )
    assert np.array_equal(polyval((2.0,), z_values), np.full_like(z_values, 2.0))


@pytest.mark.parametrize(
    "a, b, c, words",
    [
        ([[], [1]], [1], [0, 1], "rows"),
        ([[], [1]], ["1/2", "1/2"], [0, "1/2"], "c_i"),
        ([[], [1]], ["1/2", "1/4"], [0, 1], "sum to 1"),
    ],
)
def test_inconsistent_tableau_is_refused(a, b, c, words):
    with pytest.raises(ValueError, match=words):
        ButcherTableau("bad", a, b, c, 1)
