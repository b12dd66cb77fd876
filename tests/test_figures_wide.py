"""The chapter 8 widget: 200 seeded random slider settings (extremes included), and its parts."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from simplest_node.figures.wide import (
    WIDE_HISTOGRAM_SLIDERS,
    draw_wide_histogram,
    wide_histogram_figure,
    widget_model,
    widget_samples,
)


def settings(n, seed=0):
    """All extreme combinations first, then seeded random settings from the slider ranges."""
    rng = np.random.default_rng(seed)
    activations, _ = WIDE_HISTOGRAM_SLIDERS["activation"]
    widths, _ = WIDE_HISTOGRAM_SLIDERS["width"]
    scalings, _ = WIDE_HISTOGRAM_SLIDERS["scaling"]
    lo, hi, step, _ = WIDE_HISTOGRAM_SLIDERS["T"]
    grid = np.arange(lo, hi + step / 2, step)
    out = [(a, w, T, s) for a in activations for w in (widths[0], widths[-1]) for T in (lo, hi) for s in scalings]
    while len(out) < n:
        out.append(
            (
                activations[rng.integers(len(activations))],
                widths[rng.integers(len(widths))],
                float(grid[rng.integers(len(grid))]),
                scalings[rng.integers(len(scalings))],
            )
        )
    return out[:n]


def test_slider_defaults_are_the_function_defaults():
    import inspect

    params = inspect.signature(wide_histogram_figure).parameters
    for name, spec in WIDE_HISTOGRAM_SLIDERS.items():
        assert params[name].default == spec[-1]


@pytest.mark.parametrize("setting", settings(200))
def test_widget_at_random_settings(setting):
    fig = wide_histogram_figure(*setting, n_draws=100)
    ax = fig.axes[0]
    assert "KS =" in ax.get_title() or "overflowed" in " ".join(t.get_text() for t in ax.texts)
    fig.canvas.draw()


def test_widget_histogram_matches_samples_and_fitted_normal():
    samples = widget_samples("relu", 2, 1.0, "fixed", n_draws=300, seed=1)
    fig, ax = plt.subplots()
    ks = draw_wide_histogram(ax, samples, "t")
    from simplest_node import ks_normal

    assert ks == ks_normal(samples)[0]
    (stairs,) = ax.patches
    edges = stairs.get_data().edges
    assert np.sum(stairs.get_data().values * np.diff(edges)) == pytest.approx(1.0)
    assert edges[0] <= samples.min() and edges[-1] >= samples.max()
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


# --- robustness regressions: bad and extreme inputs that once crashed, warned or gave NaN ------
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: draw_wide_histogram(None, [0.1, 0.2]), TypeError, "ax"),
        (lambda: draw_wide_histogram(plt.figure().subplots(), "abc"), TypeError, "samples"),
        (lambda: draw_wide_histogram(plt.figure().subplots(), [[1.0], [1.0, 2.0]]), TypeError, "samples"),
        (lambda: draw_wide_histogram(plt.figure().subplots(), [0.1, 0.2], title=3), TypeError, "title"),
        (lambda: wide_histogram_figure(seed=-1), ValueError, "seed"),
        (lambda: wide_histogram_figure(seed=3.5), TypeError, "seed"),
        (lambda: wide_histogram_figure(T=1e308), ValueError, "MAX_WORK"),
    ],
)
def test_wide_figures_refuse_bad_arguments(call, error, match):
    try:
        with pytest.raises(error, match=match):
            call()
    finally:
        plt.close("all")
