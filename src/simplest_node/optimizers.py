"""Optimizers for the scalar parameter a, each vectorized over a batch of parameters.

An optimizer has ``init(a)`` returning its state and ``update(problem, a, state, k)`` returning
the next iterate; ``k`` is the 1-based step count. Every operation is elementwise in ``a``, so
training a vector of initializations equals training each one alone, to the bit.

* ``GD(lr)``:            a <- a - lr Loss'(a)
* ``SGD(lr, batch_size, seed)``: the same with Loss' estimated on a fresh minibatch of x0 each step
  (one shared minibatch per step for every entry of a, drawn from a generator seeded by ``seed``)
* ``Adam(lr, beta1, beta2, eps)``: as torch.optim.Adam defines it (bias-corrected moments,
  eps added to the square root of the corrected second moment)
* ``VarianceCorrected(lr)``: a <- a - lr Loss'(a) / (t^2 sigma_k^2(t)) with sigma_k^2(t) = E[x_a(t)^2]
  the model's terminal second moment (Okamoto et al. 2025)
"""

import numpy as np

from . import _checks
from .linear import LinearProblem

__all__ = ["GD", "SGD", "Adam", "VarianceCorrected", "OPTIMIZER_NAMES", "optimizer"]


# The updates run once per training step, after ``train`` has checked its arguments: on a
# LinearProblem they call its unchecked twins (_grad, _second_moment, _sample_x0); the other
# problems an optimizer serves (matrix, nonlinear) get their public methods.
def _grad(problem, a, x0=None):
    if isinstance(problem, LinearProblem):
        return problem._grad(a, x0)
    return problem.grad(a) if x0 is None else problem.grad(a, x0=x0)


def _loss(problem, a):
    return problem._loss(a) if isinstance(problem, LinearProblem) else problem.loss(a)


def _second_moment(problem, a, x0=None):
    if isinstance(problem, LinearProblem):
        return problem._second_moment(a, x0)
    return problem.second_moment(a) if x0 is None else problem.second_moment(a, x0=x0)


def _sample_x0(problem, size, rng):
    if isinstance(problem, LinearProblem):
        return problem._sample_x0(size, rng)
    return problem.sample_x0(size, rng)


class GD:
    """Plain gradient descent, a <- a - lr Loss'(a); with ``gradient`` (a function a -> array like a) the
    step a <- a - lr gradient(a) takes that function in place of the problem's exact Loss'."""

    def __init__(self, lr, gradient=None):
        self.lr = _checks.positive_finite("lr", lr)
        if gradient is not None and not callable(gradient):
            raise TypeError(f"gradient must be None or a function a -> dLoss/da, got {type(gradient).__name__}")
        self.gradient = gradient

    def __repr__(self):
        return f"GD(lr={self.lr})"

    def init(self, a):
        return {}

    def update(self, problem, a, state, k):
        return a - self.lr * (_grad(problem, a) if self.gradient is None else self.gradient(a))


class SGD:
    """Minibatch SGD: Loss' estimated on ``batch_size`` fresh x0 ~ N(0, sigma^2) per step."""

    def __init__(self, lr, batch_size, seed=0):
        self.lr = _checks.positive_finite("lr", lr)
        self.batch_size = _checks.positive_int("batch_size", batch_size, maximum=_checks.MAX_WORK)
        self.seed = _checks.seed("seed", seed)

    def __repr__(self):
        return f"SGD(lr={self.lr}, batch_size={self.batch_size}, seed={self.seed})"

    def init(self, a):
        return {"rng": np.random.default_rng(self.seed)}

    def update(self, problem, a, state, k):
        batch = _sample_x0(problem, self.batch_size, state["rng"])
        return a - self.lr * _grad(problem, a, x0=batch)


class Adam:
    """Adam as in torch.optim.Adam (no weight decay, no amsgrad).

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    a <- a - lr (m / (1 - b1^k)) / (sqrt(v / (1 - b2^k)) + eps).
    """

    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = _checks.positive_finite("lr", lr)
        self.beta1 = _checks.unit_interval("beta1", beta1)
        self.beta2 = _checks.unit_interval("beta2", beta2)
        self.eps = _checks.positive_finite("eps", eps)

    def __repr__(self):
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps})"

    def init(self, a):
        return {"m": np.zeros_like(a), "v": np.zeros_like(a)}

    def update(self, problem, a, state, k):
        g = _grad(problem, a)
        state["m"] = self.beta1 * state["m"] + (1 - self.beta1) * g
        state["v"] = self.beta2 * state["v"] + (1 - self.beta2) * g * g
        m_hat = state["m"] / (1 - self.beta1**k)
        v_hat = state["v"] / (1 - self.beta2**k)
        return a - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class VarianceCorrected:
    """The variance-corrected rule a <- a - lr Loss'(a) / (t^2 E[x_a(t)^2]).

    For the exact flow this is a <- a - (lr / t)(1 - e^{(a* - a) t}); the terminal second moment is
    the problem's own (empirical on a sampled problem), so a* is never needed.
    """

    def __init__(self, lr):
        self.lr = _checks.positive_finite("lr", lr)

    def __repr__(self):
        return f"VarianceCorrected(lr={self.lr})"

    def init(self, a):
        return {}

    def update(self, problem, a, state, k):
        return a - self.lr * _grad(problem, a) / (problem.t**2 * _second_moment(problem, a))


# Every optimizer by name, for each kind of problem: the scalar rate a (chapters 4 and 5), the matrix A
# of dx/dt = A x and the nonlinear model's (a, b) (chapter 6). A name means one rule in every kind it is in.
OPTIMIZER_NAMES = {
    "scalar": ("GD", "SGD", "Adam", "variance-corrected"),
    "matrix": ("GD", "Adam", "covariance", "covariance + line search", "Gauss-Newton", "Gauss-Newton + line search"),
    "nonlinear": ("GD", "Adam", "diagonal", "diagonal + line search", "Gauss-Newton + line search"),
}


def optimizer(name, kind, lr, batch_size=8, seed=0):
    """The optimizer called ``name`` (one of ``OPTIMIZER_NAMES[kind]``) with learning rate ``lr``.

    SGD (scalar) draws ``batch_size`` fresh x0 per step from a generator seeded by ``seed``.
    "Gauss-Newton" is ``matrix.GaussNewton`` for A and ``nonlinear.LevenbergMarquardt`` (its damping
    1e-8 tr(H)/2 keeps the 2 x 2 system solvable) for (a, b).
    """
    _checks.choice("kind", kind, list(OPTIMIZER_NAMES))
    _checks.choice("optimizer name", name, OPTIMIZER_NAMES[kind])
    lr = _checks.positive_finite("lr", lr)
    batch_size = _checks.positive_int("batch_size", batch_size, maximum=_checks.MAX_WORK)
    seed = _checks.seed("seed", seed)
    if name == "GD":
        return GD(lr)
    if name == "Adam":
        return Adam(lr)
    if name == "SGD":
        return SGD(lr, batch_size, seed)
    if name == "variance-corrected":
        return VarianceCorrected(lr)
    from .matrix import CovariancePreconditioned, GaussNewton  # these modules build on this one
    from .nonlinear import DiagonalScaled, LevenbergMarquardt

    line_search = name.endswith(" + line search")
    rule = {
        "covariance": CovariancePreconditioned,
        "diagonal": DiagonalScaled,
        "Gauss-Newton": GaussNewton if kind == "matrix" else LevenbergMarquardt,
    }[name.removesuffix(" + line search")]
    return rule(lr, line_search=line_search)
