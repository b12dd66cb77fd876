"""Chapter 7 widget: 200 random slider settings, the no-real-rate flag, and bad input."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from conftest import slider_settings
from simplest_node.figures.imde import IMDE_METHODS, IMDE_SLIDERS, draw_imde, imde_figure
from simplest_node.imde import linear_rate


def _settings(n, seed=0):
    out = slider_settings(IMDE_SLIDERS, n, seed)
    n_corners = 2 ** len(IMDE_SLIDERS)
    for i, values in enumerate(out):
        values["n_sub"] = int(round(values["n_sub"]))
        values["a_star"] = round(values["a_star"], 10)
        values["method"] = (
            IMDE_METHODS[(i // n_corners) % len(IMDE_METHODS)]
            if i < 4 * n_corners
            else IMDE_METHODS[i % len(IMDE_METHODS)]
        )
    return out


def test_slider_defaults_lie_on_their_ranges():
    for name, (low, high, step, default) in IMDE_SLIDERS.items():
        assert low < high and step > 0 and low <= default <= high, name


def test_widget_over_200_random_settings():
    seen_missing = 0
    for values in _settings(200):
        fig = imde_figure(**values)
        ax_rate, ax_path = fig.axes
        numbers = draw_imde([ax_rate, ax_path], **values)
        assert np.isfinite(numbers["learned"]) and np.isfinite(numbers["loss"])
        text = ax_path.texts[-1].get_text()
        if numbers["exists"]:
            assert abs(numbers["learned"] - numbers["imde"]) < 1e-8 * max(1.0, abs(numbers["imde"]))
            assert numbers["loss"] < 1e-20
        else:
            seen_missing += 1
            assert "no real a_h" in text and numbers["loss"] > 0
        if numbers["exists"]:
            assert "a_h" in text  # flagged on the figure
        fig.canvas.draw()
        plt.close(fig)
    assert seen_missing > 0  # the extremes include settings without a real rate


def test_default_numbers():
    fig = Figure = imde_figure()
    ax_rate, ax_path = Figure.axes
    assert "trained a = a_h = -0.78694" in ax_path.texts[-1].get_text()
    assert linear_rate(-1.0, 0.5, "euler") == pytest.approx(2 * (np.exp(-0.5) - 1))
    plt.close(fig)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"method": "leapfrog"}, ValueError, "method"),
        ({"n_sub": 0}, ValueError, "n_sub"),
        ({"n_sub": 2.5}, TypeError, "n_sub"),
        ({"a_star": np.nan}, ValueError, "a_star"),
        ({"a_star": "big"}, TypeError, "a_star"),
    ],
)
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        imde_figure(**kwargs)


# --- robustness regressions: bad and extreme inputs that once crashed, warned or gave NaN ------
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_sub": 10**12}, ValueError, "n_sub"),
        ({"a_star": 1e308}, ValueError, "a_star"),
    ],
)
def test_imde_figure_refuses_extreme_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        imde_figure(**kwargs)


def test_draw_imde_checks_its_axes_and_reports_no_rate_without_nan():
    with pytest.raises(TypeError, match="axes"):
        draw_imde(None)
    numbers = draw_imde(plt.figure().subplots(1, 2), method="midpoint", n_sub=1, a_star=-1.0)
    plt.close("all")
    assert numbers["exists"] is False and numbers["imde"] is None
