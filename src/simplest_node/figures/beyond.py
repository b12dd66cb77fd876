"""Chapter 6 figures: training dx/dt = A x in d dimensions, on a log scale.

``beyond_figure(d, optimizer, lr, coupling, seed)`` is the chapter's widget: the loss against the
iteration for ``N_RUNS`` random initializations A0 (iid N(0, 1/d) entries, seeded), trained by one
optimizer towards the non-normal target A* = -I/2 + coupling Z (Z: ones on the superdiagonal; the
coupling 0 gives the normal A* = -I/2). Every run is trained for all ``n_iter`` iterations (no
freezing at a first hit), and a box reports how many runs settle below Loss 1e-10 (stay below it to
the last iteration), their median settling time, and divergences (a run whose loss overflows is
drawn up to its last finite value and ended with an x). A pure function of the slider values;
``beyond_history`` returns the training history behind it without drawing.
"""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, MaxNLocator

from .. import _checks
from ..matrix import MatrixProblem, jordan_matrix, random_matrices, train_matrix
from ..optimizers import OPTIMIZER_NAMES
from ..optimizers import optimizer as make_optimizer
from .axes import fix_log_limits, note_box

__all__ = ["BEYOND_SLIDERS", "beyond_history", "beyond_figure", "draw_beyond"]

# The chapter's sliders: name -> (min, max, step, default); d and seed are integers.
BEYOND_SLIDERS = {
    "d": (2, 5, 1, 3),
    "lr": (0.05, 1.0, 0.05, 0.5),
    "coupling": (0.0, 3.0, 0.25, 1.0),
    "seed": (0, 9, 1, 0),
}
N_RUNS = 6
TOL = 1e-10


def beyond_history(d=3, optimizer="covariance + line search", lr=0.5, coupling=1.0, seed=0, n_iter=30):
    """The widget's runs without a figure: a ``MatrixHistory`` of N_RUNS random A0 (seeded), trained
    for ``n_iter`` iterations towards A* = -I/2 + coupling Z with ``tol=None``, so that
    ``converged_at(TOL)`` is the settling time of each run."""
    d = _checks.positive_int("d", d, minimum=1)
    _checks.choice("optimizer", optimizer, OPTIMIZER_NAMES["matrix"])
    lr = _checks.positive_finite("lr", lr)
    coupling = _checks.finite("coupling", coupling)
    seed = _checks.seed("seed", seed)
    n_iter = _checks.positive_int("n_iter", n_iter)
    problem = MatrixProblem(jordan_matrix(d, -0.5, coupling), t=1.0)
    return train_matrix(problem, make_optimizer(optimizer, "matrix", lr), random_matrices(N_RUNS, d, seed=seed), n_iter)


def beyond_figure(d=3, optimizer="covariance + line search", lr=0.5, coupling=1.0, seed=0, n_iter=30):
    """Chapter 6 widget: Loss(A_k) against k for N_RUNS random A0, one optimizer."""
    fig = Figure(figsize=(6.0, 4.2))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.12, top=0.86)
    draw_beyond(ax, d, optimizer, lr, coupling, seed, n_iter)
    return fig


def draw_beyond(ax, d=3, optimizer="covariance + line search", lr=0.5, coupling=1.0, seed=0, n_iter=30):
    """Draw ``beyond_figure`` on ``ax``; return the ``MatrixHistory`` behind the curves (``beyond_history``)."""
    _checks.axes("ax", ax)
    history = beyond_history(d, optimizer, lr, coupling, seed, n_iter)
    n_iter = history.loss.shape[0] - 1
    fix_log_limits(ax, [history.loss])
    # At most 6 labelled decades (each tick label is text to lay out on every update).
    low, high = np.log10(ax.get_ylim())
    stride = next(d for d in (4, 5, 10, 20, 25, 50, 100) if (high - low) / d <= 6)
    ax.yaxis.set_major_locator(FixedLocator(10.0 ** np.arange(np.ceil(low / stride) * stride, high + 1e-9, stride)))
    k = np.arange(n_iter + 1)
    shown = np.where(np.isfinite(history.loss) & (history.loss > 0), history.loss, np.nan)
    ax.plot(k, shown, lw=1.2)  # one call for all runs: colours C0, C1, ...
    ends = [(j, history.diverged_at[j] - 1) for j in range(N_RUNS) if history.diverged_at[j] > 0]
    if ends:
        ax.scatter(
            [last for _, last in ends],
            [shown[last, j] for j, last in ends],
            marker="x",
            c=[f"C{j}" for j, _ in ends],
            zorder=3,
        )
    ax.axhline(TOL, color="0.5", ls=":", lw=1)
    reached = history.converged_at(TOL)
    ok = reached[reached >= 0]
    notes = [
        f"{ok.size} of {N_RUNS} runs settle below loss 1e-10"
        + (f" (median {np.median(ok):.0f} iterations)" if ok.size else ""),
        f"diverged (overflow): {int(history.diverged.sum())}",
    ]
    note_box(ax, "\n".join(notes))
    ax.set_xlim(0, n_iter)
    ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))  # few tick labels: faster updates
    ax.set_xlabel("iteration k")
    ax.set_ylabel("Loss(Aₖ) (log scale)")
    ax.set_title(f"{optimizer}, η = {lr:g}\nd = {d}, A* = −I/2 + {coupling:g} Z, seed {seed}", fontsize="medium")
    return history
