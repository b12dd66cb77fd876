"""Chapter 1 figures: the model against the data, and its loss; a learned MLP field.

Each is a pure function of its arguments that returns a matplotlib Figure, so the widgets in the
chapters only wire sliders to it and the tests can call it without a kernel or a browser.
"""

import numpy as np
from matplotlib.figure import Figure

from .. import _checks
from ..linear import LinearProblem
from ..solvers import _integrate
from .axes import few_ticks, set_title

__all__ = ["SIMPLEST_MODEL_SLIDERS", "simplest_model_figure", "draw_simplest_model", "mlp_field_figure"]

# The chapter's sliders: name -> (min, max, step, default). Tests draw random settings from these.
SIMPLEST_MODEL_SLIDERS = {
    "a0": (-3.0, 3.0, 0.1, 0.0),
    "t": (0.1, 3.0, 0.1, 1.0),
    "sigma": (0.1, 3.0, 0.1, 1.0),
}


def simplest_model_figure(a0=0.0, t=1.0, sigma=1.0, a_star=1.0, n_paths=5, seed=0):
    """Chapter 1: trajectories of the model x' = a0 x against the data, and Loss(a) with a0 marked.

    Top: ``n_paths`` initial states x0 ~ N(0, sigma^2) (seeded) flowed by the true rate a* and by
    the model's rate a0 up to the sampling time t. Bottom: the expected loss over a in [-3, 3] with
    the current a0 marked; the title reports Loss(a0).
    """
    # A bare Figure (not pyplot's) and fixed margins: pyplot's figure manager and constrained
    # layout would each cost more than the drawing itself. Jupyter displays a Figure directly.
    # The two panels stacked: at 6 in wide the text stays legible on a phone-width column.
    fig = Figure(figsize=(6.0, 6.4))
    axes = fig.subplots(2, 1)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.08, top=0.94, hspace=0.42)
    draw_simplest_model(axes, a0, t, sigma, a_star, n_paths, seed)
    return fig


def draw_simplest_model(axes, a0=0.0, t=1.0, sigma=1.0, a_star=1.0, n_paths=5, seed=0):
    """Draw the two panels of ``simplest_model_figure`` on the pair of Axes ``axes``."""
    _checks.axes("axes", axes, 2)
    a0 = _checks.finite("a0", a0)
    problem = LinearProblem(a_star=a_star, t=t, sigma=sigma)
    n_paths = _checks.positive_int("n_paths", n_paths, maximum=1000)
    x0 = problem.sample_x0(n_paths, np.random.default_rng(_checks.seed("seed", seed)))
    times = np.linspace(0.0, problem.t, 101)
    ax_path, ax_loss = axes
    with np.errstate(over="ignore", invalid="ignore"):
        true_paths = np.exp(problem.a_star * times)[:, None] * x0
        model_paths = np.exp(a0 * times)[:, None] * x0
        ax_path.plot(times, true_paths, color="C0", lw=1.5)
        ax_path.plot(times, model_paths, color="C3", lw=1.5, ls="--")
        ax_path.plot([], [], color="C0", label=f"data: a* = {problem.a_star:g}")
        ax_path.plot([], [], color="C3", ls="--", label=f"model: a₀ = {a0:g}")
        ax_path.axvline(problem.t, color="0.5", lw=0.8)
        ax_path.set_xlabel("time s")
        ax_path.set_ylabel("state x(s)")
        # Plain text throughout: matplotlib parses mathtext anew for every new figure; titles at a
        # fixed height (see axes).
        set_title(ax_path, f"{n_paths} initial states, compared at t = {problem.t:g}")
        ax_path.legend(loc="upper left", fontsize="small")

        grid = np.linspace(-3.0, 3.0, 401)
        ax_loss.semilogy(grid, problem.loss(grid), color="k")
        loss_a0 = float(problem.loss(a0))
        if np.isfinite(loss_a0) and loss_a0 > 0:
            ax_loss.semilogy([a0], [loss_a0], "o", color="C3", label="current a₀")
            ax_loss.legend(loc="lower right", fontsize="small")
        ax_loss.axvline(problem.a_star, color="C0", lw=0.8, ls=":")
        ax_loss.set_xlabel("parameter a")
        ax_loss.set_ylabel("Loss(a), log scale")
        set_title(ax_loss, f"a₀ = {a0:g}: Loss(a₀) = {loss_a0:.3g}")
    for ax in axes:  # few ticks, no minor ticks, plain-text log labels: each tick costs every redraw
        few_ticks(ax)


def mlp_field_figure(fit, horizon=8.0, n_paths=4, n_arrows=15, seed=1):
    """Chapter 1: the true field A* x (top) and the learned MLP field of ``fit`` (bottom), an ``MLPFit``.

    Arrows show each field on a grid of [-2.5, 2.5]^2; curves are trajectories from ``n_paths``
    seeded initial states up to time ``horizon``: exact (e^{A* s} x0) on the top and on the bottom
    (grey, for comparison), the learned model's (RK4, steps of at most 0.05) dashed on the bottom.
    The panels are stacked so that at 6 in wide the text stays legible on a phone-width column.
    """
    from scipy.linalg import expm

    from ..mlp_field import MLPFit

    _checks.instance("fit", fit, MLPFit, "an MLPFit (from train_mlp_field)")
    if fit.A_star is None:
        raise ValueError("fit must come from a problem with a true system A_star (mlp_oscillator_problem)")
    horizon = _checks.positive_finite("horizon", horizon)
    n_paths = _checks.positive_int("n_paths", n_paths, maximum=50)
    n_arrows = _checks.positive_int("n_arrows", n_arrows, minimum=2, maximum=60)
    rng = np.random.default_rng(_checks.seed("seed", seed))
    if horizon > 0.05 * 100_000:  # steps of at most 0.05, at most 100 000 of them
        raise ValueError(f"horizon must be at most 5000 (at most 100000 steps of 0.05), got {horizon!r}")
    n_steps = int(np.ceil(horizon / 0.05))
    field, theta, A_star = fit.problem.field, fit.theta, fit.A_star

    x0 = rng.uniform(-2.0, 2.0, size=(n_paths, 2))
    step = expm(A_star * (horizon / n_steps))  # the exact flow over one step, applied n_steps times
    true_paths = [x0]
    for _ in range(n_steps):
        true_paths.append(true_paths[-1] @ step.T)
    true_paths = np.stack(true_paths)
    with np.errstate(over="ignore", invalid="ignore"):
        learned = _integrate(lambda s, x: field._field(theta, x), x0, horizon, n_steps, "rk4", return_path=True)
    learned = np.clip(np.nan_to_num(learned, nan=0.0), -1e6, 1e6)

    g = np.linspace(-2.5, 2.5, n_arrows)
    grid = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    fig = Figure(figsize=(6.0, 10.0))
    axes = fig.subplots(2, 1, sharex=True, sharey=True)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.06, top=0.96, hspace=0.12)
    with np.errstate(over="ignore", invalid="ignore"):
        learned_field = np.nan_to_num(field._field(theta, grid))
    for ax, arrows, title in (
        (axes[0], grid @ A_star.T, "true field A* x"),
        (axes[1], learned_field, f"learned MLP field ({field.n_params} parameters)"),
    ):
        ax.quiver(grid[:, 0], grid[:, 1], arrows[:, 0], arrows[:, 1], color="0.6", angles="xy")
        set_title(ax, title)
        ax.set_ylabel("velocity q′")
        ax.set_xlim(-2.6, 2.6)
        ax.set_ylim(-2.6, 2.6)
        ax.set_aspect("equal")
    axes[1].set_xlabel("position q")
    for p in range(n_paths):
        axes[0].plot(true_paths[:, p, 0], true_paths[:, p, 1], color=f"C{p}", lw=1.8)
        axes[1].plot(true_paths[:, p, 0], true_paths[:, p, 1], color="0.75", lw=3)
        axes[1].plot(learned[:, p, 0], learned[:, p, 1], color=f"C{p}", lw=1.8, ls="--")
    for ax in axes:
        ax.plot(x0[:, 0], x0[:, 1], "o", color="k", ms=5)
        few_ticks(ax, 5)
    axes[0].plot([], [], color="C0", label="exact flow")
    axes[1].plot([], [], color="0.75", lw=3, label="exact flow")
    axes[1].plot([], [], color="C0", ls="--", label="learned model")
    for ax in axes:
        ax.legend(loc="lower left", fontsize="small")
    return fig
