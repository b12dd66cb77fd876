"""The neural tangent kernel along a gradient-descent run of the wide model.

Lazy training (the NTK regime) predicts that in the NTK parametrization the kernel
``Theta_k`` of the k-th iterate stays within O(n^{-1/2}) of ``Theta_0`` over a fixed training time:
each weight moves by O(n^{-1/2}). ``ntk_trajectory`` records ``Theta_k`` at chosen steps of the
same full-batch GD as ``train_wide``, so its drift and its smallest eigenvalue can be measured.
"""

from typing import NamedTuple

import numpy as np

from . import _checks
from .wide import Weights, WideNODE, _check_weights, train_wide

__all__ = ["NTKTrajectory", "ntk_trajectory", "kernel_drift"]


class NTKTrajectory(NamedTuple):
    """GD with the NTK recorded: ``steps`` (C,) checkpoints, ``theta`` (C, D, B, B) at them (inf for
    a draw that has diverged),
    ``loss`` (steps[-1] + 1, D) after every step, ``diverged_at`` (D,) as in ``WideHistory``,
    ``weights`` at the last checkpoint."""

    steps: np.ndarray
    theta: np.ndarray
    loss: np.ndarray
    diverged_at: np.ndarray
    weights: Weights


def ntk_trajectory(model, weights, x, y, lr, checkpoints):
    """Run ``train_wide`` up to ``max(checkpoints)`` and return the empirical NTK at every checkpoint.

    ``checkpoints`` is a strictly increasing sequence of step counts >= 0. The trajectory is the
    one of a single ``train_wide`` call (GD is run in segments between checkpoints, and a segment
    starts from the weights the previous one ended with, so the iterates are identical).
    """
    _checks.instance("model", model, WideNODE, "a WideNODE")
    _check_weights(weights)
    if isinstance(checkpoints, (list, tuple)) and len(checkpoints) == 0:
        raise ValueError("checkpoints must be a non-empty strictly increasing sequence of integers >= 0, got []")
    steps = _checks.numeric_array("checkpoints", checkpoints, kinds="iu", what="integers")
    if steps.ndim != 1 or steps.size == 0 or np.any(steps < 0) or np.any(np.diff(steps) <= 0):
        raise ValueError(
            f"checkpoints must be a non-empty strictly increasing sequence of integers >= 0, got {checkpoints!r:.80}"
        )
    x = model._inputs(weights, x)
    y = model._targets(weights, y, x.shape[0])
    lr = _checks.positive_finite("lr", lr)
    n_iter = _checks.positive_int("max(checkpoints)", int(steps[-1]), minimum=0)
    _checks.bounded_work(
        "ntk_trajectory",
        n_iter=n_iter + steps.size,
        n_steps=model.n_steps,
        batch=weights.n_draws * weights.width * x.shape[0],
    )
    losses = [model.loss(weights, x, y)[None]]
    thetas, diverged = [], np.full(weights.n_draws, -1)
    done = 0
    for stop in steps:
        if stop > done:
            history = train_wide(model, weights, x, y, lr, int(stop - done))
            losses.append(history.loss[1:])
            fresh = (diverged < 0) & (history.diverged_at >= 0)
            diverged[fresh] = history.diverged_at[fresh] + done
            weights, done = history.weights, int(stop)
        with np.errstate(over="ignore", invalid="ignore"):
            theta = model.ntk(weights, x)
        # a draw frozen after diverging has weights whose NTK may overflow: it reads inf, like its loss
        theta[~np.all(np.isfinite(theta), axis=(1, 2)) | (diverged >= 0)] = np.inf
        thetas.append(theta)
    loss = np.concatenate(losses)
    # a draw frozen at its last finite weights stays at loss inf in the later segments too
    after = (diverged >= 0) & (np.arange(len(loss))[:, None] >= diverged)
    loss[after] = np.inf
    return NTKTrajectory(steps.astype(int), np.stack(thetas), loss, diverged, weights)


def kernel_drift(theta):
    """Relative Frobenius drift ||Theta_k - Theta_0||_F / ||Theta_0||_F of a stack (C, ..., B, B)."""
    theta = _checks.finite_array("theta", theta)
    if theta.ndim < 3 or theta.shape[-1] != theta.shape[-2]:
        raise ValueError(f"theta must have shape (C, ..., B, B), got {theta.shape}")
    norm0 = np.linalg.norm(theta[0], axis=(-2, -1))
    if np.any(norm0 == 0):
        raise ValueError("theta[0] must not be zero")
    return np.linalg.norm(theta - theta[0], axis=(-2, -1)) / norm0
