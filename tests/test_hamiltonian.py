"""simplest_node.hamiltonian: pendulum data, basis fields, training through a solver, long flows."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from simplest_node.hamiltonian import (
    GRAVITY,
    BasisField,
    energy,
    fit_field,
    flow,
    pendulum_field,
    pendulum_period,
    sample_pairs,
    separable_hamiltonian,
    stacked_field,
)
from simplest_node.solvers import integrate

RNG = np.random.default_rng(3)
STATES = np.stack([RNG.uniform(-1.5, 1.5, 25), RNG.uniform(-4, 4, 25)], -1)


@pytest.fixture(scope="module")
def data():
    return sample_pairs(120, T=0.12, seed=1)


def test_energy_and_field():
    x = np.array([[0.3, -1.2]])
    assert energy(x)[0] == pytest.approx(0.72 - GRAVITY * np.cos(0.3))
    # the field is (dH/dp, -dH/dq), by finite differences
    eps = 1e-6
    dq = (energy(x + [eps, 0]) - energy(x - [eps, 0])) / (2 * eps)
    dp = (energy(x + [0, eps]) - energy(x - [0, eps])) / (2 * eps)
    assert np.allclose(pendulum_field(x), np.stack([dp, -dq], -1), atol=1e-8)


def test_period_against_a_simulation():
    period = pendulum_period(1.0)
    sol = solve_ivp(lambda t, y: pendulum_field(y), (0, period), [1.0, 0.0], rtol=1e-12, atol=1e-12)
    assert np.allclose(sol.y[:, -1], [1.0, 0.0], atol=1e-8)
    assert pendulum_period(1e-4) == pytest.approx(2 * np.pi / np.sqrt(GRAVITY), rel=1e-8)
    with pytest.raises(ValueError, match="q0"):
        pendulum_period(4.0)


def test_pairs_are_seeded_and_exact(data):
    x0, x1 = data
    again = sample_pairs(120, T=0.12, seed=1)
    assert np.array_equal(x0, again[0]) and np.array_equal(x1, again[1])
    assert np.all(np.abs(x0[:, 0]) <= np.pi / 2) and np.all(np.abs(x0[:, 1]) <= 4.5)
    fine = integrate(lambda t, x: pendulum_field(x), x0, 0.12, 200, method="rk4")
    assert np.max(np.abs(fine - x1)) < 1e-10
    assert np.max(np.abs(energy(x1) - energy(x0))) < 1e-10


@pytest.mark.parametrize("kind", ["general", "separable"])
def test_basis_jacobians_by_finite_differences(kind):
    model = BasisField(kind)
    theta = np.random.default_rng(0).normal(size=model.n_params)
    f, A, B = model.tangent(STATES, theta)
    assert np.allclose(f, model(STATES, theta))
    eps = 1e-6
    for d in range(2):
        e = np.zeros(2)
        e[d] = eps
        fd = (model(STATES + e, theta) - model(STATES - e, theta)) / (2 * eps)
        assert np.allclose(A[:, :, d], fd, atol=1e-6)
    k = 3
    e = np.zeros(model.n_params)
    e[k] = 1.0
    assert np.allclose(B[:, :, k], model(STATES, e))


def test_separable_model_is_separable_and_embeds_in_the_general_one():
    model = BasisField("separable")
    theta = np.random.default_rng(1).normal(size=9)
    _, A, _ = model.tangent(STATES, theta)
    assert np.all(A[:, 0, 0] == 0) and np.all(A[:, 1, 1] == 0)  # dq/dt(p), dp/dt(q)
    assert np.allclose(BasisField("general")(STATES, model.to_general(theta)), model(STATES, theta))


def test_the_pendulum_is_in_both_spans():
    for kind in ["general", "separable"]:
        model = BasisField(kind)
        theta = model.least_squares(STATES, pendulum_field(STATES))
        assert np.allclose(model(STATES, theta), pendulum_field(STATES), atol=1e-10)


@pytest.mark.parametrize("method", ["euler", "midpoint", "heun", "symplectic_euler", "leapfrog"])
def test_rollout_matches_the_solvers_and_its_sensitivity_fd(method, data):
    x0, x1 = data
    fit = fit_field(x0, x1, 0.12, method, n_sub=2, n_iter=3)
    from simplest_node.hamiltonian import _rollout

    xs, J = _rollout(fit.model, fit.theta, x0, 0.06, 2, method)
    ref = integrate(lambda t, x: fit.field(x), x0, 0.12, 2, method=method)
    assert np.allclose(xs, ref, atol=1e-13)
    eps = 1e-6
    e = np.zeros(fit.model.n_params)
    e[1] = eps
    plus = _rollout(fit.model, fit.theta + e, x0, 0.06, 2, method)[0]
    minus = _rollout(fit.model, fit.theta - e, x0, 0.06, 2, method)[0]
    assert np.allclose(J[..., 1], (plus - minus) / (2 * eps), atol=1e-7)


def test_euler_one_step_is_plain_least_squares(data):
    x0, x1 = data
    fit = fit_field(x0, x1, 0.12, "euler")
    assert fit.loss.size == 1
    # normal equations: the residual is orthogonal to every parameter direction
    model = fit.model
    r = (x0 + 0.12 * fit.field(x0) - x1).ravel()
    _, _, B = model.tangent(x0, fit.theta)
    assert np.max(np.abs(B.reshape(-1, model.n_params).T @ r)) < 1e-10


@pytest.mark.parametrize("method, order", [("euler", 1), ("midpoint", 2), ("leapfrog", 2)])
def test_learned_field_converges_to_the_truth_at_the_methods_order(method, order, data):
    x0, x1 = data
    err = []
    for n_sub in [2, 4]:
        fit = fit_field(x0, x1, 0.12, method, n_sub=n_sub)
        assert fit.loss[-1] <= fit.loss[0]
        err.append(np.sqrt(np.mean((fit.field(STATES) - pendulum_field(STATES)) ** 2)))
    assert abs(np.log2(err[0] / err[1]) - order) < 0.25


def test_flow_and_stacked_field(data):
    x0, x1 = data
    fits = [fit_field(x0, x1, 0.12, m) for m in ["euler", "leapfrog"]]
    field = stacked_field(fits)
    y = np.stack([STATES[:4], STATES[4:8]])
    out = field(y)
    assert np.allclose(out[0], fits[0].field(STATES[:4]), atol=1e-12)
    assert np.allclose(out[1], fits[1].field(STATES[4:8]), atol=1e-12)
    t, path = flow(pendulum_field, np.array([[1.0, 0.0]]), pendulum_period(1.0), 400, n_out=5)
    assert path.shape == (5, 1, 2) and t[-1] == pytest.approx(pendulum_period(1.0))
    assert np.allclose(path[-1, 0], [1.0, 0.0], atol=1e-6)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda d: fit_field(d[0], d[1], 0.12, "rk5"), ValueError, "method"),
        (lambda d: fit_field(d[0], d[1], -0.1, "euler"), ValueError, "T"),
        (lambda d: fit_field(d[0], d[1], 0.1, "euler", n_sub=0), ValueError, "n_sub"),
        (lambda d: fit_field(d[0], d[1][:5], 0.1, "euler"), ValueError, "shape"),
        (lambda d: fit_field(d[0][:, :1], d[1][:, :1], 0.1, "euler"), ValueError, "x0"),
        (lambda d: fit_field(d[0], d[1], 0.1, "leapfrog", kind="general"), ValueError, "separable"),
        (lambda d: fit_field(d[0], d[1], 0.1, "euler", kind="mlp"), ValueError, "kind"),
        (lambda d: BasisField("mlp"), ValueError, "kind"),
        (lambda d: BasisField("general")(d[0], np.zeros(3)), ValueError, "theta"),
        (lambda d: sample_pairs(0), ValueError, "n"),
        (lambda d: sample_pairs(5, q_range=(1.0, -1.0)), ValueError, "q_range"),
        (lambda d: sample_pairs(5, noise=-0.1), ValueError, "noise"),
        (lambda d: fit_field(d[0], d[1], 0.12, "euler").field_at(1, d[0]), ValueError, "k"),
        (lambda d: flow(pendulum_field, d[0], 1.0, 10, n_out=4), ValueError, "multiple"),
        (lambda d: flow(pendulum_field, d[0], -1.0, 10), ValueError, "t_end"),
    ],
)
def test_bad_input(call, error, match, data):
    with pytest.raises(error, match=match):
        call(data)


def test_separable_hamiltonian_generates_the_field():
    theta = np.random.default_rng(2).normal(size=9)
    H = separable_hamiltonian(theta)
    field = BasisField("separable")(STATES, theta)
    eps = 1e-6
    dq = (H(STATES + [eps, 0]) - H(STATES - [eps, 0])) / (2 * eps)
    dp = (H(STATES + [0, eps]) - H(STATES - [0, eps])) / (2 * eps)
    assert np.allclose(field, np.stack([dp, -dq], -1), atol=1e-7)
    with pytest.raises(ValueError, match="theta"):
        separable_hamiltonian(np.zeros(40))


def test_fit_records_its_iterates_so_it_can_be_stopped_early(data):
    x0, x1 = data
    from simplest_node.hamiltonian import _rollout

    fit = fit_field(x0, x1, 0.12, "midpoint", n_sub=2)
    assert fit.thetas.shape == (fit.loss.size, fit.model.n_params)
    assert np.array_equal(fit.thetas[-1], fit.theta)
    assert np.all(np.diff(fit.loss) < 0)  # Levenberg-Marquardt accepts only steps that lower the loss
    for k in range(fit.loss.size):
        x2 = _rollout(fit.model, fit.thetas[k], x0, 0.06, 2, "midpoint")[0]
        assert fit.loss[k] == pytest.approx(np.mean((x2 - x1) ** 2), rel=1e-12)
        assert np.allclose(fit.field_at(k, STATES), fit.model(STATES, fit.thetas[k]))
    # a run stopped after k iterations is the same run's k-th iterate
    stopped = fit_field(x0, x1, 0.12, "midpoint", n_sub=2, n_iter=2)
    assert np.allclose(stopped.theta, fit.thetas[2])


def test_early_stopping_leaves_a_field_error_of_the_size_of_the_loss_term(data):
    # one Levenberg-Marquardt step from the finite-difference start: the miss is field error, so the
    # learned field's distance from the converged one is about sqrt(2 Loss) / T (chapter 7)
    x0, x1 = data
    fit = fit_field(x0, x1, 0.12, "midpoint", n_sub=4)
    for k in (0, 1):
        term = np.sqrt(2 * fit.loss[k]) / 0.12
        distance = np.sqrt(np.mean(np.sum((fit.field_at(k, x0) - fit.field(x0)) ** 2, axis=-1)))
        assert 0.7 < distance / term < 1.4


def test_sample_pairs_noise_moves_only_x1():
    x0, x1 = sample_pairs(400, T=0.12, seed=5)
    y0, y1 = sample_pairs(400, T=0.12, seed=5, noise=0.01)
    assert np.array_equal(x0, y0)
    assert np.std(y1 - x1) == pytest.approx(0.01, rel=0.1)


# --- robustness regressions: bad and extreme inputs that once crashed, warned or gave NaN ------
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: energy([1.0]), ValueError, "x"),
        (lambda: energy([np.nan, 0.0]), ValueError, "x"),
        (lambda: pendulum_field(5.0), ValueError, "x"),
        (lambda: sample_pairs(3, seed=-1), ValueError, "seed"),
        (lambda: sample_pairs(3, seed=3.5), TypeError, "seed"),
        (lambda: sample_pairs(3, T=1e308), ValueError, "MAX_WORK"),
        (lambda: sample_pairs(3, q_range=(1.0,)), ValueError, "q_range"),
        (lambda: flow(None, [0.5, 0.0], 1.0, 4, 3), TypeError, "field"),
        (lambda: flow(pendulum_field, [0.5, 0.0], 1.0, 10**12, 3), ValueError, "MAX_WORK"),
        (lambda: stacked_field([None]), TypeError, "fits"),
        (lambda: fit_field(*sample_pairs(4), T=0.12, method="midpoint", n_sub=10**12), ValueError, "MAX_WORK"),
        (lambda: fit_field(*sample_pairs(4), T=0.12, method="midpoint", tol=np.nan), ValueError, "tol"),
    ],
)
def test_hamiltonian_functions_refuse_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_energy_of_a_huge_state_is_inf_without_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert energy([1e308, 1e308]) == np.inf
