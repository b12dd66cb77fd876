"""Chapter 8 widget: the output distribution of the width-n Neural ODE over random weights.

``wide_histogram_figure`` is a pure function of the slider values (activation, width, horizon T,
scaling of sigma_w) and returns a matplotlib Figure: the histogram of f(x) over ``n_draws``
independent networks at the input x = (1, 0), the normal fitted by ``scipy.stats.norm.fit``, and
the Kolmogorov-Smirnov statistic against it. The sampled weights are cached per (width, n_draws,
seed), so moving the T or activation slider only re-solves the ODE.
"""

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from .. import _checks
from ..wide import ACTIVATIONS, Weights, WideNODE, ks_normal, sample_weights
from .axes import few_ticks, set_title

__all__ = ["WIDE_HISTOGRAM_SLIDERS", "wide_histogram_figure", "draw_wide_histogram", "widget_samples"]

WIDTHS = (1, 2, 4, 8, 16, 32, 64, 128)
SCALINGS = ("fixed", "1/T")
# The chapter's sliders: name -> (min, max, step, default) for a number, (options, default) for a
# dropdown. Tests draw random settings from these.
WIDE_HISTOGRAM_SLIDERS = {
    "activation": (ACTIVATIONS, "tanh"),
    "width": (WIDTHS, 16),
    "T": (0.5, 32.0, 0.5, 1.0),
    "scaling": (SCALINGS, "fixed"),
}
INPUT = np.array([[1.0, 0.0]])
# The networks are solved in two halves on two threads (NumPy's matrix products and activations
# release the GIL): at width 128 this halves the solve, the main cost of the widget's update. Each
# network's arithmetic is the same as in one batch, so the samples are identical.
_POOL = ThreadPoolExecutor(max_workers=2)


@lru_cache(maxsize=16)
def _weights(width, n_draws, seed):
    weights = sample_weights(width, 2, n_draws, seed)
    for a in weights:
        a.setflags(write=False)
    return weights


def widget_model(activation="tanh", T=1.0, scaling="fixed", c=1.0):
    """The model behind the widget: explicit Euler with max(16, ceil(2T)) steps (dt <= 1/2),
    sigma_u = sigma_v = 1 and sigma_w = c (``fixed``) or c / T (``1/T``); the step count is limited by
    ``_checks.MAX_WORK``."""
    _checks.choice("scaling", scaling, SCALINGS)
    T = _checks.positive_finite("T", T)
    c = _checks.positive_finite("c", c)
    if 2 * T > _checks.MAX_WORK:
        raise ValueError(
            f"T = {T!r} asks for ceil(2 T) Euler steps; the limit is {_checks.MAX_WORK:.0e} "
            "(simplest_node._checks.MAX_WORK)"
        )
    n_steps = max(16, int(np.ceil(2 * T)))
    sigma_w = c if scaling == "fixed" else c / T
    return WideNODE(activation, T=T, n_steps=n_steps, method="euler", sigma_w=sigma_w)


def widget_samples(activation="tanh", width=16, T=1.0, scaling="fixed", n_draws=300, seed=0):
    """f(x) at x = (1, 0) for ``n_draws`` networks (seeded), as a 1-D array."""
    width = _checks.positive_int("width", width)
    n_draws = _checks.positive_int("n_draws", n_draws, minimum=2)
    seed = _checks.seed("seed", seed)
    model = widget_model(activation, T, scaling)
    _checks.bounded_work("widget_samples", n_steps=model.n_steps, n_draws=n_draws, width=width)
    weights = _weights(width, n_draws, int(seed))
    half = n_draws // 2
    blocks = [Weights._make(a[:half] for a in weights), Weights._make(a[half:] for a in weights)]  # checked already
    return np.concatenate([f[:, 0] for f in _POOL.map(lambda block: model.forward(block, INPUT), blocks)])


def wide_histogram_figure(activation="tanh", width=16, T=1.0, scaling="fixed", n_draws=300, seed=0):
    """Histogram of f(x) over random networks with the fitted normal; returns the Figure."""
    samples = widget_samples(activation, width, T, scaling, n_draws, seed)
    # A bare Figure with fixed margins (pyplot's manager and constrained layout cost more than
    # the drawing); Jupyter displays a Figure directly.
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.14, top=0.85)
    sigma_w = "1" if scaling == "fixed" else "1/T"
    _checks.choice("activation", activation, ACTIVATIONS)
    _draw(ax, samples, f"{activation}, width n = {width}, T = {T:g}, sigma_w = {sigma_w}")
    return fig


def draw_wide_histogram(ax, samples, title=""):
    """Draw the histogram of ``samples``, the fitted normal density and the KS statistic on ``ax``.

    ``samples`` is a 1-D array of at least 2 real numbers; non-finite samples (overflow) are reported
    on the axes instead of drawn, as are samples that are all equal. Returns the KS statistic (None
    when nothing is drawn).
    """
    _checks.axes("ax", ax)
    samples = _real_samples(samples)
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, got {type(title).__name__} {title!r:.40}")
    ax.clear()
    return _draw(ax, samples, title)


def _real_samples(value):
    """``value`` as a 1-D float array of >= 2 real numbers (inf and nan allowed: they are reported)."""
    arr = _checks.numeric_array("samples", value)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(f"samples must be a 1-D array of at least 2 numbers, got shape {arr.shape}")
    return arr.astype(float, copy=False)


def _draw(ax, samples, title):
    # On a fresh Axes: the widget's figure needs no clear().
    samples = np.asarray(samples, dtype=float)
    few_ticks(ax)  # few ticks: each one costs Line2D objects and a text layout per redraw
    ax.set_xlabel("network output f(x)")  # plain text: mathtext is parsed anew for every figure
    ax.set_ylabel("density")
    finite = np.isfinite(samples)
    if not finite.all() or np.ptp(samples) == 0:
        ax.text(0.5, 0.5, "outputs overflowed (not finite)", transform=ax.transAxes, ha="center", color="C3")
        set_title(ax, title, fontsize="medium")
        return None
    ks, mu, sigma = ks_normal(samples)
    with np.errstate(over="ignore", invalid="ignore"):
        lim = max(4.0 * sigma, np.abs(samples - mu).max())
        drawable = np.isfinite(mu - lim) and np.isfinite(mu + lim) and np.isfinite(sigma**2)
    if not drawable:  # finite, but too spread out for a histogram axis in floats
        ax.text(0.5, 0.5, "outputs too large to draw", transform=ax.transAxes, ha="center", color="C3")
        set_title(ax, f"{title}\nKS = {ks:.3f}", fontsize="medium")
        return ks
    bins = np.linspace(mu - lim, mu + lim, 41)
    density, _ = np.histogram(samples, bins=bins, density=True)
    ax.stairs(density, bins, fill=True, color="C0", alpha=0.6, label=f"{samples.size} networks")
    grid = np.linspace(mu - lim, mu + lim, 301)
    ax.plot(grid, stats.norm.pdf(grid, mu, sigma), color="C3", lw=2, label="fitted normal")
    ax.set_xlim(mu - lim, mu + lim)
    set_title(ax, f"{title}\nKS = {ks:.3f},  variance = {sigma**2:.3g}", fontsize="medium")
    ax.legend(loc="upper right", fontsize="small")
    return ks
