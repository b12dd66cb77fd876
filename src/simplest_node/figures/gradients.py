"""Chapter 3 figures: gradient errors against n_steps, the cost of backprop vs adjoint, and the
widget comparing the three gradients over a.

Pure functions of their arguments returning bare matplotlib Figures, 6 in wide with multi-panel
figures stacked, so that their text stays legible on a phone-width column.
"""

import numpy as np
from matplotlib.figure import Figure

from .. import _checks
from ..gradients import (
    CostTable,
    ErrorTable,
    adjoint_gradient,
    backprop_gradient,
    closed_form_gradient,
    discrete_optimum,
)
from ..linear import LinearProblem
from ..runge_kutta import BUTCHER_TABLEAUX, RK_METHODS
from ..solvers import ORDERS
from .axes import few_ticks, set_title

__all__ = [
    "GRADIENT_SLIDERS",
    "gradient_error_figure",
    "gradient_cost_figure",
    "gradients_figure",
    "draw_gradients",
]

# The chapter's sliders: name -> (min, max, step, default), or a list of options for dropdowns.
GRADIENT_SLIDERS = {
    "method": list(RK_METHODS),
    "n_steps": (1, 32, 1, 4),
    "t": (0.2, 3.0, 0.1, 1.0),
}


def gradient_error_figure(table):
    """Relative gradient error against n_steps (log-log): backprop solid, adjoint dashed, one colour per
    method, and a dotted guide n^-p for each distinct order p."""
    if not isinstance(table, ErrorTable):
        raise TypeError(f"table must be an ErrorTable, got {type(table).__name__}")
    fig = Figure(figsize=(6.0, 4.8), layout="constrained")
    ax = fig.add_subplot()
    n = table.n_steps
    guided = set()
    for k, m in enumerate(table.methods):
        ax.loglog(n, table.backprop[m], "o-", color=f"C{k}", label=m)
        ax.loglog(n, table.adjoint[m], "s--", color=f"C{k}")
        order = ORDERS[m]
        if order in guided:  # methods of one order share a guide
            continue
        guided.add(order)
        guide = table.backprop[m][0] * (n / n[0]) ** (-order)
        ax.loglog(n, guide / 3, ":", color="0.4", lw=1)
        ax.text(n[-1] * 1.08, guide[-1] / 3, f"$n^{{-{order}}}$", color="0.3", va="center")
    ax.plot([], [], "k-", label="backprop (solid)")
    ax.plot([], [], "k--", label="adjoint (dashed)")
    ax.set_xlim(n[0] / 1.3, n[-1] * 1.6)
    ax.set_xlabel("solver steps $n$ over $[0, t]$")
    ax.set_ylabel("relative error of the gradient")
    ax.set_title(f"Gradient error at $a = {table.a:g}$\nagainst the closed form")
    ax.legend(fontsize="small", ncol=2, loc="lower left")
    return fig


def gradient_cost_figure(cost):
    """Memory (floats kept, traced peak bytes) and wall time of backprop vs adjoint against n_steps."""
    if not isinstance(cost, CostTable):
        raise TypeError(f"cost must be a CostTable, got {type(cost).__name__}")
    fig = Figure(figsize=(6.0, 7.6), layout="constrained")
    ax_mem, ax_time = fig.subplots(2, 1)
    n = cost.n_steps
    ax_mem.loglog(n, 8 * cost.backprop_floats, "o-", color="C3", label="backprop: stored floats x 8 B")
    ax_mem.loglog(n, cost.backprop_peak_bytes, "o:", color="C3", label="backprop: traced peak")
    ax_mem.loglog(n, 8 * cost.adjoint_floats, "s-", color="C0", label="adjoint: carried floats x 8 B")
    ax_mem.loglog(n, cost.adjoint_peak_bytes, "s:", color="C0", label="adjoint: traced peak")
    ax_mem.set_xlabel("solver steps $n$")
    ax_mem.set_ylabel("memory (bytes)")
    ax_mem.set_title(f"Memory, {cost.method}, batch of {cost.batch} initial states")
    ax_mem.legend(fontsize="small")
    ax_time.loglog(n, 1e3 * cost.backprop_seconds, "o-", color="C3", label="backprop")
    ax_time.loglog(n, 1e3 * cost.adjoint_seconds, "s-", color="C0", label="adjoint")
    ax_time.set_xlabel("solver steps $n$")
    ax_time.set_ylabel("wall time per gradient (ms)")
    ax_time.set_title("Time (this machine, median of repeats)")
    ax_time.legend(fontsize="small")
    return fig


def gradients_figure(method="euler", n_steps=4, t=1.0, a_star=1.0, sigma=1.0):
    """Chapter 3 widget: the exact and the discrete loss, and the three gradients, over a.

    Top: Loss(a) of the exact flow and of the solver (``method``, ``n_steps``) with a* and the
    solver's optimum a_h marked. Bottom: the closed-form, backprop and adjoint gradients.
    """
    fig = Figure(figsize=(6.0, 6.8))
    axes = fig.subplots(2, 1)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.08, top=0.91, hspace=0.55)
    draw_gradients(axes, method, n_steps, t, a_star, sigma)
    return fig


def draw_gradients(axes, method="euler", n_steps=4, t=1.0, a_star=1.0, sigma=1.0):
    """Draw the two panels of ``gradients_figure`` on the pair of Axes ``axes``."""
    _checks.axes("axes", axes, 2)
    _checks.choice("method", method, BUTCHER_TABLEAUX)
    exact = LinearProblem(a_star=a_star, t=t, sigma=sigma)
    discrete = LinearProblem(a_star=a_star, t=t, sigma=sigma, method=method, n_steps=n_steps)
    ax_loss, ax_grad = axes
    a_star, t = exact.a_star, exact.t
    # The window scales like 1/t, as the landscape does.
    grid = np.linspace(a_star - 3.0 / t, a_star + 1.0 / t, 121)
    with np.errstate(over="ignore", invalid="ignore"):
        ax_loss.plot(grid, exact.loss(grid), color="k", label="exact flow")
        ax_loss.plot(grid, discrete.loss(grid), color="C3", ls="--", label=f"{method}, n = {n_steps}")
        g_exact = closed_form_gradient(exact, grid)
        g_back = backprop_gradient(exact, grid, method, n_steps)
        g_adj = adjoint_gradient(exact, grid, method, n_steps)
    try:
        a_h = float(discrete_optimum(a_star, t, method, n_steps))
        note = f"aₕ = {a_h:.4g}, aₕ − a* = {a_h - a_star:.3g}"
    except ValueError:
        a_h, note = np.nan, "no solver optimum near a* (step too large)"
    ax_loss.axvline(a_star, color="k", ls=":", lw=1)
    if np.isfinite(a_h):
        ax_loss.axvline(a_h, color="C3", ls=":", lw=1)
    with np.errstate(over="ignore", invalid="ignore"):
        top = 1.3 * float(np.max(np.where(np.isfinite(discrete.loss(grid)), discrete.loss(grid), 0)))
    top = top if top > 0 else 1.0
    ax_loss.set_ylim(-0.05 * top, top)
    ax_loss.set_xlabel("parameter a (1/time)")
    ax_loss.set_ylabel("Loss(a)")
    # Titles at a fixed height: automatic placement re-measures every tick label (see axes).
    set_title(ax_loss, f"exact vs {method} loss, t = {t:g}\n{note}", fontsize=10)
    ax_loss.legend(fontsize="small", loc="upper left")

    ax_grad.plot(grid, g_exact, color="k", label="closed form")
    ax_grad.plot(grid, g_back, color="C3", ls="--", label="backprop (discrete)")
    ax_grad.plot(grid, g_adj, color="C0", ls="-.", label="adjoint")
    ax_grad.axhline(0.0, color="0.5", lw=0.8)
    finite = np.concatenate([g[np.isfinite(g)] for g in (g_back, g_adj)])
    gtop = float(np.max(np.abs(finite))) if finite.size and np.max(np.abs(finite)) > 0 else 1.0
    ax_grad.set_ylim(-1.1 * gtop, 1.1 * gtop)
    ax_grad.set_xlabel("parameter a (1/time)")
    ax_grad.set_ylabel("Loss′(a)")
    set_title(ax_grad, f"three gradients, {method}, n = {n_steps}", fontsize=10)
    ax_grad.legend(fontsize="small", loc="upper left")
    for ax in axes:  # few ticks: each tick label is a text layout on every redraw
        few_ticks(ax)
