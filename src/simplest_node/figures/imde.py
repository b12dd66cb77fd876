"""Chapter 7 widget: what a linear Neural ODE trained through a solver learns.

``imde_figure(method, n_sub, a_star)`` trains the rate a of dx/dt = a x on exact data
x(T) = e^{a* T} x0 (T = 1) with ``n_sub`` steps of ``method`` (h = T / n_sub) and draws

* top: the learned rate against the step h: the exact IMDE curve a_h = ``linear_rate(a*, h)``
  (where a real rate exists), its series truncated at order 3, the true a*, and the trained value
  at the chosen h;
* bottom: the trajectories on [0, T]: the truth e^{a* t}, the solver path of the learned model
  (which hits the truth at every grid point t_k = k h) and the exact flow e^{a t} of the learned
  field (which does not).

A pure function of the slider values; when no real rate exists the trained value is the minimizer of
the loss (a stationary point, loss > 0) and the figure says so.
"""

import numpy as np
from matplotlib.figure import Figure

from .. import _checks
from ..imde import fit_linear_rate, linear_imde_coefficients, linear_rate, rk4_minimum
from ..runge_kutta import STABILITY_POLYNOMIALS, polyval
from .axes import few_ticks

__all__ = ["IMDE_SLIDERS", "IMDE_METHODS", "imde_figure", "draw_imde"]

# The chapter's sliders: name -> (min, max, step, default); the method is a dropdown.
IMDE_SLIDERS = {
    "n_sub": (1, 16, 1, 2),
    "a_star": (-3.0, 2.0, 0.1, -1.0),
}
IMDE_METHODS = ("euler", "midpoint", "heun", "rk4")  # the methods chapter 7 compares
T_DATA = 1.0
_H_GRID = np.linspace(T_DATA / 40, T_DATA, 120)  # the curve's h values (the sliders reach h = 1/16)
_RK4_MIN = rk4_minimum()[1]
MAX_RATE = 50.0  # the figure's largest |a*| (e^{a* T} and its square stay far from overflow)
MAX_SUB = 10_000  # the figure's largest n_sub (the solver path draws n_sub + 1 points)


def imde_figure(method="euler", n_sub=2, a_star=-1.0):
    """Chapter 7 widget (a bare Figure with two axes); see the module docstring."""
    fig = Figure(figsize=(6.0, 6.0))
    axes = fig.subplots(2, 1)
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.08, top=0.94, hspace=0.42)
    draw_imde(axes, method, n_sub, a_star)
    return fig


def _title(ax, text):
    """A title as plain axes text: Axes.set_title re-measures the tick labels on every draw."""
    ax.text(0.5, 1.02, text, transform=ax.transAxes, ha="center", va="bottom")


def _rate_curve(a_star, method):
    """linear_rate on the h grid, nan where no real rate exists."""
    with np.errstate(over="ignore"):
        goal = np.exp(a_star * _H_GRID)
    if method == "euler":
        ok = np.ones(_H_GRID.size, bool)
    elif method == "rk4":
        ok = goal >= _RK4_MIN
    else:
        ok = a_star * _H_GRID >= -np.log(2.0)
    out = np.full(_H_GRID.size, np.nan)
    if ok.any():
        out[ok] = linear_rate(a_star, _H_GRID[ok], method)
    return out


def draw_imde(axes, method="euler", n_sub=2, a_star=-1.0):
    """Draw ``imde_figure`` on two Axes; return a dict of the numbers behind it.

    Keys: ``h``, ``learned`` (trained rate), ``imde`` (``linear_rate``, None when no real rate
    exists), ``exists`` (bool), ``loss`` (the trained loss per unit second moment). ``axes`` is a
    pair of matplotlib Axes; ``n_sub`` is at most ``MAX_SUB`` and |a_star| at most ``MAX_RATE``.
    """
    _checks.axes("axes", axes, count=2)
    _checks.choice("method", method, IMDE_METHODS)
    n_sub = _checks.positive_int("n_sub", n_sub, maximum=MAX_SUB)
    a_star = _checks.finite("a_star", a_star)
    if abs(a_star) > MAX_RATE:
        raise ValueError(f"a_star must lie in [-{MAX_RATE:g}, {MAX_RATE:g}] for this figure, got {a_star!r}")
    ax_rate, ax_path = axes
    h = T_DATA / n_sub
    learned = fit_linear_rate(a_star, T_DATA, method, n_sub)
    coeffs = STABILITY_POLYNOMIALS[method]
    R = float(polyval(coeffs, np.float64(learned * h)))
    loss = 0.5 * (R**n_sub - np.exp(a_star * T_DATA)) ** 2
    try:
        imde = linear_rate(a_star, h, method)
        exists = True
    except ValueError:
        imde, exists = None, False

    # left: rate against h
    curve = _rate_curve(a_star, method)
    series = 1.0 + sum(c * (a_star * _H_GRID) ** (k + 1) for k, c in enumerate(linear_imde_coefficients(method)))
    ax_rate.axhline(a_star, color="#4d4d4d", lw=1.2, label="a*")
    ax_rate.plot(_H_GRID, curve, color="#1f77b4", lw=2, label="IMDE a_h")
    ax_rate.plot(_H_GRID, a_star * series, color="#2ca02c", ls="--", lw=1.2, label="IMDE to h^3")
    ax_rate.plot([h], [learned], "o", color="#d62728", ms=8, label="trained a", zorder=3)
    finite = np.concatenate([curve[np.isfinite(curve)], [a_star, learned]])
    low, high = finite.min(), finite.max()
    pad = 0.1 * (high - low) + 0.05
    ax_rate.set_ylim(low - pad, high + pad)
    ax_rate.set_xlim(0, T_DATA * 1.02)
    ax_rate.set_xlabel(f"step h = T/S, T = {T_DATA:g} (time units)")
    ax_rate.set_ylabel("rate (1/time unit)")
    _title(ax_rate, f"{method}, a* = {a_star:g}, S = {n_sub}: rate vs h")
    ax_rate.legend(loc="best", fontsize="small")

    # right: trajectories on [0, T]
    t = np.linspace(0.0, T_DATA, 81)
    grid = np.arange(n_sub + 1) * h
    with np.errstate(over="ignore", invalid="ignore"):
        solver_path = R ** np.arange(n_sub + 1)
        ax_path.plot(t, np.exp(a_star * t), color="#4d4d4d", lw=2, label="truth")
        ax_path.plot(t, np.exp(learned * t), color="#ff7f0e", ls="--", lw=1.5, label="flow of learned a")
    ax_path.plot(grid, solver_path, "o-", color="#d62728", ms=4, lw=1, label="solver, learned a")
    ax_path.set_xlabel("time t (time units)")
    ax_path.set_ylabel("x(t), x0 = 1")
    ax_path.set_xlim(-0.02 * T_DATA, 1.02 * T_DATA)
    ax_path.legend(loc="upper right", fontsize="small")
    for ax in axes:  # few ticks: each tick label is laid out on every redraw
        few_ticks(ax, 3)
    if exists:
        note = f"trained a = a_h = {imde:.5f}" if abs(learned - imde) < 5e-6 else f"a = {learned:.5f}, a_h = {imde:.5f}"
    else:
        note = f"no real a_h: a = {learned:.3f}, loss {loss:.1g}"
    # the numbers go into the title: one text object fewer to lay out on every redraw
    _title(ax_path, note)
    return {"h": h, "learned": learned, "imde": imde, "exists": exists, "loss": loss}
