"""The d-dimensional linear model: loss, exact gradient, covariance, optimizers and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm, expm_frechet

from simplest_node.linear import LinearProblem
from simplest_node.matrix import (
    CovariancePreconditioned,
    GaussNewton,
    MatrixProblem,
    expm_stack,
    frechet_expm,
    jordan_matrix,
    random_matrices,
    train_matrix,
)
from simplest_node.optimizers import GD, OPTIMIZER_NAMES, Adam, VarianceCorrected, optimizer
from simplest_node.training import train


def _fd_grad(problem, A, h=1e-6):
    """Central finite differences of the loss, one entry of A at a time."""
    d = problem.d
    out = np.empty((d, d))
    for i in range(d):
        for j in range(d):
            E = np.zeros((d, d))
            E[i, j] = h
            out[i, j] = (problem.loss(A + E) - problem.loss(A - E)) / (2 * h)
    return out


def test_expm_stack_matches_scipy():
    rng = np.random.default_rng(0)
    for d in [1, 2, 5, 10]:
        X = rng.normal(size=(30, d, d)) * rng.uniform(0.01, 8, size=(30, 1, 1))
        ours, ref = expm_stack(X), expm(X)
        rel = np.max(np.abs(ours - ref), axis=(-2, -1)) / np.max(np.abs(ref), axis=(-2, -1))
        assert rel.max() < 1e-11, d  # both are backward stable; repeated squaring costs ~3 digits


def test_expm_stack_zero_nilpotent_and_huge():
    assert np.array_equal(expm_stack(np.zeros((2, 3, 3))), np.broadcast_to(np.eye(3), (2, 3, 3)))
    N = np.array([[0.0, 1e20], [0.0, 0.0]])  # nilpotent with a huge entry: e^N = I + N (scipy path)
    assert np.allclose(expm_stack(N), np.eye(2) + N)
    with np.errstate(over="ignore"):
        assert not np.all(np.isfinite(expm_stack(np.array([[800.0]]))))


def test_frechet_matches_scipy_and_block_identity():
    rng = np.random.default_rng(1)
    for d in [1, 2, 4]:
        X, E = rng.normal(size=(d, d)), rng.normal(size=(d, d))
        assert np.allclose(frechet_expm(X, E), expm_frechet(X, E)[1], rtol=1e-12, atol=1e-12)
    # linear in E, and L(X, X) = X e^X
    X = rng.normal(size=(3, 3))
    assert np.allclose(frechet_expm(X, X), X @ expm(X), atol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_gradient_matches_finite_differences(d):
    rng = np.random.default_rng(d)
    problem = MatrixProblem(rng.normal(size=(d, d)) / np.sqrt(d), t=1.3, sigma=0.7)
    A = rng.normal(size=(d, d)) / np.sqrt(d)
    G = problem.grad(A)
    assert np.allclose(G, _fd_grad(problem, A), rtol=1e-6, atol=1e-8)


def test_gradient_is_batched():
    problem = MatrixProblem(jordan_matrix(3), t=0.8)
    A = random_matrices(7, 3, seed=2)
    G = problem.grad(A)
    assert G.shape == (7, 3, 3)
    for j in range(7):
        assert np.allclose(G[j], problem.grad(A[j]), rtol=1e-13, atol=1e-15)


def test_loss_is_expected_squared_error_monte_carlo():
    problem = MatrixProblem(jordan_matrix(2, -0.3, 2.0), t=1.0, sigma=1.5)
    A = np.array([[0.1, -0.4], [0.3, -0.2]])
    x0 = problem.sample_x0(200_000, np.random.default_rng(0))
    diff = x0 @ (expm(A) - expm(problem.A_star)).T
    mc = 0.5 * np.mean(np.sum(diff**2, axis=1))
    assert abs(mc - problem.loss(A)) < 0.02 * problem.loss(A)


def test_jacobian_gives_gradient_and_frechet():
    rng = np.random.default_rng(3)
    problem = MatrixProblem(rng.normal(size=(3, 3)), t=0.9, sigma=1.2)
    A = rng.normal(size=(3, 3))
    J = problem.jacobian(A)
    r = problem.sigma * problem.residual(A).ravel()
    assert np.allclose(J.T @ r, problem.grad(A).ravel(), rtol=1e-12, atol=1e-12)
    E = rng.normal(size=(3, 3))
    assert np.allclose(J @ E.ravel(), problem.sigma * frechet_expm(problem.t * A, problem.t * E).ravel())


def test_covariance():
    problem = MatrixProblem(np.eye(2), t=0.5, sigma=2.0)
    A = np.array([[0.2, 1.0], [0.0, -0.1]])
    M = expm(0.5 * A)
    assert np.allclose(problem.covariance(A), 4.0 * M @ M.T)


def test_d1_reduces_to_linear_problem():
    a = np.linspace(-3, 3, 13)
    lin = LinearProblem(a_star=0.4, t=1.3, sigma=0.7)
    mat = MatrixProblem([[0.4]], t=1.3, sigma=0.7)
    A = a[:, None, None]
    assert np.allclose(mat.loss(A), lin.loss(a), rtol=1e-12, atol=0)
    assert np.allclose(mat.grad(A)[:, 0, 0], lin.grad(a), rtol=1e-11, atol=1e-300)
    assert np.allclose(mat.covariance(A)[:, 0, 0], lin.second_moment(a), rtol=1e-12)


@pytest.mark.parametrize(
    "opt",
    [
        CovariancePreconditioned(0.5),
        CovariancePreconditioned(0.5, side="left"),
        CovariancePreconditioned(0.5, side="both"),
        GaussNewton(0.5),
    ],
)
def test_d1_steps_are_the_variance_corrected_rule(opt):
    a0 = np.linspace(-2, 2, 9)
    lin = LinearProblem(a_star=1.0, t=1.0)
    ref = train(lin, VarianceCorrected(0.5), a0, 5).a
    h = train_matrix(MatrixProblem([[1.0]], t=1.0), opt, a0[:, None, None], 5, store=True)
    assert np.allclose(h.A[:, :, 0, 0], ref, rtol=1e-9, atol=1e-12)


def test_gd_and_adam_work_elementwise_on_stacks():
    problem = MatrixProblem(jordan_matrix(2), t=1.0)
    A0 = random_matrices(4, 2, seed=5)
    for opt in [GD(0.1), Adam(0.05)]:
        together = train_matrix(problem, opt, A0, 20, store=True)
        alone = train_matrix(problem, type(opt)(opt.lr), A0[2:3], 20, store=True)
        assert np.allclose(together.A[:, 2], alone.A[:, 0], rtol=0, atol=1e-14)


def test_directions_are_descent_directions():
    problem = MatrixProblem(jordan_matrix(4), t=1.0)
    A = random_matrices(10, 4, seed=6)
    G = problem.grad(A)
    for side in CovariancePreconditioned.SIDES:
        D = CovariancePreconditioned(1.0, side=side).direction(problem, A, G)
        assert np.all(np.sum(G * D, axis=(-2, -1)) < 0), side
    D = GaussNewton().direction(problem, A)
    assert np.all(np.sum(G * D, axis=(-2, -1)) < 0)


def test_gauss_newton_is_newton_for_the_residual():
    """With invertible J, the full step solves the linearized residual equation exactly."""
    problem = MatrixProblem(jordan_matrix(3, -0.5, 1.0), t=1.0)
    A = random_matrices(1, 3, seed=7)[0]
    D = GaussNewton().direction(problem, A)
    lin = problem.residual(A) + frechet_expm(problem.t * A, problem.t * D)
    assert np.max(np.abs(lin)) < 1e-10


def test_gauss_newton_converges_quadratically_non_normal_target():
    problem = MatrixProblem(jordan_matrix(5, -0.5, 1.0), t=1.0)
    A0 = random_matrices(6, 5, seed=8)
    h = train_matrix(problem, GaussNewton(1.0, line_search=True), A0, 12)
    assert np.all(h.converged_at(1e-20) > 0)
    assert not h.diverged.any()


def test_line_search_never_increases_the_loss():
    problem = MatrixProblem(jordan_matrix(4, -0.5, 2.0), t=1.0)
    A0 = random_matrices(8, 4, scale=2.0, seed=9)
    for opt in [CovariancePreconditioned(1.0, line_search=True), GaussNewton(1.0, line_search=True)]:
        h = train_matrix(problem, opt, A0, 15)
        assert np.all(np.diff(h.loss, axis=0) <= 1e-15 * h.loss[:-1]), opt


def test_train_matrix_flags_divergence_and_freezes():
    problem = MatrixProblem(np.zeros((2, 2)), t=1.0)
    A0 = np.stack([np.eye(2) * -3.0, np.zeros((2, 2)) + 0.1])  # from -3 I a huge step up overflows
    h = train_matrix(problem, GD(1e5), A0, 5, store=True)
    assert h.diverged[0] and h.diverged_at[0] >= 1
    assert np.all(np.isinf(h.loss[h.diverged_at[0] :, 0]))
    assert np.all(np.isfinite(h.A))  # frozen at the last finite matrix


def test_train_matrix_tol_freezes_converged_runs():
    problem = MatrixProblem(jordan_matrix(2), t=1.0)
    A0 = random_matrices(3, 2, seed=10)
    h = train_matrix(problem, GaussNewton(1.0), A0, 20, tol=1e-12)
    c = h.converged_at(1e-12)
    assert np.all(c > 0)
    for j in range(3):
        assert np.all(h.loss[c[j] :, j] == h.loss[c[j], j])


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(0, 10_000), st.floats(0.2, 2.0))
def test_gradient_fd_property(d, seed, t):
    rng = np.random.default_rng(seed)
    problem = MatrixProblem(rng.normal(size=(d, d)) / np.sqrt(d), t=t)
    A = rng.normal(size=(d, d)) / np.sqrt(d)
    G = problem.grad(A)
    scale = max(1.0, np.max(np.abs(G)))
    assert np.max(np.abs(G - _fd_grad(problem, A))) < 1e-5 * scale


def test_jordan_and_random_matrices():
    J = jordan_matrix(3, -0.5, 2.0)
    assert np.array_equal(J, [[-0.5, 2.0, 0.0], [0.0, -0.5, 2.0], [0.0, 0.0, -0.5]])
    R = random_matrices(4, 3, seed=1)
    assert R.shape == (4, 3, 3) and np.array_equal(R, random_matrices(4, 3, seed=1))


def test_matrix_optimizer_names():
    for name in OPTIMIZER_NAMES["matrix"]:
        assert optimizer(name, "matrix", 0.1).lr == 0.1


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: MatrixProblem(np.ones((2, 3))), ValueError, "A_star"),
        (lambda: MatrixProblem(np.ones(3)), ValueError, "A_star"),
        (lambda: MatrixProblem(np.ones((2, 2, 2))), ValueError, "A_star"),
        (lambda: MatrixProblem([[np.nan, 0], [0, 0]]), ValueError, "A_star"),
        (lambda: MatrixProblem(np.eye(2), t=0.0), ValueError, "t"),
        (lambda: MatrixProblem(np.eye(2), t=-1.0), ValueError, "t"),
        (lambda: MatrixProblem(np.eye(2), sigma=0.0), ValueError, "sigma"),
        (lambda: MatrixProblem(np.eye(2)).loss(np.eye(3)), ValueError, "d = 2"),
        (lambda: MatrixProblem(np.eye(2)).grad(np.ones((2, 3))), ValueError, "A"),
        (lambda: MatrixProblem(np.eye(2)).loss([[np.inf, 0], [0, 0]]), ValueError, "A"),
        (lambda: MatrixProblem(np.eye(2)).loss("x"), TypeError, "A"),
        (lambda: frechet_expm(np.eye(2), np.eye(3)), ValueError, "E"),
        (lambda: optimizer("SGD", "matrix", 0.1), ValueError, "optimizer"),
        (lambda: optimizer("GD", "matrix", -0.1), ValueError, "lr"),
        (lambda: CovariancePreconditioned(0.5, side="middle"), ValueError, "side"),
        (lambda: GaussNewton(0.0), ValueError, "lr"),
        (lambda: train_matrix(MatrixProblem(np.eye(2)), GD(0.1), np.zeros((2, 2, 2, 2)), 3), ValueError, "A0"),
        (lambda: train_matrix(MatrixProblem(np.eye(2)), GD(0.1), np.zeros((1, 2, 2)), -1), ValueError, "n_iter"),
        (lambda: train_matrix(MatrixProblem(np.eye(2)), GD(0.1), np.zeros((1, 2, 2)), 3, tol=0.0), ValueError, "tol"),
        (lambda: jordan_matrix(0), ValueError, "d"),
        (lambda: random_matrices(2, 2, scale=0.0), ValueError, "scale"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_gauss_newton_falls_back_to_least_squares(monkeypatch):
    import simplest_node.matrix as matrix

    problem = MatrixProblem(jordan_matrix(3), t=1.0)
    A = random_matrices(4, 3, seed=11)
    direct = GaussNewton().direction(problem, A)
    solve = matrix._solve_stack

    def all_singular(J, b):
        x, _ = solve(J, b)
        return np.full_like(x, np.nan), np.ones(J.shape[:-2], bool)

    monkeypatch.setattr(matrix, "_solve_stack", all_singular)
    assert np.allclose(GaussNewton().direction(problem, A), direct, rtol=1e-8, atol=1e-12)


def test_solve_stack_matches_lapack_and_flags_singular():
    from simplest_node.matrix import _solve_stack

    rng = np.random.default_rng(12)
    J, b = rng.normal(size=(5, 30, 30)), rng.normal(size=(5, 30, 2))
    J[3] = 0.0
    J[4, :, 0] = J[4, :, 1]
    x, singular = _solve_stack(J, b)
    assert singular.tolist() == [False, False, False, True, True]
    assert np.allclose(x[:3], np.linalg.solve(J[:3], b[:3]), rtol=1e-10, atol=1e-12)


def test_rotation_by_two_pi_is_a_second_global_minimizer():
    """e^{A} = I for A = 2 pi J (J a quarter turn): the endpoint map does not determine A."""
    problem = MatrixProblem(np.zeros((2, 2)), t=1.0)
    A = np.array([[0.0, -2 * np.pi], [2 * np.pi, 0.0]])
    assert problem.loss(A) < 1e-28
    s = np.linalg.svd(problem.jacobian(A), compute_uv=False)
    assert s[-1] < 1e-12 * s[0]  # the Gauss-Newton system is singular there


# --- robustness regressions: bad and extreme inputs that once crashed, warned or gave NaN ------
def test_train_matrix_run_diverged_at_step_0_has_loss_inf():
    # e^{1e20} is not finite (expm gives nan there): the run is flagged at 0 and its loss is inf, not nan
    history = train_matrix(MatrixProblem([[-0.5]]), GD(0.1), [[[1e20]], [[0.0]]], 3)
    assert history.diverged_at.tolist() == [0, -1]
    assert np.all(history.loss[:, 0] == np.inf) and np.all(np.isfinite(history.loss[:, 1]))


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: expm_stack([[np.nan]]), ValueError, "X"),
        (lambda: expm_stack("abc"), TypeError, "X"),
        (lambda: random_matrices(2, 2, seed=-1), ValueError, "seed"),
        (lambda: random_matrices(2, 2, seed=3.5), TypeError, "seed"),
        (lambda: random_matrices(10**12, 2), ValueError, "MAX_WORK"),
        (lambda: train_matrix(None, GD(0.1), np.zeros((2, 2)), 2), TypeError, "problem"),
        (lambda: train_matrix(MatrixProblem(np.eye(2)), None, np.zeros((2, 2)), 2), TypeError, "optimizer"),
        (lambda: train_matrix(MatrixProblem(np.eye(2)), GD(0.1), np.zeros((2, 2)), 10**12), ValueError, "MAX_WORK"),
        (lambda: train_matrix(MatrixProblem(np.eye(2)), GD(0.1), np.zeros((2, 2)), 2, store="yes"), TypeError, "store"),
        (lambda: optimizer([], "matrix", 0.1), TypeError, "name"),
        (lambda: GaussNewton(1.0, line_search=None), TypeError, "line_search"),
    ],
)
def test_matrix_functions_refuse_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
