"""The weight-tied width-n Neural ODE of the activation chapter, its gradients and kernels.

The model assumed for Gao et al. (2025) (the weight-tied form of the authors' earlier work, not
checked against that paper), for an input ``x`` in R^d and width n::

    h(0)  = sigma_u / sqrt(d) * U x                        U in R^{n x d}
    dh/dt = sigma_w / sqrt(n) * W phi(h),   0 <= t <= T      W in R^{n x n}, shared over time
    f(x)  = sigma_v / sqrt(n) * v^T phi(h(T))                v in R^n

with U, W, v standard Gaussian at initialization. We write ``c_u = sigma_u/sqrt(d)``,
``c = sigma_w/sqrt(n)`` and ``c_v = sigma_v/sqrt(n)``.

Arrays carry a leading axis of independent weight draws D, so a Monte Carlo over a thousand
networks is one batched matmul: hidden states have shape (D, n, B) for B inputs, outputs (D, B).

The ODE is solved with a fixed-step explicit Runge-Kutta method (a tableau of
``simplest_node.runge_kutta``: ``euler``, ``midpoint``, ``heun``, ``rk4``, ...) with ``n_steps`` steps of size
``dt = T / n_steps``. For the loss ``L = 1/(2B) sum_b (f(x_b) - y_b)^2`` of each draw there are
two gradients:

* ``grad_backprop``: the exact gradient of the *discrete* model (reverse mode through every
  stage of every step, written out by hand);
* ``grad_adjoint``: the continuous adjoint of Chen et al. (2018), solved backwards in time with
  the same method and step count: with ``lambda(T) = dL/dh(T)``::

      dlambda/dt = -(df/dh)^T lambda = -c phi'(h) * (W^T lambda),
      dL/dW = c int_0^T lambda(t) phi(h(t))^T dt,

  where ``h`` is reconstructed by integrating the forward ODE backwards from ``h(T)``.

Both converge to the gradient of the continuous model as ``n_steps`` grows; how fast depends on
the smoothness of ``phi`` (the chapter measures it).

Kernels, per network (one draw of U, W, v):

* ``kernel``: the empirical NNGP kernel ``K(x, x') = sigma_v^2/n * phi(h_T(x))^T phi(h_T(x'))``,
  the covariance of f over v given U and W;
  its mean over draws is exactly the covariance of the outputs at width n;
* ``ntk``: the empirical neural tangent kernel ``Theta(x, x') = <df(x)/dtheta, df(x')/dtheta>``
  over all parameters theta = (U, W, v).
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import special, stats

from . import _checks
from .runge_kutta import BUTCHER_TABLEAUX as _TABLEAUS
from .runge_kutta import RK_METHODS
from .solvers import integrate

__all__ = [
    "ACTIVATIONS",
    "activation",
    "Weights",
    "sample_weights",
    "WideNODE",
    "monte_carlo",
    "MonteCarlo",
    "ks_normal",
    "loglog_slope",
    "train_wide",
    "WideHistory",
    "linearized_loss",
    "ks_null_level",
    "SMOOTH_ACTIVATIONS",
    "WIDE_METHODS",
    "Grads",
]

ACTIVATIONS = ("softplus", "tanh", "gelu", "relu", "identity")
SMOOTH_ACTIVATIONS = ("softplus", "tanh", "gelu")

_SQRT2 = np.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def _softplus(x):
    return np.logaddexp(0.0, x)


def _softplus_prime(x):
    return special.expit(x)


def _tanh_prime(x):
    return 1.0 / np.cosh(np.clip(x, -350.0, 350.0)) ** 2


def _gelu(x):
    return 0.5 * x * (1.0 + special.erf(x / _SQRT2))


def _gelu_prime(x):
    return 0.5 * (1.0 + special.erf(x / _SQRT2)) + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)


def _relu(x):
    return np.maximum(x, 0.0)


def _relu_prime(x):
    return (x > 0).astype(float)


def _identity(x):
    return np.asarray(x, dtype=float)


def _identity_prime(x):
    return np.ones_like(x, dtype=float)


_ACT = {
    "softplus": (_softplus, _softplus_prime),
    "tanh": (np.tanh, _tanh_prime),
    "gelu": (_gelu, _gelu_prime),
    "relu": (_relu, _relu_prime),
    "identity": (_identity, _identity_prime),
}


def activation(name):
    """Return ``(phi, phi_prime)`` for ``name`` in ``ACTIVATIONS``.

    softplus(x) = log(1 + e^x); tanh; GELU(x) = x Phi(x) = x (1 + erf(x/sqrt 2))/2;
    ReLU(x) = max(x, 0) with ReLU'(0) = 0; identity(x) = x.
    """
    _checks.choice("activation name", name, ACTIVATIONS)
    return _ACT[name]


WIDE_METHODS = RK_METHODS


class _WeightArrays(NamedTuple):
    U: np.ndarray
    W: np.ndarray
    v: np.ndarray


class Weights(_WeightArrays):
    """D independent draws of the parameters: U (D, n, d), W (D, n, n), v (D, n).

    The constructor checks that the three are finite real arrays of matching shapes.
    (``Weights._make`` skips the checks; the package uses it for arrays it has just computed.)
    """

    __slots__ = ()

    def __new__(cls, U, W, v):
        U, W, v = (_checks.finite_array(name, value) for name, value in (("U", U), ("W", W), ("v", v)))
        _check_shapes(U, W, v)
        return super().__new__(cls, U, W, v)

    @property
    def n_draws(self):
        return self.W.shape[0]

    @property
    def width(self):
        return self.W.shape[1]

    @property
    def dim(self):
        return self.U.shape[2]


def sample_weights(width, dim, n_draws=1, seed=0):
    """Draw ``n_draws`` independent networks: U, W, v with i.i.d. N(0, 1) entries.

    ``seed`` is an int (or a ``numpy.random.Generator``, used as is); U, then W, then v are
    drawn from ``numpy.random.default_rng(seed)`` in that order.
    """
    width = _checks.positive_int("width", width)
    dim = _checks.positive_int("dim", dim)
    n_draws = _checks.positive_int("n_draws", n_draws)
    _checks.bounded_work("sample_weights", n_draws=n_draws, width=width, width_plus_dim_plus_1=width + dim + 1)
    rng = _rng(seed)
    U = rng.standard_normal((n_draws, width, dim))
    W = rng.standard_normal((n_draws, width, width))
    v = rng.standard_normal((n_draws, width))
    return Weights._make((U, W, v))


def _rng(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"seed must be a non-negative int or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _check_weights(weights):
    if not isinstance(weights, Weights):
        raise TypeError(f"weights must be a Weights tuple (see sample_weights), got {type(weights).__name__}")
    _check_shapes(*(np.asarray(a) for a in weights))
    return weights


def _check_shapes(U, W, v):
    if W.ndim != 3 or W.shape[1] != W.shape[2]:
        raise ValueError(f"weights.W must have shape (D, n, n), got {W.shape}")
    D, n = W.shape[:2]
    if U.ndim != 3 or U.shape[:2] != (D, n):
        raise ValueError(f"weights.U must have shape (D, n, d) = ({D}, {n}, d), got {U.shape}")
    if v.shape != (D, n):
        raise ValueError(f"weights.v must have shape (D, n) = ({D}, {n}), got {v.shape}")


class Grads(NamedTuple):
    """Gradients of the loss of each draw: U (D, n, d), W (D, n, n), v (D, n)."""

    U: np.ndarray
    W: np.ndarray
    v: np.ndarray


@dataclass(frozen=True)
class WideNODE:
    """Hyperparameters of the weight-tied Neural ODE (see the module docstring).

    ``activation`` in ``ACTIVATIONS``; horizon ``T`` > 0; ``n_steps`` solver steps of ``method``
    in ``WIDE_METHODS`` (at most ``_checks.MAX_WORK``; each solve checks
    the work n_steps x stages x (draws x width x inputs) against it too); the scales ``sigma_u``,
    ``sigma_w``, ``sigma_v`` > 0.
    """

    activation: str = "tanh"
    T: float = 1.0
    n_steps: int = 10
    method: str = "euler"
    sigma_u: float = 1.0
    sigma_w: float = 1.0
    sigma_v: float = 1.0

    def __post_init__(self):
        _checks.choice("activation", self.activation, ACTIVATIONS)
        _checks.choice("method", self.method, WIDE_METHODS)
        object.__setattr__(self, "T", _checks.positive_finite("T", self.T))
        object.__setattr__(self, "n_steps", _checks.positive_int("n_steps", self.n_steps, maximum=_checks.MAX_WORK))
        for name in ("sigma_u", "sigma_w", "sigma_v"):
            object.__setattr__(self, name, _checks.positive_finite(name, getattr(self, name)))

    @classmethod
    def inverse_T_scaling(cls, c=1.0, T=1.0, **kwargs):
        """The model with sigma_w = c / T (the long-horizon scaling of Gao et al.)."""
        c = _checks.positive_finite("c", c)
        T = _checks.positive_finite("T", T)
        return cls(T=T, sigma_w=c / T, **kwargs)

    @property
    def dt(self):
        return self.T / self.n_steps

    # ---------------------------------------------------------------- checks
    def _inputs(self, weights, x):
        _check_weights(weights)
        x = _checks.finite_array("x", x)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != weights.dim:
            raise ValueError(f"x must have shape (B, d) with d = {weights.dim}, got {x.shape}")
        return x

    def _targets(self, weights, y, n_inputs):
        y = _checks.finite_array("y", y)
        if y.shape not in ((n_inputs,), (weights.n_draws, n_inputs)):
            raise ValueError(
                f"y must have shape (B,) = ({n_inputs},) or (D, B) = ({weights.n_draws}, {n_inputs}), got {y.shape}"
            )
        return y

    # ---------------------------------------------------------------- forward
    def _field(self, W, phi, c):
        def field(t, h):
            return c * (W @ phi(h))

        return field

    def hidden(self, weights, x, return_stages=False):
        """h(T) of shape (D, n, B) for inputs ``x`` of shape (B, d).

        With ``return_stages=True`` also return the list of stage inputs y_{k,i} of every step
        (the cache of the backward pass), each of shape (D, n, B).
        """
        x = self._inputs(weights, x)
        return_stages = _checks.flag("return_stages", return_stages)
        return self._hidden(weights, x, return_stages)

    def _work(self, weights, x, what):
        """Check the work of one solve (steps x stages x the D x n x B hidden states) against MAX_WORK."""
        _checks.bounded_work(
            what,
            n_steps=self.n_steps * len(_TABLEAUS[self.method][1]),
            batch=weights.n_draws * weights.width * x.shape[0],
        )

    def _hidden(self, weights, x, return_stages=False):
        """``hidden`` for checked arguments."""
        self._work(weights, x, "WideNODE")
        phi, _ = activation(self.activation)
        U, W, _v = weights
        n, d = weights.width, weights.dim
        c = self.sigma_w / np.sqrt(n)
        h = (self.sigma_u / np.sqrt(d)) * np.einsum("dnk,bk->dnb", U, x)
        A, b = _TABLEAUS[self.method]
        dt = self.dt
        stages = []
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(self.n_steps):
                ks = []
                for i in range(len(b)):
                    y = h
                    for j in range(i):
                        if A[i, j]:
                            y = y + (dt * A[i, j]) * ks[j]
                    if return_stages:
                        stages.append(y)
                    ks.append(c * (W @ phi(y)))
                h = h + dt * sum(b_i * k for b_i, k in zip(b, ks) if b_i)
        return (h, stages) if return_stages else h

    def forward(self, weights, x):
        """Outputs f(x_b) of every draw: an array of shape (D, B)."""
        x = self._inputs(weights, x)
        return self._readout(weights, self._hidden(weights, x))

    def _readout(self, weights, h):
        phi, _ = activation(self.activation)
        with np.errstate(over="ignore", invalid="ignore"):
            return (self.sigma_v / np.sqrt(weights.width)) * np.einsum("dn,dnb->db", weights.v, phi(h))

    def kernel(self, weights, x):
        """Per-network NNGP kernel sigma_v^2/n phi(h_T(x_b))^T phi(h_T(x_c)): shape (D, B, B)."""
        x = self._inputs(weights, x)
        h = self._hidden(weights, x)
        phi, _ = activation(self.activation)
        with np.errstate(over="ignore", invalid="ignore"):
            p = phi(h)
            return (self.sigma_v**2 / weights.width) * (np.swapaxes(p, 1, 2) @ p)

    # ---------------------------------------------------------------- backward
    def _backward(self, weights, x, h_T, stages, fbar):
        """Reverse pass through the solver for output cotangents ``fbar`` (D, B).

        Returns (lambda_0, kbars, pstages): the cotangent of h(0), and for every stage (k, i) the
        cotangent of its slope ``k_{k,i}`` and phi(y_{k,i}) (two lists of (D, n, B) arrays). The
        B columns never mix, so with ``fbar = 1`` column b holds the derivatives of f(x_b) alone.
        """
        phi, dphi = activation(self.activation)
        U, W, v = weights
        n = weights.width
        c = self.sigma_w / np.sqrt(n)
        c_v = self.sigma_v / np.sqrt(n)
        A, b = _TABLEAUS[self.method]
        s = len(b)
        dt = self.dt
        Wt = np.ascontiguousarray(np.swapaxes(W, 1, 2))
        kbars, pstages = [], []
        with np.errstate(over="ignore", invalid="ignore"):
            lam = c_v * v[:, :, None] * dphi(h_T) * fbar[:, None, :]
            for k in reversed(range(self.n_steps)):
                ys = stages[k * s : (k + 1) * s]
                ybar = [None] * s
                for i in reversed(range(s)):
                    kbar = (dt * b[i]) * lam
                    for j in range(i + 1, s):
                        if A[j, i]:
                            kbar = kbar + (dt * A[j, i]) * ybar[j]
                    ybar[i] = dphi(ys[i]) * (c * (Wt @ kbar))
                    kbars.append(kbar)
                    pstages.append(phi(ys[i]))
                lam = lam + sum(ybar)
        return lam, kbars, pstages

    def loss(self, weights, x, y):
        """L = 1/(2B) sum_b (f(x_b) - y_b)^2 for every draw: shape (D,)."""
        x = self._inputs(weights, x)
        y = self._targets(weights, y, x.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):
            return 0.5 * np.mean((self._readout(weights, self._hidden(weights, x)) - y) ** 2, axis=-1)

    def grad_backprop(self, weights, x, y):
        """(loss (D,), Grads): the exact gradient of the discretized model by reverse mode."""
        x = self._inputs(weights, x)
        y = self._targets(weights, y, x.shape[0])
        return self._grad_backprop(weights, x, y)

    def _grad_backprop(self, weights, x, y):
        """``grad_backprop`` for checked arguments (``train_wide`` calls it at every step)."""
        h_T, stages = self._hidden(weights, x, return_stages=True)
        with np.errstate(over="ignore", invalid="ignore"):
            f = self._readout(weights, h_T)
            r = f - y
            fbar = r / x.shape[0]
            lam0, kbars, pstages = self._backward(weights, x, h_T, stages, fbar)
            c = self.sigma_w / np.sqrt(weights.width)
            # one small product per stage rather than one large one: small BLAS calls stay
            # single-threaded, which is much faster on a busy machine
            gW = c * sum(kb @ np.swapaxes(p, 1, 2) for kb, p in zip(kbars, pstages))
            return 0.5 * np.mean(r**2, axis=-1), self._grads_uv(weights, x, h_T, fbar, lam0, gW)

    def _grads_uv(self, weights, x, h_T, fbar, lam0, gW):
        phi, _ = activation(self.activation)
        c_u = self.sigma_u / np.sqrt(weights.dim)
        c_v = self.sigma_v / np.sqrt(weights.width)
        gU = c_u * np.einsum("dnb,bk->dnk", lam0, x)
        gv = c_v * np.einsum("dnb,db->dn", phi(h_T), fbar)
        return Grads(gU, gW, gv)

    def grad_adjoint(self, weights, x, y):
        """(loss (D,), Grads): the continuous adjoint solved backwards with ``method``/``n_steps``.

        In reversed time s = T - t the augmented state (h, a, G) obeys
        dh/ds = -c W phi(h),  da/ds = phi'(h) * (c W^T a),  dG/ds = c a phi(h)^T,
        from (h(T), dL/dh(T), 0); then dL/dW = G(s = T) and dL/dU = c_u a(0) x^T.
        """
        x = self._inputs(weights, x)
        y = self._targets(weights, y, x.shape[0])
        phi, dphi = activation(self.activation)
        U, W, v = weights
        n, B = weights.width, x.shape[0]
        c = self.sigma_w / np.sqrt(n)
        c_v = self.sigma_v / np.sqrt(n)
        Wt = np.ascontiguousarray(np.swapaxes(W, 1, 2))
        h_T = self._hidden(weights, x)
        with np.errstate(over="ignore", invalid="ignore"):
            f = self._readout(weights, h_T)
            r = f - y
            fbar = r / B
            a_T = c_v * v[:, :, None] * dphi(h_T) * fbar[:, None, :]

            def field(s, z):
                h, a = z[..., :B], z[..., B : 2 * B]
                p = phi(h)
                dh = -c * (W @ p)
                da = dphi(h) * (c * (Wt @ a))
                dG = c * (a @ np.swapaxes(p, 1, 2))
                return np.concatenate([dh, da, dG], axis=-1)

            z0 = np.concatenate([h_T, a_T, np.zeros_like(W)], axis=-1)
            z = integrate(field, z0, self.T, self.n_steps, self.method)
            lam0, gW = z[..., B : 2 * B], z[..., 2 * B :]
            return 0.5 * np.mean(r**2, axis=-1), self._grads_uv(weights, x, h_T, fbar, lam0, gW)

    def ntk(self, weights, x, parts=False):
        """Empirical NTK Gram matrices (D, B, B) over theta = (U, W, v), by reverse mode.

        Theta = Theta_U + Theta_W + Theta_v with Theta_W[b, b'] =
        c^2 sum_{p, q} <kbar_p[:, b], kbar_q[:, b']> <phi(y_p)[:, b], phi(y_q)[:, b']> over all
        stages p, q (no n x n Jacobian is formed). ``parts=True`` returns the three terms.
        """
        x = self._inputs(weights, x)
        parts = _checks.flag("parts", parts)
        D, B = weights.n_draws, x.shape[0]
        # the Gram matrices of all stage cotangents: (steps x stages x B)^2 x width per draw
        m = self.n_steps * len(_TABLEAUS[self.method][1])
        _checks.bounded_work("WideNODE.ntk", n_steps=m * B, batch=m * B * D * weights.width)
        h_T, stages = self._hidden(weights, x, return_stages=True)
        with np.errstate(over="ignore", invalid="ignore"):
            lam0, kbars, pstages = self._backward(weights, x, h_T, stages, np.ones((D, B)))
            m = len(kbars)
            Kb = np.concatenate(kbars, axis=-1)  # (D, n, m B), column p B + b
            P = np.concatenate(pstages, axis=-1)
            kk = (np.swapaxes(Kb, 1, 2) @ Kb).reshape(D, m, B, m, B)
            pp = (np.swapaxes(P, 1, 2) @ P).reshape(D, m, B, m, B)
            c = self.sigma_w / np.sqrt(weights.width)
            theta_W = c**2 * np.einsum("dpbqc,dpbqc->dbc", kk, pp)
            c_u = self.sigma_u / np.sqrt(weights.dim)
            theta_U = c_u**2 * (np.swapaxes(lam0, 1, 2) @ lam0) * (x @ x.T)
            phi, _ = activation(self.activation)
            p = phi(h_T)
            theta_v = (self.sigma_v**2 / weights.width) * (np.swapaxes(p, 1, 2) @ p)
        if parts:
            return theta_U, theta_W, theta_v
        return theta_U + theta_W + theta_v


# -------------------------------------------------------------------- Monte Carlo
class MonteCarlo(NamedTuple):
    """Outputs f (N, B) and per-network NNGP kernels (N, B, B) of N independent networks."""

    outputs: np.ndarray
    kernels: np.ndarray


def monte_carlo(model, width, x, n_draws, seed=0, chunk=250):
    """Outputs and per-network kernels of ``n_draws`` independent networks at inputs ``x``.

    The draws are processed ``chunk`` at a time (one batched computation per chunk, bounding the
    memory at chunk * width^2 floats); chunk i uses the generator
    ``default_rng(SeedSequence(seed).spawn(n_chunks)[i])``, so results depend on (seed, chunk).
    ``model`` may also be a list of ``WideNODE``: they are evaluated on the *same* weights (sampled
    once) and a list of results is returned.
    """
    models = list(model) if isinstance(model, (list, tuple)) else [model]
    if not models or not all(isinstance(m, WideNODE) for m in models):
        raise TypeError(f"model must be a WideNODE or a non-empty list of them, got {model!r}")
    width = _checks.positive_int("width", width)
    n_draws = _checks.positive_int("n_draws", n_draws)
    chunk = _checks.positive_int("chunk", chunk)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"seed must be a non-negative int, got {seed!r}")
    x = _checks.finite_array("x", x)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"x must have shape (B, d), got {x.shape}")
    for m in models:
        _checks.bounded_work(
            "monte_carlo",
            n_steps=m.n_steps * len(_TABLEAUS[m.method][1]),
            n_draws=n_draws,
            width=width,
            inputs=x.shape[0],
        )
    sizes = [min(chunk, n_draws - start) for start in range(0, n_draws, chunk)]
    seeds = np.random.SeedSequence(int(seed)).spawn(len(sizes))
    outs = [[] for _ in models]
    kers = [[] for _ in models]
    for size, ss in zip(sizes, seeds):
        weights = sample_weights(width, x.shape[1], size, np.random.default_rng(ss))
        for m, out, ker in zip(models, outs, kers):
            phi, _ = activation(m.activation)
            h = m.hidden(weights, x)
            with np.errstate(over="ignore", invalid="ignore"):
                p = phi(h)
                out.append((m.sigma_v / np.sqrt(width)) * np.einsum("dn,dnb->db", weights.v, p))
                ker.append((m.sigma_v**2 / width) * (np.swapaxes(p, 1, 2) @ p))
    results = [MonteCarlo(np.concatenate(o), np.concatenate(k)) for o, k in zip(outs, kers)]
    return results if isinstance(model, (list, tuple)) else results[0]


def ks_normal(samples):
    """Kolmogorov-Smirnov statistic of ``samples`` against the normal fitted by maximum likelihood.

    Returns (statistic, mu, sigma) with (mu, sigma) = ``scipy.stats.norm.fit(samples)``. (With
    fitted parameters the textbook KS p-value is not valid (Lilliefors); we report the statistic.)
    """
    samples = _checks.finite_array("samples", samples)
    if samples.ndim != 1 or samples.size < 2:
        raise ValueError(f"samples must be a 1-D array of at least 2 numbers, got shape {samples.shape}")
    # The statistic does not change under x -> x / c; samples near the overflow threshold are
    # scaled down first so that the fit's sums cannot overflow (mu and sigma are scaled back).
    scale = np.max(np.abs(samples))
    scale = scale if scale > 1e150 else 1.0
    mu, sigma = stats.norm.fit(samples / scale if scale != 1.0 else samples)
    if not sigma > 0:
        raise ValueError("samples must not all be equal")
    ks = stats.kstest(samples / scale if scale != 1.0 else samples, "norm", args=(mu, sigma)).statistic
    with np.errstate(over="ignore"):
        return float(ks), float(mu * scale), float(sigma * scale)


def loglog_slope(x, y):
    """Least-squares slope of log(y) against log(x)."""
    x = _checks.finite_array("x", x)
    y = _checks.finite_array("y", y)
    if x.shape != y.shape or x.ndim != 1 or x.size < 2:
        raise ValueError("x and y must be 1-D arrays of the same length >= 2")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y must be > 0 for a log-log fit")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


# -------------------------------------------------------------------- training
class WideHistory(NamedTuple):
    """Loss of every draw after each GD step: loss (n_iter + 1, D); diverged_at (D,), -1 if never."""

    loss: np.ndarray
    diverged_at: np.ndarray
    weights: Weights


def train_wide(model, weights, x, y, lr, n_iter):
    """Full-batch gradient descent on (U, W, v) of every draw at once, backprop gradients.

    theta <- theta - lr * dL/dtheta. A draw whose loss or weights become non-finite is frozen at its
    last finite weights, its step recorded in ``diverged_at`` and its loss inf from then on. The work
    (n_iter + 1) x (the steps of one solve and its reverse pass) x (D x n x B hidden states) is
    limited by ``_checks.MAX_WORK``.

    Its own loop, not ``batch_training.run_batched``: one reverse pass gives the loss and the gradient
    of a step together (run_batched evaluates the loss of each proposal apart, which would double the
    solves), and the parameters are three arrays of different shapes per draw.
    """
    if not isinstance(model, WideNODE):
        raise TypeError(f"model must be a WideNODE, got {type(model).__name__}")
    _check_weights(weights)
    x = model._inputs(weights, x)
    y = model._targets(weights, y, x.shape[0])
    lr = _checks.positive_finite("lr", lr)
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
    _checks.bounded_work(
        "train_wide",
        n_iter=n_iter + 1,
        n_steps=2 * model.n_steps * len(_TABLEAUS[model.method][1]),
        batch=weights.n_draws * weights.width * x.shape[0],
    )
    U, W, v = (np.array(a, dtype=float) for a in weights)
    D = W.shape[0]
    losses = np.empty((n_iter + 1, D))
    diverged = np.full(D, -1)
    for k in range(n_iter + 1):
        current = Weights._make((U, W, v))
        loss, g = model._grad_backprop(current, x, y)
        bad = ~np.isfinite(loss) & (diverged < 0)
        diverged[bad] = k
        losses[k] = np.where(diverged < 0, loss, np.inf)
        if k == n_iter:
            break
        live = (diverged < 0).astype(float)
        with np.errstate(over="ignore", invalid="ignore"):
            new = (
                U - lr * live[:, None, None] * np.nan_to_num(g.U),
                W - lr * live[:, None, None] * np.nan_to_num(g.W),
                v - lr * live[:, None] * np.nan_to_num(g.v),
            )
        finite = (
            np.all(np.isfinite(new[0]), axis=(1, 2))
            & np.all(np.isfinite(new[1]), axis=(1, 2))
            & np.all(np.isfinite(new[2]), axis=1)
        )
        if finite.all():
            U, W, v = new
        else:  # a weight overflowed: that draw stops at its last finite weights
            diverged[~finite & (diverged < 0)] = k + 1
            U = np.where(finite[:, None, None], new[0], U)
            W = np.where(finite[:, None, None], new[1], W)
            v = np.where(finite[:, None], new[2], v)
    return WideHistory(losses, diverged, Weights._make((U, W, v)))


def linearized_loss(theta, residual, lr, n_iter):
    """Loss of GD on the model linearized at initialization (the NTK / lazy-training prediction).

    With a fixed Gram matrix Theta (B, B) and L = |r|^2 / (2B), gradient descent moves the
    residual as r_{k+1} = (I - lr Theta / B) r_k, so L_k = |(I - lr Theta/B)^k r_0|^2 / (2B),
    evaluated through the eigendecomposition of Theta. ``theta`` may carry a leading batch axis
    (D, B, B) with ``residual`` (D, B); returns (n_iter + 1, D) (or (n_iter + 1,)).
    """
    theta = _checks.finite_array("theta", theta)
    residual = _checks.finite_array("residual", residual)
    lr = _checks.positive_finite("lr", lr)
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
    if theta.ndim < 2 or theta.shape[-1] != theta.shape[-2] or residual.shape != theta.shape[:-1]:
        raise ValueError(
            f"theta must have shape (..., B, B) and residual (..., B); got {theta.shape}, {residual.shape}"
        )
    B = theta.shape[-1]
    _checks.bounded_work("linearized_loss", n_iter=n_iter + 1, batch=residual.size)
    with np.errstate(over="ignore", invalid="ignore"):
        lam, Q = np.linalg.eigh(0.5 * (theta + np.swapaxes(theta, -1, -2)))
        coef = np.einsum("...ij,...i->...j", Q, residual)
        factor = 1.0 - lr * lam / B
        k = np.arange(n_iter + 1).reshape((-1,) + (1,) * lam.ndim)
        terms = factor**k * coef
        # an eigen-direction the residual does not touch contributes 0 even where factor^k overflows
        terms = np.where(coef == 0, 0.0, terms)
        return np.sum(terms**2, axis=-1) / (2 * B)


def ks_null_level(n_samples, n_repeats=200, seed=0):
    """Mean and 95th percentile of ``ks_normal`` on genuinely normal samples of size ``n_samples``.

    The KS statistic of a finite sample never reaches 0: this is the floor below which a
    measured statistic says nothing (it scales like 1/sqrt(n_samples)).
    """
    n_samples = _checks.positive_int("n_samples", n_samples, minimum=2)
    n_repeats = _checks.positive_int("n_repeats", n_repeats)
    _checks.bounded_work("ks_null_level", n_samples=n_samples, n_repeats=n_repeats)
    rng = _rng(seed)
    z = rng.standard_normal((n_repeats, n_samples))
    mu = z.mean(axis=1, keepdims=True)
    sigma = z.std(axis=1, keepdims=True)  # the maximum-likelihood fit of stats.norm.fit
    values = np.sort(special.ndtr((np.sort(z, axis=1) - mu) / sigma), axis=1)
    i = np.arange(1, n_samples + 1)
    d = np.maximum(np.max(i / n_samples - values, axis=1), np.max(values - (i - 1) / n_samples, axis=1))
    return float(d.mean()), float(np.quantile(d, 0.95))
