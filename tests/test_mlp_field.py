"""The MLP field's VJPs, its Neural ODE gradients and its training, against finite differences."""

import numpy as np
import pytest
from matplotlib.figure import Figure

import simplest_node as sn
from simplest_node.figures.simplest import mlp_field_figure


@pytest.fixture(scope="module")
def problem():
    return sn.mlp_oscillator_problem(n_samples=32, width=8)


def test_vjps_match_finite_differences_of_the_field():
    field = sn.MLPField(dim=3, width=5)
    rng = np.random.default_rng(3)
    theta = field.init(seed=2) + 0.3 * rng.normal(size=field.n_params)  # nonzero biases too
    x, v = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    vx, vtheta = field.vjp(theta, x, v)
    eps = 1e-6
    fd_x = np.empty_like(x)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            e = np.zeros_like(x)
            e[i, j] = eps
            fd_x[i, j] = np.sum(v * (field.field(theta, x + e) - field.field(theta, x - e))) / (2 * eps)
    fd_theta = np.empty_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = eps
        fd_theta[j] = np.sum(v * (field.field(theta + e, x) - field.field(theta - e, x))) / (2 * eps)
    np.testing.assert_allclose(vx, fd_x, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(vtheta, fd_theta, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("method", ["euler", "midpoint", "rk4"])
def test_backprop_is_the_derivative_of_the_discrete_loss(problem, method):
    theta = problem.field.init(seed=1)
    g = problem.backprop_grad(theta, method, 3)
    fd = problem.fd_grad(theta, method, 3)
    assert np.linalg.norm(g - fd) < 1e-8 * np.linalg.norm(g)


def test_checkpointing_gives_the_same_gradient_and_counts(problem):
    theta = problem.field.init(seed=1)
    full, cost = problem.backprop_grad(theta, "rk4", 9, return_cost=True)
    checked, cost_c = problem.backprop_grad(theta, "rk4", 9, checkpoint_every=3, return_cost=True)
    np.testing.assert_allclose(checked, full, rtol=1e-13, atol=1e-16)
    B, d = problem.x0.shape
    assert cost == sn.GradientCost(field_evals=36, vjps=36, stored_floats=36 * B * d)
    assert cost_c == sn.GradientCost(field_evals=36 + 24, vjps=36, stored_floats=2 * B * d + 12 * B * d)


def test_counts_are_the_calls_made(problem, monkeypatch):
    field, calls = problem.field, {"field": 0, "vjp": 0}
    real_field, real_vjp = field._field, field._vjp

    def counted(name, fn):
        def wrapper(*args):
            calls[name] += 1
            return fn(*args)

        return wrapper

    monkeypatch.setattr(field, "_field", counted("field", real_field))
    monkeypatch.setattr(field, "_vjp", counted("vjp", real_vjp))
    theta = field.init(seed=1)
    _, cost = problem.adjoint_grad(theta, "midpoint", 5, return_cost=True)
    # the adjoint's backward stages evaluate the field inside each VJP
    assert (calls["field"] + calls["vjp"], calls["vjp"]) == (cost.field_evals, cost.vjps)
    calls.update(field=0, vjp=0)
    _, cost = problem.backprop_grad(theta, "midpoint", 5, checkpoint_every=2, return_cost=True)
    assert (calls["field"], calls["vjp"]) == (cost.field_evals, cost.vjps)


@pytest.mark.parametrize("method, order", [("euler", 1), ("midpoint", 2), ("rk4", 4)])
def test_the_adjoint_approaches_backprop_at_the_solver_order(problem, method, order):
    theta = problem.field.init(seed=1)
    gaps = []
    for n in (8, 16):
        bp, adj = problem.backprop_grad(theta, method, n), problem.adjoint_grad(theta, method, n)
        gaps.append(np.linalg.norm(adj - bp) / np.linalg.norm(bp))
    assert abs(np.log2(gaps[0] / gaps[1]) - order) < 0.15


def test_training_fits_the_oscillator_field():
    fit = sn.train_mlp_field(sn.mlp_oscillator_problem(n_samples=64), lr=0.03, n_iter=300)
    assert fit.loss.shape == (301,)
    assert fit.loss[-1] < 1e-3 * fit.loss[0]
    assert fit.field_error() < 0.2
    assert isinstance(mlp_field_figure(fit, horizon=2.0), Figure)


def test_bad_input_is_refused(problem):
    with pytest.raises(ValueError, match="theta"):
        problem.loss(np.zeros(3))
    with pytest.raises(ValueError, match="x"):
        problem.field.field(problem.field.init(), np.zeros((2, 3)))
    huge = np.full(problem.field.n_params, 1e300)  # overflows: inf, or a ValueError, never NaN
    try:
        assert np.isinf(problem.loss(huge))
    except ValueError as err:
        assert "too large" in str(err)
