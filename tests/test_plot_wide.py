"""The chapter 8 widget: 200 seeded random slider settings (extremes included), and its parts."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from simplest_node.plot_wide import (  # noqa: E402
    SLIDERS,
    draw_wide_histogram,
    wide_histogram_figure,
    widget_model,
    widget_samples,
)


def settings(n, seed=0):
    rng = np.random.default_rng(seed)
    lo, hi, step = SLIDERS["T"]
    grid = np.arange(lo, hi + step / 2, step)
    extremes = [
        (a, w, T, s)
        for a in SLIDERS["activation"]
        for w in (SLIDERS["width"][0], SLIDERS["width"][-1])
        for T in (lo, hi)
        for s in SLIDERS["scaling"]
    ]
    while len(extremes) < n:
        extremes.append(
            (
                SLIDERS["activation"][rng.integers(len(SLIDERS["activation"]))],
                SLIDERS["width"][rng.integers(len(SLIDERS["width"]))],
                float(grid[rng.integers(len(grid))]),
                SLIDERS["scaling"][rng.integers(2)],
            )
        )
    return extremes[:n]


@pytest.mark.parametrize("setting", settings(200))
def test_widget_at_random_settings(setting):
    fig = wide_histogram_figure(*setting, n_draws=100)
    try:
        ax = fig.axes[0]
        title = ax.get_title()
        assert "KS =" in title or "overflowed" in " ".join(t.get_text() for t in ax.texts)
    finally:
        plt.close(fig)


def test_widget_histogram_matches_samples_and_fitted_normal():
    samples = widget_samples("relu", 2, 1.0, "fixed", n_draws=300, seed=1)
    fig, ax = plt.subplots()
    ks = draw_wide_histogram(ax, samples, "t")
    from simplest_node import ks_normal

    assert ks == ks_normal(samples)[0]
    heights = sum(p.get_height() * p.get_width() for p in ax.patches)
    assert heights == pytest.approx(1.0)
    plt.close(fig)


def test_overflow_is_reported_not_drawn():
    fig, ax = plt.subplots()
    assert draw_wide_histogram(ax, np.array([1.0, np.inf, 2.0])) is None
    assert "overflowed" in ax.texts[0].get_text()
    plt.close(fig)


def test_widget_model_scaling():
    assert widget_model("tanh", 4.0, "1/T", c=2.0).sigma_w == 0.5
    assert widget_model("tanh", 4.0, "fixed", c=2.0).sigma_w == 2.0
    assert widget_model("tanh", 32.0).n_steps == 64
    with pytest.raises(ValueError, match="scaling"):
        widget_model("tanh", 1.0, "sqrt")
    with pytest.raises(ValueError, match="activation"):
        wide_histogram_figure("swish")
    with pytest.raises(ValueError, match="n_draws"):
        widget_samples(n_draws=1)
