"""Chapter 1's figure function: labelled, robust over its sliders' whole range."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from simplest_node import SIMPLEST_MODEL_SLIDERS, draw_simplest_model, simplest_model_figure


def random_settings(sliders, n, seed):
    """``n`` settings drawn from the sliders' ranges, the corners (all minima, all maxima) first."""
    rng = np.random.default_rng(seed)
    names = list(sliders)
    lows = {k: sliders[k][0] for k in names}
    highs = {k: sliders[k][1] for k in names}
    settings = [lows, highs]
    for _ in range(n - 2):
        settings.append({k: float(rng.uniform(sliders[k][0], sliders[k][1])) for k in names})
    return settings


def test_figure_is_labelled():
    fig = simplest_model_figure(a0=0.5, t=1.0, sigma=1.0)
    left, right = fig.axes
    assert left.get_xlabel() and left.get_ylabel() and right.get_xlabel() and right.get_ylabel()
    assert "a₀ = 0.5: Loss(a₀) = " in right.get_title()
    plt.close(fig)


@pytest.mark.parametrize("settings", random_settings(SIMPLEST_MODEL_SLIDERS, 200, seed=0))
def test_figure_over_slider_ranges(settings):
    fig = simplest_model_figure(**settings)
    title = fig.axes[1].get_title()
    loss = float(title.split("=")[-1])
    assert np.isfinite(loss) and loss >= 0
    plt.close(fig)


def test_draw_on_given_axes_and_bad_input():
    fig, axes = plt.subplots(1, 2)
    draw_simplest_model(axes, a0=-1.0)
    assert axes[0].lines
    with pytest.raises(ValueError, match="a0 must be finite"):
        draw_simplest_model(axes, a0=np.nan)
    with pytest.raises(ValueError, match="t must be"):
        simplest_model_figure(t=0.0)
    plt.close("all")
