"""simplest_node.mlp_imde: the tanh MLP field, backpropagation through the solver, the IMDE it learns."""

import numpy as np
import pytest

import simplest_node as sn
from simplest_node.mlp_imde import (
    TanhMLP,
    _rollout_loss,
    cubic_pairs,
    damped_cubic_field,
    field_distance,
    fit_mlp,
)

RNG = np.random.default_rng(5)
X0 = RNG.normal(size=(7, 2))
X1 = RNG.normal(size=(7, 2))


@pytest.mark.parametrize("method", ["euler", "midpoint", "heun", "rk4"])
@pytest.mark.parametrize("n_sub", [1, 3])
def test_gradient_matches_finite_differences(method, n_sub):
    model = TanhMLP(2, 6, 2)
    theta = model.init(1)
    _, grad = _rollout_loss(model, theta, X0, X1, 0.1, n_sub, method)
    eps = 1e-6
    for k in range(0, model.n_params, 5):
        e = np.zeros_like(theta)
        e[k] = eps
        fd = (
            _rollout_loss(model, theta + e, X0, X1, 0.1, n_sub, method)[0]
            - _rollout_loss(model, theta - e, X0, X1, 0.1, n_sub, method)[0]
        ) / (2 * eps)
        assert fd == pytest.approx(grad[k], abs=1e-8)


def test_vjp_matches_finite_differences_in_the_input():
    model = TanhMLP(2, 5, 3)
    theta = model.init(2)
    g = RNG.normal(size=X0.shape)
    _, dx = model.vjp(X0, theta, g)
    eps = 1e-6
    for d in range(2):
        e = np.zeros(2)
        e[d] = eps
        fd = np.sum(g * (model(X0 + e, theta) - model(X0 - e, theta)), axis=1) / (2 * eps)
        assert np.allclose(fd, dx[:, d], atol=1e-8)


def test_init_is_seeded_and_shapes():
    model = TanhMLP(2, 4, 2)
    assert model.n_params == (2 * 4 + 4) + (4 * 4 + 4) + (4 * 2 + 2)
    assert np.array_equal(model.init(3), model.init(3))
    assert not np.array_equal(model.init(3), model.init(4))
    with pytest.raises(ValueError, match="theta"):
        model(X0, np.ones(3))


def test_linear_data_euler_learns_the_linear_imde():
    # dx/dt = a* x on scalar states: Euler's IMDE is the rate (e^{a* h} - 1)/h (closed form; its
    # series is a*(1 + c_1 a* h + ...), c_k from linear_imde_coefficients)
    a_star, T = -1.0, 0.5
    x0 = np.linspace(-1, 1, 21)[:, None]
    x1 = np.exp(a_star * T) * x0
    fit = fit_mlp(x0, x1, T, "euler", width=8, depth=1, n_iter=400)
    slope = np.polyfit(x0[:, 0], fit.field(x0)[:, 0], 1)[0]
    a_h = sn.linear_rate(a_star, T, "euler")
    assert slope == pytest.approx(a_h, abs=2e-3)
    c = sn.linear_imde_coefficients("euler", 6)
    series = a_star * (1 + sum(ck * (a_star * T) ** (k + 1) for k, ck in enumerate(c)))
    assert series == pytest.approx(a_h, abs=1e-5)
    # the distance to the true field is the IMDE's, |a_h - a*| times the mean |x|
    to_true = field_distance(fit.field(x0), a_star * x0)
    assert to_true == pytest.approx(abs(a_h - a_star) * np.mean(np.abs(x0)), rel=0.02)


def test_training_lowers_the_loss_and_records_it():
    x0, x1 = sn.sample_pairs(40, T=0.1, seed=0, q_range=(-1.0, 1.0), p_range=(-2.0, 2.0))
    fit = fit_mlp(x0, x1, 0.1, "midpoint", width=8, n_iter=50)
    assert fit.loss[-1] < 1e-2 * fit.loss[0]
    assert np.all(np.diff(fit.loss) <= 1e-15)
    warm = fit_mlp(x0, x1, 0.1, "midpoint", width=8, n_iter=5, theta0=fit.theta)
    assert warm.loss[0] == pytest.approx(fit.loss[-1])


def test_field_distance_is_the_mean_of_the_max_abs():
    u = np.array([[1.0, 0.0], [0.0, 0.0]])
    v = np.array([[0.0, -2.0], [0.5, 0.0]])
    assert field_distance(u, v) == pytest.approx((2.0 + 0.5) / 2)


def test_cubic_pairs_follow_the_field():
    x0, x1 = cubic_pairs(5, 1e-3, seed=0)
    assert np.allclose((x1 - x0) / 1e-3, damped_cubic_field(x0 + (x1 - x0) / 2), rtol=1e-4, atol=1e-4)
    assert np.array_equal(cubic_pairs(5, 1e-3, seed=0)[0], x0)
    assert damped_cubic_field(np.array([1.0, 2.0])) == pytest.approx([-0.1 + 16.0, -2.0 - 0.8])


def test_lbfgs_minimizes_the_rosenbrock_function():
    from simplest_node.mlp_imde import _lbfgs

    def rosen(x):
        f = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        g = np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])
        return f, g

    x, values, _ = _lbfgs(rosen, np.array([-1.2, 1.0]), 200)
    assert np.allclose(x, [1.0, 1.0], atol=1e-6)
    assert np.all(np.diff(values) <= 0)
