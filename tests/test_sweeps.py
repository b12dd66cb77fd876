"""Optimizer sweeps: iterations to tolerance, outcomes, GD's stability limit, per-entry optimizers;
and the optimized hot path of LinearProblem/train pinned to a plain reference implementation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simplest_node import GD, SGD, Adam, LinearProblem, SampledLinearProblem, VarianceCorrected, train
from simplest_node.sweeps import (
    OUTCOMES,
    GDPerEntry,
    SGDPerEntry,
    gd_stability_limit,
    iterations_to_tolerance,
    lr_stability_sweep,
    optimum,
    stability_boundary,
)
from simplest_node.training import History

EXACT = LinearProblem(1.0, 1.0, 1.0)
RK4 = LinearProblem(1.0, 1.0, 1.0, method="rk4", n_steps=20)
A0 = np.round(np.linspace(-3.0, 3.0, 41), 10)


# --- iterations_to_tolerance ---------------------------------------------------------------
def test_iterations_match_the_history_and_each_run_alone():
    sweep = iterations_to_tolerance(EXACT, GD(0.05), A0, 600, tol=1e-8)
    h = sweep.history
    for j, k in enumerate(sweep.iterations):
        if k >= 0:
            assert h.loss[k, j] < 1e-8 and (k == 0 or h.loss[k - 1, j] >= 1e-8)
        else:
            assert np.all(h.loss[:, j] >= 1e-8)
    # One vectorized call equals the runs one by one.
    for j in (0, 20, 40):
        alone = iterations_to_tolerance(EXACT, GD(0.05), A0[j : j + 1], 600, tol=1e-8)
        assert alone.iterations[0] == sweep.iterations[j]
        assert alone.outcome[0] == sweep.outcome[j]


def test_gd_outcomes_on_the_exact_flow():
    """GD lr 0.05: the plateau run-time grows as a0 falls; from a0 >= 2.7 the first step overshoots
    onto the plateau and the run never recovers within 600 steps; nothing overflows."""
    sweep = iterations_to_tolerance(EXACT, GD(0.05), A0, 600, tol=1e-8)
    counts = sweep.counts()
    assert list(counts) == list(OUTCOMES)
    assert counts == {"converged": 38, "plateau": 3, "not converged": 0, "diverged": 0}
    assert np.all(sweep.outcome[A0 >= 2.7] == "plateau")
    assert np.all(sweep.final_a[A0 >= 2.7] < 1.0 + np.log(0.1))
    below = sweep.iterations[A0 < 0.5]
    assert np.all(np.diff(below) < 0)  # further down the plateau, slower
    assert sweep.iterations[A0 == 1.05] == 15  # next to a*: fast


def test_divergence_on_the_rk4_model_is_an_overflow():
    """With rk4 (h = 0.05), an overshoot below a = -2.785/h makes the solver unstable: overflow."""
    sweep = iterations_to_tolerance(RK4, GD(0.2), A0, 200)
    assert sweep.counts()["diverged"] > 0
    j = np.flatnonzero(sweep.diverged)
    assert np.all(A0[j] > 1.0)
    assert np.all(sweep.outcome[j] == "diverged")
    assert np.all(np.isfinite(sweep.final_a))
    assert np.all(sweep.history.a[sweep.history.diverged_at[j] - 1, j] < -2.785 / 0.05)


def test_not_converged_outcome():
    sweep = iterations_to_tolerance(EXACT, GD(0.5), np.array([0.5, 1.2]), 100)
    assert list(sweep.outcome) == ["not converged", "not converged"]  # above the stability limit


def test_final_a_of_a_diverged_run_is_its_last_finite_iterate():
    sweep = iterations_to_tolerance(EXACT, VarianceCorrected(0.5), np.array([-10.0, 0.0]), 5)
    assert sweep.diverged.tolist() == [True, False]
    assert sweep.final_a[0] == sweep.history.a[0, 0] == -10.0  # diverged at step 1


# --- the stability limit -------------------------------------------------------------------
@pytest.mark.parametrize("t, sigma, a_star", [(1.0, 1.0, 1.0), (0.5, 2.0, -1.0), (2.0, 0.3, 0.5)])
def test_stability_limit_formula_and_measurement(t, sigma, a_star):
    p = LinearProblem(a_star, t, sigma)
    limit = gd_stability_limit(p)
    assert limit == pytest.approx(2.0 / (t**2 * sigma**2 * np.exp(2 * a_star * t)), rel=1e-13)
    low, high = stability_boundary(p, limit / 3, limit * 3, offset=1e-5)
    assert low < high and (high - low) / limit < 1e-5
    assert abs((low + high) / 2 / limit - 1) < 1e-5  # the measurement finds the formula


def test_stability_limit_of_a_solver_model_uses_its_own_optimum():
    a_opt = optimum(RK4)
    assert abs(a_opt - 1.0) < 1e-6 and a_opt != 1.0
    assert RK4.loss(a_opt) < 1e-25
    limit = gd_stability_limit(RK4)
    # Finite-difference curvature of the rk4 loss at its optimum.
    d = 1e-4
    curvature = (RK4.loss(a_opt + d) - 2 * RK4.loss(a_opt) + RK4.loss(a_opt - d)) / d**2
    assert limit == pytest.approx(2.0 / curvature, rel=1e-6)
    low, high = stability_boundary(RK4, limit / 2, limit * 2, offset=1e-5)
    assert low <= limit * (1 + 1e-5) and high >= limit * (1 - 1e-5)


def test_stability_sweep_contraction_factor():
    p = EXACT
    curvature = 2.0 / gd_stability_limit(p)
    lrs = np.array([0.02, 0.1, 0.2, 0.25, 0.3, 0.5])
    sweep = lr_stability_sweep(p, lrs, offset=1e-6, n_iter=8)  # short: no rounding to a* itself
    assert sweep.stable.tolist() == [True, True, True, True, False, False]
    np.testing.assert_allclose(sweep.factor[:4], np.abs(1 - lrs[:4] * curvature), rtol=1e-3)
    assert sweep.boundary == (0.25, 0.3)


def test_boundary_not_bracketed():
    sweep = lr_stability_sweep(EXACT, np.array([0.01, 0.02]))
    assert sweep.stable.all() and np.isnan(sweep.boundary).all()
    sweep = lr_stability_sweep(EXACT, np.array([1.0, 2.0]))
    assert np.isnan(sweep.boundary[0]) and sweep.boundary[1] == 1.0


# --- per-entry optimizers --------------------------------------------------------------------
def test_gd_per_entry_equals_gd_with_each_rate():
    lrs = np.array([0.01, 0.05, 0.2])
    together = train(EXACT, GDPerEntry(lrs), np.full(3, -1.0), 50)
    for j, lr in enumerate(lrs):
        np.testing.assert_array_equal(together.a[:, j], train(EXACT, GD(lr), [-1.0], 50).a[:, 0])


def test_sgd_per_entry_streams_are_independent_and_seeded():
    a0 = np.full(200, -1.0)
    one = train(EXACT, SGDPerEntry(0.05, batch_size=4, seed=3), a0, 20)
    two = train(EXACT, SGDPerEntry(0.05, batch_size=4, seed=3), a0, 20)
    np.testing.assert_array_equal(one.a, two.a)
    assert np.unique(one.a[1]).size == 200  # every entry got its own first minibatch
    # The first step is the exact GD step times m2(B)/sigma^2, a mean of 4 chi^2_1 draws.
    ratio = (one.a[1] + 1.0) / (train(EXACT, GD(0.05), [-1.0], 1).a[1, 0] + 1.0)
    rng = np.random.default_rng(3)
    np.testing.assert_allclose(ratio, np.mean(rng.normal(size=(200, 4)) ** 2, axis=1), rtol=1e-12)


def test_sgd_noise_shrinks_with_the_batch():
    spreads = []
    for batch_size in (1, 16, 256):
        h = train(EXACT, SGDPerEntry(0.05, batch_size, seed=0), np.full(400, -2.0), 40)
        spreads.append(np.std(h.a[-1]))
    assert spreads[0] > 2 * spreads[1] > 4 * spreads[2]


@settings(max_examples=25, deadline=None)
@given(st.floats(-3, 3), st.floats(0.005, 0.2))
def test_per_entry_gd_step_is_the_gd_formula(a0, lr):
    h = train(EXACT, GDPerEntry([lr]), [a0], 1)
    assert h.a[1, 0] == a0 - lr * EXACT.grad(a0)


# --- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: iterations_to_tolerance(EXACT, GD(0.1), A0, 10, tol=0.0), ValueError, "tol"),
        (lambda: iterations_to_tolerance(EXACT, GD(0.1), A0, 10, tol="x"), TypeError, "tol"),
        (lambda: iterations_to_tolerance(EXACT, GD(0.1), A0, 10, plateau_ratio=1.0), ValueError, "plateau_ratio"),
        (lambda: iterations_to_tolerance(EXACT, GD(0.1), [[0.0]], 10), ValueError, "a0"),
        (lambda: iterations_to_tolerance(EXACT, GD(0.1), [np.nan], 10), ValueError, "a0"),
        (lambda: iterations_to_tolerance(EXACT, GD(0.1), [], 10), ValueError, "a0"),
        (lambda: iterations_to_tolerance(EXACT, GD(0.1), A0, -1), ValueError, "n_iter"),
        (lambda: GDPerEntry([0.1, 0.0]), ValueError, "lrs"),
        (lambda: GDPerEntry([[0.1]]), ValueError, "lrs"),
        (lambda: GDPerEntry(["a"]), TypeError, "lrs"),
        (lambda: train(EXACT, GDPerEntry([0.1, 0.2]), [0.0], 3), ValueError, "learning rates"),
        (lambda: SGDPerEntry(0.0, 4), ValueError, "lr"),
        (lambda: SGDPerEntry(0.1, 0), ValueError, "batch_size"),
        (lambda: SGDPerEntry(0.1, 4, seed=-1), ValueError, "seed"),
        (lambda: SGDPerEntry(0.1, 4, seed=1.5), TypeError, "seed"),
        (lambda: lr_stability_sweep(EXACT, [0.2, 0.1]), ValueError, "lrs"),
        (lambda: lr_stability_sweep(EXACT, [-0.1, 0.1]), ValueError, "lrs"),
        (lambda: lr_stability_sweep(EXACT, [0.1], offset=0.0), ValueError, "offset"),
        (lambda: lr_stability_sweep(EXACT, [0.1], offset=np.inf), ValueError, "offset"),
        (lambda: lr_stability_sweep(EXACT, [0.1], n_iter=1), ValueError, "n_iter"),
        (lambda: stability_boundary(EXACT, 0.3, 0.1), ValueError, "lr_low"),
        (lambda: stability_boundary(EXACT, 0.0, 0.1), ValueError, "lr_low"),
        (lambda: stability_boundary(EXACT, 0.01, 0.1), ValueError, "bracket"),
        (lambda: stability_boundary(EXACT, 0.01, 1.0, n_points=2), ValueError, "n_points"),
        (lambda: stability_boundary(EXACT, 0.01, 1.0, n_rounds=0), ValueError, "n_rounds"),
    ],
)
def test_bad_input(make, error, words):
    with pytest.raises(error, match=words):
        make()


# --- the optimized hot path, pinned bit for bit to the plain formulas --------------------------
def _reference_poly(coeffs, z):
    out = np.zeros_like(z) + coeffs[-1]
    for c in coeffs[-2::-1]:
        out = out * z + c
    return out


def _reference_map(p, a):
    a = np.asarray(a, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        if p.method is None:
            return np.exp(a * p.t), p.t * np.exp(a * p.t)
        from simplest_node.linear import STABILITY_POLYNOMIALS

        h, n = p.t / p.n_steps, p.n_steps
        coeffs = STABILITY_POLYNOMIALS[p.method]
        derivative = tuple(k * c for k, c in enumerate(coeffs))[1:]
        return (
            _reference_poly(coeffs, a * h) ** n,
            n * _reference_poly(coeffs, a * h) ** (n - 1) * _reference_poly(derivative, a * h) * h,
        )


def _reference_train(problem, optimizer, a0, n_iter):
    """train() as first written: np.where on every step."""
    a = np.atleast_1d(np.asarray(a0, dtype=float)).copy()
    params, losses = np.empty((n_iter + 1, a.size)), np.empty((n_iter + 1, a.size))
    diverged_at = np.full(a.size, -1)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        state = optimizer.init(a)
        params[0], losses[0] = a, problem.loss(a)
        active = np.isfinite(losses[0])
        diverged_at[~active] = 0
        for k in range(1, n_iter + 1):
            proposal = optimizer.update(problem, a, state, k)
            a = np.where(active, proposal, a)
            loss = np.where(active, problem.loss(a), np.inf)
            newly = active & ~(np.isfinite(loss) & np.isfinite(a))
            diverged_at[newly] = k
            active &= ~newly
            loss[~active] = np.inf
            params[k], losses[k] = a, loss
    return History(a=params, loss=losses, diverged_at=diverged_at)


PROBLEMS = [
    EXACT,
    RK4,
    LinearProblem(0.5, 2.0, 0.7, method="euler", n_steps=3),
    LinearProblem(-1.0, 0.5, 2.0, method="midpoint", n_steps=7),
    SampledLinearProblem(1.0, 1.0, 1.0, method="heun", n_steps=5, n_samples=9, seed=2),
]


@pytest.mark.parametrize("problem", PROBLEMS, ids=repr)
def test_linear_problem_hot_path_is_bit_identical_to_the_formulas(problem):
    a = np.concatenate([np.linspace(-80.0, 80.0, 801), [0.0, -0.0, 1e-300, 700.0, -700.0, 1e5]])
    with np.errstate(over="ignore", invalid="ignore"):
        m, dm = _reference_map(problem, a)
        m2 = problem._m2(None)
        target = problem.target()
        np.testing.assert_array_equal(problem.model_map(a), m)
        np.testing.assert_array_equal(problem.model_map_derivative(a), dm)
        np.testing.assert_array_equal(problem.loss(a), 0.5 * m2 * (m - target) ** 2)
        np.testing.assert_array_equal(problem.grad(a), m2 * (m - target) * dm)
        np.testing.assert_array_equal(problem.second_moment(a), m2 * m**2)
        x0 = np.random.default_rng(0).normal(size=(a.size, 5))
        b2 = np.mean(x0**2, axis=-1)
        np.testing.assert_array_equal(problem.grad(a, x0=x0), b2 * (m - target) * dm)
    for scalar in (0.3, -2.0):
        assert (
            problem.grad(scalar)
            == m2 * (_reference_map(problem, scalar)[0] - target) * _reference_map(problem, scalar)[1]
        )


@pytest.mark.parametrize(
    "optimizer",
    [
        GD(0.05),
        GD(0.2),
        SGD(0.05, batch_size=2, seed=1),
        Adam(0.05),
        VarianceCorrected(0.5),
        SGDPerEntry(0.3, batch_size=1, seed=0),
    ],
    ids=repr,
)
@pytest.mark.parametrize("problem", PROBLEMS[:2], ids=["exact", "rk4"])
def test_train_is_bit_identical_to_the_reference_loop(optimizer, problem):
    a0 = np.concatenate([A0, [-10.0, -6.0, 5.0]])  # some of these runs diverge part-way
    fast = train(problem, optimizer, a0, 300)
    slow = _reference_train(problem, optimizer, a0, 300)
    np.testing.assert_array_equal(fast.a, slow.a)
    np.testing.assert_array_equal(fast.loss, slow.loss)
    np.testing.assert_array_equal(fast.diverged_at, slow.diverged_at)


def test_reference_loop_sees_divergence_in_these_runs():
    """The identity above covers the switch from the fast path to the masked one."""
    h = _reference_train(RK4, GD(0.2), np.concatenate([A0, [-10.0, -6.0, 5.0]]), 300)
    assert 0 < h.diverged.sum() < h.diverged.size


def test_the_kept_map_evaluation_never_goes_stale():
    """LinearProblem keeps its last map evaluation for small arrays: in-place changes of the argument,
    of a returned array, or of the problem's attributes must all be seen."""
    p = LinearProblem(1.0, 1.0, 1.0, method="rk4", n_steps=20)
    a = np.linspace(-1.0, 2.0, 7)
    first = p.loss(a)
    a[3] = 5.0  # the same array object, new values
    np.testing.assert_array_equal(p.loss(a), _loss_by_formula(p, a))
    m = p.model_map(a)
    m *= 0.0  # a caller scribbling on a returned array
    np.testing.assert_array_equal(p.model_map(a), _reference_map(p, a)[0])
    np.testing.assert_array_equal(
        p.grad(a), p._m2(None) * (_reference_map(p, a)[0] - p.target()) * _reference_map(p, a)[1]
    )
    p.n_steps = 5  # a changed attribute
    np.testing.assert_array_equal(p.loss(a), _loss_by_formula(p, a))
    p.t = 2.0
    np.testing.assert_array_equal(p.second_moment(a), _reference_map(p, a)[0] ** 2)
    assert not np.array_equal(first, p.loss(a))


def _loss_by_formula(p, a):
    return 0.5 * p._m2(None) * (_reference_map(p, a)[0] - p.target()) ** 2


def test_gd_overshoot_onset():
    from simplest_node.sweeps import gd_overshoot_onset

    onset = gd_overshoot_onset(EXACT, 0.05)
    edge = 1.0 + np.log(0.1)
    assert onset - 0.05 * EXACT.grad(onset) == pytest.approx(edge, abs=1e-9)
    # Just below the onset the first step stays above the edge, just above it lands below.
    assert 2.25 < onset < 2.4  # between grid points: 2.25 needs 46 steps, 2.4 needs 95
    h = train(EXACT, GD(0.05), [onset - 1e-3, onset + 1e-3], 1)
    assert h.a[1, 0] > edge > h.a[1, 1]
    assert gd_overshoot_onset(EXACT, 0.2) < onset  # a larger rate overshoots from lower down
    assert gd_overshoot_onset(EXACT, 1e-9, a_max=2.0) == np.inf  # no onset up to a_max


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"lr": 0.0}, ValueError, "lr"),
        ({"lr": 0.1, "ratio": 1.5}, ValueError, "ratio"),
        ({"lr": 0.1, "a_max": 0.5}, ValueError, "a_max"),
        ({"lr": 0.1, "a_max": np.nan}, ValueError, "a_max"),
    ],
)
def test_gd_overshoot_onset_bad_input(kwargs, error, words):
    from simplest_node.sweeps import gd_overshoot_onset

    with pytest.raises(error, match=words):
        gd_overshoot_onset(EXACT, **kwargs)
    with pytest.raises(ValueError, match="exact flow"):
        gd_overshoot_onset(RK4, 0.1)


# --- gd_bound: GD on the exact flow never overflows ----------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    a_star=st.floats(-1.0, 1.0),
    t=st.floats(0.25, 2.0),
    sigma=st.floats(0.3, 2.0),
    rate=st.floats(1e-3, 10.0),  # lr in units of GD's limit at a*: far beyond it too
    a0=st.lists(st.floats(-6.0, 4.0), min_size=1, max_size=8),
)
def test_gd_never_leaves_its_bound(a_star, t, sigma, rate, a0):
    """a_k <= M and Loss(a_k) <= max(Loss(M), sigma^2 e^{2 a* t}/2) for every k, from anywhere."""
    from simplest_node.sweeps import gd_bound

    problem = LinearProblem(a_star, t, sigma)
    lr = rate * gd_stability_limit(problem)
    a0 = np.asarray(a0)
    top, bound = gd_bound(problem, lr, a0)
    h = train(problem, GD(lr), a0, 300)
    assert not h.diverged.any()
    assert np.all(h.a <= top * (1 + 1e-12) + 1e-12)
    assert np.all(h.loss <= bound * (1 + 1e-9))


def test_gd_bound_needs_the_plateau_term():
    """From a0 = -3 with lr 0.01 the top is M = 1 + 0.01 e^2/4 and Loss(M) = 1.3e-3, yet the loss
    starts at Loss(-3) = 3.56: the plateau value e^2/2 = 3.69 is what bounds it."""
    from simplest_node.sweeps import gd_bound

    top, bound = gd_bound(EXACT, 0.01, -3.0)
    assert top == pytest.approx(1.0 + 0.01 * np.e**2 / 4)
    assert EXACT.loss(top) == pytest.approx(1.29e-3, rel=0.01)
    assert EXACT.loss(-3.0) == pytest.approx(3.56, rel=1e-3) and EXACT.loss(-3.0) > EXACT.loss(top)
    assert bound == pytest.approx(np.e**2 / 2)
    # From high above a*, Loss(a0) is the bound and the first step goes down.
    top, bound = gd_bound(EXACT, 0.05, 3.0)
    assert top == 3.0 and bound == pytest.approx(EXACT.loss(3.0))
    with pytest.raises(ValueError, match="exact flow"):
        gd_bound(RK4, 0.05, 0.0)
    with pytest.raises(ValueError, match="lr"):
        gd_bound(EXACT, -1.0, 0.0)


def test_stability_boundary_stops_at_float_resolution():
    # Regression: 12 rounds narrow the bracket below float spacing; this used to raise about lrs.
    low, high = stability_boundary(EXACT, 0.2, 0.4, n_rounds=12)
    assert low < high and high - low <= 4 * np.spacing(high)


def test_gd_stability_limit_where_the_curvature_overflows():
    with np.errstate(all="raise"):  # used to return nan with overflow warnings
        assert gd_stability_limit(LinearProblem(a_star=400.0)) == 0.0


def test_sweep_functions_check_the_problem():
    for fn in (optimum, gd_stability_limit):
        with pytest.raises(TypeError, match="problem"):
            fn(None)
    with pytest.raises(TypeError, match="problem"):
        lr_stability_sweep(None, [0.1, 0.2])
    with pytest.raises((TypeError, ValueError), match="seed"):
        SGDPerEntry(0.1, 4, seed=-1)
