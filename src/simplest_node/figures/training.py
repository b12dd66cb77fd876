"""Chapter 4 widget: one training run of GD, SGD, Adam or the variance-corrected rule, seen twice.

``training_figure(optimizer, lr, a0, t)`` trains from one initialization on the exact-flow problem
(a* = 1, sigma = 1 unless given) and draws, on a bare ``Figure`` with two panels,

* left: Loss(a_k) against the iteration k on a log scale, with the tolerance line;
* right: the path of the iterates a_0, a_1, ... on the loss landscape Loss(a) (log scale), start
  (square) and end (star) marked, the plateau edge a* + ln(0.1)/t and the optimum drawn as vertical lines.

A box on the figure states the outcome (``sweeps.iterations_to_tolerance``): the settling time (the
step from which the loss stays below the tolerance to the end of the run), or that the run overflowed
(with the step), ended on the plateau, or did not settle. ``draw_training(fig, ...)`` redraws in place;
with ``k_max`` it shows the run up to iteration k_max only (the scrubber's frames). It returns the ``Sweep`` of the run.
"""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, MaxNLocator

from .. import _checks
from ..linear import LinearProblem
from ..optimizers import optimizer as make_optimizer
from ..sweeps import Sweep, iterations_to_tolerance
from .axes import LOSS_FLOOR, fix_log_limits

__all__ = [
    "TRAINING_SLIDERS",
    "training_figure",
    "draw_training",
    "draw_iterations",
]

# The chapter's sliders: name -> (min, max, step, default); the optimizer is a dropdown over
# OPTIMIZER_NAMES["scalar"] (default "GD").
TRAINING_SLIDERS = {
    "lr": (0.005, 0.5, 0.005, 0.05),
    "a0": (-3.0, 3.0, 0.1, -2.0),
    "t": (0.25, 2.0, 0.25, 1.0),
}
TOL = 1e-8
_COLORS = {"converged": "C2", "plateau": "C1", "not converged": "C4", "diverged": "C3"}


def training_figure(
    optimizer="GD", lr=0.05, a0=-2.0, t=1.0, n_iter=300, a_star=1.0, sigma=1.0, batch_size=8, seed=0, k_max=None
):
    """Chapter 4 widget: loss curve and path of iterates of one run (see the module docstring)."""
    # The two panels stacked: at 6 in wide the text stays legible on a phone-width column.
    fig = Figure(figsize=(6.0, 6.2))
    fig.subplots(2, 1)
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.08, top=0.94, hspace=0.42)
    draw_training(fig, optimizer, lr, a0, t, n_iter, a_star, sigma, batch_size, seed, k_max)
    return fig


def _log_axis(ax, losses):
    """Fixed log limits (axes.fix_log_limits) with at most 5 labelled decades; few x ticks.

    Creating tick artists dominates a redraw, so both axes get only a handful.
    """
    # Positive limits and no autoscaling before the switch to log (a cleared axes would autoscale).
    ax.set_autoscaley_on(False)
    ax.set_ylim(LOSS_FLOOR, 1.0)
    fix_log_limits(ax, losses, LOSS_FLOOR)
    low, high = np.log10(ax.get_ylim())
    stride = next(d for d in (2, 4, 5, 10, 20, 25, 50, 100) if (high - low) / d <= 4)
    decades = np.arange(np.ceil(low / stride) * stride, high + 1e-9, stride)
    ax.yaxis.set_major_locator(FixedLocator(10.0**decades))
    ax.xaxis.set_major_locator(MaxNLocator(3))


def _outcome_text(sweep, name):
    outcome = sweep.outcome[0]
    if outcome == "converged":
        return f"{name}: loss < {sweep.tol:g} from step {sweep.iterations[0]} on"
    if outcome == "diverged":
        return f"{name}: diverged (overflow) at step {sweep.history.diverged_at[0]}"
    if outcome == "plateau":
        return f"{name}: stuck on the plateau (a = {sweep.final_a[0]:.3g} at the end)"
    return f"{name}: loss >= {sweep.tol:g} after {sweep.history.a.shape[0] - 1} steps"


def draw_training(
    fig, optimizer="GD", lr=0.05, a0=-2.0, t=1.0, n_iter=300, a_star=1.0, sigma=1.0, batch_size=8, seed=0, k_max=None
):
    """Redraw ``training_figure`` on ``fig`` (a Figure with two Axes); return the run's ``Sweep``.

    ``a0`` and ``a_star`` must lie in [-1e100, 1e100] (the window around them must be drawable).
    A run that overflows at step 0 (a0 far up the wall) is drawn as its start and flagged.
    """
    if not isinstance(fig, Figure) or len(fig.axes) < 2:
        raise TypeError(f"fig must be a matplotlib Figure with two Axes (training_figure's), got {type(fig).__name__}")
    lr = _checks.positive_finite("lr", lr)
    a0 = _checks.finite("a0", a0)
    for name, value in (("a0", a0), ("a_star", _checks.finite("a_star", a_star))):
        if abs(value) > 1e100:
            raise ValueError(f"{name} must lie in [-1e100, 1e100] to be drawn, got {value!r}")
    n_iter = _checks.positive_int("n_iter", n_iter)
    k_max = n_iter if k_max is None else _checks.positive_int("k_max", k_max, minimum=0)
    if k_max > n_iter:
        raise ValueError(f"k_max must lie in [0, n_iter = {n_iter}], got {k_max}")
    problem = LinearProblem(a_star=a_star, t=t, sigma=sigma)
    sweep = iterations_to_tolerance(
        problem, make_optimizer(optimizer, "scalar", lr, batch_size, seed), [a0], n_iter, TOL
    )
    h = sweep.history
    ax_loss, ax_path = fig.axes[:2]
    for ax in (ax_loss, ax_path):
        if ax.lines or ax.texts:  # a redraw (the scrubber); a new figure's axes are empty already
            ax.clear()
    # The last finite iterate (the start itself for a run whose first loss overflows).
    last = n_iter if not h.diverged[0] else max(h.diverged_at[0] - 1, 0)
    shown = min(k_max, last)
    loss = h.loss[:, 0]
    path = h.a[: last + 1, 0]
    color = _COLORS[sweep.outcome[0]]

    # Left: the loss curve, the whole run faint, up to k_max bold.
    k = np.arange(n_iter + 1)
    visible = np.where(np.isfinite(loss) & (loss > 0), loss, np.nan)
    _log_axis(ax_loss, [loss])
    if shown < last:  # the rest of the run, faint (scrubber frames)
        ax_loss.plot(k, visible, color=color, lw=1.0, alpha=0.35)
    ax_loss.plot(k[: shown + 1], visible[: shown + 1], color=color, lw=1.8)
    ax_loss.axhline(TOL, color="0.5", ls=":", lw=1.0)
    if h.diverged[0]:
        ax_loss.plot([last], [visible[last]], "x", color="C3", ms=9, mew=2)
    ax_loss.set_xlim(0, n_iter)
    ax_loss.set_xlabel("iteration k")
    ax_loss.set_ylabel("Loss(aₖ) (log scale)")
    # An explicit y skips matplotlib's title placement (a costly layout pass on each update).
    ax_loss.set_title(f"{optimizer}, η = {lr:g}: loss", fontsize="medium", y=1.01)
    ax_loss.text(
        0.99,
        0.98,
        _outcome_text(sweep, optimizer) + f"\ndotted: tolerance {TOL:g}",
        transform=ax_loss.transAxes,
        ha="right",
        va="top",
        fontsize="small",
        color=color,
        bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.8"},
    )

    # Right: the path on the landscape, over the range the run visits (and a* +- 1/t at least).
    edge = a_star + np.log(0.1) / problem.t
    low = min(float(np.min(path)), a_star - 1.5 / problem.t, edge - 0.5 / problem.t)
    high = max(float(np.max(path)), a_star + 1.0 / problem.t)
    pad = 0.05 * (high - low)
    # A fine grid, plus points close to a* so that the dip of the landscape shows.
    near = a_star + np.outer([-1.0, 1.0], np.geomspace(1e-8, 1e-1, 15)).ravel() / problem.t
    grid = np.sort(np.concatenate([np.linspace(low - pad, high + pad, 300), near]))
    grid = grid[(grid >= low - pad) & (grid <= high + pad)]
    landscape = problem.loss(grid)
    _log_axis(ax_path, [landscape[np.isfinite(landscape)], loss[: last + 1]])
    ax_path.plot(grid, np.where(landscape > 0, landscape, np.nan), color="0.35", lw=1.2, label="Loss(a)")
    ax_path.axvline(a_star, color="0.5", ls=":", lw=1.0)
    ax_path.axvline(edge, color="C1", ls="--", lw=1.0, label="plateau edge")
    pts = np.where(loss[: shown + 1] > 0, loss[: shown + 1], LOSS_FLOOR)
    pts = np.where(np.isfinite(pts), pts, np.nan)  # an overflowed start has no point on the axes
    ax_path.plot(path[: shown + 1], pts, color=color, lw=0.8, marker="o", ms=3, label="iterates")
    if np.isfinite(loss[0]):
        ax_path.plot([path[0]], [max(loss[0], LOSS_FLOOR)], "s", color="k", ms=7)  # the start a_0
    ax_path.plot([path[shown]], [pts[-1]], "*", color=color, ms=12, mec="k")
    ax_path.set_xlim(grid[0], grid[-1])
    ax_path.set_xlabel("parameter a (1/time)")
    ax_path.set_ylabel("Loss(a) (log scale)")
    upto = "" if k_max == n_iter else f" up to k = {k_max}"
    ax_path.set_title(
        f"path of the iterates{upto}, a₀ = {a0:g}, t = {problem.t:g}, a* = {a_star:g}", fontsize="medium", y=1.01
    )
    ax_path.legend(loc="lower right", fontsize="small")
    return sweep


def draw_iterations(ax, sweeps, n_iter=None, first_hits=()):
    """Settling times against a0, one line per ``Sweep`` in the dict ``sweeps``.

    The settling time is ``Sweep.iterations``: the first iteration from which the loss stays below
    the tolerance to the end of the run. Runs that did not settle are drawn above the top of the
    converged points, at the iteration budget ``n_iter`` (default: the longest history), with a
    marker per outcome: v for "plateau", x for "diverged", + for "not converged". For the sweeps
    named in ``first_hits``, the first hits (``History.first_below``) that come before the
    settling time are drawn as open circles joined to it by a thin line: the loss dipped below the
    tolerance there and climbed back. The y axis is logarithmic.
    """
    _checks.axes("ax", ax)
    if not isinstance(sweeps, dict) or not all(isinstance(s, Sweep) for s in sweeps.values()):
        raise TypeError(f"sweeps must be a dict of label -> Sweep, got {type(sweeps).__name__}")
    if not sweeps:
        raise ValueError("sweeps must hold at least one Sweep")
    if isinstance(first_hits, (str, bytes)) or not hasattr(first_hits, "__iter__"):
        raise TypeError(f"first_hits must be a collection of sweep labels, got {type(first_hits).__name__}")
    budget = max(s.history.a.shape[0] - 1 for s in sweeps.values()) if n_iter is None else n_iter
    budget = _checks.positive_int("n_iter", budget)
    unknown = sorted(set(first_hits) - set(sweeps))
    if unknown:
        raise ValueError(f"first_hits names sweeps that are not in sweeps: {unknown}")
    markers = {"plateau": "v", "diverged": "x", "not converged": "+"}
    for j, (label, sweep) in enumerate(sweeps.items()):
        color = f"C{j}"
        ok = sweep.outcome == "converged"
        ax.plot(sweep.a0[ok], np.maximum(sweep.iterations[ok], 0.8), "o-", color=color, ms=3.5, lw=1.2, label=label)
        if label in first_hits:
            hit = sweep.history.first_below(sweep.tol)
            settle = np.where(ok, sweep.iterations, budget * 1.5 ** (j + 1))
            early = (hit >= 0) & (hit < settle)
            if early.any():
                x, low, high = sweep.a0[early], np.maximum(hit[early], 0.8), settle[early]
                ax.vlines(x, low, high, color=color, lw=0.6, alpha=0.6)
                ax.plot(
                    x,
                    low,
                    "o",
                    mfc="none",
                    color=color,
                    ms=4.5,
                    mew=1.0,
                    ls="none",
                    label=f"{label}: first hit, then back above",
                )
        for outcome, marker in markers.items():
            hit = sweep.outcome == outcome
            if hit.any():
                ax.plot(
                    sweep.a0[hit],
                    np.full(hit.sum(), budget * 1.5 ** (j + 1)),
                    marker,
                    color=color,
                    ms=8,
                    mew=2,
                    ls="none",
                    label=f"{label}: {outcome}",
                )
    ax.axhline(budget, color="0.6", ls=":", lw=1.0)
    ax.set_yscale("log")
    ax.set_xlabel("initialization a0 (1/time)")
    ax.set_ylabel(f"settling time: loss < {next(iter(sweeps.values())).tol:g} from then on")
