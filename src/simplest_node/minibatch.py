"""The variance-corrected rule on minibatches: a fresh batch of x0 every step.

``VarianceCorrectedSGD(lr, batch_size, seed, moment)`` draws a batch B_k of ``batch_size`` initial
states x0 ~ N(0, sigma^2) at step k (one batch shared by every entry of ``a``, as ``SGD`` does) and
steps

    a <- a - lr g_B(a) / (t^2 sigma_B'^2(a)),   g_B(a) = m2(B) (M(a) - e^{a* t}) M'(a),   sigma_B'^2(a) = m2(B') M(a)^2

with m2(B) the batch mean of x0^2. With ``moment="same"`` the second moment is taken on the same
batch (B' = B), as a training loop that reuses its forward pass would: m2(B) cancels and the update
equals the expectation's rule for every batch (up to rounding), because for this model a batch
enters loss, gradient and second moment only through the common factor m2. With
``moment="independent"`` B' is a second fresh batch (a variance tracked apart from the gradient):
the step is then the expectation's step times the random factor m2(B) / m2(B'), which is what
noise does to the preconditioner.
"""

import numpy as np
from scipy import integrate, stats

from . import _checks
from .optimizers import _grad, _sample_x0, _second_moment

__all__ = ["MOMENT_BATCHES", "VarianceCorrectedSGD", "moment_noise_rate"]

MOMENT_BATCHES = ("same", "independent")


class VarianceCorrectedSGD:
    """The variance-corrected rule with gradient and second moment estimated on minibatches."""

    def __init__(self, lr, batch_size, seed=0, moment="same"):
        self.lr = _checks.positive_finite("lr", lr)
        self.batch_size = _checks.positive_int("batch_size", batch_size, maximum=_checks.MAX_WORK)
        self.seed = _checks.seed("seed", seed)
        self.moment = _checks.choice("moment", moment, MOMENT_BATCHES)

    def __repr__(self):
        return (
            f"VarianceCorrectedSGD(lr={self.lr}, batch_size={self.batch_size}, seed={self.seed}, "
            f"moment={self.moment!r})"
        )

    def init(self, a):
        return {"rng": np.random.default_rng(self.seed)}

    def update(self, problem, a, state, k):
        batch = _sample_x0(problem, self.batch_size, state["rng"])
        if self.moment == "same":
            moment_batch = batch
        else:
            moment_batch = _sample_x0(problem, self.batch_size, state["rng"])
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            g = _grad(problem, a, x0=batch)
            return a - self.lr * g / (problem.t**2 * _second_moment(problem, a, x0=moment_batch))


def moment_noise_rate(lr, batch_size):
    """Asymptotic log-loss decrease per step, E[2 log|1 - lr rho|], with independent batches.

    Near a* the exact-flow rule is linear in the offset delta = a - a*: delta <- (1 - lr rho_k) delta, where
    rho_k = m2(B_k) / m2(B'_k) is the ratio of the second moments of two independent batches of
    ``batch_size`` draws, distributed as F(batch_size, batch_size). The loss, proportional to delta^2 near a*,
    then behaves like exp(k * rate) with the Lyapunov rate (law of large numbers on log|delta|)

        rate = 2 E[log|1 - lr rho|],     rho ~ F(B, B),

    so linear convergence survives (almost surely) iff rate < 0. With the same batch (rho = 1) the
    rate is 2 log|1 - lr|. Computed by adaptive quadrature (the log singularity at rho = 1/lr is
    integrable and passed to the integrator as a break point).
    """
    lr = _checks.positive_finite("lr", lr)
    batch_size = _checks.positive_int("batch_size", batch_size)
    dist = stats.f(batch_size, batch_size)
    pole = 1.0 / lr

    def integrand(rho):
        with np.errstate(divide="ignore"):
            return np.log(abs(1.0 - lr * rho)) * dist.pdf(rho)

    parts = [(0.0, pole), (pole, 2.0 * pole + 1.0), (2.0 * pole + 1.0, np.inf)]
    total = 0.0
    for low, high in parts:
        value, _ = integrate.quad(integrand, low, high, limit=200)
        total += value
    return 2.0 * total
