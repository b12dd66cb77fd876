"""Chapter 2 figures: the loss landscape, its plateau and wall, and the gradient against t.

Pure functions of their arguments returning matplotlib Figures (bare ``Figure`` objects, which
Jupyter displays directly), so widgets only wire sliders to them and tests need no kernel.
"""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, NullLocator

from .. import _checks
from ..landscape import (
    classify,
    concavity_threshold,
    gradient_vs_t,
    plateau_edge,
    steepest_t,
    wall_edge,
)
from ..linear import LinearProblem
from .axes import POWER_OF_TEN

__all__ = [
    "LANDSCAPE_SLIDERS",
    "landscape_overview_figure",
    "gradient_vs_t_figure",
    "landscape_figure",
    "draw_landscape",
]

# The chapter's sliders: name -> (min, max, step, default). Tests draw random settings from these.
LANDSCAPE_SLIDERS = {
    "a0": (-3.0, 3.0, 0.1, -1.0),
    "a_star": (-1.0, 2.0, 0.1, 1.0),
    "t": (0.1, 3.0, 0.1, 1.0),
    "sigma": (0.1, 3.0, 0.1, 1.0),
}
A_RANGE = (-3.0, 3.0)


def _drawable(values):
    """``values`` for a log axis: zeros (nothing to draw) as NaN, values far above any of these
    figures' axes capped at 1e100 (matplotlib's log transform overflows near the largest double)."""
    values = np.asarray(values, dtype=float)
    return np.where(values > 0, np.minimum(values, 1e100), np.nan)


def landscape_overview_figure(ts=(0.5, 1.0, 2.0, 4.0), a_star=1.0, sigma=1.0):
    """Loss(a) and |Loss'(a)| on log scales for several sampling intervals ``ts``.

    On each curve: a circle at the plateau edge a* + ln(0.1)/t, a diamond at the concavity
    threshold a* - ln(2)/t and a square at the wall edge a* + ln(10)/t.
    """
    if isinstance(ts, (str, bytes)) or not isinstance(ts, (list, tuple, np.ndarray)):
        raise TypeError(f"ts must be a list or tuple of sampling intervals, got {type(ts).__name__}")
    ts = [_checks.positive_finite("t", t) for t in ts]
    if not ts:
        raise ValueError("ts must hold at least one sampling interval")
    # Stacked, not side by side: at 6 in wide the text stays legible on a phone-width column.
    fig = Figure(figsize=(6.0, 7.0), layout="constrained")
    ax_loss, ax_grad = fig.subplots(2, 1)
    grid = np.linspace(*A_RANGE, 601)
    for k, t in enumerate(ts):
        p = LinearProblem(a_star=a_star, t=t, sigma=sigma)
        color = f"C{k}"
        ax_loss.semilogy(grid, _drawable(p.loss(grid)), color=color, label=f"$t = {t:g}$")
        ax_grad.semilogy(grid, _drawable(np.abs(p.grad(grid))), color=color, label=f"$t = {t:g}$")
        for edge, marker in (
            (plateau_edge(a_star, t), "o"),
            (concavity_threshold(a_star, t), "D"),
            (wall_edge(a_star, t), "s"),
        ):
            if A_RANGE[0] <= edge <= A_RANGE[1]:
                ax_loss.semilogy([edge], [p.loss(edge)], marker, color=color, ms=6)
                ax_grad.semilogy([edge], [abs(p.grad(edge))], marker, color=color, ms=6)
    for marker, text in (
        ("o", "plateau edge (ratio 0.1)"),
        ("D", "concavity threshold"),
        ("s", "wall edge (ratio 10)"),
    ):
        ax_grad.plot([], [], marker, color="0.3", ls="none", label=text)
    for ax in (ax_loss, ax_grad):
        ax.axvline(a_star, color="0.4", ls=":", lw=1)
        ax.set_xlabel("parameter $a$ (1/time)")
        ax.set_ylim(1e-4, 1e8)
    ax_loss.set_ylabel(r"$\mathrm{Loss}(a)$ (log scale)")
    ax_grad.set_ylabel(r"$|\mathrm{Loss}'(a)|$ (log scale)")
    ax_loss.set_title(f"Loss, $a^* = {a_star:g}$, $\\sigma = {sigma:g}$")
    ax_grad.set_title("Size of the gradient")
    ax_loss.legend(loc="lower right", fontsize="small")
    ax_grad.legend(loc="lower right", fontsize="small", ncol=2)
    return fig


def gradient_vs_t_figure(a_values=(-3.0, -2.0, -1.0, 0.0, 0.5, 2.0), a_star=1.0, sigma=1.0):
    """|Loss'(a)| against the sampling interval t (log-log) at fixed rates ``a_values``.

    The dotted line is the small-t law sigma^2 |a - a*| t^2 for the first a; crosses mark the t
    that maximizes |Loss'| where one exists (a + a* < 0).
    """
    if isinstance(a_values, (str, bytes)) or not isinstance(a_values, (list, tuple, np.ndarray)):
        raise TypeError(f"a_values must be a list or tuple of rates, got {type(a_values).__name__}")
    a_values = [_checks.finite("a", a) for a in a_values]
    if not a_values:
        raise ValueError("a_values must hold at least one rate")
    if max(abs(a) for a in a_values) > 1e100:
        raise ValueError(f"a_values must lie in [-1e100, 1e100] to be drawn, got {a_values!r:.60}")
    if not abs(_checks.finite("a_star", a_star)) <= 1e100:
        raise ValueError(f"a_star must lie in [-1e100, 1e100] to be drawn, got {a_star!r}")
    fig = Figure(figsize=(6.0, 4.4), layout="constrained")
    ax = fig.add_subplot()
    ts = np.geomspace(0.01, 20.0, 400)
    for k, a in enumerate(a_values):
        ax.loglog(ts, _drawable(gradient_vs_t(a, ts, a_star, sigma)), color=f"C{k}", label=f"$a = {a:g}$")
        if a < a_star and a + a_star < 0:
            t_best = float(steepest_t(a, a_star))
            ax.loglog([t_best], gradient_vs_t(a, t_best, a_star, sigma), "x", color=f"C{k}", ms=9)
    a_first = a_values[0]
    sigma = LinearProblem(a_star=a_star, sigma=sigma).sigma  # checked by gradient_vs_t above
    guide = sigma**2 * abs(a_first - a_star) * ts**2
    ax.loglog(ts, _drawable(guide), ":", color="0.3", label=r"$\sigma^2 |a - a^*|\, t^2$" + f" (a = {a_first:g})")
    ax.set_ylim(1e-8, 1e6)
    ax.set_xlabel("sampling interval $t$ (time)")
    ax.set_ylabel(r"$|\mathrm{Loss}'(a)|$ (log scale)")
    ax.set_title(f"Gradient at fixed $a$ against $t$\n($a^* = {a_star:g}$, $\\sigma = {sigma:g}$)")
    ax.legend(fontsize="small", ncol=2, loc="upper left")
    return fig


def landscape_figure(a0=-1.0, a_star=1.0, t=1.0, sigma=1.0, lr=1.0):
    """Chapter 2 widget: the landscape with its regions, the point a0 and its gradient step.

    Loss(a) on a log scale over a in [-3, 3], with the plateau (grey), the concave region (yellow)
    and the wall (red) shaded, and a0 marked with an arrow to the gradient-descent step
    a0 - lr Loss'(a0) (clipped to the axes; the title says so). The title reports the region,
    Loss(a0), Loss'(a0) and the model's terminal variance sigma_k^2(t) = sigma^2 e^{2 a0 t}.
    """
    # A bare Figure with fixed margins: pyplot's manager and constrained layout cost more than drawing.
    fig = Figure(figsize=(6.0, 4.0))
    ax = fig.add_subplot()
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.13, top=0.75)
    draw_landscape(ax, a0, a_star, t, sigma, lr)
    return fig


def draw_landscape(ax, a0=-1.0, a_star=1.0, t=1.0, sigma=1.0, lr=1.0):
    """Draw ``landscape_figure`` on the Axes ``ax``."""
    _checks.axes("ax", ax)
    a0 = _checks.finite("a0", a0)
    lr = _checks.positive_finite("lr", lr)
    p = LinearProblem(a_star=a_star, t=t, sigma=sigma)
    grid = np.linspace(*A_RANGE, 301)
    with np.errstate(over="ignore", invalid="ignore"):
        loss = p.loss(grid)
        loss0, grad0 = float(p.loss(a0)), float(p.grad(a0))
        moment0 = float(p.second_moment(a0))
    plateau, concave, wall = (plateau_edge(p.a_star, p.t), concavity_threshold(p.a_star, p.t), wall_edge(p.a_star, p.t))
    # Plain-text powers of ten: mathtext tick labels would cost more than everything else.
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(numticks=6))
    ax.yaxis.set_major_formatter(POWER_OF_TEN)
    ax.yaxis.set_minor_locator(NullLocator())
    ax.axvspan(A_RANGE[0], max(plateau, A_RANGE[0]), color="0.85", lw=0)
    ax.axvspan(max(plateau, A_RANGE[0]), max(concave, A_RANGE[0]), color="#fff2b3", lw=0)
    ax.axvspan(min(wall, A_RANGE[1]), A_RANGE[1], color="#f8c8c8", lw=0)
    ax.axvline(p.a_star, color="C0", ls=":", lw=1)
    floor = max(1e-6 * p._loss(-np.inf), 1e-300)  # the plateau's loss, >= a tiny positive floor
    ax.plot(grid, np.maximum(loss, floor), color="k", lw=1.5)
    ax.set_xlim(*A_RANGE)
    ax.set_ylim(floor, max(10 * float(np.max(loss)), 10 * floor))

    region = str(classify(a0, p.a_star, p.t))
    a1 = a0 - lr * grad0
    note = ""
    if not np.isfinite(a1):
        note, a1 = "; the step diverged", a0
    elif not A_RANGE[0] <= a1 <= A_RANGE[1]:
        note = f";\nthe step to a = {a1:.3g} leaves the plot"
        a1 = float(np.clip(a1, *A_RANGE))
    y0 = max(loss0, floor)
    ax.plot([a0], [y0], "o", color="C3", ms=7, zorder=3)
    if abs(a1 - a0) > 1e-3:
        ax.annotate("", xy=(a1, y0), xytext=(a0, y0), arrowprops={"arrowstyle": "->", "color": "C3", "lw": 2})
    ax.set_xlabel("parameter a (1/time)")
    ax.set_ylabel("Loss(a) (log scale)")
    # Plain (Unicode) text for slider-dependent labels: each new mathtext string would be parsed anew.
    ax.set_title(
        f"a₀ = {a0:.3g} ({region}): Loss = {loss0:.3g}, Loss′ = {grad0:.3g}, "
        f"σₖ² = {moment0:.3g}\narrow: GD step a₀ − η Loss′(a₀), η = {lr:g}{note}\n"
        f"t = {p.t:g}, a* = {p.a_star:g}, σ = {p.sigma:g}; grey plateau, yellow concave, "
        "red wall",
        fontsize="small",
    )
