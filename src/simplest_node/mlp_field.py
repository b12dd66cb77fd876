"""A small MLP vector field trained as a Neural ODE, in numpy: from dx/ds = a x to a real model.

Field: f_theta(x) = W2 tanh(W1 x + b1) + b2 for states x in R^d and ``width`` H hidden units;
theta is one flat vector (W1, b1, W2, b2) of p = 2 d H + H + d numbers. Reverse mode needs only
vector-Jacobian products (VJPs). With u = tanh(W1 x + b1) and w = (1 - u^2) * (W2^T v),

    v^T df/dx = W1^T w,     v^T df/dtheta = (w x^T, w, v u^T, v)   (the blocks W1, b1, W2, b2).

They are written by hand because the book teaches them (the tests check them against finite
differences); a real model gets them from an automatic-differentiation library.

Neural ODE: the prediction is x_n, ``n_steps`` steps of an explicit Runge-Kutta method
(``BUTCHER_TABLEAUX``) on dx/ds = f_theta(x) over the sampling interval t; the data are pairs
(x0_i, y_i) of a known system, and Loss(theta) = 1/2 mean_i |x_n(x0_i) - y_i|^2. Its gradient:

* ``backprop_grad``, the discrete adjoint: the forward pass stores the stage states, the reverse
  pass applies the transposed stage Jacobians as VJPs (the exact derivative of the discrete loss).
  With ``checkpoint_every=c`` only every c-th state is stored and each segment's stages are
  recomputed during the reverse pass: the same gradient for less memory and more evaluations.
* ``adjoint_grad``, the continuous adjoint: lambda(s) = dLoss/dx(s) solves
  lambda' = -(df/dx)^T lambda from lambda(t) = (x_n - y)/B, and dLoss/dtheta = int_0^t
  (df/dtheta)^T lambda ds. In reversed time r = t - s the state (x, lambda, g) solves
  dx/dr = -f(x), dlambda/dr = (df/dx)^T lambda, dg/dr = (df/dtheta)^T lambda from (x_n, lambda(t), 0),
  with the same method and step; x is reconstructed, not stored. An O(h^p) approximation.
"""

from dataclasses import dataclass

import numpy as np
from scipy.linalg import expm

from . import _checks
from .gradients import BUTCHER_TABLEAUX
from .optimizers import Adam

__all__ = ["MLPField", "EndpointFit", "GradientCost", "MLPFit", "mlp_oscillator_problem", "train_mlp_field"]


def _no_nan(out, what):
    """``out`` unless an overflow left a NaN (inf - inf) in it: then a ValueError naming ``what``."""
    arrays = out if isinstance(out, tuple) else (out,)
    if any(np.isnan(np.asarray(a)).any() for a in arrays):
        raise ValueError(f"{what} overflows (inf - inf) at these parameters: they are too large")
    return out


class MLPField:
    """f_theta(x) = W2 tanh(W1 x + b1) + b2 on R^``dim`` with ``width`` hidden units (see the module)."""

    def __init__(self, dim=2, width=16):
        self.dim = _checks.positive_int("dim", dim, maximum=1000)
        self.width = _checks.positive_int("width", width, maximum=10_000)
        self.n_params = 2 * self.dim * self.width + self.width + self.dim

    def __repr__(self):
        return f"MLPField(dim={self.dim}, width={self.width})"

    def init(self, seed=0, scale=1.0):
        """Seeded parameters: W1 ~ N(0, scale^2/d), W2 ~ N(0, scale^2/H) / 10 (a slow field at first,
        close to the identity map, as residual networks are initialized), b1 = b2 = 0."""
        rng = np.random.default_rng(_checks.seed("seed", seed))
        scale = _checks.positive_finite("scale", scale)
        d, H = self.dim, self.width
        W1 = rng.normal(0.0, scale / np.sqrt(d), (H, d))
        W2 = rng.normal(0.0, scale / np.sqrt(H), (d, H)) / 10
        return np.concatenate([W1.ravel(), np.zeros(H), W2.ravel(), np.zeros(d)])

    def _unpack(self, theta):
        d, H = self.dim, self.width
        W1 = theta[: H * d].reshape(H, d)
        b1 = theta[H * d : H * d + H]
        W2 = theta[H * d + H : 2 * H * d + H].reshape(d, H)
        return W1, b1, W2, theta[2 * H * d + H :]

    def _checked(self, theta, x):
        theta = _checks.finite_array("theta", theta)
        if theta.shape != (self.n_params,):
            raise ValueError(f"theta must have shape ({self.n_params},), got {theta.shape}")
        x = _checks.finite_array("x", x)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must be a batch of states of shape (B, {self.dim}), got {x.shape}")
        _checks.bounded_work("MLPField", batch=x.shape[0], width=self.width, dim=self.dim)
        return theta, x

    def field(self, theta, x):
        """f_theta(x) for a batch ``x`` of shape (B, d); returns shape (B, d)."""
        theta, x = self._checked(theta, x)
        with np.errstate(over="ignore", invalid="ignore"):
            return _no_nan(self._field(theta, x), "the field")

    def vjp(self, theta, x, v):
        """(v^T df/dx, v^T df/dtheta) for batches ``x``, ``v`` of shape (B, d): the first per state,
        shape (B, d); the second summed over the batch, shape (p,)."""
        theta, x = self._checked(theta, x)
        v = _checks.finite_array("v", v)
        if v.shape != x.shape:
            raise ValueError(f"v must have the shape of x, {x.shape}, got {v.shape}")
        with np.errstate(over="ignore", invalid="ignore"):
            return _no_nan(self._vjp(theta, x, v)[1:], "the vector-Jacobian product")

    def _field(self, theta, x):
        W1, b1, W2, b2 = self._unpack(theta)
        return np.tanh(x @ W1.T + b1) @ W2.T + b2

    def _vjp(self, theta, x, v):
        """(f(x), v^T df/dx, v^T df/dtheta) in one pass: one field evaluation and one VJP."""
        W1, b1, W2, b2 = self._unpack(theta)
        u = np.tanh(x @ W1.T + b1)
        w = (1.0 - u * u) * (v @ W2)
        grad = np.concatenate([(w.T @ x).ravel(), w.sum(axis=0), (v.T @ u).ravel(), v.sum(axis=0)])
        return u @ W2.T + b2, w @ W1, grad


@dataclass
class GradientCost:
    """What one gradient cost: field evaluations, VJPs, and the most floats held between the
    forward and the reverse pass (stored stages or checkpoints; for the adjoint x, lambda and g)."""

    field_evals: int
    vjps: int
    stored_floats: int


class EndpointFit:
    """The Neural ODE loss of an ``MLPField`` on pairs (x0, y), compared at the sampling interval t.

    Loss(theta) = 1/2 mean_i |x_n(x0_i) - y_i|^2 with x_n from ``n_steps`` steps of ``method``
    (the defaults; each call may override them). See the module docstring for the gradients.
    ``A_star``: the matrix of the true system when the data come from dx/ds = A* x (optional; the
    figure and ``MLPFit.field_error`` compare the learned field with it).
    """

    def __init__(self, field, x0, y, t=1.0, method="rk4", n_steps=4, A_star=None):
        self.field = _checks.instance("field", field, MLPField, "an MLPField")
        x0 = _checks.finite_array("x0", x0)
        if x0.ndim != 2 or x0.shape[1] != field.dim:
            raise ValueError(f"x0 must have shape (B, {field.dim}), got {x0.shape}")
        y = _checks.finite_array("y", y)
        if y.shape != x0.shape:
            raise ValueError(f"y must have the shape of x0, {x0.shape}, got {y.shape}")
        self.x0, self.y = x0, y
        self.t = _checks.positive_finite("t", t)
        self.method = _checks.choice("method", method, BUTCHER_TABLEAUX)
        self.n_steps = _checks.positive_int("n_steps", n_steps)
        if A_star is not None:
            A_star = _checks.finite_array("A_star", A_star)
            if A_star.shape != (field.dim, field.dim):
                raise ValueError(f"A_star must be {field.dim} x {field.dim}, got shape {A_star.shape}")
        self.A_star = A_star  # the true system's matrix when the data come from x' = A* x (else None)

    def __repr__(self):
        return (
            f"EndpointFit({self.field!r}, B={self.x0.shape[0]}, t={self.t}, method={self.method!r}, "
            f"n_steps={self.n_steps})"
        )

    def _setup(self, theta, method, n_steps, what):
        theta = _checks.finite_array("theta", theta)
        if theta.shape != (self.field.n_params,):
            raise ValueError(f"theta must have shape ({self.field.n_params},), got {theta.shape}")
        method = self.method if method is None else _checks.choice("method", method, BUTCHER_TABLEAUX)
        n_steps = self.n_steps if n_steps is None else _checks.positive_int("n_steps", n_steps)
        A, b = BUTCHER_TABLEAUX[method]
        _checks.bounded_work(what, n_steps=n_steps, stages=len(b), batch=self.x0.size * self.field.width)
        return theta, A, b, n_steps, self.t / n_steps

    def _steps(self, theta, x, h, n_steps, A, b, tape=None):
        f = self.field._field
        for _ in range(n_steps):
            stages, slopes = [], []
            for i in range(len(b)):
                X = x + h * sum(A[i, j] * slopes[j] for j in range(i) if A[i, j]) if i else x
                stages.append(X)
                slopes.append(f(theta, X))
            x = x + h * sum(bi * k for bi, k in zip(b, slopes) if bi)
            if tape is not None:
                tape.append(stages)
        return x

    def _loss(self, theta, A, b, n_steps, h):
        x_n = self._steps(theta, self.x0, h, n_steps, A, b)
        return 0.5 * float(np.sum((x_n - self.y) ** 2)) / self.x0.shape[0]

    def loss(self, theta, method=None, n_steps=None):
        """Loss(theta) through ``n_steps`` of ``method`` (the problem's defaults if None)."""
        theta, A, b, n_steps, h = self._setup(theta, method, n_steps, "EndpointFit.loss")
        with np.errstate(over="ignore", invalid="ignore"):
            return _no_nan(self._loss(theta, A, b, n_steps, h), "the loss")

    def _backprop(self, theta, A, b, n_steps, h, c):
        """(discrete loss, its gradient, segment starts) with checkpoints every ``c`` steps."""
        s, B = len(b), self.x0.shape[0]
        starts = list(range(0, n_steps, c))
        checkpoints, x, tape = [], self.x0, []
        for k in starts:  # forward: keep the segment starts, and the stages of the last segment
            checkpoints.append(x)
            x = self._steps(theta, x, h, min(c, n_steps - k), A, b, tape if k == starts[-1] else None)
        loss = 0.5 * float(np.sum((x - self.y) ** 2)) / B
        x_bar = (x - self.y) / B
        grad = np.zeros_like(theta)
        for k, x_start in zip(reversed(starts), reversed(checkpoints)):
            if k != starts[-1]:  # recompute this segment's stages from its checkpoint
                self._steps(theta, x_start, h, min(c, n_steps - k), A, b, tape)
            while tape:
                stages = tape.pop()
                stage_bar = [None] * s
                for i in range(s - 1, -1, -1):
                    slope_bar = h * b[i] * x_bar
                    for j in range(i + 1, s):
                        if A[j, i]:
                            slope_bar = slope_bar + h * A[j, i] * stage_bar[j]
                    _, stage_bar[i], g = self.field._vjp(theta, stages[i], slope_bar)
                    grad += g
                x_bar = x_bar + sum(stage_bar)
        return loss, grad, starts

    def backprop_grad(self, theta, method=None, n_steps=None, checkpoint_every=None, return_cost=False):
        """The exact gradient of the discrete loss, by the reverse pass over the stages (VJPs).

        ``checkpoint_every=c`` stores the state every c steps and recomputes each segment's stages
        in the reverse pass. With ``return_cost=True`` also returns a ``GradientCost``.
        """
        theta, A, b, n_steps, h = self._setup(theta, method, n_steps, "EndpointFit.backprop_grad")
        c = n_steps if checkpoint_every is None else _checks.positive_int("checkpoint_every", checkpoint_every)
        _checks.flag("return_cost", return_cost)
        with np.errstate(over="ignore", invalid="ignore"):
            _, grad, starts = self._backprop(theta, A, b, n_steps, h, c)
        _no_nan(grad, "the backprop gradient")
        s, B = len(b), self.x0.shape[0]
        if not return_cost:
            return grad
        # Stages are recomputed for every segment but the last; held at most: the checkpoints after
        # x0 (an input, held anyway) and one segment's stages.
        recomputed = starts[-1] * s
        stored = (len(starts) - 1) * B * self.field.dim + min(c, n_steps) * s * B * self.field.dim
        return grad, GradientCost(n_steps * s + recomputed, n_steps * s, stored)

    def adjoint_grad(self, theta, method=None, n_steps=None, return_cost=False):
        """The continuous adjoint gradient: (x, lambda, g) integrated backwards with the same method."""
        theta, A, b, n_steps, h = self._setup(theta, method, n_steps, "EndpointFit.adjoint_grad")
        _checks.flag("return_cost", return_cost)
        s, B = len(b), self.x0.shape[0]

        def backward(x, lam):  # reversed time r = t - s
            f, lam_x, g = self.field._vjp(theta, x, lam)
            return -f, lam_x, g

        with np.errstate(over="ignore", invalid="ignore"):
            x = self._steps(theta, self.x0, h, n_steps, A, b)
            lam, grad = (x - self.y) / B, np.zeros_like(theta)
            for _ in range(n_steps):
                slopes = []
                for i in range(s):
                    X, L = x, lam
                    for j in range(i):
                        if A[i, j]:
                            X = X + h * A[i, j] * slopes[j][0]
                            L = L + h * A[i, j] * slopes[j][1]
                    slopes.append(backward(X, L))
                x = x + h * sum(b[i] * slopes[i][0] for i in range(s) if b[i])
                lam = lam + h * sum(b[i] * slopes[i][1] for i in range(s) if b[i])
                grad = grad + h * sum(b[i] * slopes[i][2] for i in range(s) if b[i])
            _no_nan(grad, "the adjoint gradient")
        if not return_cost:
            return grad
        return grad, GradientCost(2 * n_steps * s, n_steps * s, 2 * B * self.field.dim + theta.size)

    def fd_grad(self, theta, method=None, n_steps=None, eps=1e-6):
        """Central finite differences of the discrete loss, one parameter at a time (2 p losses)."""
        theta, A, b, n_steps, h = self._setup(theta, method, n_steps, "EndpointFit.fd_grad")
        eps = _checks.positive_finite("eps", eps)
        _checks.bounded_work(
            "EndpointFit.fd_grad",
            params=2 * theta.size,
            n_steps=n_steps,
            stages=len(b),
            batch=self.x0.size * self.field.width,
        )
        grad = np.empty_like(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            for j in range(theta.size):
                e = np.zeros_like(theta)
                e[j] = eps
                grad[j] = (self._loss(theta + e, A, b, n_steps, h) - self._loss(theta - e, A, b, n_steps, h)) / (
                    2 * eps
                )
        return _no_nan(grad, "the finite-difference gradient")


def mlp_oscillator_problem(k_star=1.0, c_star=0.2, t=1.0, n_samples=256, width=16, method="rk4", n_steps=4, seed=0):
    """An ``EndpointFit`` of a 2-``width``-2 tanh field to the damped oscillator q'' = -k* q - c* q'.

    State x = (q, q'); the data are ``n_samples`` seeded pairs x0 ~ N(0, I), y = e^{A* t} x0 with
    A* = [[0, 1], [-k*, -c*]] (the exact flow, by the matrix exponential).
    """
    k_star = _checks.finite("k_star", k_star)
    c_star = _checks.finite("c_star", c_star)
    t = _checks.positive_finite("t", t)
    n_samples = _checks.positive_int("n_samples", n_samples, maximum=10**6)
    rng = np.random.default_rng(_checks.seed("seed", seed))
    A_star = np.array([[0.0, 1.0], [-k_star, -c_star]])
    with np.errstate(over="ignore", invalid="ignore"):
        flow = expm(A_star * t)
    if not np.all(np.isfinite(flow)) or np.max(np.abs(flow)) > 1e100:
        raise ValueError(f"e^(A* t) overflows for k_star = {k_star}, c_star = {c_star}, t = {t}")
    x0 = rng.normal(size=(n_samples, 2))
    return EndpointFit(MLPField(2, width), x0, x0 @ flow.T, t, method, n_steps, A_star)


@dataclass
class MLPFit:
    """What ``train_mlp_field`` did: the problem, the initial and final parameters, the loss after
    each iteration (``loss[k]`` after k Adam steps) and the true system matrix."""

    problem: EndpointFit
    theta0: np.ndarray
    theta: np.ndarray
    loss: np.ndarray
    A_star: np.ndarray = None  # the problem's A_star (None if its data have no linear true system)

    def field_error(self, n_grid=21, radius=2.0):
        """max |f_theta(x) - A* x| / max |A* x| over an ``n_grid`` x ``n_grid`` grid of the square
        [-radius, radius]^2, where most of the data lie."""
        n_grid = _checks.positive_int("n_grid", n_grid, minimum=2, maximum=1000)
        radius = _checks.positive_finite("radius", radius)
        if radius > 1e6:
            raise ValueError(f"radius must be a number > 0 and at most 1e6 (where the data lie), got {radius!r}")
        if self.A_star is None:
            raise ValueError("field_error needs the true system: give the EndpointFit its A_star")
        g = np.linspace(-radius, radius, n_grid)
        x = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            true = x @ self.A_star.T
            gap = np.linalg.norm(self.problem.field._field(self.theta, x) - true, axis=1)
            return _no_nan(float(gap.max() / np.linalg.norm(true, axis=1).max()), "the field error")


class _Recorder:
    """The optimizers' problem protocol (``grad``) on an EndpointFit, recording each loss."""

    def __init__(self, problem):
        self.problem, self.losses = problem, []

    def grad(self, theta):
        p = self.problem
        A, b = BUTCHER_TABLEAUX[p.method]
        with np.errstate(over="ignore", invalid="ignore"):
            loss, grad, _ = p._backprop(theta, A, b, p.n_steps, p.t / p.n_steps, p.n_steps)
        self.losses.append(loss)
        return grad


def train_mlp_field(problem, lr=0.02, n_iter=600, seed=0):
    """Train the problem's field from ``field.init(seed)`` with ``n_iter`` steps of the book's ``Adam(lr)``
    on the backprop gradient. Returns an ``MLPFit``; a loss that stops being finite raises ValueError."""
    _checks.instance("problem", problem, EndpointFit, "an EndpointFit")
    optimizer = Adam(lr)
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0, maximum=100_000)
    _, b = BUTCHER_TABLEAUX[problem.method]
    _checks.bounded_work(
        "train_mlp_field",
        n_iter=n_iter + 1,
        n_steps=problem.n_steps,
        stages=2 * len(b),
        batch=problem.x0.size * problem.field.width,
    )
    theta0 = problem.field.init(seed)
    theta, recorder = theta0.copy(), _Recorder(problem)
    state = optimizer.init(theta)
    for k in range(1, n_iter + 1):
        theta = optimizer.update(recorder, theta, state, k)
        if not (np.all(np.isfinite(theta)) and np.isfinite(recorder.losses[-1])):
            raise ValueError(f"training diverged at iteration {k}: take a smaller lr than {lr}")
    recorder.losses.append(problem.loss(theta))
    return MLPFit(problem, theta0, theta, np.array(recorder.losses), problem.A_star)
