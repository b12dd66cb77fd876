"""simplest_node: the numerics behind *The Simplest Neural ODE*.

Public names (chapters and tests rely on them; keep them stable):

* solvers:    ``integrate``, ``step``, ``METHODS``, ``EXPLICIT_METHODS``, ``SYMPLECTIC_METHODS``, ``ORDERS``
* linear:     ``LinearProblem``, ``SampledLinearProblem``, ``STABILITY_POLYNOMIALS``
* optimizers: ``GD``, ``SGD``, ``Adam``, ``VarianceCorrected``
* training:   ``train``, ``History``
* plot_model: ``simplest_model_figure``, ``draw_simplest_model``,
  ``SIMPLEST_MODEL_SLIDERS``
* animation:  ``scrubber``
* prose:      ``glue``
* safeguards: ``variance_corrected_direction``, ``overshoot_threshold``, ``VarianceCorrectedClipped``,
  ``VarianceCorrectedLineSearch``
* minibatch:  ``VarianceCorrectedSGD``, ``MOMENT_BATCHES``, ``moment_noise_rate``
* plot_variance: ``variance_corrected_figure``, ``draw_variance_corrected``, ``draw_loss_curves``,
  ``VARIANCE_SLIDERS``, ``SAFEGUARDS``
* wide:       ``WideNODE``, ``Weights``, ``Grads``, ``sample_weights``, ``activation``, ``ACTIVATIONS``,
  ``monte_carlo``, ``MonteCarlo``, ``ks_normal``, ``loglog_slope``, ``train_wide``, ``WideHistory``,
  ``linearized_loss``, ``ks_null_level``
* plot_wide:  ``wide_histogram_figure``, ``draw_wide_histogram``, ``WIDE_HISTOGRAM_SLIDERS``
* landscape:  ``growth_ratio``, ``landmark``, ``concavity_threshold``, ``plateau_edge``, ``wall_edge``,
  ``curvature``, ``classify``, ``gradient_identity_gap``, ``gradient_vs_t``, ``steepest_t``
* gradients:  ``BUTCHER_TABLEAUX``, ``closed_form_gradient``, ``backprop_gradient``,
  ``adjoint_gradient``, ``ErrorTable``, ``gradient_error_table``, ``observed_orders``,
  ``discrete_optimum``, ``descend``, ``CostTable``, ``gradient_cost``
* plot_landscape: ``LANDSCAPE_SLIDERS``, ``landscape_overview_figure``, ``gradient_vs_t_figure``,
  ``landscape_figure``, ``draw_landscape``
* plot_gradients: ``GRADIENT_SLIDERS``, ``gradient_error_figure``, ``gradient_cost_figure``,
  ``gradients_figure``, ``draw_gradients``
* sweeps:     ``OUTCOMES``, ``Sweep``, ``iterations_to_tolerance``, ``GDPerEntry``, ``SGDPerEntry``,
  ``optimum``, ``gd_stability_limit``, ``StabilitySweep``, ``lr_stability_sweep``,
  ``stability_boundary``, ``gd_overshoot_onset``, ``gd_bound``
* plot_training: ``TRAINING_SLIDERS``, ``TRAINING_OPTIMIZERS``, ``make_optimizer``,
  ``training_figure``, ``draw_training``, ``draw_iterations``
* matrix:     ``MatrixProblem``, ``expm_stack``, ``frechet_expm``, ``CovariancePreconditioned``,
  ``GaussNewton``, ``MatrixHistory``, ``train_matrix``, ``jordan_matrix``, ``random_matrices``,
  ``MATRIX_OPTIMIZERS``, ``matrix_optimizer``
* nonlinear:  ``NonlinearProblem``, ``DiagonalScaled``, ``GaussNewton2``, ``NonlinearHistory``,
  ``train_nonlinear``, ``valley_curve``, ``NONLINEAR_OPTIMIZERS``, ``nonlinear_optimizer``
* plot_beyond: ``BEYOND_SLIDERS``, ``BEYOND_OPTIMIZERS``, ``beyond_figure``, ``draw_beyond``
* imde:       ``LINEAR_METHODS``, ``rk4_minimum``, ``linear_rate``, ``modified_field``, ``one_step``,
  ``exact_flow_series``, ``linear_imde_coefficients``, ``fit_linear_rate``
* hamiltonian: ``GRAVITY``, ``MODEL_KINDS``, ``TRAIN_METHODS``, ``energy``, ``pendulum_field``,
  ``pendulum_period``, ``sample_pairs``, ``BasisField``, ``FitResult``, ``fit_field``, ``flow``,
  ``stacked_field``, ``separable_hamiltonian``
* plot_imde:  ``IMDE_SLIDERS``, ``IMDE_METHODS``, ``imde_figure``, ``draw_imde``
* troubleshooting: ``AdjointRun``, ``adjoint_training``, ``adjoint_slope_ratio``,
  ``euler_adjoint_ratio``, ``rescaled_problem``, ``time_rescaling_runs``, ``rk4_scalar_fit``,
  ``oscillator_fit``, ``PrecisionRun``, ``precision_run``, ``StagedRun``, ``train_in_stages``,
  ``adaptive_cost``, ``ADAPTIVE_METHODS``
* plot_troubleshooting: ``RESCALING_SLIDERS``, ``time_rescaling_figure``, ``draw_time_rescaling``
"""

from .animation import scrubber
from .prose import glue
from .linear import STABILITY_POLYNOMIALS, LinearProblem, SampledLinearProblem
from .optimizers import GD, SGD, Adam, VarianceCorrected
from .plot_model import SIMPLEST_MODEL_SLIDERS, draw_simplest_model, simplest_model_figure
from .solvers import EXPLICIT_METHODS, METHODS, ORDERS, SYMPLECTIC_METHODS, integrate, step
from .training import History, train
from .safeguards import (
    VarianceCorrectedClipped,
    VarianceCorrectedLineSearch,
    overshoot_threshold,
    variance_corrected_direction,
)
from .minibatch import MOMENT_BATCHES, VarianceCorrectedSGD, moment_noise_rate
from .plot_variance import (
    SAFEGUARDS,
    VARIANCE_SLIDERS,
    draw_loss_curves,
    draw_variance_corrected,
    variance_corrected_figure,
)
from .wide import (
    ACTIVATIONS,
    Grads,
    MonteCarlo,
    Weights,
    WideHistory,
    WideNODE,
    activation,
    ks_normal,
    ks_null_level,
    linearized_loss,
    loglog_slope,
    monte_carlo,
    sample_weights,
    train_wide,
)
from .plot_wide import WIDE_HISTOGRAM_SLIDERS, draw_wide_histogram, wide_histogram_figure
from .landscape import (
    classify,
    concavity_threshold,
    curvature,
    gradient_identity_gap,
    gradient_vs_t,
    growth_ratio,
    landmark,
    plateau_edge,
    steepest_t,
    wall_edge,
)
from .gradients import (
    BUTCHER_TABLEAUX,
    CostTable,
    ErrorTable,
    adjoint_gradient,
    backprop_gradient,
    closed_form_gradient,
    descend,
    discrete_optimum,
    gradient_cost,
    gradient_error_table,
    observed_orders,
)
from .plot_landscape import (
    LANDSCAPE_SLIDERS,
    draw_landscape,
    gradient_vs_t_figure,
    landscape_figure,
    landscape_overview_figure,
)
from .plot_gradients import (
    GRADIENT_SLIDERS,
    draw_gradients,
    gradient_cost_figure,
    gradient_error_figure,
    gradients_figure,
)
from .sweeps import (
    OUTCOMES,
    GDPerEntry,
    SGDPerEntry,
    StabilitySweep,
    Sweep,
    gd_bound,
    gd_overshoot_onset,
    gd_stability_limit,
    iterations_to_tolerance,
    lr_stability_sweep,
    optimum,
    stability_boundary,
)
from .plot_training import (
    TRAINING_OPTIMIZERS,
    TRAINING_SLIDERS,
    draw_iterations,
    draw_training,
    make_optimizer,
    training_figure,
)
from .matrix import (
    MATRIX_OPTIMIZERS,
    CovariancePreconditioned,
    GaussNewton,
    MatrixHistory,
    MatrixProblem,
    expm_stack,
    frechet_expm,
    jordan_matrix,
    matrix_optimizer,
    random_matrices,
    train_matrix,
)
from .nonlinear import (
    NONLINEAR_OPTIMIZERS,
    DiagonalScaled,
    GaussNewton2,
    NonlinearHistory,
    NonlinearProblem,
    nonlinear_optimizer,
    train_nonlinear,
    valley_curve,
)
from .plot_beyond import BEYOND_OPTIMIZERS, BEYOND_SLIDERS, beyond_figure, draw_beyond
from .imde import (
    LINEAR_METHODS,
    exact_flow_series,
    fit_linear_rate,
    linear_imde_coefficients,
    linear_rate,
    modified_field,
    one_step,
    rk4_minimum,
)
from .hamiltonian import (
    GRAVITY,
    MODEL_KINDS,
    TRAIN_METHODS,
    BasisField,
    FitResult,
    energy,
    fit_field,
    flow,
    pendulum_field,
    pendulum_period,
    sample_pairs,
    separable_hamiltonian,
    stacked_field,
)
from .plot_imde import IMDE_METHODS, IMDE_SLIDERS, draw_imde, imde_figure
from .troubleshooting import (
    ADAPTIVE_METHODS,
    AdjointRun,
    PrecisionRun,
    StagedRun,
    adaptive_cost,
    adjoint_slope_ratio,
    adjoint_training,
    euler_adjoint_ratio,
    oscillator_fit,
    precision_run,
    rescaled_problem,
    rk4_scalar_fit,
    time_rescaling_runs,
    train_in_stages,
)
from .plot_troubleshooting import RESCALING_SLIDERS, draw_time_rescaling, time_rescaling_figure

__all__ = [
    "integrate",
    "step",
    "METHODS",
    "EXPLICIT_METHODS",
    "SYMPLECTIC_METHODS",
    "ORDERS",
    "LinearProblem",
    "SampledLinearProblem",
    "STABILITY_POLYNOMIALS",
    "GD",
    "SGD",
    "Adam",
    "VarianceCorrected",
    "train",
    "History",
    "simplest_model_figure",
    "draw_simplest_model",
    "SIMPLEST_MODEL_SLIDERS",
    "scrubber",
    "glue",
    "variance_corrected_direction",
    "overshoot_threshold",
    "VarianceCorrectedClipped",
    "VarianceCorrectedLineSearch",
    "VarianceCorrectedSGD",
    "MOMENT_BATCHES",
    "moment_noise_rate",
    "variance_corrected_figure",
    "draw_variance_corrected",
    "draw_loss_curves",
    "VARIANCE_SLIDERS",
    "SAFEGUARDS",
    "WideNODE",
    "Weights",
    "Grads",
    "sample_weights",
    "activation",
    "ACTIVATIONS",
    "monte_carlo",
    "MonteCarlo",
    "ks_normal",
    "loglog_slope",
    "train_wide",
    "WideHistory",
    "linearized_loss",
    "ks_null_level",
    "wide_histogram_figure",
    "draw_wide_histogram",
    "WIDE_HISTOGRAM_SLIDERS",
    "growth_ratio",
    "landmark",
    "concavity_threshold",
    "plateau_edge",
    "wall_edge",
    "curvature",
    "classify",
    "gradient_identity_gap",
    "gradient_vs_t",
    "steepest_t",
    "BUTCHER_TABLEAUX",
    "closed_form_gradient",
    "backprop_gradient",
    "adjoint_gradient",
    "ErrorTable",
    "gradient_error_table",
    "observed_orders",
    "discrete_optimum",
    "descend",
    "CostTable",
    "gradient_cost",
    "LANDSCAPE_SLIDERS",
    "landscape_overview_figure",
    "gradient_vs_t_figure",
    "landscape_figure",
    "draw_landscape",
    "GRADIENT_SLIDERS",
    "gradient_error_figure",
    "gradient_cost_figure",
    "gradients_figure",
    "draw_gradients",
    "OUTCOMES",
    "Sweep",
    "iterations_to_tolerance",
    "GDPerEntry",
    "SGDPerEntry",
    "optimum",
    "gd_stability_limit",
    "StabilitySweep",
    "lr_stability_sweep",
    "stability_boundary",
    "gd_overshoot_onset",
    "gd_bound",
    "TRAINING_SLIDERS",
    "TRAINING_OPTIMIZERS",
    "make_optimizer",
    "training_figure",
    "draw_training",
    "draw_iterations",
    "MatrixProblem",
    "expm_stack",
    "frechet_expm",
    "CovariancePreconditioned",
    "GaussNewton",
    "MatrixHistory",
    "train_matrix",
    "jordan_matrix",
    "random_matrices",
    "MATRIX_OPTIMIZERS",
    "matrix_optimizer",
    "NonlinearProblem",
    "DiagonalScaled",
    "GaussNewton2",
    "NonlinearHistory",
    "train_nonlinear",
    "valley_curve",
    "NONLINEAR_OPTIMIZERS",
    "nonlinear_optimizer",
    "BEYOND_SLIDERS",
    "BEYOND_OPTIMIZERS",
    "beyond_figure",
    "draw_beyond",
    "LINEAR_METHODS",
    "rk4_minimum",
    "linear_rate",
    "modified_field",
    "one_step",
    "exact_flow_series",
    "linear_imde_coefficients",
    "fit_linear_rate",
    "GRAVITY",
    "MODEL_KINDS",
    "TRAIN_METHODS",
    "energy",
    "pendulum_field",
    "pendulum_period",
    "sample_pairs",
    "BasisField",
    "FitResult",
    "fit_field",
    "flow",
    "stacked_field",
    "separable_hamiltonian",
    "IMDE_SLIDERS",
    "IMDE_METHODS",
    "imde_figure",
    "draw_imde",
    "AdjointRun",
    "adjoint_training",
    "adjoint_slope_ratio",
    "euler_adjoint_ratio",
    "rescaled_problem",
    "time_rescaling_runs",
    "rk4_scalar_fit",
    "oscillator_fit",
    "PrecisionRun",
    "precision_run",
    "StagedRun",
    "train_in_stages",
    "adaptive_cost",
    "ADAPTIVE_METHODS",
    "RESCALING_SLIDERS",
    "time_rescaling_figure",
    "draw_time_rescaling",
]

__version__ = "0.1.0"
