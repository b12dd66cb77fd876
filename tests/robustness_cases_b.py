"""Registrations for test_robustness.py: the matrix, nonlinear, wide and Hamiltonian models, the
IMDE, troubleshooting experiments and their figures (modules matrix, nonlinear, imde, hamiltonian,
wide, troubleshooting and their figures modules). See robustness_cases_a.py for the format.

Methods registered on their own: the models' ``loss``/``grad`` (and ``WideNODE``'s forward, loss,
gradients and kernels), ``BasisField.__call__``, ``FitResult.field_at`` and
``WideNODE.inverse_T_scaling``. Optimizer ``update``/``direction``/``init`` methods are internal (the
training loops call them with already checked arguments) and are not registered.
"""

import numpy as np
import sympy as sp
from matplotlib.figure import Figure

import simplest_node as sn
from robustness import Case, Exempt  # noqa: F401

RECORD = "a record the package returns; not built by readers"
OBJ = "object"


def _axes(n=1):
    fig = Figure()
    return fig.subplots() if n == 1 else fig.subplots(1, n)


def _matrix_problem():
    return sn.MatrixProblem(np.array([[-0.5, 1.0], [0.0, -0.5]]), t=1.0)


def _A():
    return np.array([[0.1, 0.2], [-0.1, -0.3]])


def _nl_problem():
    return sn.NonlinearProblem(n_steps=4, n_nodes=8)


def _model():
    return sn.WideNODE("tanh", T=1.0, n_steps=2)


def _weights():
    return sn.sample_weights(3, 2, 2, seed=0)


X2 = np.array([[1.0, 0.0], [0.0, 1.0]])
Y2 = np.array([0.5, -0.5])
_PAIRS = sn.sample_pairs(6, T=0.1, seed=0)
_x, _h, _a = sp.symbols("x h a")


def _fit():
    return sn.fit_field(*_PAIRS, T=0.1, method="midpoint", n_iter=2)


CASES = {
    # --- hamiltonian -------------------------------------------------------------------------
    "energy": Case(lambda: (sn.energy, dict(x=np.array([0.1, 0.2])))),
    "pendulum_field": Case(lambda: (sn.pendulum_field, dict(x=np.array([[0.1, 0.2], [0.3, -0.1]])))),
    "pendulum_period": Case(lambda: (sn.pendulum_period, dict(q0=1.0))),
    "sample_pairs": Case(
        lambda: (sn.sample_pairs, dict(n=3, T=0.1, seed=0, q_range=(-1.0, 1.0), p_range=(-1.0, 1.0), noise=0.01)),
        kinds={"seed": "seed"},
        examples=20,
    ),
    "BasisField": Case(lambda: (sn.BasisField, dict(kind="separable"))),
    "BasisField.__call__": Case(
        lambda: (sn.BasisField("separable").__call__, dict(x=np.array([[0.1, 0.2]]), theta=np.ones(9)))
    ),
    "FitResult": Exempt(RECORD),
    "FitResult.field_at": Case(lambda: (_fit().field_at, dict(k=1, x=np.array([[0.1, 0.2]]))), examples=15),
    "fit_field": [
        Case(
            lambda: (
                sn.fit_field,
                dict(
                    x0=_PAIRS[0], x1=_PAIRS[1], T=0.1, method="midpoint", n_sub=1, kind="general", n_iter=2, tol=1e-14
                ),
            ),
            examples=20,
        ),
        Case(
            lambda: (
                sn.fit_field,
                dict(x0=_PAIRS[0], x1=_PAIRS[1], T=0.1, method="leapfrog", n_sub=2, kind=None, n_iter=2, tol=1e-14),
            ),
            kinds={"kind": "str"},
            examples=15,
        ),
    ],
    "flow": Case(
        lambda: (sn.flow, dict(field=sn.pendulum_field, x0=np.array([0.5, 0.0]), t_end=0.5, n_steps=4, n_out=3)),
        kinds={"field": OBJ},
    ),
    "stacked_field": Case(lambda: (sn.stacked_field, dict(fits=[_fit()])), kinds={"fits": "array"}, examples=15),
    "separable_hamiltonian": Case(lambda: (sn.separable_hamiltonian, dict(theta=np.ones(9)))),
    # --- matrix --------------------------------------------------------------------------------
    "MatrixProblem": Case(
        lambda: (sn.MatrixProblem, dict(A_star=np.array([[-0.5, 1.0], [0.0, -0.5]]), t=1.0, sigma=1.0))
    ),
    "MatrixProblem.loss": Case(lambda: (_matrix_problem().loss, dict(A=_A()))),
    "MatrixProblem.grad": Case(lambda: (_matrix_problem().grad, dict(A=_A()))),
    "expm_stack": Case(lambda: (sn.expm_stack, dict(X=_A()))),
    "frechet_expm": Case(lambda: (sn.frechet_expm, dict(X=_A(), E=np.eye(2)))),
    "CovariancePreconditioned": Case(
        lambda: (sn.CovariancePreconditioned, dict(lr=0.5, side="right", line_search=False))
    ),
    "GaussNewton": Case(lambda: (sn.GaussNewton, dict(lr=1.0, line_search=True))),
    "MatrixHistory": Exempt(RECORD),
    "train_matrix": [
        Case(
            lambda: (
                sn.train_matrix,
                dict(
                    problem=_matrix_problem(), optimizer=sn.GaussNewton(1.0), A0=_A(), n_iter=3, store=False, tol=1e-12
                ),
            ),
            kinds={"problem": OBJ, "optimizer": OBJ},
        ),
        Case(
            lambda: (
                sn.train_matrix,
                dict(
                    problem=_matrix_problem(),
                    optimizer=sn.CovariancePreconditioned(0.5),
                    A0=np.stack([_A(), -_A()]),
                    n_iter=2,
                    store=True,
                    tol=None,
                ),
            ),
            kinds={"problem": OBJ, "optimizer": OBJ, "tol": "float"},
        ),
    ],
    "jordan_matrix": Case(lambda: (sn.jordan_matrix, dict(d=3, eigenvalue=-0.5, coupling=1.0))),
    "random_matrices": Case(lambda: (sn.random_matrices, dict(n=2, d=2, scale=1.0, seed=0)), kinds={"seed": "seed"}),
    # --- nonlinear -----------------------------------------------------------------------------
    "NonlinearProblem": [
        Case(
            lambda: (
                sn.NonlinearProblem,
                dict(
                    a_star=-1.0, b_star=1.0, t=1.0, sigma=1.0, n_steps=4, n_nodes=8, n_samples=None, seed=0, noise=0.0
                ),
            ),
            kinds={"n_samples": "int", "seed": "seed"},
        ),
        Case(
            lambda: (
                sn.NonlinearProblem,
                dict(a_star=-1.0, b_star=1.0, t=1.0, sigma=1.0, n_steps=4, n_nodes=8, n_samples=16, seed=0, noise=0.1),
            ),
            kinds={"seed": "seed"},
        ),
    ],
    "NonlinearProblem.loss": Case(lambda: (_nl_problem().loss, dict(theta=np.array([-0.5, 1.0])))),
    "NonlinearProblem.grad": Case(lambda: (_nl_problem().grad, dict(theta=np.array([[-0.5, 1.0], [0.5, 2.0]])))),
    "DiagonalScaled": Case(lambda: (sn.DiagonalScaled, dict(lr=0.5, line_search=False))),
    "LevenbergMarquardt": Case(lambda: (sn.LevenbergMarquardt, dict(lr=1.0, damping=1e-8, line_search=False))),
    "NonlinearHistory": Exempt(RECORD),
    "train_nonlinear": [
        Case(
            lambda: (
                sn.train_nonlinear,
                dict(
                    problem=_nl_problem(),
                    optimizer=sn.LevenbergMarquardt(1.0),
                    theta0=np.array([[-0.5, 0.5]]),
                    n_iter=3,
                    tol=None,
                ),
            ),
            kinds={"problem": OBJ, "optimizer": OBJ, "tol": "float"},
        ),
        Case(
            lambda: (
                sn.train_nonlinear,
                dict(
                    problem=_nl_problem(),
                    optimizer=sn.DiagonalScaled(0.5, line_search=True),
                    theta0=np.array([-0.5, 0.5]),
                    n_iter=2,
                    tol=1e-12,
                ),
            ),
            kinds={"problem": OBJ, "optimizer": OBJ},
        ),
    ],
    "valley_curve": Case(lambda: (sn.valley_curve, dict(b=np.array([0.5, 2.0]), a_star=-1.0, b_star=1.0))),
    # --- figures.beyond ---------------------------------------------------------------------------
    "beyond_history": Case(
        lambda: (sn.beyond_history, dict(d=2, optimizer="GD", lr=0.1, coupling=1.0, seed=0, n_iter=3)),
        kinds={"seed": "seed"},
        examples=20,
    ),
    "beyond_figure": Case(
        lambda: (sn.beyond_figure, dict(d=2, optimizer="covariance", lr=0.5, coupling=1.0, seed=0, n_iter=3)),
        kinds={"seed": "seed"},
        examples=12,
    ),
    "draw_beyond": Case(
        lambda: (
            sn.draw_beyond,
            dict(ax=_axes(), d=2, optimizer="Gauss-Newton", lr=1.0, coupling=0.5, seed=1, n_iter=3),
        ),
        kinds={"ax": OBJ, "seed": "seed"},
        examples=12,
    ),
    # --- imde ----------------------------------------------------------------------------------
    "rk4_minimum": Case(lambda: (sn.rk4_minimum, {})),
    "linear_rate": Case(
        lambda: (sn.linear_rate, dict(a_star=-1.0, h=0.1, method="rk4")), kinds={"a_star": "array", "h": "array"}
    ),
    "modified_field": Case(
        lambda: (sn.modified_field, dict(f=_a * _x, x=_x, h=_h, method="euler", order=2)),
        kinds={"f": OBJ, "x": OBJ, "h": OBJ},
        examples=15,
    ),
    "one_step": Case(
        lambda: (sn.one_step, dict(g=sp.Matrix([_a * _x]), X=sp.Matrix([_x]), h=_h, method="heun", degree=2)),
        kinds={"g": OBJ, "X": OBJ, "h": OBJ},
        examples=15,
    ),
    "exact_flow_series": Case(
        lambda: (sn.exact_flow_series, dict(f=_a * _x, x=_x, h=_h, degree=2)),
        kinds={"f": OBJ, "x": OBJ, "h": OBJ},
        examples=15,
    ),
    "linear_imde_coefficients": Case(lambda: (sn.linear_imde_coefficients, dict(method="euler", order=2)), examples=15),
    "fit_linear_rate": Case(
        lambda: (sn.fit_linear_rate, dict(a_star=-1.0, T=1.0, method="midpoint", n_sub=2, n_iter=10, a0=0.0)),
        kinds={"a_star": "array", "n_sub": "int"},
    ),
    # --- figures.imde -----------------------------------------------------------------------------
    "imde_figure": Case(lambda: (sn.imde_figure, dict(method="rk4", n_sub=2, a_star=-1.0)), examples=12),
    "draw_imde": Case(
        lambda: (sn.draw_imde, dict(axes=_axes(2), method="midpoint", n_sub=1, a_star=-1.0)),
        kinds={"axes": OBJ},
        examples=12,
    ),
    # --- wide ----------------------------------------------------------------------------------
    "WideNODE": Case(
        lambda: (
            sn.WideNODE,
            dict(activation="tanh", T=1.0, n_steps=2, method="euler", sigma_u=1.0, sigma_w=1.0, sigma_v=1.0),
        )
    ),
    "WideNODE.inverse_T_scaling": Case(lambda: (sn.WideNODE.inverse_T_scaling, dict(c=1.0, T=2.0))),
    "WideNODE.forward": Case(lambda: (_model().forward, dict(weights=_weights(), x=X2)), kinds={"weights": OBJ}),
    "WideNODE.hidden": Case(
        lambda: (_model().hidden, dict(weights=_weights(), x=X2, return_stages=False)), kinds={"weights": OBJ}
    ),
    "WideNODE.loss": Case(lambda: (_model().loss, dict(weights=_weights(), x=X2, y=Y2)), kinds={"weights": OBJ}),
    "WideNODE.grad_backprop": Case(
        lambda: (_model().grad_backprop, dict(weights=_weights(), x=X2, y=Y2)), kinds={"weights": OBJ}
    ),
    "WideNODE.grad_adjoint": Case(
        lambda: (_model().grad_adjoint, dict(weights=_weights(), x=X2, y=Y2)), kinds={"weights": OBJ}
    ),
    "WideNODE.kernel": Case(lambda: (_model().kernel, dict(weights=_weights(), x=X2)), kinds={"weights": OBJ}),
    "WideNODE.ntk": Case(lambda: (_model().ntk, dict(weights=_weights(), x=X2, parts=False)), kinds={"weights": OBJ}),
    "Weights": Case(lambda: (sn.Weights, dict(U=np.ones((1, 2, 2)), W=np.eye(2)[None], v=np.ones((1, 2))))),
    "Grads": Exempt(RECORD),
    "sample_weights": Case(
        lambda: (sn.sample_weights, dict(width=3, dim=2, n_draws=2, seed=0)), kinds={"seed": "seed"}
    ),
    "activation": Case(lambda: (sn.activation, dict(name="gelu"))),
    "monte_carlo": Case(
        lambda: (sn.monte_carlo, dict(model=_model(), width=3, x=X2, n_draws=4, seed=0, chunk=2)),
        kinds={"model": OBJ, "seed": "seed"},
    ),
    "MonteCarlo": Exempt(RECORD),
    "ks_normal": Case(lambda: (sn.ks_normal, dict(samples=np.array([0.1, -0.4, 0.9, 1.3, -2.0])))),
    "loglog_slope": Case(lambda: (sn.loglog_slope, dict(x=np.array([1.0, 2.0, 4.0]), y=np.array([1.0, 0.5, 0.26])))),
    "train_wide": Case(
        lambda: (sn.train_wide, dict(model=_model(), weights=_weights(), x=X2, y=Y2, lr=0.5, n_iter=2)),
        kinds={"model": OBJ, "weights": OBJ},
    ),
    "WideHistory": Exempt(RECORD),
    "linearized_loss": Case(
        lambda: (
            sn.linearized_loss,
            dict(theta=np.array([[2.0, 0.5], [0.5, 1.0]]), residual=np.array([0.3, -0.2]), lr=0.5, n_iter=3),
        )
    ),
    "ks_null_level": Case(lambda: (sn.ks_null_level, dict(n_samples=10, n_repeats=5, seed=0)), kinds={"seed": "seed"}),
    # --- wide limits: wide_kernel, wide_untied, wide_training ----------------------------------
    "gaussian_expectation": Case(
        lambda: (sn.gaussian_expectation, dict(activation_name="tanh", var_a=1.0, var_b=0.5, cov_ab=0.2, n_quad=8))
    ),
    "limit_kernel": Case(
        lambda: (sn.limit_kernel, dict(model=_model(), x=X2, tied=True, n_quad=8)), kinds={"model": OBJ}
    ),
    "untied_hidden": Case(
        lambda: (sn.untied_hidden, dict(model=_model(), weights=_weights(), x=X2, seed=0)),
        kinds={"model": OBJ, "weights": OBJ, "seed": "seed"},
    ),
    "ntk_trajectory": Case(
        lambda: (sn.ntk_trajectory, dict(model=_model(), weights=_weights(), x=X2, y=Y2, lr=0.5, checkpoints=[0, 2])),
        kinds={"model": OBJ, "weights": OBJ},
    ),
    "NTKTrajectory": Exempt(RECORD),
    "kernel_drift": Case(lambda: (sn.kernel_drift, dict(theta=np.stack([np.eye(2), 2 * np.eye(2)])))),
    # --- figures.wide -----------------------------------------------------------------------------
    "wide_histogram_figure": Case(
        lambda: (sn.wide_histogram_figure, dict(activation="relu", width=2, T=1.0, scaling="1/T", n_draws=20, seed=0)),
        kinds={"seed": "seed"},
        examples=12,
    ),
    "widget_samples": Case(
        lambda: (sn.widget_samples, dict(activation="relu", width=2, T=1.0, scaling="1/T", n_draws=20, seed=0)),
        kinds={"seed": "seed"},
        examples=12,
    ),
    "draw_wide_histogram": Case(
        lambda: (sn.draw_wide_histogram, dict(ax=_axes(), samples=np.array([0.1, -0.3, 0.5, 0.7]), title="t")),
        kinds={"ax": OBJ},
        examples=12,
    ),
    # --- troubleshooting -----------------------------------------------------------------------
    "AdjointRun": Exempt(RECORD),
    "adjoint_training": Case(
        lambda: (
            sn.adjoint_training,
            dict(a_star=2.0, t=1.0, n_steps=2, lr=0.05, a0=(3.0, 2.0), n_iter=5, method="euler"),
        )
    ),
    "adjoint_slope_ratio": Case(
        lambda: (sn.adjoint_slope_ratio, dict(a_star=2.0, t=1.0, n_steps=2, method="euler", rel_step=1e-6))
    ),
    "euler_adjoint_ratio": Case(lambda: (sn.euler_adjoint_ratio, dict(z=0.3, n_steps=3)), kinds={"z": "array"}),
    "rescaled_problem": Case(
        lambda: (sn.rescaled_problem, dict(problem=sn.LinearProblem(), c=2.0)), kinds={"problem": OBJ}
    ),
    "time_rescaling_runs": Case(
        lambda: (sn.time_rescaling_runs, dict(c=2.0, lr=0.1, a0=-1.0, n_iter=5, a_star=1.0, t=1.0))
    ),
    "rk4_scalar_fit": Case(lambda: (sn.rk4_scalar_fit, dict(a_star=-1.0, h=0.5))),
    "oscillator_fit": Case(lambda: (sn.oscillator_fit, dict(rate=np.array([-0.1 + 2.0j]), h=0.5, method="rk4"))),
    "implicit_midpoint_fit": Case(
        lambda: (sn.implicit_midpoint_fit, dict(rate=np.array([-0.1 + 2.0j]), h=0.5)), kinds={"h": "array"}
    ),
    "PrecisionRun": Exempt(RECORD),
    "precision_run": Case(
        lambda: (sn.precision_run, dict(a=0.5, t_values=np.array([0.1, 0.2]), dtype="float32", a_star=1.0, h=0.05))
    ),
    "StagedRun": Exempt(RECORD),
    "StagedRun.settled_at": Case(
        lambda: (sn.train_in_stages(0.0, (0.5, 1.0), 3, n_samples=8).settled_at, dict(tol=1e-3))
    ),
    "train_in_stages": Case(
        lambda: (
            sn.train_in_stages,
            dict(a0=0.0, horizons=(0.5, 1.0), n_iter=3, a_star=1.0, sigma=1.0, lr_scale=1.0, n_samples=8, seed=0),
        ),
        kinds={"seed": "seed"},
    ),
    "adaptive_cost": Case(
        lambda: (
            sn.adaptive_cost,
            dict(a_values=np.array([-1.0, -50.0]), t=1.0, method="RK45", rtol=1e-6, atol=1e-9, max_nfev=500),
        ),
        examples=20,
    ),
    "real_stability_limit": Case(lambda: (sn.real_stability_limit, dict(coeffs=np.array([1.0, 1.0, 0.5])))),
    "BlowUpSolve": Exempt(RECORD),
    "blow_up_solve": Case(
        lambda: (sn.blow_up_solve, dict(x0=1.0, t_end=0.5, method="RK23", rtol=1e-6, atol=1e-9)), examples=20
    ),
    "BacksolveRun": Exempt(RECORD),
    "backsolve_run": Case(
        lambda: (
            sn.backsolve_run,
            dict(a_values=np.array([-5.0]), t=1.0, slow=-1.0, slow_star=-0.8, x0=(1.0, 1.0), rtol=1e-6, atol=1e-8),
        ),
        examples=20,
    ),
    # --- figures.troubleshooting ------------------------------------------------------------------
    "time_rescaling_figure": Case(
        lambda: (sn.time_rescaling_figure, dict(c=2.0, lr=0.1, a0=-1.0, n_iter=5)), examples=12
    ),
    "draw_time_rescaling": Case(
        lambda: (sn.draw_time_rescaling, dict(ax=_axes(), c=2.0, lr=0.1, a0=-1.0, n_iter=5)),
        kinds={"ax": OBJ},
        examples=12,
    ),
}
CASES.update(
    {
        "BasisField.features": Case(lambda: (sn.BasisField("general").features, dict(x=np.array([[0.1, 0.2]])))),
        "BasisField.tangent": Case(
            lambda: (sn.BasisField("separable").tangent, dict(x=np.array([[0.1, 0.2]]), theta=np.ones(9)))
        ),
        "BasisField.least_squares": Case(
            lambda: (sn.BasisField("separable").least_squares, dict(x=_PAIRS[0], v=(_PAIRS[1] - _PAIRS[0]) / 0.1))
        ),
        "MatrixProblem.covariance": Case(lambda: (_matrix_problem().covariance, dict(A=_A()))),
        "MatrixProblem.jacobian": Case(lambda: (_matrix_problem().jacobian, dict(A=_A()))),
        "NonlinearProblem.endpoint": Case(
            lambda: (_nl_problem().endpoint, dict(theta=np.array([-0.5, 1.0]), x0=np.array([0.1, -0.2])))
        ),
        "NonlinearProblem.gauss_newton_matrix": Case(
            lambda: (_nl_problem().gauss_newton_matrix, dict(theta=np.array([-0.5, 1.0])))
        ),
    }
)

# --- mlp_imde, hamiltonian_implicit (chapter 7) ---------------------------------------------------
_CUBIC = sn.cubic_pairs(6, 0.01, seed=0)
_MLP = sn.TanhMLP(2, 4, 1)


def _mlp_fit():
    return sn.fit_mlp(*_PAIRS, T=0.1, method="euler", width=4, depth=1, n_iter=3)


def _implicit_fit():
    return sn.fit_hamiltonian_implicit(*_PAIRS, T=0.1, n_iter=1)


def _harmonic(x):
    return np.stack([x[..., 1], -x[..., 0]], -1)


def _harmonic_jacobian(x):
    return np.broadcast_to(np.array([[0.0, 1.0], [-1.0, 0.0]]), x.shape[:-1] + (2, 2))


CASES.update(
    {
        "TanhMLP": Case(lambda: (sn.TanhMLP, dict(dim=2, width=4, depth=1))),
        "TanhMLP.__call__": Case(lambda: (_MLP.__call__, dict(x=np.array([[0.1, 0.2]]), theta=_MLP.init(0)))),
        "TanhMLP.init": Case(lambda: (_MLP.init, dict(seed=0)), kinds={"seed": "seed"}),
        "TanhMLP.vjp": Case(
            lambda: (_MLP.vjp, dict(x=np.array([[0.1, 0.2]]), theta=_MLP.init(0), g=np.array([[1.0, -1.0]])))
        ),
        "TanhMLPFit": Exempt(RECORD),
        "TanhMLPFit.field": Case(lambda: (_mlp_fit().field, dict(x=np.array([[0.1, 0.2]]))), examples=10),
        "fit_mlp": Case(
            lambda: (
                sn.fit_mlp,
                dict(
                    x0=_CUBIC[0],
                    x1=_CUBIC[1],
                    T=0.01,
                    method="midpoint",
                    n_sub=2,
                    width=4,
                    depth=1,
                    n_iter=3,
                    seed=0,
                    theta0=None,
                ),
            ),
            kinds={"seed": "seed", "theta0": "array"},
            examples=20,
        ),
        "field_distance": Case(lambda: (sn.field_distance, dict(u=np.ones((2, 2)), v=np.zeros((2, 2))))),
        "damped_cubic_field": Case(lambda: (sn.damped_cubic_field, dict(x=np.array([[0.1, 0.2]])))),
        "cubic_pairs": Case(
            lambda: (sn.cubic_pairs, dict(n=3, T=0.01, seed=0, box=2.2)), kinds={"seed": "seed"}, examples=20
        ),
        "HamiltonianBasis": Case(lambda: (sn.HamiltonianBasis, dict())),
        "HamiltonianBasis.field": Case(
            lambda: (sn.HamiltonianBasis().field, dict(x=np.array([[0.1, 0.2]]), theta=np.ones(34)))
        ),
        "HamiltonianBasis.hamiltonian": Case(
            lambda: (sn.HamiltonianBasis().hamiltonian, dict(x=np.array([[0.1, 0.2]]), theta=np.ones(34)))
        ),
        "implicit_midpoint": Case(
            lambda: (
                sn.implicit_midpoint,
                dict(field=_harmonic, jacobian=_harmonic_jacobian, x=np.array([[1.0, 0.0]]), h=0.1, n_steps=3),
            ),
            kinds={"field": OBJ, "jacobian": OBJ},
        ),
        "ImplicitFit": Exempt(RECORD),
        "ImplicitFit.field": Case(lambda: (_implicit_fit().field, dict(x=np.array([[0.1, 0.2]]))), examples=10),
        "fit_hamiltonian_implicit": Case(
            lambda: (
                sn.fit_hamiltonian_implicit,
                dict(x0=_PAIRS[0], x1=_PAIRS[1], T=0.1, n_sub=1, n_iter=2, tol=1e-14),
            ),
            examples=20,
        ),
    }
)
