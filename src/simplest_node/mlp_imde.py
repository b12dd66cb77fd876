"""A tanh MLP field trained through an explicit solver: the model class of Zhu et al. (ICML 2022).

Model: f_theta(x) = W_L tanh(... tanh(W_1 x + b_1) ...) + b_L, a fully connected network with
``depth`` hidden layers of ``width`` tanh units, from states (N, d) to fields (N, d).

Training: S steps of an explicit Runge-Kutta method (``simplest_node.gradients.BUTCHER_TABLEAUX``)
with h = T/S on f_theta map x0 to a prediction of x1; the loss is the chapters' mean squared error
per coordinate, Loss = (1/2N) sum_i |x_S(x0_i) - x1_i|^2. Its gradient is backpropagation through
the solver's stages and the network (reverse mode, written by hand: the book teaches it, and numpy
has no automatic differentiation); the optimizer is L-BFGS (``_lbfgs``, hand-written, see its
docstring), in float64. The paper uses Adam for 300,000 iterations in float32; a quasi-Newton
method in float64 reaches a far smaller loss in a few thousand iterations on the small data sets
of the chapter, and the learning term of the error bound, about sqrt(2 Loss)/T, is what decides whether the IMDE shows.

Distances between fields follow the paper's metric: the mean over test states of the largest
absolute difference over the components, ``field_distance(u, v) = mean_i max_c |u_ic - v_ic|``.
"""

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from . import _checks
from .gradients import BUTCHER_TABLEAUX

__all__ = ["TanhMLP", "TanhMLPFit", "fit_mlp", "field_distance", "CUBIC_A", "damped_cubic_field", "cubic_pairs"]

MAX_WIDTH = 4096  # the largest hidden layer TanhMLP accepts (its matrices are width x width)
MAX_DEPTH = 16


def _mm(a, b):
    """a @ b without BLAS. Measured on a shared two-core machine: with OpenBLAS's threads a fit took
    2 to 25 times longer than with one thread, and its result depended on the thread count; einsum
    runs in one thread, the same way everywhere, and costs little at the chapter's sizes."""
    return np.einsum("ij,jk->ik", a, b)


class TanhMLP:
    """A tanh MLP R^dim -> R^dim with ``depth`` hidden layers of ``width`` units (flat parameters).

    ``init(seed)`` draws W_l with entries N(0, 1/fan_in) and zero biases; ``theta`` is always a flat
    vector of ``n_params`` numbers (weights then bias, layer by layer).
    """

    def __init__(self, dim=2, width=32, depth=2):
        self.dim = _checks.positive_int("dim", dim, maximum=64)
        self.width = _checks.positive_int("width", width, maximum=MAX_WIDTH)
        self.depth = _checks.positive_int("depth", depth, maximum=MAX_DEPTH)
        sizes = [self.dim] + [self.width] * self.depth + [self.dim]
        self.shapes = [(m, n) for m, n in zip(sizes[:-1], sizes[1:])]
        self.n_params = sum(m * n + n for m, n in self.shapes)

    def __repr__(self):
        return f"TanhMLP(dim={self.dim}, width={self.width}, depth={self.depth})"

    def init(self, seed=0):
        """Initial parameters: W with N(0, 1/fan_in) entries (seeded), biases zero."""
        rng = np.random.default_rng(_checks.seed("seed", seed))
        parts = []
        for m, n in self.shapes:
            parts += [rng.standard_normal(m * n) / np.sqrt(m), np.zeros(n)]
        return np.concatenate(parts)

    def _unpack(self, theta):
        out, k = [], 0
        for m, n in self.shapes:
            W = theta[k : k + m * n].reshape(m, n)
            k += m * n
            out.append((W, theta[k : k + n]))
            k += n
        return out

    def _check_theta(self, theta):
        theta = _checks.finite_array("theta", theta)
        if theta.shape != (self.n_params,):
            raise ValueError(f"theta must have shape ({self.n_params},) for {self!r}, got {theta.shape}")
        return theta

    def _check_x(self, x):
        x = _checks.finite_array("x", x)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (N, {self.dim}), got {x.shape}")
        return x

    def __call__(self, x, theta):
        """f_theta(x) for states x (N, dim)."""
        return self._forward(self._check_theta(theta), self._check_x(x))[0]

    def _forward(self, theta, x):
        """(f_theta(x), cache of the layer inputs and activations for ``_vjp``)."""
        layers = self._unpack(theta)
        acts = [x]
        a = x
        for W, b in layers[:-1]:
            a = np.tanh(_mm(a, W) + b)
            acts.append(a)
        W, b = layers[-1]
        return _mm(a, W) + b, (layers, acts)

    def _vjp(self, cache, g):
        """Reverse mode: (g^T df/dtheta, g^T df/dx) for the cotangent g (N, dim), summed over N."""
        layers, acts = cache
        grads = []
        W, _ = layers[-1]
        grads.append((_mm(acts[-1].T, g), g.sum(0)))
        delta = _mm(g, W.T)
        for k in range(len(layers) - 2, -1, -1):
            W, _ = layers[k]
            delta = delta * (1.0 - acts[k + 1] ** 2)  # tanh' = 1 - tanh^2
            grads.append((_mm(acts[k].T, delta), delta.sum(0)))
            delta = _mm(delta, W.T)
        flat = np.concatenate([part.ravel() for gW, gb in grads[::-1] for part in (gW, gb)])
        return flat, delta

    def vjp(self, x, theta, g):
        """(g^T df/dtheta (n_params,), g^T df/dx (N, dim)) at states x (N, dim), cotangent g (N, dim)."""
        x = self._check_x(x)
        g = _checks.finite_array("g", g)
        if g.shape != x.shape:
            raise ValueError(f"g must have the shape of x, {x.shape}, got {g.shape}")
        return self._vjp(self._forward(self._check_theta(theta), x)[1], g)


def _rollout_loss(model, theta, x0, x1, h, n_sub, method):
    """Loss = (1/2N) sum |x_S - x1|^2 of S steps of ``method`` and its gradient (backprop)."""
    A, b = BUTCHER_TABLEAUX[method]
    tape, x = [], x0
    for _ in range(n_sub):
        ks, caches = [], []
        for i in range(len(b)):
            y = x + h * sum((A[i, j] * ks[j] for j in range(i) if A[i, j]), np.zeros_like(x))
            k, cache = model._forward(theta, y)
            ks.append(k)
            caches.append(cache)
        tape.append(caches)
        x = x + h * sum(b[i] * ks[i] for i in range(len(b)) if b[i])
    n = x0.shape[0]
    r = x - x1
    loss = 0.5 * np.sum(r**2) / n
    gx = r / n  # dLoss/dx_S
    grad = np.zeros(model.n_params)
    for caches in reversed(tape):
        gk = [h * b[i] * gx for i in range(len(b))]
        g_new = gx.copy()
        for i in range(len(b) - 1, -1, -1):
            if not np.any(gk[i]):
                continue
            dtheta, dy = model._vjp(caches[i], gk[i])
            grad += dtheta
            g_new += dy
            for j in range(i):
                if A[i, j]:
                    gk[j] = gk[j] + h * A[i, j] * dy
        gx = g_new
    return loss, grad


@dataclass
class TanhMLPFit:
    """A trained MLP field: ``model``, parameters ``theta``, training ``method``, step ``h``, sub-steps
    ``n_sub``, the ``loss`` after each L-BFGS iteration (``loss[0]``: the initial network) and the
    optimizer's ``message`` (why it stopped)."""

    model: TanhMLP
    theta: np.ndarray
    method: str
    h: float
    n_sub: int
    loss: np.ndarray
    message: str

    def field(self, x):
        """The learned field f_theta at states x (N, dim)."""
        return self.model(x, self.theta)


def fit_mlp(x0, x1, T, method, n_sub=1, width=32, depth=2, n_iter=2000, seed=0, theta0=None):
    """Train an ``TanhMLP`` so that ``n_sub`` steps of ``method`` (h = T/n_sub) map x0 to x1.

    L-BFGS (``_lbfgs``) on the exact gradient, from ``init(seed)`` or from ``theta0`` (e.g. the fit at a
    neighbouring T, a warm start); at most ``n_iter`` iterations. ``method``: euler, midpoint, heun, rk4.
    """
    x0, x1 = _checks.finite_array("x0", x0), _checks.finite_array("x1", x1)
    if x0.ndim != 2 or x0.shape != x1.shape:
        raise ValueError(f"x0 and x1 must both have shape (N, dim), got {x0.shape} and {x1.shape}")
    T = _checks.positive_finite("T", T)
    _checks.choice("method", method, BUTCHER_TABLEAUX)
    n_sub = _checks.positive_int("n_sub", n_sub)
    n_iter = _checks.positive_int("n_iter", n_iter)
    model = TanhMLP(x0.shape[1], width, depth)
    # each L-BFGS iteration evaluates the loss about once or twice (line search), and each
    # evaluation updates every hidden unit of every stage of every sub-step for every state
    _checks.bounded_work(
        "fit_mlp",
        n_iter_x_2=2 * n_iter,
        n_states=x0.shape[0],
        n_sub=n_sub,
        stages=len(BUTCHER_TABLEAUX[method][1]),
        units=model.width * model.depth,
    )
    theta = model.init(seed) if theta0 is None else model._check_theta(theta0).copy()
    if theta0 is not None:
        _checks.seed("seed", seed)
    h = T / n_sub

    def fun(th):
        with np.errstate(over="ignore", invalid="ignore"):
            loss, grad = _rollout_loss(model, th, x0, x1, h, n_sub, method)
        if not (np.isfinite(loss) and np.all(np.isfinite(grad))):
            return np.inf, np.zeros_like(grad)  # the line search backs off a step that overflows
        return loss, grad

    if not np.isfinite(fun(theta)[0]):
        raise ValueError(f"the solver's rollout of the initial network overflows (T = {T!r}, n_sub = {n_sub})")
    theta, losses, message = _lbfgs(fun, theta, n_iter)
    return TanhMLPFit(model, theta, method, h, n_sub, losses, message)


def _lbfgs(fun, x, n_iter, memory=20):
    """Minimize ``fun`` (x -> (value, gradient)) by L-BFGS: the two-loop recursion over the last
    ``memory`` steps, and a backtracking line search (Armijo, halving from the step 1).

    Returns (x, values after each iteration with values[0] = fun(x0), message). Hand-written, not
    scipy's L-BFGS-B: measured on a shared two-core machine, scipy's routine spent 9 ms of its own per
    iteration on a 354-parameter problem (its threaded BLAS under load), ten times the cost of the
    network's loss and gradient, and its result depended on the number of BLAS threads.
    """
    f, g = fun(x)
    values, S, Y = [f], [], []
    message = f"stopped after the maximum of {n_iter} iterations"
    for _ in range(n_iter):
        q = g.copy()
        alphas = []
        for s, y in zip(reversed(S), reversed(Y)):
            a = np.sum(s * q) / np.sum(y * s)
            alphas.append(a)
            q -= a * y
        if S:
            q *= np.sum(S[-1] * Y[-1]) / np.sum(Y[-1] * Y[-1])
        for (s, y), a in zip(zip(S, Y), reversed(alphas)):
            q += (a - np.sum(y * q) / np.sum(y * s)) * s
        d = -q
        slope = np.sum(g * d)
        if not slope < 0:  # not a descent direction: restart from the gradient
            S, Y, d, slope = [], [], -g, -np.sum(g * g)
        if slope == 0:
            message = "the gradient vanished"
            break
        step = 1.0 if S else min(1.0, 1.0 / np.sqrt(-slope))
        for _ in range(40):
            f_new, g_new = fun(x + step * d)
            if f_new <= f + 1e-4 * step * slope:
                break
            step /= 2
        else:
            message = "the line search found no decrease"
            break
        s, y = step * d, g_new - g
        if np.sum(s * y) > 1e-12 * np.sqrt(np.sum(s * s) * np.sum(y * y)):
            S.append(s)
            Y.append(y)
            if len(S) > memory:
                S.pop(0)
                Y.pop(0)
        x, f, g = x + s, f_new, g_new
        values.append(f)
    return x, np.array(values), message


def field_distance(u, v):
    """The paper's error between two fields sampled at the same states: mean_i max_c |u_ic - v_ic|."""
    u, v = _checks.finite_array("u", u), _checks.finite_array("v", v)
    if u.shape != v.shape or u.ndim != 2:
        raise ValueError(f"u and v must both have shape (N, dim), got {u.shape} and {v.shape}")
    return float(np.mean(np.max(np.abs(u - v), axis=1)))


# --- the paper's second test system ------------------------------------------------------------

CUBIC_A = np.array([[-0.1, 2.0], [-2.0, -0.1]])  # dx/dt = A x^3 (cubes taken entrywise)


def damped_cubic_field(x):
    """The damped cubic oscillator of Zhu et al.: f(x) = A x^3 (entrywise cubes), A = CUBIC_A, x (..., 2)."""
    x = _checks.finite_array("x", x)
    if x.shape[-1:] != (2,):
        raise ValueError(f"x must have a last axis of length 2, got shape {x.shape}")
    return _cubic(x)


def _cubic(x):
    return (x**3) @ CUBIC_A.T


def cubic_pairs(n, T, seed=0, box=2.2):
    """``n`` pairs (x0, x1) of the damped cubic oscillator: x0 uniform in [-box, box]^2 (seeded), x1 its
    exact flow over T (``solve_ivp``, DOP853, rtol = atol = 1e-12). The paper's box is 2.2."""
    n = _checks.positive_int("n", n)
    T = _checks.positive_finite("T", T)
    box = _checks.positive_finite("box", box)
    if box > 10:
        raise ValueError(f"box must be at most 10 (the field grows like |x|^3, the solver's work with it), got {box!r}")
    if T > 100:
        raise ValueError(f"T must be at most 100 (the solver's work grows with it), got {T!r}")
    _checks.bounded_work("cubic_pairs", n=n, steps=1e4)
    rng = np.random.default_rng(_checks.seed("seed", seed))
    x0 = rng.uniform(-box, box, (n, 2))
    sol = solve_ivp(
        lambda t, y: _cubic(y.reshape(n, 2)).ravel(), (0.0, T), x0.ravel(), method="DOP853", rtol=1e-12, atol=1e-12
    )
    return x0, sol.y[:, -1].reshape(n, 2)
