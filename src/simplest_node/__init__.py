"""simplest_node: the numerics behind *The Simplest Neural ODE*.

Every public name of a module (its ``__all__``) is importable as ``simplest_node.NAME``; chapters use
``import simplest_node as sn``. The modules, foundations first:

* ``runge_kutta``: the explicit Runge-Kutta methods' tableaux, stability polynomials and orders
* ``solvers``: fixed-step integration (``integrate``, ``step``), explicit and symplectic
* ``linear``: the simplest Neural ODE dx/dt = a x, its loss and gradients (``LinearProblem``)
* ``optimizers``: GD, SGD, Adam and the variance-corrected rule for the scalar rate; ``optimizer``
  names every optimizer of every chapter
* ``training``: ``train``, every initialization at once
* ``prose``: ``glue`` and ``typeset``, the numbers and formulas the prose quotes
* ``landscape``: the loss landscape's plateau, wall and curvature
* ``gradients``: closed-form, backprop and adjoint gradients through a solver
* ``sweeps``: optimizer sweeps over grids of initializations and learning rates
* ``safeguards``: variance-corrected rules that cannot overshoot
* ``minibatch``: the variance-corrected rule on minibatches
* ``batch_training``: many runs with array-valued parameters, advanced together
* ``matrix``: the linear Neural ODE dx/dt = A x in d dimensions
* ``nonlinear``: the two-parameter nonlinear model dx/dt = a tanh(b x)
* ``imde``: the inverse modified equation, what a model trained through a solver learns
* ``hamiltonian``: the pendulum, a field learnt through a solver, and energy
* ``hamiltonian_implicit``: a non-separable Hamiltonian model trained through the implicit midpoint rule
* ``mlp_imde``: a deep tanh MLP field trained through a solver, against the IMDE; the damped cubic oscillator
* ``wide``: the weight-tied width-n Neural ODE, its gradients and kernels
* ``wide_kernel``: the infinite-width NNGP kernel of the Euler-discretized wide model, from its recursion
* ``wide_untied``: the untied ResNet, a fresh weight matrix per step
* ``wide_training``: the neural tangent kernel recorded along gradient descent
* ``troubleshooting``: small experiments answering newcomers' questions
* ``mlp_field``: a small MLP vector field trained as a Neural ODE, with backprop and adjoint gradients
* ``figures``: each chapter's figures, one module per chapter (``figures.simplest``,
  ``figures.landscape``, ``figures.gradients``, ``figures.training``, ``figures.variance``,
  ``figures.beyond``, ``figures.imde``, ``figures.wide``, ``figures.troubleshooting``), and
  ``figures.animation``: ``scrubber``, kernel-free interactivity for the online book; their shared
  axes helpers ``figures.axes`` are public inside the subpackage only

Not imported here: ``real_node`` and its figures ``figures.real_node`` (the chapter on a real Neural ODE;
they need JAX, which ``import simplest_node`` never imports). Private modules (``_checks``) export nothing.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("simplest-node")  # written once, in pyproject.toml
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "unknown"

MODULES = (
    "runge_kutta",
    "solvers",
    "linear",
    "optimizers",
    "training",
    "prose",
    "landscape",
    "gradients",
    "sweeps",
    "safeguards",
    "minibatch",
    "batch_training",
    "matrix",
    "nonlinear",
    "imde",
    "hamiltonian",
    "hamiltonian_implicit",
    "mlp_imde",
    "wide",
    "wide_kernel",
    "wide_untied",
    "wide_training",
    "troubleshooting",
    "mlp_field",
    "figures.simplest",
    "figures.landscape",
    "figures.gradients",
    "figures.training",
    "figures.variance",
    "figures.beyond",
    "figures.imde",
    "figures.wide",
    "figures.troubleshooting",
    "figures.animation",
)
SEPARATE_MODULES = ("real_node", "figures.real_node")  # import them as simplest_node.<name>
INNER_MODULES = ("figures.axes",)  # public inside their subpackage, not gathered here

__all__ = []
for _name in MODULES:
    _module = import_module(f".{_name}", __name__)
    globals().update({name: getattr(_module, name) for name in _module.__all__})
    __all__ += _module.__all__
del _name, _module
