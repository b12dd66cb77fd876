"""A small nonlinear Neural ODE: dx/dt = a tanh(b x), two parameters theta = (a, b).

The model's endpoint map phi_theta(x0) = x(t) is computed with ``n_steps`` steps of the classical
Runge-Kutta method (RK4); the data are the same map at the true (a*, b*), so the loss vanishes
exactly there. With x0 ~ N(0, sigma^2), by Gauss-Hermite quadrature with ``n_nodes`` nodes (or on a
seeded sample of ``n_samples`` states),

    Loss(theta) = 1/2 E[(phi_theta(x0) - phi_theta*(x0))^2].

Gradients come from the forward sensitivity equations xi = d x / d theta,

    dxi_a/dt = f_x xi_a + tanh(b x),   dxi_b/dt = f_x xi_b + a x sech^2(b x),   f_x = a b sech^2(b x),

integrated by the same RK4 steps alongside x. For an explicit Runge-Kutta method this is exactly
the derivative of the discrete map (differentiating the stages gives the stages of the augmented
system), so ``grad`` is the exact gradient of the computed loss: grad = E[(phi - y) xi].

The Gauss-Newton matrix is F = E[xi xi^T] (2 x 2; the code calls it H). Its diagonal E[xi_a^2], E[xi_b^2] is the
per-parameter analogue of chapter 5's t^2 sigma_k^2(t): for dx/dt = a x, d x(t)/da = t x(t), so
E[(dx/da)^2] = t^2 E[x(t)^2]. Optimizers on theta (shape (..., 2)):

* ``DiagonalScaled(lr)``: theta <- theta - lr g / diag(H) (per-parameter, variance-style scaling)
* ``LevenbergMarquardt(lr, damping)``: theta <- theta - lr (H + damping tr(H)/2 I)^{-1} g

both with ``line_search=True`` for Armijo backtracking. ``simplest_node.GD`` and ``Adam`` work
unchanged (they are elementwise).
"""

from dataclasses import dataclass

import numpy as np

from . import _checks
from .batch_training import BatchHistory, backtrack, check_training, run_batched

__all__ = [
    "NonlinearProblem",
    "DiagonalScaled",
    "LevenbergMarquardt",
    "NonlinearHistory",
    "train_nonlinear",
    "valley_curve",
]


MAX_NODES = 1000  # Gauss-Hermite nodes (their weights underflow long before; the nodes cost n^2 memory)


def _theta(value, name="theta"):
    arr = _checks.finite_array(name, value)
    if arr.ndim < 1 or arr.shape[-1] != 2:
        raise ValueError(f"{name} must hold (a, b) pairs along its last axis (shape (..., 2)), got shape {arr.shape}")
    return arr


class NonlinearProblem:
    """dx/dt = a tanh(b x) fitted to data from (a*, b*) at time ``t``; x0 ~ N(0, sigma^2).

    The expectation is Gauss-Hermite quadrature with ``n_nodes`` nodes, or the mean over
    ``n_samples`` states drawn with ``seed`` when ``n_samples`` is given; ``noise`` (default 0) adds
    seeded N(0, noise^2) observation noise to the sampled data. ``n_steps`` RK4 steps over [0, t];
    the work n_steps x (number of states) is limited by ``_checks.MAX_WORK`` and ``n_nodes`` by
    ``MAX_NODES``. Data that overflow (a huge a* t or sigma) are refused.
    """

    def __init__(
        self, a_star=-1.0, b_star=1.0, t=1.0, sigma=1.0, n_steps=20, n_nodes=40, n_samples=None, seed=0, noise=0.0
    ):
        self.a_star = _checks.finite("a_star", a_star)
        self.b_star = _checks.finite("b_star", b_star)
        self.t = _checks.positive_finite("t", t)
        self.sigma = _checks.positive_finite("sigma", sigma)
        self.n_steps = _checks.positive_int("n_steps", n_steps)
        seed = _checks.seed("seed", seed)
        self.noise = _checks.finite("noise", noise)
        if self.noise < 0:
            raise ValueError(f"noise must be >= 0, got {noise!r}")
        if n_samples is None:
            if self.noise > 0:
                raise ValueError("noise needs a sample: pass n_samples too")
            self.n_nodes = _checks.positive_int("n_nodes", n_nodes, maximum=MAX_NODES)
            z, w = np.polynomial.hermite.hermgauss(self.n_nodes)
            with np.errstate(over="ignore"):
                self.x0 = np.sqrt(2.0) * self.sigma * z
            self.weights = w / np.sqrt(np.pi)
            self.n_samples = None
        else:
            self.n_samples = _checks.positive_int("n_samples", n_samples)
            _checks.bounded_work("NonlinearProblem", n_steps=self.n_steps, n_samples=self.n_samples)
            rng = np.random.default_rng(seed)
            self.x0 = rng.normal(0.0, self.sigma, self.n_samples)
            self.weights = np.full(self.n_samples, 1.0 / self.n_samples)
        _checks.bounded_work("NonlinearProblem", n_steps=self.n_steps, batch=self.x0.size)
        if not np.all(np.isfinite(self.x0)):
            raise ValueError(f"sigma = {self.sigma!r} is too large: the initial states overflow")
        self.seed = seed
        self.y = self.endpoint(np.array([self.a_star, self.b_star]))[0]
        if self.n_samples is not None and self.noise > 0:
            with np.errstate(over="ignore", invalid="ignore"):
                self.y = self.y + rng.normal(0.0, self.noise, self.n_samples)
        if not np.all(np.isfinite(self.y)):
            raise ValueError(
                f"the data overflow: a_star = {self.a_star!r}, b_star = {self.b_star!r}, t = {self.t!r}, "
                f"sigma = {self.sigma!r}, noise = {self.noise!r} give non-finite endpoints"
            )

    def __repr__(self):
        return (
            f"NonlinearProblem(a_star={self.a_star}, b_star={self.b_star}, t={self.t}, "
            f"sigma={self.sigma}, n_steps={self.n_steps})"
        )

    def endpoint(self, theta, x0=None):
        """RK4 endpoint phi_theta(x0) and its sensitivities d phi/da, d phi/db.

        ``theta`` (..., 2); returns three arrays of shape (..., n) for the problem's n states, or for
        ``x0`` (a 1-D array) if given.
        """
        theta = _theta(theta)
        if x0 is None and hasattr(self, "y"):
            # The loss, gradient and Gauss-Newton matrix of one iterate share one integration.
            key = (theta.shape, theta.tobytes())
            cache = self.__dict__.setdefault("_cache", {})
            if key not in cache:
                if len(cache) >= 4:
                    cache.pop(next(iter(cache)))
                cache[key] = self._integrate(theta, self.x0)
                for arr in cache[key]:
                    arr.flags.writeable = False
            return cache[key]
        x0 = self.x0 if x0 is None else _checks.finite_array("x0", x0)
        return self._integrate(theta, x0)

    def _integrate(self, theta, x0):
        a = theta[..., 0, None]
        b = theta[..., 1, None]
        h = self.t / self.n_steps

        def field(x, sa, sb):
            tb = np.tanh(b * x)
            sech2 = 1.0 - tb * tb
            fx = a * b * sech2
            return a * tb, fx * sa + tb, fx * sb + a * x * sech2

        shape = np.broadcast_shapes(a.shape, np.shape(x0))
        x = np.broadcast_to(x0, shape).astype(float)
        sa = np.zeros(shape)
        sb = np.zeros(shape)
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(self.n_steps):
                k1 = field(x, sa, sb)
                k2 = field(*(u + h / 2 * k for u, k in zip((x, sa, sb), k1)))
                k3 = field(*(u + h / 2 * k for u, k in zip((x, sa, sb), k2)))
                k4 = field(*(u + h * k for u, k in zip((x, sa, sb), k3)))
                x, sa, sb = (u + h / 6 * (p + 2 * q + 2 * r + s) for u, p, q, r, s in zip((x, sa, sb), k1, k2, k3, k4))
        return x, sa, sb

    def loss(self, theta):
        """1/2 E[(phi_theta(x0) - y)^2]: shape theta.shape[:-1]."""
        x, _, _ = self.endpoint(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            return 0.5 * np.sum(self.weights * (x - self.y) ** 2, axis=-1)

    def grad(self, theta):
        """E[(phi - y) d phi / d theta], the exact gradient of the RK4 loss: shape (..., 2)."""
        x, sa, sb = self.endpoint(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            r = self.weights * (x - self.y)
            return np.stack([np.sum(r * sa, axis=-1), np.sum(r * sb, axis=-1)], axis=-1)

    def gauss_newton_matrix(self, theta):
        """F = E[xi xi^T] with xi = d phi / d theta: shape (..., 2, 2)."""
        _, sa, sb = self.endpoint(theta)
        s = np.stack([sa, sb], axis=-1)
        with np.errstate(over="ignore", invalid="ignore"):
            return np.einsum("...n,...ni,...nj->...ij", np.broadcast_to(self.weights, sa.shape), s, s)


class DiagonalScaled:
    """Per-parameter scaling: theta_i <- theta_i - lr g_i / E[(d phi / d theta_i)^2].

    The diagonal of the Gauss-Newton matrix; for dx/dt = a x it is t^2 E[x(t)^2], chapter 5's rule.
    """

    def __init__(self, lr, line_search=False):
        self.lr = _checks.positive_finite("lr", lr)
        self.line_search = _checks.flag("line_search", line_search)

    def __repr__(self):
        return f"DiagonalScaled(lr={self.lr}, line_search={self.line_search})"

    def init(self, theta):
        return {}

    def update(self, problem, theta, state, k):
        g = problem.grad(theta)
        H = problem.gauss_newton_matrix(theta)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            diag = np.stack([H[..., 0, 0], H[..., 1, 1]], axis=-1)
            direction = -np.where(diag > 0, g / diag, 0.0)
            if self.line_search:
                return backtrack(problem, theta, np.nan_to_num(direction), g, self.lr)
            return theta + self.lr * direction


class LevenbergMarquardt:
    """Levenberg-Marquardt (damped Gauss-Newton): theta <- theta - lr (H + mu I)^{-1} g, mu = damping tr(H)/2."""

    def __init__(self, lr=1.0, damping=1e-8, line_search=False):
        self.lr = _checks.positive_finite("lr", lr)
        self.damping = _checks.finite("damping", damping)
        if self.damping < 0:
            raise ValueError(f"damping must be >= 0, got {damping!r}")
        self.line_search = _checks.flag("line_search", line_search)

    def __repr__(self):
        return f"LevenbergMarquardt(lr={self.lr}, damping={self.damping}, line_search={self.line_search})"

    def init(self, theta):
        return {}

    def update(self, problem, theta, state, k):
        g = problem.grad(theta)
        H = problem.gauss_newton_matrix(theta)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            mu = self.damping * np.trace(H, axis1=-2, axis2=-1) / 2 + np.finfo(float).tiny
            good = np.all(np.isfinite(H), axis=(-2, -1)) & np.all(np.isfinite(g), axis=-1)
            Hd = np.where(good[..., None, None], H + mu[..., None, None] * np.eye(2), np.eye(2))
            rhs = np.where(good[..., None], g, 0.0)[..., None]
            try:
                direction = -np.linalg.solve(Hd, rhs)[..., 0]
            except np.linalg.LinAlgError:  # some H + mu I singular (damping 0): least squares there
                direction = -_solve_or_lstsq(Hd, rhs)[..., 0]
            direction = np.where(good[..., None], direction, np.nan)
            if self.line_search:
                return backtrack(problem, theta, np.nan_to_num(direction), g, self.lr)
            return theta + self.lr * direction


def _solve_or_lstsq(M, b):
    """Solve M x = b for a stack of 2 x 2 systems; the singular ones by least squares (minimum norm)."""
    flat_M, flat_b = M.reshape(-1, 2, 2), b.reshape(-1, 2, 1)
    out = np.empty(flat_b.shape)
    for k in range(flat_M.shape[0]):
        try:
            out[k] = np.linalg.solve(flat_M[k], flat_b[k])
        except np.linalg.LinAlgError:
            out[k] = np.linalg.lstsq(flat_M[k], flat_b[k], rcond=None)[0]
    return out.reshape(b.shape)


@dataclass
class NonlinearHistory(BatchHistory):
    """``theta`` (n_iter + 1, n, 2), ``loss`` (n_iter + 1, n), ``diverged_at`` (n,), as for the matrix model."""

    theta: np.ndarray
    loss: np.ndarray
    diverged_at: np.ndarray


def train_nonlinear(problem, optimizer, theta0, n_iter, tol=None):
    """Train every (a, b) row of ``theta0`` (n, 2) for ``n_iter`` steps of ``optimizer``.

    Runs whose loss falls below ``tol`` (if given) are frozen there (only moving runs reach the
    optimizer, with per-run state sliced alike); runs whose loss or parameters stop being finite are
    frozen at their last finite value, their loss set to inf, and flagged in ``diverged_at``.
    """
    if not isinstance(problem, NonlinearProblem):
        raise TypeError(f"problem must be a NonlinearProblem, got {type(problem).__name__} {problem!r:.60}")
    theta = _theta(theta0, "theta0")
    if theta.ndim == 1:
        theta = theta[None]
    if theta.ndim != 2:
        raise ValueError(f"theta0 must have shape (2,) or (n, 2), got shape {theta.shape}")
    n_iter = check_training(
        "train_nonlinear",
        problem,
        NonlinearProblem,
        optimizer,
        n_iter,
        theta.shape[0] * problem.n_steps * problem.x0.size,
    )
    if tol is not None:
        tol = _checks.positive_finite("tol", tol)
    params, losses, diverged_at = run_batched(problem, optimizer, theta, n_iter, tol)
    return NonlinearHistory(theta=params, loss=losses, diverged_at=diverged_at)


def valley_curve(b, a_star=-1.0, b_star=1.0):
    """The curve a = a* b* / b on which the linearized field a b x equals the truth's a* b* x."""
    b = _checks.finite_array("b", b)
    if np.any(b == 0):
        raise ValueError("b must be nonzero on the valley curve a = a* b* / b")
    a_star, b_star = _checks.finite("a_star", a_star), _checks.finite("b_star", b_star)
    with np.errstate(over="ignore"):  # a huge a* b* / b overflows to +-inf
        return a_star * b_star / b
