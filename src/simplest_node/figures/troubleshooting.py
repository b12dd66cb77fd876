"""Chapter 10 widget: the same data in another time unit, trained with the same learning rate.

``time_rescaling_figure(c, lr, a0)`` trains plain gradient descent from a0 on the linear problem
(a* = 1, t = 1) and on the same data measured in a time unit 1/c as long (t -> c t, a* -> a*/c,
a0 -> a0/c), both with learning rate ``lr``. The losses are the same function of the physical rate, yet
the gradient in the new unit is c times larger, so the second run is gradient descent with rate
lr c^2. The figure draws both losses against the iteration on a log scale and flags a run whose loss
overflows.
"""

import numpy as np
from matplotlib.figure import Figure

from .. import _checks
from ..troubleshooting import time_rescaling_runs
from .axes import fix_log_limits, note_box

__all__ = ["RESCALING_SLIDERS", "time_rescaling_figure", "draw_time_rescaling"]

# name -> (min, max, step, default)
RESCALING_SLIDERS = {
    "c": (0.25, 4.0, 0.25, 2.0),
    "lr": (0.01, 0.5, 0.01, 0.1),
    "a0": (-3.0, 3.0, 0.25, -1.0),
}


def time_rescaling_figure(c=2.0, lr=0.1, a0=-1.0, n_iter=100):
    """Chapter 10 widget: Loss against iteration for gradient descent in two time units (see module)."""
    fig = Figure(figsize=(6.0, 4.2))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.12, top=0.86)
    draw_time_rescaling(ax, c, lr, a0, n_iter)
    return fig


def draw_time_rescaling(ax, c=2.0, lr=0.1, a0=-1.0, n_iter=100):
    """Draw ``time_rescaling_figure`` on ``ax``; return the two Histories (original, rescaled)."""
    _checks.axes("ax", ax)
    c = _checks.positive_finite("c", c)
    lr = _checks.positive_finite("lr", lr)
    a0 = _checks.finite("a0", a0)
    n_iter = _checks.positive_int("n_iter", n_iter)
    runs = time_rescaling_runs(c, lr, a0, n_iter)
    k = np.arange(n_iter + 1)
    fix_log_limits(ax, [h.loss for h in runs])
    notes = []
    styles = [("C0", "-", "time unit 1 (t = 1)"), ("C3", "--", f"time unit 1/{c:g} (t = {c:g})")]
    for history, (color, ls, label) in zip(runs, styles):
        loss = history.loss[:, 0]
        shown = np.where(np.isfinite(loss) & (loss > 0), loss, np.nan)
        ax.plot(k, shown, color=color, ls=ls, lw=1.8, marker=".", ms=3, label=label)
        if history.diverged[0]:
            notes.append(f"{label}: diverged (overflow) at step {history.diverged_at[0]}")
        else:
            reached = history.converged_at(1e-10)[0]
            notes.append(
                f"{label}: "
                + (f"loss settles below 1e-10 at step {reached}" if reached >= 0 else f"final loss {loss[-1]:.3g}")
            )
    ax.set_xlim(0, n_iter)
    note_box(ax, "\n".join(notes))
    ax.set_xlabel("iteration k")
    ax.set_ylabel("Loss (log scale)")
    ax.set_title(f"Same data, same η = {lr:g}: effective rate ηc² = {lr * c * c:.3g}\n(a₀ = {a0:g}, a* = 1)")
    ax.legend(loc="lower left", fontsize="small")
    return runs
