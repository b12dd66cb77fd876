"""simplest_node.hamiltonian_implicit: the implicit midpoint rule and the non-separable Hamiltonian model."""

import numpy as np
import pytest

import simplest_node as sn
from simplest_node.hamiltonian_implicit import (
    HamiltonianBasis,
    fit_hamiltonian_implicit,
    implicit_midpoint,
)

OMEGA = np.array([[0.0, 1.0], [-1.0, 0.0]])
M = np.array([[2.0, 0.3], [0.3, 0.5]])  # H = x^T M x / 2, positive definite


def _quad_field(x):
    return x @ (OMEGA @ M).T


def _quad_jacobian(x):
    return np.broadcast_to(OMEGA @ M, x.shape[:-1] + (2, 2))


def test_implicit_midpoint_is_the_cayley_map_on_a_quadratic_hamiltonian():
    h = 0.3
    x = np.array([[1.0, -0.5], [0.2, 0.7]])
    y = implicit_midpoint(_quad_field, _quad_jacobian, x, h)[1]
    L = OMEGA @ M
    cayley = np.linalg.solve(np.eye(2) - h / 2 * L, np.eye(2) + h / 2 * L)
    assert np.allclose(y, x @ cayley.T, atol=1e-13)
    # symplectic: C^T J C = J (J = OMEGA); quadratic energy conserved over many steps
    assert np.allclose(cayley.T @ OMEGA @ cayley, OMEGA, atol=1e-14)
    path = implicit_midpoint(_quad_field, _quad_jacobian, x, h, n_steps=500)
    energy = 0.5 * np.einsum("tni,ij,tnj->tn", path, M, path)
    assert np.max(np.abs(energy - energy[0])) < 1e-12


def test_implicit_midpoint_step_is_symplectic_for_the_pendulum():
    # finite-difference Jacobian of one step on a nonlinear Hamiltonian field
    def jac(x):
        out = np.zeros(x.shape[:-1] + (2, 2))
        out[..., 0, 1] = 1.0
        out[..., 1, 0] = -10 * np.cos(x[..., 0])
        return out

    x, h, eps = np.array([[0.8, 1.3]]), 0.2, 1e-6
    cols = []
    for d in range(2):
        e = np.zeros(2)
        e[d] = eps
        plus = implicit_midpoint(sn.pendulum_field, jac, x + e, h)[1, 0]
        minus = implicit_midpoint(sn.pendulum_field, jac, x - e, h)[1, 0]
        cols.append((plus - minus) / (2 * eps))
    D = np.stack(cols, 1)
    assert np.allclose(D.T @ OMEGA @ D, OMEGA, atol=1e-8)


def test_basis_field_is_hamiltonian_and_jacobian_matches_finite_differences():
    basis = HamiltonianBasis()
    theta = np.random.default_rng(0).normal(size=basis.n_params)
    x = np.array([[0.3, 0.7], [-1.0, 2.0]])
    f, A, _ = basis._field(x, theta)
    eps = 1e-6
    grads = []
    for d in range(2):
        e = np.zeros(2)
        e[d] = eps
        grads.append((basis.hamiltonian(x + e, theta) - basis.hamiltonian(x - e, theta)) / (2 * eps))
        assert np.allclose((basis.field(x + e, theta) - basis.field(x - e, theta)) / (2 * eps), A[:, :, d], atol=1e-7)
    assert np.allclose(f, np.stack([grads[1], -grads[0]], -1), atol=1e-7)  # (dH/dp, -dH/dq)
    assert np.allclose(A[:, 0, 0] + A[:, 1, 1], 0.0)  # divergence-free


def test_training_jacobian_matches_finite_differences():
    from simplest_node.hamiltonian_implicit import _rollout

    basis = HamiltonianBasis()
    theta = np.random.default_rng(1).normal(size=basis.n_params) * 0.1
    x0 = np.array([[0.3, 0.5], [-0.4, 1.0]])
    _, J = _rollout(basis, theta, x0, 0.1, 2)
    eps = 1e-6
    for k in range(0, basis.n_params, 7):
        e = np.zeros(basis.n_params)
        e[k] = eps
        fd = (_rollout(basis, theta + e, x0, 0.1, 2)[0] - _rollout(basis, theta - e, x0, 0.1, 2)[0]) / (2 * eps)
        assert np.allclose(fd, J[:, :, k], atol=1e-7)


def test_fit_reaches_a_tiny_loss_on_pendulum_data():
    x0, x1 = sn.sample_pairs(60, T=0.12, seed=0)
    fit = fit_hamiltonian_implicit(x0, x1, 0.12, n_iter=3)
    assert fit.loss[-1] < 1e-12
    separable = sn.fit_field(x0, x1, 0.12, "leapfrog")
    assert fit.loss[-1] < 1e-6 * separable.loss[-1]
    # its learned H is conserved by the exact flow: the field is Hamiltonian
    _, path = sn.flow(fit.field, np.array([[1.0, 0.0]]), 2.0, 400, n_out=5)
    H = fit.hamiltonian(path)
    assert np.max(np.abs(H - H[0])) < 1e-8


def test_newton_failure_is_a_clean_error():
    with pytest.raises(ValueError, match="implicit midpoint"):
        implicit_midpoint(
            lambda x: np.exp(50 * x), lambda x: 50 * np.exp(50 * x)[..., None] * np.eye(2), np.array([[1.0, 1.0]]), 10.0
        )
