"""The linear model: closed forms, finite differences, discrete and adjoint gradients, bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simplest_node import EXPLICIT_METHODS, ORDERS, LinearProblem, SampledLinearProblem, integrate

A_GRID = np.linspace(-2.0, 2.5, 10)
PROBLEMS = [
    LinearProblem(1.0, 1.0, 1.0),
    LinearProblem(0.5, 2.0, 0.7),
    LinearProblem(1.0, 1.0, 1.0, method="euler", n_steps=7),
    LinearProblem(-0.3, 1.5, 1.2, method="midpoint", n_steps=5),
    LinearProblem(1.0, 1.0, 1.0, method="heun", n_steps=3),
    LinearProblem(1.0, 0.8, 2.0, method="rk4", n_steps=4),
]


def test_exact_closed_forms():
    p = LinearProblem(a_star=1.0, t=2.0, sigma=0.5)
    a = A_GRID
    np.testing.assert_allclose(p.loss(a), 0.25 / 2 * (np.exp(2 * a) - np.exp(2.0)) ** 2, rtol=1e-14)
    expected_grad = 0.25 * 2 * np.exp(2 * a) * (np.exp(2 * a) - np.exp(2.0))
    np.testing.assert_allclose(p.grad(a), expected_grad, rtol=1e-13)
    np.testing.assert_allclose(p.grad_exact_flow(a), expected_grad, rtol=1e-13)
    np.testing.assert_allclose(p.second_moment(a), 0.25 * np.exp(4 * a), rtol=1e-14)
    assert p.loss(1.0) == 0.0 and p.grad(1.0) == 0.0


@pytest.mark.parametrize("problem", PROBLEMS, ids=repr)
def test_gradient_matches_central_finite_differences(problem):
    eps = 1e-6
    fd = (problem.loss(A_GRID + eps) - problem.loss(A_GRID - eps)) / (2 * eps)
    g = problem.grad(A_GRID)
    # Relative to the gradient's scale over the grid (it vanishes at the minimum).
    assert np.max(np.abs(fd - g)) / np.max(np.abs(g)) < 1e-6


@pytest.mark.parametrize("method", EXPLICIT_METHODS)
def test_model_map_is_the_solver_applied_to_the_linear_field(method):
    p = LinearProblem(1.0, 1.3, 1.0, method=method, n_steps=9)
    for a in A_GRID:
        by_solver = integrate(lambda t, x, a=a: a * x, 1.0, 1.3, 9, method)
        assert p.model_map(a) == pytest.approx(by_solver, rel=1e-13)


@pytest.mark.parametrize("method", EXPLICIT_METHODS)
def test_discrete_gradient_tends_to_exact_at_the_method_order(method):
    exact = LinearProblem(1.0, 1.0, 1.0).grad(0.3)
    steps = np.array([8, 16, 32, 64])
    errors = [abs(LinearProblem(1.0, 1.0, 1.0, method, n).grad(0.3) - exact) for n in steps]
    slope = -np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(slope - ORDERS[method]) < 0.15


@pytest.mark.parametrize("method", ["euler", "midpoint", "rk4"])
def test_adjoint_gradient_tends_to_exact_at_the_method_order(method):
    p = LinearProblem(1.0, 1.0, 1.0)
    exact = p.grad(0.3)
    steps = np.array([8, 16, 32, 64])
    errors = [abs(p.grad_adjoint(0.3, n, method) - exact) for n in steps]
    slope = -np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(slope - ORDERS[method]) < 0.15


def test_adjoint_broadcasts_and_uses_problem_method_by_default():
    p = LinearProblem(1.0, 1.0, 1.0, method="euler", n_steps=10)
    a = np.array([[0.0, 0.5], [1.5, -1.0]])
    g = p.grad_adjoint(a, 10)
    assert g.shape == (2, 2)
    np.testing.assert_allclose(g[0, 1], p.grad_adjoint(0.5, 10, "euler"), rtol=1e-15)
    # The adjoint of the continuous equation is not the derivative of the Euler map.
    assert abs(g[0, 1] - p.grad(0.5)) > 1e-3


def test_batch_enters_only_through_its_second_moment():
    p = SampledLinearProblem(1.0, 1.0, 1.0, n_samples=50, seed=3, method="rk4", n_steps=3)
    a = 0.4
    direct = 0.5 * np.mean((p.model_map(a) * p.x0 - p.x1) ** 2)
    assert p.loss(a) == pytest.approx(direct, rel=1e-13)
    assert p.second_moment(a) == pytest.approx(np.mean((p.model_map(a) * p.x0) ** 2), rel=1e-13)
    eps = 1e-6
    assert p.grad(a) == pytest.approx((p.loss(a + eps) - p.loss(a - eps)) / (2 * eps), rel=1e-7)


def test_sampled_problem_is_seeded():
    one, two = SampledLinearProblem(n_samples=20, seed=5), SampledLinearProblem(n_samples=20, seed=5)
    np.testing.assert_array_equal(one.x0, two.x0)
    assert not np.array_equal(one.x0, SampledLinearProblem(n_samples=20, seed=6).x0)


@given(
    a=st.floats(-5, 5),
    a_star=st.floats(-2, 2),
    t=st.floats(0.1, 3),
)
def test_gradient_points_away_from_a_star(a, a_star, t):
    """The exact-flow loss decreases towards a*: Loss'(a) has the sign of a - a*."""
    p = LinearProblem(a_star=a_star, t=t)
    g = p.grad(a)
    assert p.loss(a) >= 0
    assert g == 0 or np.sign(g) == np.sign(a - a_star)


def test_overflow_gives_inf_without_warnings():
    p = LinearProblem(1.0, 1.0, 1.0)
    assert p.loss(1000.0) == np.inf  # pytest turns RuntimeWarnings into errors here


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"t": 0.0}, ValueError, "t must be"),
        ({"t": -1.0}, ValueError, "t must be"),
        ({"t": np.nan}, ValueError, "t must be"),
        ({"sigma": 0.0}, ValueError, "sigma"),
        ({"sigma": np.inf}, ValueError, "sigma"),
        ({"a_star": np.nan}, ValueError, "a_star"),
        ({"t": "1"}, TypeError, "t must be a real number"),
        ({"method": "rk45", "n_steps": 3}, ValueError, "accepted: euler, heun, midpoint, ralston, rk4"),
        ({"method": "leapfrog", "n_steps": 3}, ValueError, "accepted"),
        ({"method": "euler"}, ValueError, "needs n_steps"),
        ({"method": "euler", "n_steps": 0}, ValueError, "n_steps"),
        ({"method": "euler", "n_steps": 1.5}, TypeError, "n_steps"),
        ({"n_steps": 4}, ValueError, "only used with a solver method"),
    ],
)
def test_bad_input(kwargs, error, words):
    with pytest.raises(error, match=words):
        LinearProblem(**kwargs)


def test_bad_adjoint_and_batch_input():
    p = LinearProblem()
    with pytest.raises(ValueError, match="n_steps"):
        p.grad_adjoint(0.0, 0)
    with pytest.raises(ValueError, match="accepted"):
        p.grad_adjoint(0.0, 4, method="dopri5")
    with pytest.raises(ValueError, match="x0 must not be empty"):
        p.loss(0.0, x0=np.array([]))
    with pytest.raises(ValueError, match="n_samples"):
        SampledLinearProblem(n_samples=0)


@pytest.mark.parametrize(
    "method", ["loss", "grad", "second_moment", "model_map", "model_map_derivative", "grad_exact_flow"]
)
def test_methods_refuse_what_is_not_a_finite_rate(method):
    # Regression: these used to return NaN for a = nan or None and drop the imaginary part of 1+1j.
    p = LinearProblem(method="rk4", n_steps=4) if method.startswith("model_map") else LinearProblem()
    with pytest.raises(ValueError, match="a must not contain NaN"):
        getattr(p, method)(np.array([0.0, np.nan]))
    assert not np.isnan(getattr(p, method)(np.array([-np.inf, np.inf]))).any()  # the limits
    for bad in (None, np.array([1 + 1j]), "abc", [[1.0], [1.0, 2.0]]):
        with pytest.raises(TypeError, match="a must be"):
            getattr(p, method)(bad)
    with pytest.raises(ValueError, match="a must not be empty"):
        getattr(p, method)([])


def test_overflow_is_inf_not_nan():
    p = LinearProblem()
    with np.errstate(all="raise"):
        assert p.grad(700.0) == np.inf
        assert p.grad_adjoint(700.0, 8) == np.inf  # used to be nan
        assert p.loss(1e308) == np.inf
    with pytest.raises(ValueError, match="a_star"):  # the data themselves would overflow
        LinearProblem(a_star=1e308)
    with pytest.raises(ValueError, match="sigma"):  # sigma^2 would overflow
        LinearProblem(sigma=1e200)
    with pytest.raises(ValueError, match="x0"):
        p.loss(0.0, x0=np.array([np.nan]))
    with pytest.raises(ValueError, match="size must be an integer from 0 to"):
        p.sample_x0(10**12, np.random.default_rng(0))
    with pytest.raises(ValueError, match="MAX_WORK"):
        p.sample_x0((10**5, 10**5), np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        p.sample_x0(3, None)
    with pytest.raises(TypeError, match="method"):
        LinearProblem(method=[], n_steps=3)
