"""Chapter 5 figures: the widget over random slider settings, flags, and bad input."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from conftest import assert_defaults_on_ranges, slider_settings
from simplest_node import (
    SAFEGUARDS,
    VARIANCE_SLIDERS,
    LinearProblem,
    VarianceCorrected,
    draw_loss_curves,
    draw_variance_corrected,
    train,
    variance_corrected_figure,
)


def _settings(n, seed=0):
    out = slider_settings(VARIANCE_SLIDERS, n, seed)
    for i, values in enumerate(out):
        values["safeguard"] = SAFEGUARDS[i % len(SAFEGUARDS)]
    return out


def test_slider_defaults_lie_on_their_ranges():
    assert_defaults_on_ranges(VARIANCE_SLIDERS)


def test_widget_over_200_random_settings():
    for values in _settings(200):
        fig, ax = plt.subplots()
        runs = draw_variance_corrected(ax, **values, n_iter=40)
        text = ax.texts[0].get_text()
        for history in runs.values():
            loss = history.loss[:, 0]
            if history.diverged[0]:
                assert "diverged" in text  # flagged on the figure
                assert np.all(np.isfinite(loss[: history.diverged_at[0]]))
            else:
                assert np.all(np.isfinite(loss))
        assert not runs["safeguarded"].diverged[0], values  # the safeguard never diverges
        fig.canvas.draw()  # drawing must not warn either (RuntimeWarnings are errors)
        plt.close(fig)


def test_figure_and_default_numbers():
    fig = variance_corrected_figure()
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    text = ax.texts[0].get_text()
    assert "plain rule: peak loss 1.34e+170" in text  # from a0 = -5 (lr 1/2, t = 1)
    assert "with line search" in text
    plt.close(fig)


def test_the_box_reports_the_settling_time():
    # The box quotes the settling time for Loss < 1e-8 (below it from that step to the end of the run),
    # which is what the chapter calls convergence; a run that is not settled says so.
    fig, ax = plt.subplots()
    runs = draw_variance_corrected(ax, lr=0.5, a0=2.0, t=1.0, n_iter=60)
    settled = runs["safeguarded"].converged_at(1e-8)[0]
    loss = runs["safeguarded"].loss[:, 0]
    assert settled > 0 and np.all(loss[settled:] < 1e-8) and loss[settled - 1] >= 1e-8
    assert f"with line search: peak loss {loss.max():.3g}, loss < 1e-08 from step {settled}" in ax.texts[0].get_text()
    plt.close(fig)
    fig, ax = plt.subplots()
    draw_variance_corrected(ax, lr=0.05, a0=2.0, t=1.0, n_iter=10)  # far too few steps to settle
    assert "not settled below 1e-08" in ax.texts[0].get_text()
    plt.close(fig)


def test_minus_ten_is_flagged_diverged_at_step_one():
    fig, ax = plt.subplots()
    runs = draw_variance_corrected(ax, lr=0.5, a0=-10.0, t=1.0)
    assert runs["plain"].diverged_at[0] == 1
    assert "plain rule: diverged (overflow) at step 1" in ax.texts[0].get_text()
    plt.close(fig)


def test_draw_loss_curves_marks_divergence():
    a0 = np.array([-10.0, 0.0, 2.0])
    h = train(LinearProblem(), VarianceCorrected(0.5), a0, 10)
    fig, ax = plt.subplots()
    mappable = draw_loss_curves(ax, h, a0, "title")
    assert len(ax.lines) == 3 + 1  # three curves, one divergence marker (-10 diverges at step 1)
    assert mappable.norm.vmin == -10.0 and mappable.norm.vmax == 2.0
    plt.close(fig)


def test_draw_loss_curves_near_the_largest_double_draws_silently():
    a0 = np.array([-5.57, 2.0])  # the plain rule's first step from -5.57 gives a loss of about 2e304
    h = train(LinearProblem(), VarianceCorrected(0.5), a0, 5)
    assert 1e300 < h.loss[1, 0] < np.inf
    fig, ax = plt.subplots()
    draw_loss_curves(ax, h, a0, "title")
    fig.canvas.draw()  # RuntimeWarnings are errors: the log ticks must not overflow
    assert ax.get_ylim()[1] <= 1.000001e300
    plt.close(fig)
    fig, ax = plt.subplots()
    runs = draw_variance_corrected(ax, lr=0.5, a0=-5.58, t=1.0)  # peak loss 2.2e307
    assert 1e307 < runs["plain"].loss.max() < np.inf
    fig.canvas.draw()
    plt.close(fig)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"lr": 0.0}, ValueError, "lr"),
        ({"a0": np.nan}, ValueError, "a0"),
        ({"t": -1.0}, ValueError, "t"),
        ({"safeguard": "none"}, ValueError, "safeguard"),
        ({"n_iter": 0}, ValueError, "n_iter"),
        ({"lr": "big"}, TypeError, "lr"),
    ],
)
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        variance_corrected_figure(**kwargs)
    plt.close("all")


def test_draw_loss_curves_bad_a0():
    h = train(LinearProblem(), VarianceCorrected(0.5), [0.0, 1.0], 3)
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="a0"):
        draw_loss_curves(ax, h, [0.0], "title")
    plt.close(fig)


def test_an_overshoot_leaves_the_top_of_the_widget_axis():
    """The 1e170 overshoot from the default a0 would flatten the safeguarded run into the bottom
    decades: the axis ends at VIEW_CEILING and the box says the peak is off the top."""
    from simplest_node.figures.variance import VIEW_CEILING

    fig = variance_corrected_figure()
    ax = fig.axes[0]
    assert ax.get_ylim()[1] <= VIEW_CEILING * 1.000001
    assert "peak loss 1.34e+170 (off the top)" in ax.texts[0].get_text()
    plt.close(fig)
