"""The figures' shared axes helpers: tick labels without mathtext, thin ticks, fixed log limits.

Matplotlib's default log-axis labels ($10^{-2}$) go through its TeX-like parser, and that parser's
cache lives on the renderer, so a widget that draws a new figure on every slider move parses every
label again (about 9 ms each). Plain-text labels such as ``1e-2`` cost a fraction of that.
"""

import numpy as np
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, MaxNLocator, NullLocator

__all__ = ["POWER_OF_TEN", "LOSS_FLOOR", "LOSS_CEILING", "few_ticks", "set_title", "note_box", "fix_log_limits"]

#: Major-tick formatter for log axes: "1e-3", "1e0", "1e5".
POWER_OF_TEN = FuncFormatter(lambda v, _: f"1e{np.log10(v):.0f}" if v > 0 else "")


def few_ticks(ax, n=4):
    """Thin out the ticks of ``ax``: at most about ``n`` major ticks per axis and no minor ticks.

    Every tick is a pair of Line2D objects and a text layout on each redraw, and a widget redraws a
    new figure for every slider move, so the tick count is a good part of the update time. Log axes
    keep decade ticks (some decades skipped when the range is wide) with ``POWER_OF_TEN`` labels.
    """
    for axis in (ax.xaxis, ax.yaxis):
        if axis.get_scale() == "log":
            axis.set_major_locator(LogLocator(numticks=n + 1))
            axis.set_major_formatter(POWER_OF_TEN)
        else:
            axis.set_major_locator(MaxNLocator(n))
        axis.set_minor_locator(NullLocator())


def set_title(ax, label, **kwargs):
    """``ax.set_title`` at the default height (top of the Axes plus the pad), fixed.

    Matplotlib otherwise places titles automatically on every draw, measuring every y tick label
    again to dodge tick labels at the top and the y offset text; on a widget's new figure that is
    up to a quarter of the render time. Use it only on Axes whose x tick labels are at the bottom
    and whose y axis shows no offset text (plain limits or log scale), where the result is the same.
    """
    return ax.set_title(label, y=1.0, **kwargs)


def note_box(ax, text, **kwargs):
    """``text`` in a white box at the top right corner of ``ax`` (the figures' notes on each run)."""
    return ax.text(
        0.99,
        0.98,
        text,
        transform=ax.transAxes,
        ha="right",
        va="top",
        fontsize="small",
        bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.8"},
        **kwargs,
    )


LOSS_FLOOR = 1e-16  # the y axis starts here: losses below are off the plot (converged)
LOSS_CEILING = 1e300  # and ends at most here (matplotlib's log ticks overflow near the largest double)


def fix_log_limits(ax, losses, floor=LOSS_FLOOR, ceiling=LOSS_CEILING):
    """Fix a log y axis to [floor, 10 x the largest finite loss] (at most ``ceiling``), before plotting.

    Autoscaling a log axis around a loss near the largest double overflows inside matplotlib, and a
    loss that overshoots spans ~190 decades: a few labelled decades, no minor ticks (a fast draw).
    """
    top = 1.0
    for loss in losses:
        loss = np.asarray(loss, dtype=float)
        finite = loss[np.isfinite(loss)]
        if finite.size:
            top = max(top, float(finite.max()))
    low, high = np.log10(floor), min(np.log10(top) + 1.0, np.log10(min(ceiling, LOSS_CEILING)))
    ax.set_yscale("log")
    ax.set_ylim(10.0**low, 10.0**high)
    ax.set_autoscaley_on(False)
    # Ticks at every `stride` decades, at most 8 of them, computed here: matplotlib's LogLocator
    # places ticks beyond the limits and overflows when they are near the largest double.
    stride = next(d for d in (1, 2, 4, 5, 10, 20, 25, 50, 100) if (high - low) / d <= 8)
    decades = np.arange(np.ceil(low / stride) * stride, high + 1e-9, stride)
    ax.yaxis.set_major_locator(FixedLocator(10.0**decades))
    # Plain-text labels (1e-16, 1e+20): mathtext powers would be parsed anew for every new range.
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"1e{round(np.log10(value)):+d}"))
    ax.yaxis.set_minor_locator(NullLocator())
