"""Safeguarded variance-corrected rules: direction, clipping, line search, overshoot threshold."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simplest_node import (
    LinearProblem,
    VarianceCorrected,
    VarianceCorrectedClipped,
    VarianceCorrectedLineSearch,
    overshoot_threshold,
    train,
    variance_corrected_direction,
)

EXACT = LinearProblem(1.0, 1.0, 1.0)
WIDE = np.linspace(-10.0, 10.0, 401)


def test_direction_closed_form():
    p = LinearProblem(a_star=0.3, t=1.7, sigma=0.6)
    a = np.linspace(-3.0, 3.0, 25)
    expected = -(1 / 1.7) * (1 - np.exp((0.3 - a) * 1.7))
    np.testing.assert_allclose(variance_corrected_direction(p, a), expected, rtol=1e-12, atol=1e-15)


def test_direction_is_gauss_newton_step():
    """-r/r' for the residual r(a) = sigma (e^{a t} - e^{a* t}), checked by finite differences."""
    p = LinearProblem(a_star=1.0, t=0.8, sigma=1.3)
    a = np.array([-2.0, 0.1, 0.9, 2.5])
    residual = lambda x: p.sigma * (np.exp(x * p.t) - p.target())  # noqa: E731
    h = 1e-6
    slope = (residual(a + h) - residual(a - h)) / (2 * h)
    np.testing.assert_allclose(variance_corrected_direction(p, a), -residual(a) / slope, rtol=1e-7)


def test_direction_overflow_is_silent():
    d = variance_corrected_direction(EXACT, np.array([-800.0, 800.0]))  # RuntimeWarnings are errors
    assert not np.isfinite(d[0])


@pytest.mark.parametrize("lr", [0.1, 0.5, 1.0])
def test_clipped_bounds_every_step_and_equals_plain_when_small(lr):
    p = LinearProblem(a_star=1.0, t=2.0)
    h = train(p, VarianceCorrectedClipped(lr, max_step=0.75), WIDE, 30)
    assert not h.diverged.any()
    assert np.all(np.abs(np.diff(h.a, axis=0)) <= 0.75 / 2.0 + 1e-15)
    near = np.array([0.9, 1.05])  # plain steps are far below the bound here
    np.testing.assert_array_equal(
        train(p, VarianceCorrectedClipped(lr, 0.75), near, 10).a, train(p, VarianceCorrected(lr), near, 10).a
    )


@pytest.mark.parametrize("lr", [0.25, 0.5, 1.0])
def test_line_search_decreases_loss_monotonically_and_converges_everywhere(lr):
    h = train(EXACT, VarianceCorrectedLineSearch(lr), WIDE, 80)
    assert not h.diverged.any()
    assert np.all(h.loss[1:] <= h.loss[:-1])
    assert np.all(h.converged_at(1e-10) >= 0)


def test_plain_rule_fails_where_line_search_does_not():
    h = train(EXACT, VarianceCorrected(0.5), [-5.0, -10.0], 50)
    assert h.loss[1, 0] > 1e169  # the overshoot of the paper: about 1e170 after one step
    assert h.diverged_at[1] == 1  # e^{2 a t} with a ~ 3e4 overflows
    s = train(EXACT, VarianceCorrectedLineSearch(0.5), [-5.0, -10.0], 50)
    assert np.all(s.loss[1] < s.loss[0]) and np.all(s.converged_at(1e-10) > 0)


def test_line_search_takes_the_full_step_near_a_star():
    a0 = np.array([1.0 - 1e-3, 1.0 + 1e-3, 1.2, 0.7])  # the last two: full steps, far from linear
    plain = train(EXACT, VarianceCorrected(0.5), a0, 5)
    opt = VarianceCorrectedLineSearch(0.5)
    safe = train(EXACT, opt, a0, 5)
    np.testing.assert_array_equal(safe.a, plain.a)
    np.testing.assert_allclose(safe.loss[4:] / safe.loss[3:-1], 0.25, rtol=2e-2)  # (1 - lr)^2


def test_line_search_armijo_condition_and_counters():
    opt = VarianceCorrectedLineSearch(0.5, shrink=0.5, c=1e-4)
    a = np.array([-10.0, -3.0, 1.0, 4.0])
    state = opt.init(a)
    new = opt.update(EXACT, a, state, 1)
    d = variance_corrected_direction(EXACT, a)
    alpha = np.divide(new - a, d, out=np.zeros_like(a), where=d != 0)
    # accepted steps satisfy Loss(new) <= (1 - 2 c alpha) Loss(a) (exact flow: Loss' d = -2 Loss)
    assert np.all(EXACT.loss(new) <= (1 - 2e-4 * alpha) * EXACT.loss(a) * (1 + 1e-12))
    # alpha is lr halved j times, j + 1 evaluations; a shortened step was tried at full length
    j = np.round(np.log2(0.5 / alpha[[0, 1, 3]])).astype(int)
    np.testing.assert_allclose(alpha[[0, 1, 3]], 0.5 * 0.5**j, rtol=1e-12)
    np.testing.assert_array_equal(state["evaluations"][[0, 1, 3]], j + 1)
    np.testing.assert_array_equal(state["shortened"][[0, 1, 3]], (j > 0).astype(int))
    assert j[0] > 10 and j[2] == 0  # from -10 the proposal ~3e4 is halved many times; from 4 none


def test_line_search_without_an_acceptable_step_stays_put():
    opt = VarianceCorrectedLineSearch(0.5, max_backtracks=0)
    a = np.array([-10.0])
    assert opt.update(EXACT, a, opt.init(a), 1)[0] == -10.0


@pytest.mark.parametrize("lr", [0.01, 0.1, 0.5, 0.9, 1.0])
def test_overshoot_threshold_separates_increase_from_decrease(lr):
    uc = overshoot_threshold(lr)
    assert uc < 0
    for t in (0.5, 2.0):
        p = LinearProblem(a_star=0.4, t=t, sigma=1.7)
        u = np.array([uc - 1e-3, uc + 1e-3])
        h = train(p, VarianceCorrected(lr), 0.4 + u / t, 1)
        assert h.loss[1, 0] > h.loss[0, 0] and h.loss[1, 1] < h.loss[0, 1]


def test_overshoot_threshold_is_the_only_sign_change():
    uc = overshoot_threshold(0.5)
    u = np.linspace(-8.0, -1e-3, 2000)
    h = train(EXACT, VarianceCorrected(0.5), 1.0 + u, 1)
    assert np.array_equal(h.loss[1] > h.loss[0], u < uc)


@settings(max_examples=40, deadline=None)
@given(lr=st.floats(0.05, 1.0), a0=st.floats(-10.0, 10.0), t=st.floats(0.25, 3.0))
def test_line_search_never_increases_the_loss(lr, a0, t):
    p = LinearProblem(a_star=1.0, t=t)
    h = train(p, VarianceCorrectedLineSearch(lr), [a0], 20)
    assert not h.diverged.any() and np.all(h.loss[1:] <= h.loss[:-1])


def test_vectorized_equals_alone_to_the_bit():
    opts = [VarianceCorrectedClipped(0.5), VarianceCorrectedLineSearch(0.5)]
    a0 = np.linspace(-10, 10, 9)
    for opt in opts:
        together = train(EXACT, opt, a0, 25)
        for j, a in enumerate(a0):
            np.testing.assert_array_equal(together.a[:, j], train(EXACT, opt, [a], 25).a[:, 0])


def test_repr():
    assert repr(VarianceCorrectedClipped(0.5, 2.0)) == "VarianceCorrectedClipped(lr=0.5, max_step=2.0)"
    assert "shrink=0.5" in repr(VarianceCorrectedLineSearch(0.5))


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: VarianceCorrectedClipped(0.0), ValueError, "lr"),
        (lambda: VarianceCorrectedClipped(0.5, max_step=-1.0), ValueError, "max_step"),
        (lambda: VarianceCorrectedClipped("0.5"), TypeError, "lr"),
        (lambda: VarianceCorrectedLineSearch(np.inf), ValueError, "lr"),
        (lambda: VarianceCorrectedLineSearch(0.5, shrink=1.0), ValueError, "shrink"),
        (lambda: VarianceCorrectedLineSearch(0.5, shrink=0.0), ValueError, "shrink"),
        (lambda: VarianceCorrectedLineSearch(0.5, c=0.5), ValueError, "c"),
        (lambda: VarianceCorrectedLineSearch(0.5, c=None), TypeError, "c"),
        (lambda: VarianceCorrectedLineSearch(0.5, max_backtracks=-1), ValueError, "max_backtracks"),
        (lambda: VarianceCorrectedLineSearch(0.5, max_backtracks=2.0), TypeError, "max_backtracks"),
        (lambda: overshoot_threshold(1.5), ValueError, "lr"),
        (lambda: overshoot_threshold(-0.1), ValueError, "lr"),
        (lambda: overshoot_threshold("a"), TypeError, "lr"),
    ],
)
def test_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_line_search_on_a_solver_model_decreases_its_own_loss():
    """With RK4 inside the model, Loss' d is no longer -2 Loss; Armijo still uses Loss' d itself."""
    rk4 = LinearProblem(1.0, 1.0, 1.0, method="rk4", n_steps=2)
    h = train(rk4, VarianceCorrectedLineSearch(0.5), np.linspace(-6.0, 3.0, 19), 60)
    assert not h.diverged.any()
    assert np.all(h.loss[1:] <= h.loss[:-1])
    assert np.all(h.converged_at(1e-10) >= 0)


@pytest.mark.parametrize("lr", [1e-300, 1e-100, 1e-10])
def test_overshoot_threshold_for_tiny_rates(lr):
    """Far out e^{u_c} is negligible: the root solves u + lr e^{-u} = log 2 (the step lands where the
    loss is as large as on the plateau). The step itself, ~ 1/lr, is formed without overflow."""
    uc = overshoot_threshold(lr)
    assert uc < np.log(lr)
    assert uc + np.exp(np.log(lr) - uc) == pytest.approx(np.log(2.0), abs=1e-8)


def test_direction_refuses_nan_and_stays_defined_far_out():
    from simplest_node import LinearProblem, variance_corrected_direction

    p = LinearProblem()
    with pytest.raises(ValueError, match="a must contain only finite"):  # used to return NaN
        variance_corrected_direction(p, np.nan)
    with pytest.raises(TypeError, match="problem"):
        variance_corrected_direction(None, 0.0)
    with np.errstate(all="raise"):
        d = variance_corrected_direction(p, np.array([-1e308, 1e308]))
    assert d[0] == np.inf and d[1] == -1.0  # -(1/t)(1 - e^{(a* - a) t}) in the limits
