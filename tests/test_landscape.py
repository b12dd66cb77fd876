"""The loss landscape: landmarks, curvature, the gradient identity, gradient against t, figures."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simplest_node import (
    LANDSCAPE_SLIDERS,
    LinearProblem,
    classify,
    concavity_threshold,
    curvature,
    draw_landscape,
    gd_loss_ratio,
    gradient_identity_gap,
    gradient_vs_t,
    gradient_vs_t_figure,
    growth_ratio,
    landmark,
    landscape_figure,
    landscape_overview_figure,
    plateau_edge,
    steepest_t,
    wall_edge,
)


def test_landmarks_closed_forms():
    assert concavity_threshold(1.0, 1.0) == pytest.approx(1 - np.log(2), rel=1e-15)
    assert concavity_threshold(0.5, 4.0) == pytest.approx(0.5 - np.log(2) / 4, rel=1e-15)
    assert plateau_edge(1.0, 2.0, eps=0.1) == pytest.approx(1 + np.log(0.1) / 2, rel=1e-15)
    assert wall_edge(1.0, 2.0, wall=10.0) == pytest.approx(1 + np.log(10) / 2, rel=1e-15)
    assert landmark(1.0, 0.7, 3.0) == 0.7
    np.testing.assert_allclose(growth_ratio(landmark(0.3, 0.2, 1.7), 0.2, 1.7), 0.3, rtol=1e-14)


@given(a_star=st.floats(-2, 2), t=st.floats(0.1, 5), sigma=st.floats(0.1, 3))
def test_curvature_changes_sign_at_the_threshold(a_star, t, sigma):
    threshold = concavity_threshold(a_star, t)
    below, above = curvature(threshold - 1e-3, a_star, t, sigma), curvature(threshold + 1e-3, a_star, t, sigma)
    assert below < 0 < above
    # Zero up to rounding, relative to the curvature's scale at the minimum, sigma^2 t^2 e^{2 a* t}.
    scale = sigma**2 * t**2 * np.exp(2 * a_star * t)
    assert abs(curvature(threshold, a_star, t, sigma)) <= 1e-14 * scale


@pytest.mark.parametrize("a_star, t, sigma", [(1.0, 1.0, 1.0), (0.3, 2.5, 0.4), (-1.0, 0.5, 2.0)])
def test_curvature_matches_finite_differences_of_the_gradient(a_star, t, sigma):
    p = LinearProblem(a_star, t, sigma)
    a = np.linspace(-2, 2, 9)
    eps = 1e-6
    fd = (p.grad(a + eps) - p.grad(a - eps)) / (2 * eps)
    np.testing.assert_allclose(curvature(a, a_star, t, sigma), fd, rtol=1e-6, atol=1e-9)


def test_classify_regions_in_order():
    a = np.array([-5.0, 1 + np.log(0.1) + 1e-9, 0.0, 1.0, 3.5, 1 + np.log(10)])
    assert list(classify(a, 1.0, 1.0)) == ["plateau", "concave", "concave", "basin", "wall", "wall"]
    assert classify(0.5, 1.0, 1.0) == "basin"


@given(a=st.floats(-4, 4), a_star=st.floats(-2, 2), t=st.floats(0.1, 3), sigma=st.floats(0.1, 3))
def test_gradient_identity_holds(a, a_star, t, sigma):
    assert gradient_identity_gap(a, a_star, t, sigma) < 1e-12


def test_gradient_identity_holds_for_a_batch():
    x0 = np.random.default_rng(1).normal(size=50)
    assert np.all(gradient_identity_gap(np.linspace(-2, 2, 7), 1.0, 1.5, 1.0, x0=x0) < 1e-12)


def test_gradient_identity_gap_can_fail():
    # The identity with the wrong t (the check is not vacuous).
    p = LinearProblem(1.0, 2.0, 1.0)
    lhs = p.grad(0.3) ** 2
    assert abs(lhs - 2 * 1.0**2 * p.second_moment(0.3) * p.loss(0.3)) / lhs > 0.5


def test_gradient_vs_t_matches_linear_problem_and_small_t_law():
    ts = np.array([0.3, 1.0, 2.7])
    for a in (-2.0, 0.5, 1.5):
        expected = [abs(LinearProblem(1.0, t, 0.6).grad(a)) for t in ts]
        np.testing.assert_allclose(gradient_vs_t(a, ts, 1.0, 0.6), expected, rtol=1e-13)
    small = gradient_vs_t(-1.0, 1e-4, 1.0, 0.5)
    assert small == pytest.approx(0.25 * 2.0 * 1e-8, rel=1e-3)


def test_steepest_t_maximizes_the_gradient():
    a = np.array([-3.0, -2.0, -1.5])
    t_best = steepest_t(a, 1.0)
    assert np.all((t_best > 0) & (t_best < 100))
    for ai, tb in zip(a, t_best):
        ts = np.linspace(0.5 * tb, 1.5 * tb, 2001)
        assert abs(ts[np.argmax(gradient_vs_t(ai, ts, 1.0))] - tb) < 1e-3 * tb
    # No interior maximum when a + a* >= 0: the gradient grows with t up to t_max.
    assert steepest_t(-0.5, 1.0, t_max=50.0) == 50.0


@pytest.mark.parametrize("a_star, t, sigma", [(1.0, 1.0, 1.0), (0.3, 2.5, 0.4), (-1.0, 0.5, 2.0)])
def test_gd_loss_ratio_is_one_step_of_gd(a_star, t, sigma):
    # The definition: Loss(a - lr Loss'(a)) / Loss(a), away from the minimum (where both vanish).
    p = LinearProblem(a_star, t, sigma)
    a = a_star + np.array([-3.0, -1.0, -0.4, -0.05, 0.05, 0.3, 0.8])
    for lr in (1e-3, 0.03, 0.2):
        direct = p.loss(a - lr * p.grad(a)) / p.loss(a)
        np.testing.assert_allclose(gd_loss_ratio(a, lr, a_star, t, sigma), direct, rtol=1e-10)


def test_gd_loss_ratio_at_the_minimum_and_on_the_plateau():
    # At u = 1 the ratio is (1 - x)^2 with x = lr t^2 sigma^2 e^{2 a* t}; the limit is continuous.
    x = 0.05 * 1.5**2 * 0.7**2 * np.exp(2 * 0.4 * 1.5)
    assert gd_loss_ratio(0.4, 0.05, 0.4, 1.5, 0.7) == pytest.approx((1 - x) ** 2, rel=1e-14)
    assert gd_loss_ratio(0.4 + 1e-9, 0.05, 0.4, 1.5, 0.7) == pytest.approx((1 - x) ** 2, rel=1e-7)
    # Deep on the plateau e^{a t} underflows: the step does nothing and the ratio is exactly 1.
    assert gd_loss_ratio(-800.0, 0.1) == 1.0


@pytest.mark.parametrize("a", [-1.0, 0.5, 2.0])
def test_gd_loss_ratio_expansion_and_its_remainder(a):
    # At fixed u, ratio = 1 - 2x + (2 - 1/u) x^2 + c3 x^3 + O(x^4), c3 = -(u - 1)(4u - 1)/(3u^2)
    # (chapter 2 derives it with SymPy): the scaled remainder tends to c3 linearly in x.
    u = np.exp(a - 1.0)
    c3 = -(u - 1) * (4 * u - 1) / (3 * u**2)
    lr = np.array([1e-2, 1e-3]) * np.exp(-2 * a)  # x = lr e^{2a} for a* = t = sigma = 1
    x = lr * np.exp(2 * a)
    remainder = (gd_loss_ratio(a, lr) - (1 - 2 * x + (2 - 1 / u) * x**2)) / x**3
    error = np.abs(remainder - c3)
    assert error[1] < 1e-2 * abs(c3)
    assert 5 < error[0] / error[1] < 20  # the next term is O(x): ten times smaller x, ten times smaller error


def test_gd_loss_ratio_first_order_fails_on_the_wall():
    # a = 2 with lr = 0.01 (a* = t = sigma = 1): x = 0.01 e^4 = 0.546, 1 - 2x < 0 but the loss drops
    # only to 0.29 of its value.
    x = 0.01 * np.exp(4.0)
    assert 1 - 2 * x < 0
    assert gd_loss_ratio(2.0, 0.01) == pytest.approx(0.289735, rel=1e-5)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: landmark(0.0), ValueError, "ratio"),
        (lambda: plateau_edge(eps=0.6), ValueError, "eps must lie"),
        (lambda: wall_edge(wall=0.5), ValueError, "wall must be"),
        (lambda: concavity_threshold(t=0.0), ValueError, "t must be"),
        (lambda: curvature(0.0, sigma=-1.0), ValueError, "sigma"),
        (lambda: classify([np.nan]), ValueError, "a must contain only finite"),
        (lambda: gradient_vs_t(0.0, [0.0, 1.0]), ValueError, "t must contain"),
        (lambda: gradient_vs_t("x", 1.0), TypeError, "a must be"),
        (lambda: steepest_t(1.5, 1.0), ValueError, "a < a_star"),
        (lambda: steepest_t(-2.0, 1.0, t_max=0.0), ValueError, "t_max"),
        (lambda: growth_ratio(0.0, t=-1.0), ValueError, "t must be"),
        (lambda: gd_loss_ratio(0.0, 0.0), ValueError, "lr must contain"),
        (lambda: gd_loss_ratio(np.nan, 0.1), ValueError, "a must contain only finite"),
        (lambda: landscape_figure(a0=np.inf), ValueError, "a0 must be finite"),
        (lambda: landscape_figure(lr=0.0), ValueError, "lr"),
        (lambda: landscape_overview_figure(ts=()), ValueError, "at least one"),
        (lambda: gradient_vs_t_figure(a_values=(np.nan,)), ValueError, "a must be finite"),
    ],
)
def test_bad_input(call, error, words):
    with pytest.raises(error, match=words):
        call()
    plt.close("all")


def random_settings(sliders, n, seed):
    """``n`` settings from the sliders' ranges: all minima, all maxima, then seeded uniform draws."""
    rng = np.random.default_rng(seed)
    settings = [{k: v[0] for k, v in sliders.items()}, {k: v[1] for k, v in sliders.items()}]
    for _ in range(n - 2):
        settings.append({k: float(rng.uniform(v[0], v[1])) for k, v in sliders.items()})
    return settings


@pytest.mark.parametrize("settings", random_settings(LANDSCAPE_SLIDERS, 200, seed=0))
def test_landscape_figure_over_slider_ranges(settings):
    fig = landscape_figure(**settings)
    (ax,) = fig.axes
    # The title reports finite numbers (and says when the step diverged or left the plot).
    first = ax.get_title().split("\n")[0]
    loss = float(first.split("Loss = ")[1].split(",")[0])
    grad = float(first.split("Loss′ = ")[1].split(",")[0])
    moment = float(first.split("σₖ² = ")[1])
    assert np.isfinite(loss) and loss >= 0 and np.isfinite(grad) and np.isfinite(moment) and moment > 0
    assert ax.get_xlabel() and ax.get_ylabel()
    assert np.all(np.isfinite(ax.get_ylim())) and ax.get_ylim()[0] > 0


def test_static_figures_are_labelled():
    for fig in (landscape_overview_figure(), gradient_vs_t_figure(), landscape_figure(a0=2.5)):
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    # In the wall the gradient step leaves the plot, and the title says so; on the plateau it does not.
    assert "leaves the plot" in landscape_figure(a0=2.5, t=2.0).axes[0].get_title()
    assert "leaves the plot" not in landscape_figure(a0=-1.0).axes[0].get_title()


def test_draw_on_given_axes():
    fig, ax = plt.subplots()
    draw_landscape(ax, a0=-2.0, t=2.0)
    assert ax.lines and "(plateau)" in ax.get_title()
    plt.close(fig)


def test_landscape_functions_refuse_nan_and_none():
    from simplest_node import curvature, growth_ratio

    for fn in (growth_ratio, curvature):  # used to return NaN
        with pytest.raises(ValueError, match="a must contain only finite"):
            fn(np.nan)
        with pytest.raises(TypeError, match="a must be"):
            fn(None)
