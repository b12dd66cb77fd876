"""Chapter 5 figures: the variance-corrected rule, plain and safeguarded, on a log scale.

``variance_corrected_figure(lr, a0, t, safeguard)`` is the chapter's widget: the loss against the
iteration for the plain rule and for a safeguarded one (``VarianceCorrectedLineSearch`` or
``VarianceCorrectedClipped``) from one initialization, with the gradient-flow prediction
Loss(a0) e^{-2 lr k} for reference. It is a pure function of the slider values; a run whose loss
overflows is drawn up to its last finite value and flagged on the figure; the box gives each run's
peak loss and its settling time (the first step from which the loss stays below ``TOL`` = 1e-8). ``draw_loss_curves``
draws a whole batch of training runs, coloured by a0, for the chapter's comparison figures.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import _checks
from ..batch_training import BatchHistory
from ..linear import LinearProblem
from ..optimizers import VarianceCorrected
from ..safeguards import VarianceCorrectedClipped, VarianceCorrectedLineSearch
from ..training import train
from .axes import LOSS_FLOOR, fix_log_limits, note_box

__all__ = [
    "VARIANCE_SLIDERS",
    "SAFEGUARDS",
    "variance_corrected_figure",
    "draw_variance_corrected",
    "draw_loss_curves",
]

# The chapter's sliders: name -> (min, max, step, default); options list for dropdowns.
VARIANCE_SLIDERS = {
    "lr": (0.05, 1.0, 0.05, 0.5),
    "a0": (-10.0, 10.0, 0.5, -5.0),
    "t": (0.25, 3.0, 0.25, 1.0),
}
SAFEGUARDS = ["line search", "clipping"]

# The widget's axis ends at most here: an overshoot to 1e170 would squeeze the runs that matter into
# the bottom decades. A loss above it leaves the top of the plot; the box reports its peak.
VIEW_CEILING = 1e24
TOL = 1e-8  # the box reports each run's settling time for Loss < TOL (the book's tolerance, chapters 4 and 5)


def _safeguarded(safeguard, lr):
    _checks.choice("safeguard", safeguard, SAFEGUARDS)
    if safeguard == "line search":
        return VarianceCorrectedLineSearch(lr)
    return VarianceCorrectedClipped(lr, max_step=1.0)


def variance_corrected_figure(lr=0.5, a0=-5.0, t=1.0, safeguard="line search", n_iter=60, a_star=1.0):
    """Chapter 5 widget: Loss(a_k) against k, plain vs safeguarded variance-corrected rule."""
    # A bare Figure with fixed margins (see the README): Jupyter displays it, and an update skips
    # pyplot's figure manager and constrained layout.
    fig = Figure(figsize=(6.0, 4.2))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.12, top=0.91)
    draw_variance_corrected(ax, lr, a0, t, safeguard, n_iter, a_star)
    return fig


def draw_variance_corrected(ax, lr=0.5, a0=-5.0, t=1.0, safeguard="line search", n_iter=60, a_star=1.0):
    """Draw ``variance_corrected_figure`` on the Axes ``ax``; return the two training histories.

    Returns ``{"plain": History, "safeguarded": History}`` (one entry each) so callers can read the
    numbers behind the curves.
    """
    _checks.axes("ax", ax)
    lr = _checks.positive_finite("lr", lr)
    a0 = _checks.finite("a0", a0)
    n_iter = _checks.positive_int("n_iter", n_iter)
    problem = LinearProblem(a_star=a_star, t=t)
    runs = {
        "plain": train(problem, VarianceCorrected(lr), [a0], n_iter),
        "safeguarded": train(problem, _safeguarded(safeguard, lr), [a0], n_iter),
    }
    k = np.arange(n_iter + 1)
    loss0 = float(runs["plain"].loss[0, 0])
    fix_log_limits(ax, [loss0] + [h.loss for h in runs.values()], ceiling=VIEW_CEILING)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        flow = loss0 * np.exp(-2.0 * lr * k)
    ax.plot(k, np.where(flow > 0, flow, np.nan), color="0.6", ls=":", lw=1.5, label="gradient flow: Loss(a₀) exp(−2ηk)")
    styles = {"plain": ("C3", "--", "plain rule"), "safeguarded": ("C0", "-", f"with {safeguard}")}
    notes = []
    for name, history in runs.items():
        color, ls, label = styles[name]
        loss = history.loss[:, 0]
        shown = np.where(np.isfinite(loss) & (loss > 0), loss, np.nan)
        ax.plot(k, shown, color=color, ls=ls, lw=1.8, label=label, marker=".", ms=3)
        if history.diverged[0]:
            notes.append(f"{label}: diverged (overflow) at step {history.diverged_at[0]}")
        else:
            reached = history.converged_at(TOL)[0]  # the settling time: below TOL from there on
            peak = np.max(loss)  # finite: the run did not diverge
            notes.append(
                f"{label}: peak loss {peak:.3g}{' (off the top)' if peak > VIEW_CEILING else ''}, "
                + (f"loss < {TOL:g} from step {reached}" if reached >= 0 else f"not settled below {TOL:g}")
            )
    ax.set_xlim(0, n_iter)
    note_box(ax, "\n".join(notes))
    ax.set_xlabel("iteration k")  # plain text throughout: no mathtext to lay out on each update
    ax.set_ylabel("Loss(aₖ) (log scale)")
    # Plain (Unicode) text for labels that change with the sliders: mathtext is parsed anew each time.
    ax.set_title(f"Variance-corrected rule: η = {lr:g}, a₀ = {a0:g}, t = {problem.t:g}, a* = {a_star:g}")
    ax.legend(loc="center right", fontsize="small")
    return runs


def draw_loss_curves(ax, history, a0, title, cmap="viridis", floor=LOSS_FLOOR):
    """Draw Loss(a_k) against k on a log scale for every run in ``history``, coloured by ``a0``.

    Entries that diverged are drawn up to their last finite loss and ended with an x. Returns the
    ScalarMappable of the colouring, for a colour bar.
    """
    _checks.axes("ax", ax)
    _checks.instance("history", history, BatchHistory, "a training History (train's)")
    floor = _checks.positive_finite("floor", floor)
    _checks.instance("title", title, str, "a string")
    a0 = _checks.finite_array("a0", a0)
    if a0.ndim != 1 or a0.size != history.loss.shape[1]:
        raise ValueError(f"a0 must be a 1-D array with one entry per run ({history.loss.shape[1]})")
    norm = plt.Normalize(a0.min(), a0.max() if a0.max() > a0.min() else a0.min() + 1.0)
    colormap = plt.get_cmap(cmap)
    k = np.arange(history.loss.shape[0])
    fix_log_limits(ax, [history.loss], floor)
    for j in range(a0.size):
        loss = history.loss[:, j]
        shown = np.where(np.isfinite(loss) & (loss > 0), loss, np.nan)
        ax.plot(k, shown, color=colormap(norm(a0[j])), lw=1.0)
        if history.diverged[j] and history.diverged_at[j] > 0:
            last = history.diverged_at[j] - 1
            ax.plot([last], [shown[last]], "x", color=colormap(norm(a0[j])))
    ax.set_xlabel("iteration $k$")
    ax.set_ylabel(r"$\mathrm{Loss}(a_k)$ (log scale)")
    ax.set_title(title)
    return plt.cm.ScalarMappable(norm=norm, cmap=colormap)
