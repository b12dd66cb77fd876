"""The nonlinear model dx/dt = a tanh(b x): RK4 map, exact sensitivities, optimizers, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simplest_node.nonlinear import (
    DiagonalScaled,
    LevenbergMarquardt,
    NonlinearProblem,
    train_nonlinear,
    valley_curve,
)
from simplest_node.optimizers import GD, OPTIMIZER_NAMES, Adam, optimizer


def _fd(problem, theta, h=1e-6):
    return np.stack([(problem.loss(theta + h * e) - problem.loss(theta - h * e)) / (2 * h) for e in np.eye(2)], -1)


def test_loss_vanishes_at_the_truth_and_its_mirror():
    p = NonlinearProblem(a_star=-1.0, b_star=1.5, sigma=0.5)
    assert p.loss(np.array([-1.0, 1.5])) == 0.0
    assert p.loss(np.array([1.0, -1.5])) < 1e-30  # a tanh(b x) = (-a) tanh(-b x): an exact symmetry
    assert p.loss(np.array([-1.2, 1.5])) > 1e-4


def test_rk4_endpoint_converges_to_the_exact_flow_for_small_b():
    """For small b x the field is a b x, so the flow is e^{a b t} x0."""
    p = NonlinearProblem(n_steps=40)
    x, _, _ = p.endpoint(np.array([-2.0, 1e-4]), x0=np.array([0.3, -0.7]))
    assert np.allclose(x, np.exp(-2e-4) * np.array([0.3, -0.7]), rtol=1e-8)


def test_endpoint_rk4_order_four():
    theta = np.array([0.8, 1.3])
    x0 = np.array([0.5, -1.0])
    fine = NonlinearProblem(n_steps=640).endpoint(theta, x0)[0]
    errors = [np.max(np.abs(NonlinearProblem(n_steps=n).endpoint(theta, x0)[0] - fine)) for n in (10, 20)]
    assert 12 < errors[0] / errors[1] < 20  # 2^4 = 16


@pytest.mark.parametrize("theta", [[-0.7, 1.6], [0.5, -0.3], [2.0, 0.1], [-3.0, 2.5]])
def test_gradient_matches_finite_differences(theta):
    p = NonlinearProblem(a_star=-1.0, b_star=1.0, sigma=0.8, n_steps=15)
    theta = np.array(theta)
    assert np.allclose(p.grad(theta), _fd(p, theta), rtol=1e-6, atol=1e-10)


def test_sensitivities_match_finite_differences_of_the_endpoint():
    p = NonlinearProblem(n_steps=12)
    theta, h = np.array([0.6, -1.1]), 1e-6
    _, sa, sb = p.endpoint(theta)
    for s, e in [(sa, np.array([1.0, 0.0])), (sb, np.array([0.0, 1.0]))]:
        fd = (p.endpoint(theta + h * e)[0] - p.endpoint(theta - h * e)[0]) / (2 * h)
        assert np.allclose(s, fd, rtol=1e-6, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.floats(-3, 3), st.floats(-3, 3), st.floats(0.2, 2.0))
def test_gradient_fd_property(a, b, t):
    p = NonlinearProblem(t=t, sigma=0.7, n_steps=8, n_nodes=12)
    theta = np.array([a, b])
    g = p.grad(theta)
    assert np.max(np.abs(g - _fd(p, theta))) < 1e-6 * max(1.0, np.max(np.abs(g)))


def test_gauss_newton_matrix_gives_the_gradient_at_linear_residuals():
    p = NonlinearProblem()
    theta = np.array([[0.4, 0.9], [-1.5, 0.2]])
    H = p.gauss_newton_matrix(theta)
    assert H.shape == (2, 2, 2)
    assert np.allclose(H, np.swapaxes(H, -1, -2))
    assert np.all(np.linalg.eigvalsh(H) >= -1e-15)


def test_diagonal_scaling_for_the_linear_limit_is_chapter_5():
    """As b -> 0 with a b fixed, E[(dx/da)^2] tends to the linear model's sensitivity; check the
    defining identity E[s_a^2] = sum w s_a^2 directly on the quadrature."""
    p = NonlinearProblem(sigma=0.5)
    theta = np.array([0.3, 0.7])
    _, sa, sb = p.endpoint(theta)
    H = p.gauss_newton_matrix(theta)
    assert np.isclose(H[0, 0], np.sum(p.weights * sa**2)) and np.isclose(H[1, 1], np.sum(p.weights * sb**2))


def test_quadrature_second_moment():
    p = NonlinearProblem(sigma=0.7, n_nodes=20)
    assert np.isclose(np.sum(p.weights * p.x0**2), 0.49, rtol=1e-13)


def test_sampled_problem_is_seeded_and_noisy():
    p1 = NonlinearProblem(n_samples=30, seed=4, noise=0.01)
    p2 = NonlinearProblem(n_samples=30, seed=4, noise=0.01)
    assert np.array_equal(p1.y, p2.y) and p1.x0.shape == (30,)
    assert p1.loss(np.array([p1.a_star, p1.b_star])) > 0  # noise: the truth no longer fits exactly


def test_valley_curve():
    assert np.allclose(valley_curve([0.5, 2.0], a_star=-1.0, b_star=1.0), [-2.0, -0.5])


def test_gauss_newton_converges_and_diagonal_decreases():
    p = NonlinearProblem(a_star=-1.0, b_star=1.0, sigma=0.5)
    theta0 = np.array([[-2.0, 0.5], [0.5, 2.0], [-0.3, -0.4]])
    h = train_nonlinear(p, LevenbergMarquardt(1.0, line_search=True), theta0, 40, tol=1e-20)
    assert np.all(h.converged_at(1e-20) > 0)
    h = train_nonlinear(p, DiagonalScaled(1.0, line_search=True), theta0, 20)
    assert np.all(np.diff(h.loss, axis=0) <= 0)


def test_gd_adam_elementwise():
    p = NonlinearProblem(sigma=0.5)
    theta0 = np.array([[-2.0, 0.5], [0.5, 2.0]])
    for opt in [GD(0.3), Adam(0.05)]:
        both = train_nonlinear(p, opt, theta0, 10)
        one = train_nonlinear(p, type(opt)(opt.lr), theta0[1], 10)
        assert np.allclose(both.theta[:, 1], one.theta[:, 0], rtol=0, atol=1e-14)


def test_train_nonlinear_flags_divergence():
    p = NonlinearProblem(a_star=1.0, b_star=1.0, sigma=1.0, t=3.0)
    h = train_nonlinear(p, GD(1e300), np.array([[0.5, 0.5]]), 3)
    assert h.diverged[0]
    assert np.all(np.isfinite(h.theta))


def test_tol_freezes_runs():
    p = NonlinearProblem(sigma=0.5)
    h = train_nonlinear(p, LevenbergMarquardt(1.0, line_search=True), np.array([[-1.5, 0.8]]), 30, tol=1e-14)
    c = h.converged_at(1e-14)[0]
    assert c > 0 and np.all(h.loss[c:, 0] == h.loss[c, 0])


def test_optimizer_names():
    for name in OPTIMIZER_NAMES["nonlinear"]:
        assert optimizer(name, "nonlinear", 0.2).lr == 0.2


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: NonlinearProblem(t=0.0), ValueError, "t"),
        (lambda: NonlinearProblem(t=-1.0), ValueError, "t"),
        (lambda: NonlinearProblem(sigma=-1.0), ValueError, "sigma"),
        (lambda: NonlinearProblem(a_star=np.nan), ValueError, "a_star"),
        (lambda: NonlinearProblem(b_star="1"), TypeError, "b_star"),
        (lambda: NonlinearProblem(n_steps=0), ValueError, "n_steps"),
        (lambda: NonlinearProblem(n_nodes=0), ValueError, "n_nodes"),
        (lambda: NonlinearProblem(noise=0.1), ValueError, "noise"),
        (lambda: NonlinearProblem(n_samples=10, noise=-0.1), ValueError, "noise"),
        (lambda: NonlinearProblem().loss(np.array([1.0, 2.0, 3.0])), ValueError, "theta"),
        (lambda: NonlinearProblem().grad(np.array([np.inf, 2.0])), ValueError, "theta"),
        (lambda: NonlinearProblem().endpoint(np.array([1.0, 2.0]), x0=[np.nan]), ValueError, "x0"),
        (lambda: optimizer("Newton", "nonlinear", 0.1), ValueError, "optimizer"),
        (lambda: optimizer("GD", "nonlinear", 0.0), ValueError, "lr"),
        (lambda: DiagonalScaled(-1.0), ValueError, "lr"),
        (lambda: LevenbergMarquardt(1.0, damping=-1.0), ValueError, "damping"),
        (lambda: train_nonlinear(NonlinearProblem(), GD(0.1), np.zeros((2, 2, 2)), 3), ValueError, "theta0"),
        (lambda: train_nonlinear(NonlinearProblem(), GD(0.1), np.zeros((2, 2)), 3, tol=-1.0), ValueError, "tol"),
        (lambda: valley_curve([0.0, 1.0]), ValueError, "b"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- robustness regressions: bad and extreme inputs that once crashed, warned or gave NaN ------
def test_gauss_newton2_without_damping_survives_a_singular_matrix():
    # H is numerically singular at (1e10, 1e-10); damping 0 used to raise LinAlgError
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = train_nonlinear(NonlinearProblem(), LevenbergMarquardt(1.0, damping=0.0), [[1e10, 1e-10]], 4)
    assert not np.isnan(history.loss).any() and not np.isnan(history.theta).any()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_steps": 10**12}, ValueError, "MAX_WORK"),
        ({"n_samples": 10**12}, ValueError, "MAX_WORK"),
        ({"n_nodes": 10**12}, ValueError, "n_nodes"),
        ({"seed": -1, "n_samples": 4}, ValueError, "seed"),
        ({"seed": 3.5, "n_samples": 4}, TypeError, "seed"),
        ({"sigma": 1e308}, ValueError, "sigma"),
    ],
)
def test_nonlinear_problem_refuses_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        NonlinearProblem(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"problem": None}, TypeError, "problem"),
        ({"optimizer": None}, TypeError, "optimizer"),
        ({"theta0": [1.0]}, ValueError, "theta0"),
        ({"n_iter": 10**12}, ValueError, "MAX_WORK"),
    ],
)
def test_train_nonlinear_refuses_bad_arguments(kwargs, error, match):
    args = {
        "problem": NonlinearProblem(n_steps=4, n_nodes=8),
        "optimizer": GD(0.1),
        "theta0": [[-0.5, 0.5]],
        "n_iter": 2,
    }
    with pytest.raises(error, match=match):
        train_nonlinear(**{**args, **kwargs})


def test_nonlinear_line_search_flag_is_a_bool():
    with pytest.raises(TypeError, match="line_search"):
        DiagonalScaled(0.5, line_search="yes")
