"""simplest_node: the numerics behind *The Simplest Neural ODE*.

Public names (chapters and tests rely on them; keep them stable):

* solvers:    ``integrate``, ``step``, ``METHODS``, ``ORDERS``
* linear:     ``LinearProblem``, ``SampledLinearProblem``, ``STABILITY_POLYNOMIALS``
* optimizers: ``GD``, ``SGD``, ``Adam``, ``VarianceCorrected``
* training:   ``train``, ``History``
* plot_model: ``simplest_model_figure``, ``draw_simplest_model``,
  ``SIMPLEST_MODEL_SLIDERS``
* animation:  ``scrubber``
"""

from .animation import scrubber
from .linear import STABILITY_POLYNOMIALS, LinearProblem, SampledLinearProblem
from .optimizers import GD, SGD, Adam, VarianceCorrected
from .plot_model import SIMPLEST_MODEL_SLIDERS, draw_simplest_model, simplest_model_figure
from .solvers import EXPLICIT_METHODS, METHODS, ORDERS, SYMPLECTIC_METHODS, integrate, step
from .training import History, train

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
]

__version__ = "0.1.0"
