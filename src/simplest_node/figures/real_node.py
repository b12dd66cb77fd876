"""Chapter 9 widget: the untrained MLP field at a chosen initial output scale and horizon.

``scale_horizon_figure`` is a pure function of the slider values (the last layer's scale and the
horizon t): it draws the eight data series of the damped cubic oscillator over [0, t] and the
trajectories of the untrained field from the same initial states (fixed-step Tsit5, 20 steps, one
compiled solve reused by every update; the data are cached per horizon), with the relative loss (the MSE
over that of the zero field) in the title.
Imported explicitly (``from simplest_node.figures import real_node``), like real_node.
"""

from functools import lru_cache

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from .. import _checks, real_node
from .axes import set_title

__all__ = ["SCALE_HORIZON_SLIDERS", "draw_scale_horizon", "scale_horizon_figure"]

# name -> (min, max, step, default), as the chapter's sliders use them
SCALE_HORIZON_SLIDERS = {"log10_scale": (-2.0, 1.5, 0.25, 0.0), "horizon": (0.5, 8.0, 0.5, 1.0)}
N_TIMES = 40  # points drawn per trajectory


@lru_cache(maxsize=64)
def _data(horizon):
    return real_node.make_data(8, horizon, N_TIMES, 0)  # (each a fresh array; never written to)


def _curves(log10_scale, horizon):
    y0, ts, ys = _data(horizon)
    field = real_node.init_field(32, 10.0**log10_scale, 0)
    model = np.asarray(real_node.solve(field, y0, ts, n_steps=N_TIMES).ys)
    model = np.where(np.isfinite(model), model, np.nan)  # a diverged curve is not drawn
    with np.errstate(invalid="ignore"):
        mse = np.mean((model - ys) ** 2)
    relative = mse / np.mean((ys - y0[None]) ** 2)
    return y0, ys, model, relative if np.isfinite(relative) else np.inf


def draw_scale_horizon(ax, log10_scale, horizon):
    """Draw the data (solid) and the untrained field's trajectories (dashed) on ``ax``."""
    ax = _checks.axes("ax", ax)
    log10_scale = _checks.finite("log10_scale", log10_scale)
    if not -3 <= log10_scale <= 2:
        raise ValueError(f"log10_scale must lie in [-3, 2], got {log10_scale!r}")
    horizon = _checks.positive_finite("horizon", horizon)
    if not 0.1 <= horizon <= 20:
        raise ValueError(f"horizon must lie in [0.1, 20], got {horizon!r}")
    y0, ys, model, relative = _curves(log10_scale, horizon)
    ax.clear()
    colors = [f"C{i % 10}" for i in range(len(y0))]
    # one collection per kind of curve: a widget update draws three artists, not three per series
    data = [np.vstack([y0[i], ys[:, i]]) for i in range(len(y0))]
    curves = [np.vstack([y0[i], model[:, i]]) for i in range(len(y0))]
    ax.add_collection(LineCollection(data, colors=colors, linewidths=1.5))
    ax.add_collection(LineCollection(curves, colors=colors, linewidths=1.2, linestyles="--"))
    ax.scatter(y0[:, 0], y0[:, 1], c=colors, s=16, zorder=3)
    ax.plot([], [], "k-", label="data (true field)")
    ax.plot([], [], "k--", label="untrained MLP field")
    ax.set_xlim(-2.5, 2.5)
    ax.set_ylim(-2.5, 2.5)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="lower left", fontsize="small")
    text = "diverged" if not np.isfinite(relative) else f"{relative:.3g}"
    set_title(ax, f"scale $10^{{{log10_scale:g}}}$, $t = {horizon:g}$: relative loss {text}")
    return relative


def scale_horizon_figure(log10_scale=0.0, horizon=1.0):
    """The widget's figure: ``draw_scale_horizon`` on a new Figure (returned)."""
    fig = Figure(figsize=(6.0, 5.2), dpi=90)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.1, top=0.92)  # fixed: no layout engine per update
    draw_scale_horizon(fig.add_subplot(), log10_scale, horizon)
    return fig
