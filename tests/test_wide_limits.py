"""The wide model's limits: the limit-kernel recursion (closed forms, Monte Carlo), the untied
ResNet, the NTK along training, and the time-rescaling identity for gradients and training."""

import numpy as np
import pytest
from scipy import integrate as sint

from simplest_node import (
    WideNODE,
    gaussian_expectation,
    kernel_drift,
    limit_kernel,
    ntk_trajectory,
    sample_weights,
    train_wide,
    untied_hidden,
)

X2 = np.array([[1.0, 0.0], [0.6, 0.8]])


# ---------------------------------------------------------------- gaussian_expectation
def test_identity_expectation_is_the_covariance():
    assert gaussian_expectation("identity", 2.0, 0.5, 0.3) == pytest.approx(0.3, abs=1e-14)


def test_relu_expectation_matches_the_arc_cosine_kernel():
    va, vb, c = 1.3, 0.7, 0.4
    theta = np.arccos(c / np.sqrt(va * vb))
    exact = np.sqrt(va * vb) / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * np.cos(theta))
    # a kink: Gauss-Hermite converges only algebraically
    errors = [abs(gaussian_expectation("relu", va, vb, c, n_quad=q) - exact) for q in (25, 50, 200)]
    assert errors[2] < 3e-3 * exact and errors[2] < errors[1] < errors[0]


def test_smooth_expectation_matches_adaptive_quadrature():
    va, vb, c = 1.5, 0.8, -0.6
    cov = np.array([[va, c], [c, vb]])
    inv, det = np.linalg.inv(cov), np.linalg.det(cov)

    def integrand(b, a):
        z = np.array([a, b])
        return np.log1p(np.exp(a)) * np.log1p(np.exp(b)) * np.exp(-0.5 * z @ inv @ z) / (2 * np.pi * np.sqrt(det))

    ref = sint.dblquad(integrand, -12, 12, -12, 12, epsabs=1e-13, epsrel=1e-12)[0]
    assert gaussian_expectation("softplus", va, vb, c) == pytest.approx(ref, rel=1e-10)


def test_gaussian_expectation_broadcasts_and_handles_zero_variance():
    out = gaussian_expectation("tanh", np.array([0.0, 1.0]), 1.0, 0.0)
    assert out.shape == (2,)
    assert out[0] == 0.0  # tanh(0) = 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(var_a=-1.0, var_b=1.0, cov_ab=0.0), ">= 0"),
        (dict(var_a=1.0, var_b=1.0, cov_ab=2.0), "covariance"),
        (dict(var_a=np.ones(2), var_b=np.ones(3), cov_ab=0.0), "broadcast"),
    ],
)
def test_gaussian_expectation_refuses_bad_moments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gaussian_expectation("tanh", **kwargs)


# ---------------------------------------------------------------- limit_kernel
@pytest.mark.parametrize("T", [0.5, 1.0, 2.0])
def test_identity_tied_kernel_matches_free_probability_for_two_steps(T):
    # (I + aG)^2 with G circular: tau[(I + aG)^2 (I + aG*)^2] = 1 + 4a^2 + a^4
    a = T / 2
    K = limit_kernel(WideNODE("identity", T=T, n_steps=2), X2)
    np.testing.assert_allclose(K, (1 + 4 * a**2 + a**4) * X2 @ X2.T / 2, rtol=1e-13)


@pytest.mark.parametrize("n_steps", [1, 3, 7])
def test_identity_untied_kernel_is_a_product(n_steps):
    a = 1.0 / n_steps
    K = limit_kernel(WideNODE("identity", n_steps=n_steps, sigma_w=1.3), X2, tied=False)
    np.testing.assert_allclose(K, (1 + (1.3 * a) ** 2) ** n_steps * X2 @ X2.T / 2, rtol=1e-13)


def test_one_step_tied_and_untied_agree():
    m = WideNODE("softplus", n_steps=1, sigma_w=1.5)
    np.testing.assert_allclose(limit_kernel(m, X2), limit_kernel(m, X2, tied=False), rtol=1e-14)


def test_quadrature_has_converged_for_tanh():
    m = WideNODE("tanh", n_steps=10)
    np.testing.assert_allclose(limit_kernel(m, X2), limit_kernel(m, X2, n_quad=128), rtol=1e-9)


@pytest.mark.parametrize("tied", [True, False])
def test_limit_kernel_agrees_with_wide_networks(tied):
    m = WideNODE("tanh", n_steps=5, sigma_w=1.5)
    K = limit_kernel(m, X2, tied=tied)
    kernels = []
    for draw in range(64):
        w = sample_weights(256, 2, 1, seed=draw)
        h = m.hidden(w, X2) if tied else untied_hidden(m, w, X2, seed=1000 + draw)
        p = np.tanh(h[0])
        kernels.append(p.T @ p / 256)
    kernels = np.array(kernels)
    se = kernels.std(axis=0, ddof=1) / np.sqrt(len(kernels))
    # the finite-width bias is O(1/n), below the Monte Carlo error here
    assert np.all(np.abs(kernels.mean(axis=0) - K) < 4 * se + 2e-3)


def test_tied_and_untied_limits_differ():
    m = WideNODE("tanh", n_steps=10, sigma_w=2.0)
    assert limit_kernel(m, X2[:1])[0, 0] > limit_kernel(m, X2[:1], tied=False)[0, 0] + 0.1


def test_limit_kernel_refuses_other_methods_and_bad_input():
    with pytest.raises(ValueError, match="euler"):
        limit_kernel(WideNODE(method="rk4"), X2)
    with pytest.raises(TypeError, match="model"):
        limit_kernel("tanh", X2)
    with pytest.raises(TypeError, match="tied"):
        limit_kernel(WideNODE(), X2, tied=1)
    with pytest.raises(ValueError, match="overflowed"):
        limit_kernel(WideNODE("identity", n_steps=50, sigma_w=1e10), X2)


# ---------------------------------------------------------------- untied_hidden
def test_one_untied_step_is_the_tied_network():
    m = WideNODE("gelu", n_steps=1)
    w = sample_weights(8, 2, 3, seed=1)
    np.testing.assert_array_equal(untied_hidden(m, w, X2, seed=5), m.hidden(w, X2))


def test_untied_blocks_are_seeded_and_fresh():
    m = WideNODE("tanh", n_steps=4)
    w = sample_weights(8, 2, 2, seed=1)
    a, b = untied_hidden(m, w, X2, seed=3), untied_hidden(m, w, X2, seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, untied_hidden(m, w, X2, seed=4))
    assert not np.allclose(a, m.hidden(w, X2))


def test_untied_identity_network_is_a_product_of_fresh_blocks():
    m = WideNODE("identity", T=2.0, n_steps=3, sigma_w=0.7)
    w = sample_weights(5, 2, 1, seed=2)
    rng = np.random.default_rng(9)
    h = w.U[0] @ X2.T / np.sqrt(2)
    step = m.dt * 0.7 / np.sqrt(5)
    for k in range(3):
        W = w.W[0] if k == 0 else rng.standard_normal((1, 5, 5))[0]
        h = h + step * W @ h
    np.testing.assert_allclose(untied_hidden(m, w, X2, seed=np.random.default_rng(9))[0], h, rtol=1e-13)


def test_untied_change_shrinks_like_one_over_root_k():
    # E|h_K - h_0|^2 = (T sigma_w / K)^2 sum_k E|phi(h_k)|^2: K times it stays of order one
    w = sample_weights(128, 2, 8, seed=0)
    h0 = w.U @ X2.T / np.sqrt(2)
    msq = {}
    for K in (10, 160):
        m = WideNODE("tanh", n_steps=K, sigma_w=2.0)
        msq[K] = np.mean(np.sum((untied_hidden(m, w, X2, seed=K) - h0) ** 2, axis=1))
    assert msq[160] * 160 == pytest.approx(msq[10] * 10, rel=0.25)
    assert msq[160] < msq[10] / 8


def test_untied_refuses_other_methods():
    with pytest.raises(ValueError, match="euler"):
        untied_hidden(WideNODE(method="midpoint"), sample_weights(2, 2), X2)


# ---------------------------------------------------------------- ntk_trajectory
def _problem():
    alpha = np.arange(6) * np.pi / 6
    return np.stack([np.cos(alpha), np.sin(alpha)], axis=1), 0.5 * np.sin(3 * alpha)


def test_ntk_trajectory_is_the_train_wide_run():
    x, y = _problem()
    m = WideNODE("tanh", n_steps=3)
    w = sample_weights(16, 2, 2, seed=4)
    run = ntk_trajectory(m, w, x, y, 0.5, [0, 3, 10])
    ref = train_wide(m, w, x, y, 0.5, 10)
    np.testing.assert_array_equal(run.loss, ref.loss)
    for a, b in zip(run.weights, ref.weights):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(run.theta[0], m.ntk(w, x))
    np.testing.assert_array_equal(run.theta[-1], m.ntk(ref.weights, x))
    assert run.steps.tolist() == [0, 3, 10]
    assert np.all(run.diverged_at == -1)


def test_ntk_trajectory_starting_later_and_diverging():
    x, y = _problem()
    m = WideNODE("identity", n_steps=4)
    w = sample_weights(32, 2, 2, seed=0)
    run = ntk_trajectory(m, w, x, y, 1e3, [2, 40, 45])
    assert run.theta.shape == (3, 2, 6, 6) and run.loss.shape == (46, 2)
    assert np.all((run.diverged_at > 2) & (run.diverged_at <= 40))
    for d, k in enumerate(run.diverged_at):
        assert np.all(np.isinf(run.loss[k:, d])) and np.all(np.isfinite(run.loss[:k, d]))
    assert np.all(np.isfinite(run.theta[0])) and np.all(np.isinf(run.theta[1:]))


def test_kernel_drift():
    theta = np.stack([np.eye(2), 2 * np.eye(2), np.eye(2)])
    np.testing.assert_allclose(kernel_drift(theta), [0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="zero"):
        kernel_drift(np.zeros((2, 2, 2)))


@pytest.mark.parametrize("checkpoints", [[], [3, 3], [2, 1], [-1, 2], [[1, 2]]])
def test_ntk_trajectory_refuses_bad_checkpoints(checkpoints):
    x, y = _problem()
    with pytest.raises(ValueError, match="checkpoints"):
        ntk_trajectory(WideNODE(), sample_weights(2, 2), x, y, 0.1, checkpoints)


def test_ntk_drift_shrinks_with_width():
    x, y = _problem()
    m = WideNODE("tanh", n_steps=3)
    drift = [
        kernel_drift(ntk_trajectory(m, sample_weights(n, 2, 2, seed=1), x, y, 1.0, [0, 20]).theta)[-1].mean()
        for n in (8, 128)
    ]
    assert drift[1] < drift[0] / 4


# ---------------------------------------------------------------- time rescaling
@pytest.mark.parametrize("method", ["euler", "rk4"])
@pytest.mark.parametrize("T", [3.0, 64.0])
def test_inverse_T_scaling_leaves_gradients_and_training_unchanged(method, T):
    x, y = _problem()
    w = sample_weights(6, 2, 2, seed=7)
    long = WideNODE.inverse_T_scaling(1.7, T, activation="softplus", n_steps=5, method=method)
    unit = WideNODE("softplus", T=1.0, sigma_w=1.7, n_steps=5, method=method)
    np.testing.assert_allclose(long.forward(w, x), unit.forward(w, x), rtol=1e-12, atol=1e-14)
    for grad in ("grad_backprop", "grad_adjoint"):
        for a, b in zip(getattr(long, grad)(w, x, y)[1], getattr(unit, grad)(w, x, y)[1]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        train_wide(long, w, x, y, 0.5, 15).loss, train_wide(unit, w, x, y, 0.5, 15).loss, rtol=1e-12, atol=1e-15
    )
