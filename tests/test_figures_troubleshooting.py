"""Chapter 9 widget: 200 random slider settings, the default numbers, and bad input."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from conftest import assert_defaults_on_ranges, slider_settings
from simplest_node.figures.troubleshooting import (
    RESCALING_SLIDERS,
    draw_time_rescaling,
    time_rescaling_figure,
)


def _settings(n, seed=0):
    return slider_settings(RESCALING_SLIDERS, n, seed)


def test_slider_defaults_lie_on_their_ranges():
    assert_defaults_on_ranges(RESCALING_SLIDERS)


def test_widget_over_200_random_settings():
    for values in _settings(200):
        fig, ax = plt.subplots()
        runs = draw_time_rescaling(ax, **values)
        text = ax.texts[0].get_text()
        for history in runs:
            loss = history.loss[:, 0]
            if history.diverged[0]:
                assert "diverged" in text
                assert np.all(np.isfinite(loss[: history.diverged_at[0]]))
            else:
                assert np.all(np.isfinite(loss))
        fig.canvas.draw()
        plt.close(fig)


def test_default_figure_numbers():
    fig = time_rescaling_figure()
    ax = fig.axes[0]
    text = ax.texts[0].get_text()
    assert "time unit 1 (t = 1): loss settles below 1e-10 at step 22" in text
    assert "time unit 1/2 (t = 2): final loss" in text  # lr c^2 = 0.4 is past the stable limit 2 / e^2
    assert ax.get_yscale() == "log"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"c": 0.0}, ValueError, "c"),
        ({"lr": -1.0}, ValueError, "lr"),
        ({"a0": np.nan}, ValueError, "a0"),
        ({"n_iter": 0}, ValueError, "n_iter"),
        ({"c": "two"}, TypeError, "c"),
    ],
)
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        time_rescaling_figure(**kwargs)


# --- robustness regressions: bad and extreme inputs that once crashed, warned or gave NaN ------
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: draw_time_rescaling(None), TypeError, "ax"),
        (lambda: time_rescaling_figure(n_iter=10**12), ValueError, "MAX_WORK"),
    ],
)
def test_rescaling_figures_refuse_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
