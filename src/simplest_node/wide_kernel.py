"""The infinite-width NNGP kernel of the Euler-discretized wide model, from its own recursion.

For ``K`` explicit Euler steps of size ``a = T/K`` the network of ``simplest_node.wide`` is
``h_{k+1} = h_k + a z_k`` with ``z_k = sigma_w/sqrt(n) W_k phi(h_k)`` and ``h_0 = sigma_u/sqrt(d) U x``
(weight-tied: ``W_k = W`` for every k; untied: independent ``W_k``). As n -> infinity with K fixed,
the coordinates of ``(h_0, z_0, ..., z_{K-1})`` over all inputs become jointly Gaussian and i.i.d.
over the n units (the Netsor master theorem of Yang, "Tensor Programs I", 2019: the forward pass
uses W but never W^T), with covariances

    Cov(h_0(x), h_0(x'))  = sigma_u^2 x.x' / d,
    Cov(z_k(x), z_j(x'))  = sigma_w^2 E[phi(h_k(x)) phi(h_j(x'))]   tied, every j <= k,
                            (the same expression for j = k and 0 for j != k when untied),
    Cov(z_k, h_0)         = 0,

where each ``h_k = h_0 + a sum_{j<k} z_j`` is a linear combination of the Gaussians already built.
The kernel of the outputs is ``K_inf(x, x') = sigma_v^2 E[phi(h_K(x)) phi(h_K(x'))]``. Every
expectation is over a bivariate normal and is computed by a tensor-product Gauss-Hermite rule;
for smooth activations it converges exponentially in the number of nodes, for ReLU (a kink) only
algebraically (the unit tests measure both).

The tied recursion is exact for the K-step weight-tied ResNet at infinite width; it is not the
kernel of the continuous-time ODE (K -> infinity), which it approaches at the rate of Euler.
"""

import functools

import numpy as np

from . import _checks
from .wide import WideNODE, activation

__all__ = ["gaussian_expectation", "limit_kernel"]


@functools.lru_cache(maxsize=16)
def _nodes(n_quad):
    """Nodes and weights of the n_quad-point rule for E[g(xi)], xi standard normal."""
    xi, w = np.polynomial.hermite_e.hermegauss(n_quad)
    return xi, w / np.sqrt(2.0 * np.pi)


def gaussian_expectation(activation_name, var_a, var_b, cov_ab, n_quad=64):
    """E[phi(a) phi(b)] for (a, b) centred normal with the given (co)variances (arrays broadcast).

    a = sqrt(var_a) xi_1, b = (cov_ab / sqrt(var_a)) xi_1 + sqrt(var_b - cov_ab^2/var_a) xi_2 with
    xi_1, xi_2 independent standard normal, and each integral by ``n_quad``-point Gauss-Hermite.
    """
    phi, _ = activation(activation_name)
    var_a = _checks.finite_array("var_a", var_a)
    var_b = _checks.finite_array("var_b", var_b)
    cov_ab = _checks.finite_array("cov_ab", cov_ab)
    n_quad = _checks.positive_int("n_quad", n_quad, maximum=400)
    if np.any(var_a < 0) or np.any(var_b < 0):
        raise ValueError("var_a and var_b must be >= 0")
    try:
        var_a, var_b, cov_ab = np.broadcast_arrays(var_a, var_b, cov_ab)
    except ValueError as err:
        raise ValueError(f"var_a, var_b and cov_ab must broadcast together: {err}") from None
    # |cov| <= sqrt(var_a) sqrt(var_b), written without squares so that huge entries do not overflow
    if np.any(np.abs(cov_ab) > np.sqrt(var_a) * np.sqrt(var_b) * (1 + 1e-9) + 1e-150):
        raise ValueError("cov_ab^2 must not exceed var_a * var_b (not a covariance matrix)")
    _checks.bounded_work("gaussian_expectation", entries=var_a.size, nodes=n_quad * n_quad)
    return _expectation(phi, var_a, var_b, cov_ab, n_quad)


def _expectation(phi, var_a, var_b, cov_ab, n_quad):
    xi, w = _nodes(n_quad)
    sa = np.sqrt(var_a)
    slope = np.divide(cov_ab, sa, out=np.zeros_like(cov_ab), where=sa > 0)
    rest = np.sqrt(np.maximum(var_b - slope**2, 0.0))
    a = sa[..., None] * xi  # (..., q)
    pa = phi(a)
    b = slope[..., None, None] * xi[:, None] + rest[..., None, None] * xi[None, :]  # (..., q, q)
    inner = phi(b) @ w  # (..., q): E over xi_2
    return np.einsum("...i,...i,i->...", pa, inner, w)


def limit_kernel(model, x, tied=True, n_quad=64):
    """K_inf (B, B) of the Euler network ``model`` with ``model.n_steps`` steps at infinite width.

    ``tied`` selects the weight-tied network (one W, the model of the chapter) or the untied one
    (a fresh W per step); see the module docstring for the recursion.
    """
    _checks.instance("model", model, WideNODE, "a WideNODE")
    if model.method != "euler":
        raise ValueError(f"limit_kernel is derived for model.method 'euler', got {model.method!r}")
    x = _checks.finite_array("x", x)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"x must have shape (B, d), got {x.shape}")
    tied = _checks.flag("tied", tied)
    n_quad = _checks.positive_int("n_quad", n_quad, maximum=400)
    B, d = x.shape
    K = model.n_steps
    pairs = K * (K + 1) // 2 if tied else K
    _checks.bounded_work("limit_kernel", pairs=pairs + 1, inputs=B * B, nodes=n_quad * n_quad)
    phi, _ = activation(model.activation)
    a = model.dt
    N = (K + 1) * B  # the Gaussians h_0, z_0, ..., z_{K-1}, B entries each
    C = np.zeros((N, N))
    with np.errstate(over="ignore", invalid="ignore"):
        C[:B, :B] = model.sigma_u**2 * (x @ x.T) / d
    L = np.zeros((K + 1, B, N))  # h_k = L[k] @ (h_0, z_0, ...)
    L[:, :, :B] = np.eye(B)
    for k in range(1, K + 1):
        L[k:, :, k * B : (k + 1) * B] += a * np.eye(B)

    var_h = np.zeros((K + 1, B))  # Var(h_j(b)): fixed once z_0, ..., z_{j-1} are built

    def moments(k, js):
        """E[phi(h_k(b)) phi(h_j(b'))] for j in js (all <= k): shape (len(js), B, B)."""
        LkC = L[k] @ C
        var_h[k] = np.sum(LkC * L[k], axis=1)
        cov = np.swapaxes(L[js] @ LkC.T, 1, 2)  # Cov(h_k(b), h_j(b'))
        va, vb = np.broadcast_arrays(var_h[k][None, :, None], var_h[js][:, None, :])
        return _expectation(phi, va.copy(), vb.copy(), cov, n_quad)

    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(K):
            js = np.arange(k + 1) if tied else np.array([k])
            block = model.sigma_w**2 * moments(k, js)  # Cov(z_k, z_j) for j in js
            rows = slice((k + 1) * B, (k + 2) * B)
            for j, cov in zip(js, block):
                cols = slice((j + 1) * B, (j + 2) * B)
                C[rows, cols] = cov
                C[cols, rows] = cov.T
        kernel = model.sigma_v**2 * moments(K, np.array([K]))[0]
    if not (np.all(np.isfinite(kernel)) and np.all(np.isfinite(C))):
        raise ValueError("the limit kernel overflowed: reduce T, sigma_w or the inputs")
    return 0.5 * (kernel + kernel.T)
