"""The wide Neural ODE: activations, forward vs integrate, gradients vs finite differences,
adjoint vs backprop, kernels, Monte Carlo, training, seeds, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from simplest_node import (
    ACTIVATIONS,
    Weights,
    WideNODE,
    activation,
    integrate,
    ks_normal,
    ks_null_level,
    linearized_loss,
    loglog_slope,
    monte_carlo,
    sample_weights,
    train_wide,
)
from simplest_node.wide import WIDE_METHODS

X = np.random.default_rng(2).standard_normal((4, 3))
Y = np.linspace(-0.5, 0.5, 4)


def perturbed(weights, which, index, eps):
    arrays = [a.copy() for a in weights]
    arrays["UWv".index(which)][index] += eps
    return Weights(*arrays)


# ------------------------------------------------------------------ activations
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_derivative_matches_central_difference(name):
    phi, dphi = activation(name)
    x = np.linspace(-6, 6, 97) + 0.013  # avoid the ReLU kink at 0
    fd = (phi(x + 1e-6) - phi(x - 1e-6)) / 2e-6
    np.testing.assert_allclose(dphi(x), fd, atol=1e-8)


def test_activation_values():
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_allclose(activation("softplus")[0](x), np.log1p(np.exp(x)), rtol=1e-15)
    np.testing.assert_allclose(activation("gelu")[0](x), x * stats.norm.cdf(x), rtol=1e-14)
    np.testing.assert_array_equal(activation("relu")[0](x), [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(activation("relu")[1](x), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(activation("identity")[0](x), x)
    # no overflow warning far out (pyproject turns RuntimeWarnings into errors)
    assert np.isfinite(activation("softplus")[0](np.array([1e4, -1e4]))).all()
    assert np.isfinite(activation("tanh")[1](np.array([1e4, -1e4]))).all()


# ------------------------------------------------------------------ forward
@pytest.mark.parametrize("method", WIDE_METHODS)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_hidden_equals_integrate(name, method):
    model = WideNODE(name, T=1.3, n_steps=7, method=method, sigma_u=0.8, sigma_w=1.5)
    w = sample_weights(6, 3, 2, seed=1)
    phi, _ = activation(name)
    c = 1.5 / np.sqrt(6)
    h0 = 0.8 / np.sqrt(3) * np.einsum("dnk,bk->dnb", w.U, X)
    expected = integrate(lambda t, h: c * (w.W @ phi(h)), h0, 1.3, 7, method)
    np.testing.assert_allclose(model.hidden(w, X), expected, rtol=1e-13, atol=1e-13)


def test_shapes():
    model = WideNODE("tanh", n_steps=3)
    w = sample_weights(5, 3, 7, seed=0)
    assert w.U.shape == (7, 5, 3) and w.W.shape == (7, 5, 5) and w.v.shape == (7, 5)
    assert (w.n_draws, w.width, w.dim) == (7, 5, 3)
    assert model.forward(w, X).shape == (7, 4)
    assert model.forward(w, X[0]).shape == (7, 1)
    assert model.kernel(w, X).shape == (7, 4, 4)
    assert model.ntk(w, X).shape == (7, 4, 4)
    loss, g = model.grad_backprop(w, X, Y)
    assert loss.shape == (7,) and g.U.shape == w.U.shape and g.W.shape == w.W.shape and g.v.shape == w.v.shape
    _, g = model.grad_adjoint(w, X, np.tile(Y, (7, 1)))
    assert g.W.shape == w.W.shape


def test_draws_are_independent_networks():
    """Batching over draws equals computing each draw alone, to the bit."""
    model = WideNODE("gelu", n_steps=4, method="rk4")
    w = sample_weights(5, 3, 3, seed=4)
    batch = model.forward(w, X)
    for d in range(3):
        alone = Weights(w.U[d : d + 1], w.W[d : d + 1], w.v[d : d + 1])
        np.testing.assert_allclose(model.forward(alone, X)[0], batch[d], rtol=1e-14, atol=1e-15)


def test_seeds_reproduce_and_differ():
    a, b, c = sample_weights(4, 2, 3, seed=1), sample_weights(4, 2, 3, seed=1), sample_weights(4, 2, 3, seed=2)
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(a.W, c.W)
    model = WideNODE()
    x = [[1.0, 0.0]]
    m1, m2 = monte_carlo(model, 4, x, 10, seed=3, chunk=4), monte_carlo(model, 4, x, 10, seed=3, chunk=4)
    np.testing.assert_array_equal(m1.outputs, m2.outputs)
    assert not np.array_equal(m1.outputs, monte_carlo(model, 4, x, 10, seed=4, chunk=4).outputs)


def test_inverse_T_scaling_makes_the_flow_T_independent():
    """sigma_w = c/T with a fixed step count: dt * sigma_w = c / n_steps, the same discrete map."""
    w = sample_weights(8, 3, 2, seed=0)
    ref = WideNODE.inverse_T_scaling(1.5, 1.0, activation="softplus", n_steps=10).forward(w, X)
    for T in (0.5, 4.0, 32.0):
        out = WideNODE.inverse_T_scaling(1.5, T, activation="softplus", n_steps=10).forward(w, X)
        np.testing.assert_allclose(out, ref, rtol=1e-12)


def test_identity_network_is_a_matrix_exponential():
    """With phi = id: f(x) = c_v v^T expm(T c W) c_u U x, approximated by RK4 to O(dt^4)."""
    from scipy.linalg import expm

    w = sample_weights(5, 3, 1, seed=3)
    model = WideNODE("identity", T=1.0, n_steps=200, method="rk4")
    c = 1 / np.sqrt(5)
    exact = (c * w.v[0]) @ expm(c * w.W[0]) @ (w.U[0] / np.sqrt(3)) @ X.T
    np.testing.assert_allclose(model.forward(w, X)[0], exact, rtol=1e-10)


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("method", WIDE_METHODS)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_backprop_matches_finite_differences(name, method):
    model = WideNODE(name, T=1.3, n_steps=7, method=method, sigma_w=1.5, sigma_v=0.7)
    w = sample_weights(6, 3, 2, seed=1)
    _, g = model.grad_backprop(w, X, Y)
    eps = 1e-6
    for which, index in [("W", (0, 1, 2)), ("W", (1, 5, 0)), ("U", (1, 0, 1)), ("v", (0, 3))]:
        fd = (
            model.loss(perturbed(w, which, index, eps), X, Y) - model.loss(perturbed(w, which, index, -eps), X, Y)
        ) / (2 * eps)
        assert abs(fd[index[0]] - getattr(g, which)[index]) < 1e-8
        other = 1 - index[0]  # the other draw does not move
        assert fd[other] == 0.0


@pytest.mark.parametrize("method", WIDE_METHODS)
def test_backprop_loss_is_the_forward_loss(method):
    model = WideNODE("softplus", n_steps=5, method=method)
    w = sample_weights(4, 3, 2, seed=0)
    loss, _ = model.grad_backprop(w, X, Y)
    np.testing.assert_allclose(loss, model.loss(w, X, Y), rtol=1e-15)


# Observed gap orders: the method's order, except Heun, whose gap is one order smaller (O(dt^3)):
# the errors of its discrete and continuous adjoints cancel at second order.
@pytest.mark.parametrize("method, order", [("euler", 1), ("midpoint", 2), ("heun", 3), ("rk4", 4)])
def test_adjoint_approaches_backprop_at_the_method_order(method, order):
    w = sample_weights(8, 3, 3, seed=5)
    gaps = []
    for n_steps in (16, 32, 64):
        model = WideNODE("tanh", T=1.0, n_steps=n_steps, method=method)
        _, gb = model.grad_backprop(w, X, Y)
        _, ga = model.grad_adjoint(w, X, Y)
        gaps.append(np.abs(gb.W - ga.W).max())
    assert abs(loglog_slope(np.array([16, 32, 64]), np.array(gaps)) + order) < 0.3


def test_adjoint_u_and_v_gradients():
    """dL/dv needs no adjoint solve (equal to backprop exactly); dL/dU converges with the steps."""
    w = sample_weights(6, 3, 2, seed=2)
    model = WideNODE("gelu", n_steps=400, method="rk4")
    _, gb = model.grad_backprop(w, X, Y)
    _, ga = model.grad_adjoint(w, X, Y)
    np.testing.assert_array_equal(ga.v, gb.v)
    np.testing.assert_allclose(ga.U, gb.U, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ kernels
def test_ntk_equals_jacobian_gram_by_finite_differences():
    model = WideNODE("tanh", T=1.0, n_steps=5, method="midpoint", sigma_u=1.2)
    w = sample_weights(5, 3, 2, seed=0)
    x = X[:3]
    jac = []
    for k, arr in enumerate(w):
        for index in np.ndindex(arr.shape[1:]):
            cols = []
            for d in range(2):
                plus = perturbed(w, "UWv"[k], (d,) + index, 1e-6)
                minus = perturbed(w, "UWv"[k], (d,) + index, -1e-6)
                cols.append((model.forward(plus, x)[d] - model.forward(minus, x)[d]) / 2e-6)
            jac.append(cols)
    jac = np.array(jac)  # (P, D, B)
    expected = np.einsum("pdb,pdc->dbc", jac, jac)
    np.testing.assert_allclose(model.ntk(w, x), expected, atol=1e-8)
    parts = model.ntk(w, x, parts=True)
    np.testing.assert_allclose(sum(parts), model.ntk(w, x), rtol=1e-14)
    # the v-part of the NTK is the per-network NNGP kernel
    np.testing.assert_allclose(parts[2], model.kernel(w, x), rtol=1e-14)


def test_identity_ntk_has_rank_at_most_d():
    ang = np.arange(6) * np.pi / 6
    x = np.stack([np.cos(ang), np.sin(ang)], axis=1)
    theta = WideNODE("identity").ntk(sample_weights(16, 2, 3, seed=0), x)
    ev = np.linalg.eigvalsh(theta)
    assert np.all(np.abs(ev[:, :-2]) < 1e-12 * ev[:, -1:])
    theta = WideNODE("tanh").ntk(sample_weights(16, 2, 3, seed=0), x)
    assert np.all(np.linalg.eigvalsh(theta)[:, 0] > 1e-8)


def test_kernel_mean_is_output_covariance():
    """Over many draws the per-network kernel and the output covariance agree (v is Gaussian)."""
    mc = monte_carlo(WideNODE("softplus", n_steps=4), 8, [[1.0, 0.0], [0.0, 1.0]], 4000, seed=0)
    products = mc.outputs[:, :, None] * mc.outputs[:, None, :]
    stderr = np.sqrt(np.var(products - mc.kernels, axis=0) / len(products))
    assert np.all(np.abs(products.mean(axis=0) - mc.kernels.mean(axis=0)) < 5 * stderr)


def test_monte_carlo_list_of_models_shares_the_weights():
    x = [[1.0, 0.0], [0.0, 1.0]]
    models = [WideNODE("tanh", n_steps=3), WideNODE("relu", n_steps=3)]
    together = monte_carlo(models, 5, x, 7, seed=2, chunk=3)
    for m, result in zip(models, together):
        alone = monte_carlo(m, 5, x, 7, seed=2, chunk=3)
        np.testing.assert_array_equal(result.outputs, alone.outputs)
        np.testing.assert_array_equal(result.kernels, alone.kernels)
    with pytest.raises(TypeError, match="model"):
        monte_carlo([], 5, x, 7)


def test_monte_carlo_chunks_cover_all_draws():
    mc = monte_carlo(WideNODE(), 3, [[1.0, 0.0]], 11, seed=0, chunk=4)
    assert mc.outputs.shape == (11, 1) and mc.kernels.shape == (11, 1, 1)
    assert len(np.unique(mc.outputs)) == 11


def test_ks_normal_on_normal_and_on_non_normal_samples():
    rng = np.random.default_rng(0)
    assert ks_normal(rng.standard_normal(4000))[0] < 0.02
    assert ks_normal(rng.exponential(size=4000))[0] > 0.1
    stat, mu, sigma = ks_normal(np.array([0.0, 1.0, 2.0]))
    assert (mu, sigma) == (1.0, pytest.approx(np.sqrt(2 / 3)))


def test_ks_null_level_equals_ks_normal_on_the_same_samples():
    mean, q95 = ks_null_level(500, n_repeats=20, seed=3)
    z = np.random.default_rng(3).standard_normal((20, 500))
    direct = [ks_normal(row)[0] for row in z]
    assert mean == pytest.approx(np.mean(direct), rel=1e-12)
    assert q95 == pytest.approx(np.quantile(direct, 0.95), rel=1e-12)
    # the floor falls like 1/sqrt(N)
    assert ks_null_level(2000, seed=0)[0] == pytest.approx(ks_null_level(500, seed=0)[0] / 2, rel=0.15)
    with pytest.raises(ValueError, match="n_samples"):
        ks_null_level(1)


@settings(max_examples=30, deadline=None)
@given(st.floats(-3, 3), st.floats(0.1, 5))
def test_loglog_slope_of_power_law(p, a):
    x = np.array([1.0, 2.0, 4.0, 8.0])
    assert loglog_slope(x, a * x**p) == pytest.approx(p, abs=1e-9)


# ------------------------------------------------------------------ training
def test_train_wide_first_step_is_a_gradient_step():
    model = WideNODE("tanh", n_steps=4)
    w = sample_weights(6, 3, 2, seed=0)
    hist = train_wide(model, w, X, Y, lr=0.3, n_iter=1)
    _, g = model.grad_backprop(w, X, Y)
    np.testing.assert_allclose(hist.weights.W, w.W - 0.3 * g.W, rtol=1e-15)
    np.testing.assert_allclose(hist.loss[1], model.loss(hist.weights, X, Y), rtol=1e-15)
    assert list(hist.diverged_at) == [-1, -1]


def test_train_wide_decreases_loss_and_reports_divergence():
    model = WideNODE("tanh", n_steps=4)
    w = sample_weights(32, 3, 2, seed=0)
    hist = train_wide(model, w, X, Y, lr=0.5, n_iter=50)
    assert np.all(hist.loss[-1] < 0.5 * hist.loss[0])
    blown = train_wide(WideNODE("identity", n_steps=4), w, X, Y, lr=1e3, n_iter=40)
    assert np.all(blown.diverged_at > 0)
    for d, k in enumerate(blown.diverged_at):
        assert np.isfinite(blown.loss[:k, d]).all() and not np.isfinite(blown.loss[k:, d]).any()


def test_linearized_loss_matches_direct_iteration():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 5, 5))
    theta = a @ np.swapaxes(a, 1, 2)
    r0 = rng.standard_normal((2, 5))
    pred = linearized_loss(theta, r0, 0.1, 7)
    r = r0.copy()
    for k in range(8):
        np.testing.assert_allclose(pred[k], 0.5 * np.mean(r**2, axis=1), rtol=1e-10)
        r = r - 0.1 / 5 * np.einsum("dij,dj->di", theta, r)


def test_wide_network_follows_its_linearization():
    """Lazy training: at width 256 the GD loss follows the NTK prediction over the first steps."""
    ang = np.linspace(0, np.pi, 10, endpoint=False)
    x = np.stack([np.cos(ang), np.sin(ang)], axis=1)
    y = 0.5 * np.sin(3 * ang)
    model = WideNODE("tanh", n_steps=4)
    w = sample_weights(256, 2, 1, seed=0)
    hist = train_wide(model, w, x, y, lr=1.0, n_iter=10)
    pred = linearized_loss(model.ntk(w, x), model.forward(w, x) - y, 1.0, 10)
    np.testing.assert_allclose(hist.loss, pred, rtol=0.05)


# ------------------------------------------------------------------ bad input
def test_bad_input():
    w = sample_weights(4, 3, 2, seed=0)
    with pytest.raises(ValueError, match="activation"):
        WideNODE("sigmoid")
    with pytest.raises(ValueError, match="method"):
        WideNODE(method="leapfrog")
    with pytest.raises(ValueError, match="T"):
        WideNODE(T=0.0)
    with pytest.raises(ValueError, match="sigma_w"):
        WideNODE(sigma_w=-1.0)
    with pytest.raises(TypeError, match="n_steps"):
        WideNODE(n_steps=2.5)
    with pytest.raises(ValueError, match="c"):
        WideNODE.inverse_T_scaling(c=0.0)
    with pytest.raises(ValueError, match="width"):
        sample_weights(0, 3)
    with pytest.raises(TypeError, match="seed"):
        sample_weights(4, 3, seed=-1)
    with pytest.raises(TypeError, match="seed"):
        sample_weights(4, 3, seed=1.5)
    model = WideNODE()
    with pytest.raises(ValueError, match="x must have shape"):
        model.forward(w, np.ones((4, 2)))
    with pytest.raises(ValueError, match="x must contain only finite"):
        model.forward(w, [[np.nan, 0.0, 0.0]])
    with pytest.raises(ValueError, match="y must have shape"):
        model.grad_backprop(w, X, np.ones(3))
    with pytest.raises(ValueError, match="y must have shape"):
        model.grad_adjoint(w, X, np.ones((3, 4)))
    with pytest.raises(TypeError, match="weights"):
        model.forward((w.U, w.W, w.v), X)
    with pytest.raises(ValueError, match="weights.v"):
        model.forward(Weights(w.U, w.W, w.v[:, :3]), X)
    with pytest.raises(ValueError, match="weights.W"):
        model.forward(Weights(w.U, w.W[:, :3], w.v), X)
    with pytest.raises(TypeError, match="model"):
        monte_carlo("tanh", 4, X, 10)
    with pytest.raises(ValueError, match="n_draws"):
        monte_carlo(model, 4, X, 0)
    with pytest.raises(ValueError, match="samples"):
        ks_normal([1.0])
    with pytest.raises(ValueError, match="samples must not all be equal"):
        ks_normal([1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="> 0"):
        loglog_slope([1.0, 2.0], [1.0, -1.0])
    with pytest.raises(ValueError, match="lr"):
        train_wide(model, w, X, Y, lr=0.0, n_iter=3)
    with pytest.raises(ValueError, match="theta"):
        linearized_loss(np.eye(3), np.ones(2), 0.1, 3)


# --- robustness regressions: bad and extreme inputs that once crashed, warned or gave NaN ------
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: WideNODE(n_steps=10**12), ValueError, "n_steps"),
        (lambda: monte_carlo(WideNODE(), 4, [[1.0, 0.0]], 10**12), ValueError, "MAX_WORK"),
        (lambda: sample_weights(10**12, 2), ValueError, "MAX_WORK"),
        (lambda: Weights(np.full((1, 2, 2), np.nan), np.eye(2)[None], np.ones((1, 2))), ValueError, "U"),
        (lambda: Weights(np.ones((1, 2, 2)), np.eye(2)[None], np.array([[np.inf, 0.0]])), ValueError, "v"),
        (lambda: Weights(np.ones((1, 2, 2)), np.eye(3)[None], np.ones((1, 3))), ValueError, "weights.U"),
        (lambda: activation([]), TypeError, "name"),
        (lambda: ks_null_level(10, n_repeats=10**12), ValueError, "MAX_WORK"),
        (lambda: train_wide(WideNODE(), sample_weights(2, 3), X, Y, 0.1, 10**12), ValueError, "MAX_WORK"),
        (lambda: WideNODE().ntk(sample_weights(2, 3), X, parts="yes"), TypeError, "parts"),
    ],
)
def test_wide_functions_refuse_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_ks_normal_near_overflow_is_clean():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ks, mu, sigma = ks_normal([1e308, -1e308, 0.0, 5e307])
        small = ks_normal([1.0, -1.0, 0.0, 0.5])
    assert ks == pytest.approx(small[0], rel=1e-12) and np.isfinite(mu) and sigma > 1e307


def test_linearized_loss_with_a_huge_rate_has_no_nan():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = linearized_loss(np.array([[2.0, 0.0], [0.0, 1.0]]), np.array([0.0, 0.3]), 1e308, 3)
    assert not np.isnan(loss).any() and loss[-1] == np.inf


def test_train_wide_freezes_a_diverging_draw_at_finite_weights():
    model = WideNODE("relu", n_steps=4, sigma_w=3.0)
    history = train_wide(model, sample_weights(4, 3, 2, seed=1), X, Y * 1e150, 1e150, 5)
    assert np.all(history.diverged_at >= 0)
    assert not np.isnan(history.loss).any()
    assert all(np.all(np.isfinite(a)) for a in history.weights)
