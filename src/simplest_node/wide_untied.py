"""The untied ResNet: the Euler discretization of the wide model with a fresh weight matrix per step.

With K steps of size T/K and widths n, from ``h_0 = sigma_u/sqrt(d) U x``::

    h_{k+1} = h_k + (T/K) sigma_w/sqrt(n) W_k phi(h_k),      k = 0, ..., K-1,

where ``W_0`` is the ``W`` of the given weights and ``W_1, ..., W_{K-1}`` are drawn i.i.d.
standard normal, independent of everything else (so K = 1 is the tied network). Since ``W_k`` is
independent of ``h_k``, the increments are martingale differences and
``E|h_K - h_0|^2 = (T sigma_w / K)^2 sum_k E|phi(h_k)|^2 = O(1/K)``: the untied network stops moving
as K grows, while the tied network ``W_k = W`` keeps an O(1) change (the chapter proves and
measures both).
"""

import numpy as np

from . import _checks
from .wide import WideNODE, _check_weights, _rng, activation

__all__ = ["untied_hidden"]


def untied_hidden(model, weights, x, seed=0):
    """h(T) of shape (D, n, B) of the untied K-step Euler network (K = ``model.n_steps``).

    ``weights`` gives U (for h_0) and W_0; the later blocks W_1, ..., W_{K-1}, each (D, n, n), are
    drawn one step at a time from ``numpy.random.default_rng(seed)`` (an int or a Generator).
    """
    _checks.instance("model", model, WideNODE, "a WideNODE")
    if model.method != "euler":
        raise ValueError(
            f"the untied network is a ResNet of Euler blocks: model.method must be 'euler', got {model.method!r}"
        )
    _check_weights(weights)
    x = model._inputs(weights, x)
    rng = _rng(seed)
    D, n, d = weights.n_draws, weights.width, weights.dim
    _checks.bounded_work("untied_hidden", n_steps=model.n_steps, batch=D * n * (n + x.shape[0]))
    phi, _ = activation(model.activation)
    step = model.dt * model.sigma_w / np.sqrt(n)
    h = (model.sigma_u / np.sqrt(d)) * np.einsum("dnk,bk->dnb", weights.U, x)
    W = weights.W
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(model.n_steps):
            if k:
                W = rng.standard_normal((D, n, n))
            h = h + step * (W @ phi(h))
    if not np.all(np.isfinite(h)):
        raise ValueError("the untied network overflowed: reduce T, sigma_w or the inputs")
    return h
