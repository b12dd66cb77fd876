"""Registrations for test_robustness.py: the linear model, its optimizers, training, gradients and
their figures (modules linear, optimizers, training, landscape, solvers, gradients, sweeps,
safeguards, minibatch, prose, animation and their figures modules).

Each entry maps a public name (or "Class.method") to a ``Case`` whose ``make()`` returns a fresh
valid call as (callable, kwargs), or to a list of Cases, or to ``Exempt(reason)``. Keep each valid
call small (well under a second): the test derives a few dozen variants from it.

Not registered: the optimizers' ``init``/``update`` (the training loop's protocol, called by
``train`` after it has checked its arguments, not by readers) and ``LinearProblem.target`` (no
arguments).
"""

import numpy as np
from matplotlib.figure import Figure

import simplest_node as sn
from robustness import Case, Exempt  # noqa: F401

P = sn.LinearProblem
A = np.array([0.0, 1.5])
RECORD = "a record the package returns; not built by readers"
FIG = 12  # examples for figure functions (each call draws a figure)


def _axes(n=1):
    fig = Figure()
    return fig.subplots(1, n) if n > 1 else fig.add_subplot()


def _fig2():
    fig = Figure()
    fig.subplots(1, 2)
    return fig


def _field(t, x):
    return -x


def _problem_method(name, **extra):
    """Cases for a LinearProblem method, on the exact flow, a solver and a finite batch."""
    return [
        Case(lambda: (getattr(P(), name), dict(a=A, **extra))),
        Case(lambda: (getattr(P(method="rk4", n_steps=4), name), dict(a=A, **extra))),
        Case(lambda: (getattr(P(), name), dict(a=A, x0=np.array([0.5, -1.0]), **extra)), kinds={"x0": "array"}),
    ]


def _sweep():
    return sn.iterations_to_tolerance(P(), sn.GD(0.1), [0.0, 0.5], 10)


OBJ = "object"

CASES = {
    # --- linear ----------------------------------------------------------------------------
    "LinearProblem": [
        Case(lambda: (P, dict(a_star=1.0, t=1.0, sigma=1.0))),
        Case(lambda: (P, dict(a_star=1.0, t=1.0, sigma=1.0, method="rk4", n_steps=4))),
    ],
    "LinearProblem.loss": _problem_method("loss"),
    "LinearProblem.grad": _problem_method("grad"),
    "LinearProblem.second_moment": _problem_method("second_moment"),
    "LinearProblem.model_map": Case(lambda: (P(method="heun", n_steps=3).model_map, dict(a=A))),
    "LinearProblem.model_map_derivative": Case(lambda: (P(method="heun", n_steps=3).model_map_derivative, dict(a=A))),
    "LinearProblem.grad_exact_flow": Case(lambda: (P().grad_exact_flow, dict(a=A))),
    "LinearProblem.grad_adjoint": Case(lambda: (P().grad_adjoint, dict(a=A, n_steps=4, method="rk4"))),
    "LinearProblem.sample_x0": Case(
        lambda: (P().sample_x0, dict(size=3, rng=np.random.default_rng(0))), kinds={"rng": OBJ}
    ),
    "SampledLinearProblem": Case(
        lambda: (sn.SampledLinearProblem, dict(a_star=1.0, t=1.0, sigma=1.0, n_samples=5, seed=0)),
        kinds={"seed": "seed"},
    ),
    "SampledLinearProblem.loss": Case(lambda: (sn.SampledLinearProblem(n_samples=5).loss, dict(a=A))),
    "SampledLinearProblem.grad_adjoint": Case(
        lambda: (sn.SampledLinearProblem(n_samples=5).grad_adjoint, dict(a=A, n_steps=4))
    ),
    # --- optimizers ---------------------------------------------------------------------------
    "GD": Case(lambda: (sn.GD, dict(lr=0.1))),
    "SGD": Case(lambda: (sn.SGD, dict(lr=0.1, batch_size=4, seed=0)), kinds={"seed": "seed"}),
    "Adam": Case(lambda: (sn.Adam, dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8))),
    "VarianceCorrected": Case(lambda: (sn.VarianceCorrected, dict(lr=0.5))),
    # --- training -------------------------------------------------------------------------------
    "train": [
        Case(
            lambda: (sn.train, dict(problem=P(), optimizer=sn.GD(0.1), a0=[0.0, -1.0], n_iter=20)),
            kinds={"problem": OBJ, "optimizer": OBJ},
        ),
        Case(
            lambda: (sn.train, dict(problem=P(), optimizer=sn.SGD(0.1, 4), a0=[0.0], n_iter=5)),
            kinds={"problem": OBJ, "optimizer": OBJ},
        ),
    ],
    "History": Exempt("a record train() returns; not built by readers"),
    "BatchHistory": Exempt("the mixin of the training histories (converged_at, first_below); not built by readers"),
    "ButcherTableau": Exempt("a record: the methods of runge_kutta.TABLEAUX; building one checks its consistency"),
    # --- landscape --------------------------------------------------------------------------------
    "growth_ratio": Case(lambda: (sn.growth_ratio, dict(a=A, a_star=1.0, t=1.0))),
    "landmark": Case(lambda: (sn.landmark, dict(ratio=0.5, a_star=1.0, t=1.0))),
    "concavity_threshold": Case(lambda: (sn.concavity_threshold, dict(a_star=1.0, t=1.0))),
    "plateau_edge": Case(lambda: (sn.plateau_edge, dict(a_star=1.0, t=1.0, eps=0.1))),
    "wall_edge": Case(lambda: (sn.wall_edge, dict(a_star=1.0, t=1.0, wall=10.0))),
    "curvature": Case(lambda: (sn.curvature, dict(a=A, a_star=1.0, t=1.0, sigma=1.0))),
    "classify": Case(lambda: (sn.classify, dict(a=A, a_star=1.0, t=1.0, eps=0.1, wall=10.0))),
    "gradient_identity_gap": Case(
        lambda: (sn.gradient_identity_gap, dict(a=A, a_star=1.0, t=1.0, sigma=1.0, x0=np.array([0.5, 1.0])))
    ),
    "gradient_vs_t": Case(lambda: (sn.gradient_vs_t, dict(a=A, t=np.array([0.5, 2.0]), a_star=1.0, sigma=1.0))),
    "steepest_t": Case(lambda: (sn.steepest_t, dict(a=np.array([-2.0, 0.0]), a_star=1.0, t_max=50.0, tol=1e-10))),
    "gd_loss_ratio": Case(lambda: (sn.gd_loss_ratio, dict(a=A, lr=np.array([0.1]), a_star=1.0, t=1.0, sigma=1.0))),
    # --- figures of chapters 1 and 2 ----------------------------------------------------------------
    "simplest_model_figure": Case(
        lambda: (sn.simplest_model_figure, dict(a0=0.5, t=1.0, sigma=1.0, a_star=1.0, n_paths=3, seed=0)),
        kinds={"seed": "seed"},
        examples=FIG,
    ),
    "draw_simplest_model": Case(
        lambda: (sn.draw_simplest_model, dict(axes=_axes(2), a0=0.5, t=1.0, sigma=1.0, a_star=1.0, n_paths=3, seed=0)),
        kinds={"seed": "seed", "axes": OBJ},
        examples=FIG,
    ),
    "landscape_overview_figure": Case(
        lambda: (sn.landscape_overview_figure, dict(ts=(1.0,), a_star=1.0, sigma=1.0)), examples=FIG
    ),
    "gradient_vs_t_figure": Case(
        lambda: (sn.gradient_vs_t_figure, dict(a_values=(-2.0, 0.5), a_star=1.0, sigma=1.0)), examples=FIG
    ),
    "landscape_figure": Case(
        lambda: (sn.landscape_figure, dict(a0=-1.0, a_star=1.0, t=1.0, sigma=1.0, lr=1.0)), examples=FIG
    ),
    "draw_landscape": Case(
        lambda: (sn.draw_landscape, dict(ax=_axes(), a0=-1.0, a_star=1.0, t=1.0, sigma=1.0, lr=1.0)),
        kinds={"ax": OBJ},
        examples=FIG,
    ),
    # --- animation, prose ----------------------------------------------------------------------------
    "scrubber": Case(
        lambda: (sn.scrubber, dict(fig=_fig2(), update=lambda k: None, n_frames=2, interval=300, dpi=20)),
        kinds={"fig": OBJ, "update": OBJ},
        examples=FIG,
    ),
    "glue": Case(lambda: (sn.glue, dict(name="x", value=0.5, digits=6))),
    # --- solvers ------------------------------------------------------------------------------------------
    "step": Case(
        lambda: (sn.step, dict(f=_field, t=0.0, x=np.array([1.0, 2.0]), h=0.1, method="rk4")), kinds={"f": OBJ}
    ),
    "integrate": [
        Case(
            lambda: (
                sn.integrate,
                dict(f=_field, x0=np.array([1.0, 2.0]), t1=1.0, n_steps=4, method="rk4", t0=0.0, return_path=False),
            ),
            kinds={"f": OBJ},
        ),
        Case(lambda: (sn.integrate, dict(f=_field, x0=1.0, t1=1.0, n_steps=4)), kinds={"f": OBJ, "x0": "array"}),
    ],
    # --- gradients --------------------------------------------------------------------------------------
    "closed_form_gradient": Case(lambda: (sn.closed_form_gradient, dict(problem=P(), a=A)), kinds={"problem": OBJ}),
    "backprop_gradient": Case(
        lambda: (
            sn.backprop_gradient,
            dict(problem=P(), a=A, method="rk4", n_steps=4, x0=np.array([1.0, -0.5]), return_tape_size=False),
        ),
        kinds={"problem": OBJ},
    ),
    "adjoint_gradient": Case(
        lambda: (
            sn.adjoint_gradient,
            dict(problem=P(), a=A, method="rk4", n_steps=4, x0=np.array([1.0, -0.5]), return_state_size=False),
        ),
        kinds={"problem": OBJ},
    ),
    "ErrorTable": Exempt(RECORD + " (gradient_error_table)"),
    "gradient_error_table": Case(
        lambda: (sn.gradient_error_table, dict(problem=P(), a=0.5, methods=("euler",), n_steps=(2, 4))),
        kinds={"problem": OBJ},
    ),
    "observed_orders": Case(
        lambda: (sn.observed_orders, dict(n_steps=np.array([2, 4]), errors=np.array([0.1, 0.025])))
    ),
    "discrete_optimum": Case(lambda: (sn.discrete_optimum, dict(a_star=1.0, t=1.0, method="rk4", n_steps=4))),
    "descend": Case(
        lambda: (sn.descend, dict(gradient_function=P().grad, a0=A, lr=0.1, n_iter=5)), kinds={"gradient_function": OBJ}
    ),
    "CostTable": Exempt(RECORD + " (gradient_cost)"),
    "gradient_cost": Case(
        lambda: (sn.gradient_cost, dict(method="euler", n_steps=(2, 4), batch=4, repeat=1, seed=0)),
        kinds={"seed": "seed"},
        examples=15,
    ),
    "LinearSystemFit": Case(
        lambda: (
            sn.LinearSystemFit,
            dict(basis=np.eye(2)[None], A_star=-np.eye(2), t=1.0, offset=np.zeros((2, 2)), sigma=1.0),
        )
    ),
    "LinearSystemFit.loss": Case(
        lambda: (sn.damped_oscillator().loss, dict(theta=np.array([4.0, 1.0]), method="rk4", n_steps=4))
    ),
    "LinearSystemFit.matrix": Case(lambda: (sn.damped_oscillator().matrix, dict(theta=np.array([4.0, 1.0])))),
    "LinearSystemFit.solver_map": Case(
        lambda: (sn.damped_oscillator().solver_map, dict(theta=np.array([4.0, 1.0]), method="rk4", n_steps=4))
    ),
    "LinearSystemFit.exact_grad": Case(lambda: (sn.damped_oscillator().exact_grad, dict(theta=np.array([4.0, 1.0])))),
    "LinearSystemFit.backprop_grad": Case(
        lambda: (sn.damped_oscillator().backprop_grad, dict(theta=np.array([4.0, 1.0]), method="rk4", n_steps=4))
    ),
    "LinearSystemFit.adjoint_grad": Case(
        lambda: (
            sn.damped_oscillator().adjoint_grad,
            dict(theta=np.array([4.0, 1.0]), method="rk4", n_steps=4, states="exact"),
        )
    ),
    "damped_oscillator": Case(lambda: (sn.damped_oscillator, dict(k_star=4.0, c_star=1.0, t=1.0, sigma=1.0))),
    "gradient_root": Case(
        lambda: (
            sn.gradient_root,
            dict(gradient=lambda th: th - 1.0, theta0=np.array([0.0]), tol=1e-12, max_iter=20, eps=1e-6),
        ),
        kinds={"gradient": OBJ},
    ),
    # --- figures of chapter 3 -----------------------------------------------------------------------
    "gradient_error_figure": Case(
        lambda: (sn.gradient_error_figure, dict(table=sn.gradient_error_table(P(), 0.5, ("euler",), (2, 4)))),
        examples=FIG,
    ),
    "gradient_cost_figure": Case(
        lambda: (sn.gradient_cost_figure, dict(cost=sn.gradient_cost("euler", (2, 4), 4, 1))), examples=FIG
    ),
    "gradients_figure": Case(
        lambda: (sn.gradients_figure, dict(method="euler", n_steps=4, t=1.0, a_star=1.0, sigma=1.0)), examples=FIG
    ),
    "draw_gradients": Case(
        lambda: (sn.draw_gradients, dict(axes=_axes(2), method="euler", n_steps=4, t=1.0, a_star=1.0, sigma=1.0)),
        kinds={"axes": OBJ},
        examples=FIG,
    ),
    # --- sweeps ---------------------------------------------------------------------------------------
    "Sweep": Exempt(RECORD + " (iterations_to_tolerance)"),
    "StabilitySweep": Exempt(RECORD + " (lr_stability_sweep)"),
    "iterations_to_tolerance": Case(
        lambda: (
            sn.iterations_to_tolerance,
            dict(problem=P(), optimizer=sn.GD(0.1), a0=np.array([0.0, 0.5]), n_iter=10, tol=1e-8, plateau_ratio=0.1),
        ),
        kinds={"problem": OBJ, "optimizer": OBJ},
    ),
    "GDPerEntry": Case(lambda: (sn.GDPerEntry, dict(lrs=np.array([0.1, 0.2])))),
    "SGDPerEntry": Case(lambda: (sn.SGDPerEntry, dict(lr=0.1, batch_size=4, seed=0)), kinds={"seed": "seed"}),
    "optimum": [
        Case(lambda: (sn.optimum, dict(problem=P())), kinds={"problem": OBJ}),
        Case(lambda: (sn.optimum, dict(problem=P(method="euler", n_steps=4))), kinds={"problem": OBJ}),
    ],
    "gd_stability_limit": Case(
        lambda: (sn.gd_stability_limit, dict(problem=P(method="rk4", n_steps=4))), kinds={"problem": OBJ}
    ),
    "lr_stability_sweep": Case(
        lambda: (sn.lr_stability_sweep, dict(problem=P(), lrs=np.array([0.1, 0.5]), offset=1e-4, n_iter=10)),
        kinds={"problem": OBJ},
    ),
    "stability_boundary": Case(
        lambda: (
            sn.stability_boundary,
            dict(problem=P(), lr_low=0.2, lr_high=0.4, n_points=3, n_rounds=2, offset=1e-4, n_iter=10),
        ),
        kinds={"problem": OBJ},
    ),
    "gd_overshoot_onset": Case(
        lambda: (sn.gd_overshoot_onset, dict(problem=P(), lr=0.1, ratio=0.1, a_max=10.0)), kinds={"problem": OBJ}
    ),
    "gd_bound": Case(lambda: (sn.gd_bound, dict(problem=P(), lr=0.1, a0=A)), kinds={"problem": OBJ}),
    # --- figures of chapter 4 --------------------------------------------------------------------------
    "optimizer": Case(
        lambda: (sn.optimizer, dict(name="SGD", kind="scalar", lr=0.1, batch_size=4, seed=0)), kinds={"seed": "seed"}
    ),
    "training_figure": Case(
        lambda: (
            sn.training_figure,
            dict(
                optimizer="GD",
                lr=0.05,
                a0=-2.0,
                t=1.0,
                n_iter=20,
                a_star=1.0,
                sigma=1.0,
                batch_size=4,
                seed=0,
                k_max=10,
            ),
        ),
        kinds={"seed": "seed", "k_max": "int"},
        examples=FIG,
    ),
    "draw_training": Case(
        lambda: (
            sn.draw_training,
            dict(
                fig=_fig2(),
                optimizer="SGD",
                lr=0.05,
                a0=-2.0,
                t=1.0,
                n_iter=20,
                a_star=1.0,
                sigma=1.0,
                batch_size=4,
                seed=0,
                k_max=10,
            ),
        ),
        kinds={"seed": "seed", "fig": OBJ},
        examples=FIG,
    ),
    "draw_iterations": Case(
        lambda: (sn.draw_iterations, dict(ax=_axes(), sweeps={"GD": _sweep()}, n_iter=10, first_hits=("GD",))),
        kinds={"ax": OBJ, "sweeps": OBJ},
        examples=FIG,
    ),
    # --- safeguards, minibatch -------------------------------------------------------------------------
    "variance_corrected_direction": Case(
        lambda: (sn.variance_corrected_direction, dict(problem=P(), a=A)), kinds={"problem": OBJ}
    ),
    "overshoot_threshold": Case(lambda: (sn.overshoot_threshold, dict(lr=0.5))),
    "VarianceCorrectedClipped": Case(lambda: (sn.VarianceCorrectedClipped, dict(lr=0.5, max_step=1.0))),
    "VarianceCorrectedLineSearch": Case(
        lambda: (sn.VarianceCorrectedLineSearch, dict(lr=0.5, shrink=0.5, c=1e-4, max_backtracks=10))
    ),
    "VarianceCorrectedSGD": Case(
        lambda: (sn.VarianceCorrectedSGD, dict(lr=0.5, batch_size=4, seed=0, moment="same")), kinds={"seed": "seed"}
    ),
    "moment_noise_rate": Case(lambda: (sn.moment_noise_rate, dict(lr=0.5, batch_size=8)), examples=15),
    # --- figures of chapter 5 ----------------------------------------------------------------------------
    "variance_corrected_figure": Case(
        lambda: (
            sn.variance_corrected_figure,
            dict(lr=0.5, a0=-5.0, t=1.0, safeguard="line search", n_iter=10, a_star=1.0),
        ),
        examples=FIG,
    ),
    "draw_variance_corrected": Case(
        lambda: (
            sn.draw_variance_corrected,
            dict(ax=_axes(), lr=0.5, a0=-5.0, t=1.0, safeguard="clipping", n_iter=10, a_star=1.0),
        ),
        kinds={"ax": OBJ},
        examples=FIG,
    ),
    "draw_loss_curves": Case(
        lambda: (
            sn.draw_loss_curves,
            dict(
                ax=_axes(),
                history=sn.train(P(), sn.GD(0.1), [0.0, 3.0], 5),
                a0=np.array([0.0, 3.0]),
                title="t",
                cmap="viridis",
                floor=1e-16,
            ),
        ),
        kinds={"ax": OBJ, "history": OBJ},
        examples=FIG,
    ),
}

# A history's convergence queries are called by readers directly.
_HISTORY = lambda: sn.train(sn.LinearProblem(), sn.GD(0.1), [0.0, 3.0], 30)  # noqa: E731
CASES["History.converged_at"] = Case(lambda: (_HISTORY().converged_at, dict(tol=1e-8)))
CASES["History.first_below"] = Case(lambda: (_HISTORY().first_below, dict(tol=1e-8)))
CASES["typeset"] = Case(lambda: (sn.typeset, dict(tex=r"x' - a x = 0")))

# --- a small MLP field trained as a Neural ODE (module mlp_field, figure in figures.simplest) -------------
_MLP = lambda: sn.mlp_oscillator_problem(n_samples=8, width=4, n_steps=2)  # noqa: E731
_THETA = sn.MLPField(2, 4).init(seed=0)
_X = np.array([[0.5, -1.0], [1.0, 0.0]])
_MLP_FIT = lambda: sn.train_mlp_field(_MLP(), lr=0.03, n_iter=3)  # noqa: E731
CASES.update(
    {
        "MLPField": Case(lambda: (sn.MLPField, dict(dim=2, width=4))),
        "MLPField.init": Case(lambda: (sn.MLPField(2, 4).init, dict(seed=0, scale=1.0)), kinds={"seed": "seed"}),
        "MLPField.field": Case(lambda: (sn.MLPField(2, 4).field, dict(theta=_THETA, x=_X))),
        "MLPField.vjp": Case(lambda: (sn.MLPField(2, 4).vjp, dict(theta=_THETA, x=_X, v=_X))),
        "EndpointFit": Case(
            lambda: (sn.EndpointFit, dict(field=sn.MLPField(2, 4), x0=_X, y=_X, t=1.0, method="rk4", n_steps=2)),
            kinds={"field": OBJ},
        ),
        "EndpointFit.loss": Case(lambda: (_MLP().loss, dict(theta=_THETA, method="euler", n_steps=3))),
        "EndpointFit.backprop_grad": Case(
            lambda: (
                _MLP().backprop_grad,
                dict(theta=_THETA, method="midpoint", n_steps=3, checkpoint_every=2, return_cost=True),
            )
        ),
        "EndpointFit.adjoint_grad": Case(
            lambda: (_MLP().adjoint_grad, dict(theta=_THETA, method="rk4", n_steps=3, return_cost=True))
        ),
        "EndpointFit.fd_grad": Case(
            lambda: (_MLP().fd_grad, dict(theta=_THETA, method="euler", n_steps=2, eps=1e-6)), examples=15
        ),
        "GradientCost": Exempt(RECORD),
        "MLPFit": Exempt(RECORD),
        "MLPFit.field_error": Case(lambda: (_MLP_FIT().field_error, dict(n_grid=5, radius=2.0))),
        "mlp_oscillator_problem": Case(
            lambda: (
                sn.mlp_oscillator_problem,
                dict(k_star=1.0, c_star=0.2, t=1.0, n_samples=8, width=4, method="rk4", n_steps=2, seed=0),
            ),
            kinds={"seed": "seed"},
        ),
        "train_mlp_field": Case(
            lambda: (sn.train_mlp_field, dict(problem=_MLP(), lr=0.03, n_iter=3, seed=0)),
            kinds={"problem": OBJ, "seed": "seed"},
            examples=15,
        ),
        "mlp_field_figure": Case(
            lambda: (sn.mlp_field_figure, dict(fit=_MLP_FIT(), horizon=1.0, n_paths=2, n_arrows=4, seed=1)),
            kinds={"fit": OBJ, "seed": "seed"},
            examples=FIG,
        ),
    }
)
