"""Chapter 9 experiments: closed forms, finite differences, and bad input."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from simplest_node import LinearProblem, backprop_gradient, discrete_optimum
from simplest_node.gradients import adjoint_gradient
from simplest_node.troubleshooting import (
    adaptive_cost,
    adjoint_slope_ratio,
    adjoint_training,
    backsolve_run,
    euler_adjoint_ratio,
    oscillator_fit,
    precision_run,
    rescaled_problem,
    rk4_scalar_fit,
    time_rescaling_runs,
    train_in_stages,
)


# --- adjoint vs backprop -----------------------------------------------------------------------
@pytest.mark.parametrize("n_steps", [1, 2, 3, 5])
def test_euler_adjoint_ratio_matches_the_package_gradients(n_steps):
    p = LinearProblem(a_star=2.0, t=1.0)
    a = np.array([-1.3, 0.4, 1.7, 2.9])
    ratio = adjoint_gradient(p, a, "euler", n_steps) / backprop_gradient(p, a, "euler", n_steps)
    np.testing.assert_allclose(ratio, euler_adjoint_ratio(a / n_steps, n_steps), rtol=1e-10)


def test_euler_adjoint_ratio_symbolic_n2():
    z = sp.Symbol("z")
    expected = -(1 + z) * (z**2 - 2) / 2
    for value in [-0.7, 0.3, 1.2]:
        assert float(euler_adjoint_ratio(value, 2)) == pytest.approx(float(expected.subs(z, value)), rel=1e-12)


def test_adjoint_slope_ratio_closed_forms():
    # n = 1: ratio 1 + a_h h = e^{a* h}; n = 2: -(1 + z)(z^2 - 2)/2 at z = a_h h.
    assert adjoint_slope_ratio(2.0, 1.0, 1) == pytest.approx(np.exp(2.0), rel=1e-6)
    z = float(discrete_optimum(2.0, 1.0, "euler", 2)) * 0.5
    assert adjoint_slope_ratio(2.0, 1.0, 2) == pytest.approx(-(1 + z) * (z**2 - 2) / 2, rel=1e-6)
    assert adjoint_slope_ratio(2.0, 1.0, 2) < 0
    assert adjoint_slope_ratio(2.0, 1.0, 64) == pytest.approx(1.0, abs=0.01)


def test_adjoint_training_stalls_where_backprop_converges():
    run = adjoint_training(a_star=2.0, t=1.0, n_steps=2, lr=0.05, a0=[3.0, 3.5], n_iter=200)
    assert run.a_h == pytest.approx(np.exp(1.0) * 2 - 2, rel=1e-12)  # (e^{a* h} - 1)/h
    np.testing.assert_allclose(run.a_backprop[-1], run.a_h, rtol=1e-12)
    assert np.all(run.loss_backprop[-1] < 1e-25)
    assert run.a_adjoint[-1, 0] == pytest.approx(2 * np.sqrt(2), rel=1e-10)  # z = sqrt(2): ratio zero
    assert run.loss_adjoint[-1, 0] > 1.0
    assert run.diverged_adjoint[1] > 0 and run.diverged_backprop[1] == -1
    assert np.isinf(run.loss_adjoint[-1, 1])


def test_adjoint_training_fine_step_agrees():
    run = adjoint_training(a_star=1.0, t=1.0, n_steps=32, lr=0.05, a0=[0.0], n_iter=400)
    np.testing.assert_allclose(run.a_adjoint[-1], run.a_backprop[-1], rtol=1e-10)


def test_adjoint_training_without_a_zero_reports_none():
    # no zero of the discrete loss: a_h is None (it used to be a silent nan)
    run = adjoint_training(a_star=-5.0, t=1.0, n_steps=1, lr=0.01, a0=[0.0], n_iter=2, method="rk4")
    assert run.a_h is None


# --- time rescaling ------------------------------------------------------------------------------
@settings(max_examples=50, deadline=None)
@given(c=st.floats(0.1, 10.0), a=st.floats(-3.0, 3.0))
def test_rescaling_keeps_the_loss_and_scales_the_gradient(c, a):
    p = LinearProblem(a_star=0.7, t=1.3, sigma=0.9)
    q = rescaled_problem(p, c)
    assert q.loss(a / c) == pytest.approx(p.loss(a), rel=1e-9, abs=1e-300)
    assert q.grad(a / c) == pytest.approx(c * p.grad(a), rel=1e-9, abs=1e-300)


def test_rescaled_problem_keeps_the_solver():
    q = rescaled_problem(LinearProblem(method="rk4", n_steps=3), 2.0)
    assert q.method == "rk4" and q.n_steps == 3 and q.t == 2.0


def test_time_rescaling_runs_equal_gd_with_lr_c_squared():
    from simplest_node import GD, train

    original, rescaled = time_rescaling_runs(c=1.5, lr=0.04, a0=-0.5, n_iter=30)
    reference = train(LinearProblem(), GD(0.04 * 1.5**2), [-0.5], 30)
    np.testing.assert_allclose(rescaled.a * 1.5, reference.a, rtol=1e-10)
    np.testing.assert_allclose(rescaled.loss, reference.loss, rtol=1e-9, atol=1e-12)
    assert not original.diverged[0]


# --- what a coarse step learns -------------------------------------------------------------------
def test_rk4_scalar_fit_exact_and_stuck():
    a_fit, exact = rk4_scalar_fit(-1.0, 1.0)
    assert exact and a_fit < -1.0  # more damped than the truth, same sign
    z = sp.Symbol("z")
    r = 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24
    assert float(r.subs(z, a_fit)) == pytest.approx(np.exp(-1.0), rel=1e-12)
    z_min = float(sp.nsolve(sp.diff(r, z), z, -1.6))
    assert rk4_scalar_fit(-3.0, 1.0) == (pytest.approx(z_min, rel=1e-10), False)
    assert rk4_scalar_fit(-3.0, 2.0)[0] == pytest.approx(z_min / 2, rel=1e-10)


def test_oscillator_fit_reproduces_the_data_step_and_is_anti_damped():
    rate, h = -0.1 + 2.0j, 1.0
    fitted = oscillator_fit(rate, h)
    z = fitted * h
    assert abs(1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24 - np.exp(rate * h)) < 1e-12
    assert fitted.real > 0
    fine = oscillator_fit(rate, np.array([0.01, 0.1]))
    assert np.all(np.abs(fine - rate) < [1e-8, 1e-3])


def test_oscillator_fit_euler_closed_form():
    rate, h = -0.3 + 1.0j, 0.5
    assert oscillator_fit(rate, h, "euler") == pytest.approx((np.exp(rate * h) - 1) / h, rel=1e-12)


# --- precision -------------------------------------------------------------------------------------
def test_precision_run_float64_matches_the_package():
    t = np.array([0.5, 1.0, 2.0])
    run = precision_run(0.3, t, "float64", a_star=1.0, h=0.05)
    for j, horizon in enumerate(t):
        p = LinearProblem(a_star=1.0, t=horizon, method="rk4", n_steps=int(round(horizon / 0.05)))
        assert run.loss[j] == pytest.approx(float(p.loss(0.3)), rel=1e-12)
        assert run.grad[j] == pytest.approx(float(p.grad(0.3)), rel=1e-10)


def test_precision_run_float32_overflows_and_makes_nan():
    t = np.array([1.0, 40.0, 50.0, 100.0])
    r32 = precision_run(0.5, t, "float32")
    r64 = precision_run(0.5, t, "float64")
    assert r32.loss.dtype == np.float32
    assert abs(r32.loss[0] / r64.loss[0] - 1) < 1e-5
    assert np.isfinite(r32.loss[1]) and np.isinf(r32.loss[2])  # plateau loss e^{2t}/2 > 3.4e38 for t > 44.4
    assert np.all(np.isfinite(r64.loss))
    at_optimum = precision_run(1.0, np.array([100.0]), "float32")
    assert np.isnan(at_optimum.loss[0])  # inf - inf


# --- continuation --------------------------------------------------------------------------------
def test_train_in_stages_escapes_the_plateau():
    full = train_in_stages(-3.0, (4.0,), 200)
    staged = train_in_stages(-3.0, (0.5, 1.0, 2.0, 4.0), 50)
    assert full.a.size == staged.a.size == 201
    assert full.a[-1] < -2.99 and full.loss_final[-1] > 1000
    assert abs(staged.a[-1] - 1.0) < 1e-8 and staged.loss_final[-1] < 1e-12
    np.testing.assert_array_equal(staged.stage_ends, [50, 100, 150, 200])
    assert staged.lr[0] > staged.lr[-1]


# --- adaptive solver cost ----------------------------------------------------------------------
def test_adaptive_cost_grows_with_stiffness_for_rk45_only():
    a = [-10.0, -100.0, -1000.0]
    nfev, err = adaptive_cost(a, method="RK45")
    assert np.all(np.diff(nfev) > 0) and nfev[-1] > 5 * nfev[0]
    implicit, _ = adaptive_cost(a, method="Radau")
    assert implicit[-1] < nfev[-1] / 2
    assert err[0] < 1e-4


def test_adaptive_cost_budget():
    nfev, err = adaptive_cost([-1e4], max_nfev=100)
    assert nfev[0] == -1 and err[0] == np.inf  # flagged by nfev = -1; the error is inf, never nan


# --- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: adjoint_training(lr=0.0), ValueError, "lr"),
        (lambda: adjoint_training(a0=[np.nan]), ValueError, "a0"),
        (lambda: adjoint_training(a0=[[1.0]]), ValueError, "a0"),
        (lambda: adjoint_training(method="rk5"), ValueError, "method"),
        (lambda: adjoint_training(n_steps=0), ValueError, "n_steps"),
        (lambda: euler_adjoint_ratio(0.1, 0), ValueError, "n_steps"),
        (lambda: adjoint_slope_ratio(1.0, 1.0, 2, rel_step=-1.0), ValueError, "rel_step"),
        (lambda: rescaled_problem("p", 2.0), TypeError, "problem"),
        (lambda: rescaled_problem(LinearProblem(), 0.0), ValueError, "c"),
        (lambda: time_rescaling_runs(a0="x"), TypeError, "a0"),
        (lambda: rk4_scalar_fit(1.0, -1.0), ValueError, "h"),
        (lambda: oscillator_fit(1j, 0.0), ValueError, "h"),
        (lambda: oscillator_fit(np.nan, 1.0), ValueError, "finite"),
        (lambda: oscillator_fit(1j, 1.0, "leapfrog"), ValueError, "method"),
        (lambda: precision_run(1.0, [1.0], "float16"), ValueError, "dtype"),
        (lambda: precision_run(1.0, [1.03], h=0.05), ValueError, "multiple"),
        (lambda: precision_run(1.0, [-1.0]), ValueError, "t_values"),
        (lambda: precision_run(np.inf, [1.0]), ValueError, "a"),
        (lambda: train_in_stages(-3.0, (), 10), ValueError, "horizons"),
        (lambda: train_in_stages(-3.0, (1.0, -2.0), 10), ValueError, "horizons"),
        (lambda: train_in_stages(-3.0, (1.0,), 0), ValueError, "n_iter"),
        (lambda: adaptive_cost([1.0], method="LSODA"), ValueError, "method"),
        (lambda: adaptive_cost([1.0], t=0.0), ValueError, "t"),
        (lambda: adaptive_cost([np.nan]), ValueError, "a_values"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_precision_run_float32_plateau_gradient_is_noise():
    t = np.array([30.0, 40.0])
    r32, r64 = precision_run(-3.0, t, "float32"), precision_run(-3.0, t, "float64")
    ratio = r32.grad / r64.grad
    assert abs(ratio[0] - 1) < 1e-4  # state e^{-90} still resolved to a few digits
    assert ratio[1] > 1e3  # state below float32's normal range: denormal garbage


# --- settling time of a staged run ----------------------------------------------------------------
def test_staged_run_settled_at_is_a_settling_time():
    from simplest_node.troubleshooting import StagedRun

    run = StagedRun((1.0,), np.zeros(5), np.array([1.0, 1e-12, 1.0, 1e-12, 1e-13]), np.array([4]), np.array([1.0]))
    assert run.settled_at(1e-10) == 3  # the dip at k = 1 does not count
    assert (
        StagedRun((1.0,), np.zeros(2), np.array([1e-12, 1.0]), np.array([1]), np.array([1.0])).settled_at(1e-10) == -1
    )
    assert (
        StagedRun((1.0,), np.zeros(2), np.array([1e-12, 1e-12]), np.array([1]), np.array([1.0])).settled_at(1e-10) == 0
    )
    staged = train_in_stages(-3.0, (0.5, 1.0, 2.0, 4.0), 50)
    k = staged.settled_at(1e-10)
    assert k > 0 and np.all(staged.loss_final[k:] < 1e-10) and staged.loss_final[k - 1] >= 1e-10


# --- stability limits, blow-up, backsolve ------------------------------------------------------------
def test_real_stability_limit_known_values():
    from simplest_node.linear import STABILITY_POLYNOMIALS
    from simplest_node.troubleshooting import RK45_STABILITY, real_stability_limit

    assert real_stability_limit(STABILITY_POLYNOMIALS["euler"]) == pytest.approx(-2.0)
    assert real_stability_limit(STABILITY_POLYNOMIALS["rk4"]) == pytest.approx(-2.785293563, rel=1e-8)
    limit = real_stability_limit(RK45_STABILITY)
    r = np.polynomial.polynomial.polyval(limit, RK45_STABILITY)
    assert -3.31 < limit < -3.30 and abs(abs(r) - 1) < 1e-9
    z = np.linspace(limit + 1e-6, -1e-6, 500)
    assert np.all(np.abs(np.polynomial.polynomial.polyval(z, RK45_STABILITY)) <= 1 + 1e-12)


def test_blow_up_solve_step_collapses_below_float_spacing():
    from simplest_node.troubleshooting import blow_up_solve

    run = blow_up_solve(1.0, 2.0)
    assert run.status == -1 and run.message == "Required step size is less than spacing between numbers."
    assert abs(run.t[-1] - run.blow_up_time) < 1e-5  # stops at the blow-up, far from t_end = 2
    assert run.h[-1] < 2 * run.min_step and run.min_step == pytest.approx(10 * np.spacing(run.t[-1]))
    assert run.x[-1] > 1e10
    # the accepted step is a fixed fraction of the distance to where the solver stops
    distance = run.t[-1] - run.t[:-1]
    far = (np.arange(distance.size) >= 5) & (distance > 1e-10)  # away from the start and from rounding
    ratio = run.h[far] / distance[far]
    assert far.sum() > 100 and ratio.max() / ratio.min() < 1.01
    smooth = blow_up_solve(0.25, 2.0)  # blow-up at s = 4, beyond t_end
    assert smooth.status == 0 and smooth.t[-1] == 2.0


def test_backsolve_run_amplifies_the_forward_error_like_e_to_the_a_t():
    from simplest_node.troubleshooting import backsolve_run

    run = backsolve_run([-10.0, -30.0, -40.0])
    assert np.all(run.forward_error < 1e-8)  # the forward pass is accurate
    assert np.all(run.grad_error_interpolated < 1e-7)  # so is the adjoint that uses it
    seed = run.fast_error * run.amplification
    np.testing.assert_allclose(run.reconstruction_error[1:], seed[1:], rtol=0.2)
    assert run.grad_error_backsolve[-1] > 1e3 and np.all(np.diff(run.grad_error_backsolve) > 0)


def test_backsolve_run_exact_gradient_matches_finite_differences():
    # the reference gradient: central differences of the exact-flow loss in every entry of A
    from scipy.linalg import expm

    from simplest_node.troubleshooting import backsolve_run

    run = backsolve_run([-3.0], rtol=1e-11, atol=1e-13)
    assert run.grad_error_interpolated[0] < 1e-8 and run.grad_error_backsolve[0] < 1e-7
    A, x0, t = np.diag([-1.0, -3.0]), np.array([1.0, 1.0]), 1.0
    y = expm(np.diag([-0.8, -3.0]) * t) @ x0

    def loss(M):
        return 0.5 * np.sum((expm(M * t) @ x0 - y) ** 2)

    fd = np.array(
        [
            [(loss(A + 1e-6 * np.outer(e_i, e_k)) - loss(A - 1e-6 * np.outer(e_i, e_k))) / 2e-6 for e_k in np.eye(2)]
            for e_i in np.eye(2)
        ]
    )
    assert np.abs(fd).max() > 0.01  # a non-trivial gradient


def test_implicit_midpoint_fit_keeps_decay():
    from simplest_node.troubleshooting import implicit_midpoint_fit

    rates = np.array([-0.1 + 2.0j, -1e-4 + 2.0j, -3.0 + 0.5j])
    for h in (0.25, 1.0, 2.0):
        z = implicit_midpoint_fit(rates, h) * h
        assert np.all(z.real < 0)
        np.testing.assert_allclose((1 + z / 2) / (1 - z / 2), np.exp(rates * h), rtol=1e-12)
    assert oscillator_fit(-1e-4 + 2.0j, 0.25).real > 0  # RK4 at the same step: anti-damped


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: __import__("simplest_node").troubleshooting.blow_up_solve(x0=-1.0), "x0"),
        (lambda: __import__("simplest_node").troubleshooting.blow_up_solve(method="Radau"), "method"),
        (lambda: __import__("simplest_node").troubleshooting.backsolve_run([1.0]), "negative"),
        (lambda: __import__("simplest_node").troubleshooting.backsolve_run([-1.0], x0=(1.0,)), "x0"),
        (lambda: __import__("simplest_node").troubleshooting.real_stability_limit([1.0, 2.0]), "consistent"),
        (lambda: __import__("simplest_node").troubleshooting.implicit_midpoint_fit(1j, 0.0), "h"),
        (lambda: train_in_stages(-3.0, (1.0,), 5).settled_at(0.0), "tol"),
    ],
)
def test_bad_input_new_experiments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_stability_regions_and_the_right_half_plane():
    # Euler's and the midpoint rule's regions |R(z)| < 1 lie in the left half-plane; RK4's does not,
    # so only RK4 (of these) can fit decaying data with an anti-damped rate.
    from simplest_node.linear import STABILITY_POLYNOMIALS

    x, y = np.meshgrid(np.linspace(1e-6, 1.0, 201), np.linspace(-3.0, 3.0, 601))
    z = x + 1j * y
    size = {
        m: np.abs(np.polynomial.polynomial.polyval(z, STABILITY_POLYNOMIALS[m])) for m in ("euler", "midpoint", "rk4")
    }
    assert np.all(size["euler"] > 1) and np.all(size["midpoint"] > 1)
    assert np.any(size["rk4"] < 1)
    fits = {m: oscillator_fit(-0.1 + 2.0j, 1.0, m) for m in ("euler", "midpoint", "rk4")}
    assert fits["euler"].real < -0.1 and fits["midpoint"].real < -0.1 and fits["rk4"].real > 0


# --- robustness regressions: bad and extreme inputs that once crashed, warned or gave NaN ------
def test_euler_adjoint_ratio_overflows_to_signed_inf_without_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert euler_adjoint_ratio(1e200, 3) == np.inf  # the last term (1 + z) (1 - z^2)^2 / 3 > 0 dominates
        out = euler_adjoint_ratio(np.array([1e200, -1e200, 0.5]), 4)
    assert out[0] == -np.inf and out[1] == np.inf and np.isfinite(out[2])


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: euler_adjoint_ratio(None, 3), TypeError, "z"),
        (lambda: euler_adjoint_ratio(0.1, 10**12), ValueError, "MAX_WORK"),
        (lambda: adjoint_training(n_iter=10**12), ValueError, "MAX_WORK"),
        (lambda: adjoint_training(a_star=1e308), ValueError, "a_star"),
        (lambda: train_in_stages(0.0, (0.5, 1.0), 3, seed=-1), ValueError, "seed"),
        (lambda: train_in_stages(0.0, None, 3), TypeError, "horizons"),
        (lambda: adaptive_cost([-1.0], rtol=1e-300), ValueError, "rtol"),
        (lambda: adaptive_cost([1e308]), ValueError, "a_values"),
        (lambda: precision_run(1e308, [0.1]), ValueError, "a"),
        (lambda: precision_run(0.5, [0.1], h=1e-300), ValueError, "MAX_WORK"),
        (lambda: oscillator_fit("abc", 1.0), TypeError, "rate"),
        (lambda: oscillator_fit(1e308, 1.0), ValueError, "rate"),
        (lambda: backsolve_run([-1e308]), ValueError, "MAX_WORK"),
    ],
)
def test_troubleshooting_functions_refuse_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_adjoint_training_keeps_a_diverged_entry_finite():
    run = adjoint_training(a_star=2.0, t=1.0, n_steps=2, lr=0.05, a0=[1e308, 3.0], n_iter=3)
    assert run.diverged_backprop[0] == 0 and np.all(run.loss_backprop[:, 0] == np.inf)
    assert not np.isnan(run.a_backprop).any() and not np.isnan(run.a_adjoint).any()
