"""The pendulum experiment of chapter 7: learning a vector field through a solver, and energy.

System: H(q, p) = p^2/2 - G cos q with G = 10, i.e. dq/dt = p, dp/dt = -G sin q; state layout
``x[..., 0] = q``, ``x[..., 1] = p`` (as in ``simplest_node.solvers``).

Data: pairs (x0, x1 = exact flow of x0 over the data step T), x0 uniform in a box of phase space
(seeded), x1 from ``scipy.integrate.solve_ivp`` (DOP853, rtol = atol = 1e-12).

Model: a field linear in its parameters, f_theta(x)_c = sum_k theta_k phi_k(x) [comp_k = c]:

* ``"general"``: both components span p^j b(q), j = 0..3, b in {1, sin q, cos q, sin 2q, cos 2q}
  (40 parameters). The pendulum field and its IMDE terms f_1, f_2, f_3 for euler and midpoint
  lie in this span (chapter 7 checks it), so the model can represent the truncated IMDE exactly.
* ``"separable"``: dq/dt = sum_j alpha_j p^j (j = 0..3), dp/dt = sum_b beta_b b(q) (9 parameters):
  a separable Hamiltonian field (kappa'(p), -V'(q)) of H = kappa(p) + V(q), for the symplectic
  methods (explicit only then).

Training: minimize the mean squared error of S steps of ``method`` with step h = T/S against x1.
The S-step map is linear in theta for euler with S = 1 (then the problem is linear least squares,
convex); otherwise it is polynomial in theta, and we use Levenberg-Marquardt with the exact
Jacobian d x_S / d theta propagated forward through the solver (hand-written tangent steps),
started from the finite-difference least-squares fit (x1 - x0)/T ~ f_theta(x0).
"""

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.special import ellipk

from . import _checks
from .runge_kutta import TABLEAUX as _TABLEAUX
from .solvers import METHODS

__all__ = [
    "GRAVITY",
    "MODEL_KINDS",
    "TRAIN_METHODS",
    "energy",
    "pendulum_field",
    "pendulum_period",
    "sample_pairs",
    "BasisField",
    "FitResult",
    "fit_field",
    "flow",
    "stacked_field",
    "separable_hamiltonian",
]

GRAVITY = 10.0  # H = p^2/2 - GRAVITY cos q
MAX_MOMENTUM = 1e3  # sample_pairs: largest |p| of the data box (faster motion needs ever smaller steps)
SOLVER_STEPS_PER_TIME = 1e3  # sample_pairs' work estimate per unit of T (a bound, for the work limit)
MODEL_KINDS = ("general", "separable")
TRAIN_METHODS = METHODS


def _state(name, x):
    x = _checks.finite_array(name, x)
    if x.shape[-1:] != (2,):
        raise ValueError(f"{name} must have a last axis of length 2 holding (q, p), got shape {x.shape}")
    return x


def energy(x):
    """H(q, p) = p^2/2 - GRAVITY cos q for states ``x[..., :] = (q, p)`` (finite; a momentum whose
    square overflows gives H = inf)."""
    x = _state("x", x)
    with np.errstate(over="ignore"):
        return 0.5 * x[..., 1] ** 2 - GRAVITY * np.cos(x[..., 0])


def pendulum_field(x):
    """The true field (dH/dp, -dH/dq) = (p, -GRAVITY sin q) at finite states ``x`` (..., 2)."""
    x = _state("x", x)
    return _pendulum_field(x)


def _pendulum_field(x):
    """``pendulum_field`` without the argument check (the data integrator calls it at every stage)."""
    return np.stack([x[..., 1], -GRAVITY * np.sin(x[..., 0])], axis=-1)


def pendulum_period(q0):
    """Period of the pendulum released at rest from angle q0 (|q0| < pi): 4 K(sin^2(q0/2)) / sqrt(G)."""
    q0 = _checks.finite("q0", q0)
    if not 0 < abs(q0) < np.pi:
        raise ValueError(f"q0 must satisfy 0 < |q0| < pi (a libration), got {q0!r}")
    return float(4.0 * ellipk(np.sin(q0 / 2) ** 2) / np.sqrt(GRAVITY))


def flow(field, x0, t_end, n_steps, n_out=2001):
    """Accurate flow of ``field`` (batched (..., 2) -> (..., 2)) from the states ``x0`` (..., 2).

    Classical RK4 with ``n_steps`` equal steps on all states at once (one vectorized call per stage);
    returns (times (n_out,), states (n_out, *x0.shape)), ``n_out`` evenly spaced samples of the path
    (``n_steps`` must be a multiple of ``n_out - 1``). The chapter measures this integrator's own
    energy error on the true field, to show it is far below the effects it reports. The work
    n_steps x (number of states) is limited by ``_checks.MAX_WORK``; a path that overflows ends in
    inf or nan entries, so ``field`` should stay finite on the states it is asked for.
    """
    if not callable(field):
        raise TypeError(f"field must be a callable (states (..., 2) -> fields (..., 2)), got {type(field).__name__}")
    x0 = _state("x0", x0)
    t_end = _checks.positive_finite("t_end", t_end)
    n_steps = _checks.positive_int("n_steps", n_steps)
    n_out = _checks.positive_int("n_out", n_out, minimum=2)
    if n_steps % (n_out - 1):
        raise ValueError(f"n_steps ({n_steps}) must be a multiple of n_out - 1 ({n_out - 1})")
    _checks.bounded_work("flow", n_steps=n_steps, batch=x0.size // 2)
    _checks.bounded_work("flow (stored samples)", n_out=n_out, batch=x0.size)
    every = n_steps // (n_out - 1)
    h = t_end / n_steps
    x, out = x0, [x0]
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, n_steps + 1):
            k1 = field(x)
            k2 = field(x + h / 2 * k1)
            k3 = field(x + h / 2 * k2)
            k4 = field(x + h * k3)
            x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            if k % every == 0:
                out.append(x)
    path = np.stack(out)
    if not np.all(np.isfinite(path)):
        raise ValueError(
            f"the path overflowed (t_end = {t_end!r}, n_steps = {n_steps}, step h = {h:.3g}): "
            "use more steps or a shorter t_end"
        )
    return np.linspace(0.0, t_end, n_out), path


def stacked_field(fits):
    """One batched field for several trained models: states (M, ..., 2) -> fields (M, ..., 2).

    Model m is applied to ``y[m]``; every model is embedded in the general basis (a separable model
    is a general one with the other coefficients zero), so the features are computed once per call.
    ``fits`` is a non-empty sequence of ``FitResult``.
    """
    if (
        isinstance(fits, FitResult)
        or not isinstance(fits, (list, tuple))
        or not fits
        or not all(isinstance(fit, FitResult) for fit in fits)
    ):
        raise TypeError(f"fits must be a non-empty list of FitResult (from fit_field), got {fits!r:.60}")
    thetas = np.stack([fit.model.to_general(fit.theta) for fit in fits])  # (M, 40): (c, j, b) order
    # W[m, b, (c, j)]: coefficient of p^j b(q) in component c, so that b(q) @ W gives the
    # polynomial-in-p coefficients; then Horner in p. Two trig calls per evaluation.
    weights = thetas.reshape(-1, 2, 4, 5).transpose(0, 3, 1, 2).reshape(-1, 5, 8)

    def field(y):
        q, p = y[..., 0], y[..., 1]
        s, c = np.sin(q), np.cos(q)
        b = np.stack([np.ones_like(q), s, c, 2 * s * c, 1 - 2 * s * s], -1)  # (M, ..., 5)
        shape = b.shape
        coef = np.matmul(b.reshape(shape[0], -1, 5), weights).reshape(shape[:-1] + (2, 4))
        p = p[..., None]
        return coef[..., 0] + p * (coef[..., 1] + p * (coef[..., 2] + p * coef[..., 3]))

    return field


def sample_pairs(n, T=0.12, seed=0, q_range=(-np.pi / 2, np.pi / 2), p_range=(-4.5, 4.5), noise=0.0):
    """``n`` data pairs (x0, x1): x0 uniform in q_range x p_range (seeded), x1 the exact flow at T.

    ``noise`` > 0 adds independent Gaussian noise of that standard deviation to every coordinate of
    x1 (drawn after x0 from the same generator, so x0 does not depend on ``noise``).
    The momenta must satisfy |p| <= ``MAX_MOMENTUM`` (the field's speed sets the solver's steps), and
    the work n x T x ``SOLVER_STEPS_PER_TIME`` is limited by ``_checks.MAX_WORK``.
    """
    n = _checks.positive_int("n", n)
    T = _checks.positive_finite("T", T)
    noise = _checks.finite("noise", noise)
    if noise < 0:
        raise ValueError(f"noise must be a standard deviation >= 0, got {noise!r}")
    seed = _checks.seed("seed", seed)
    ranges = []
    for name, value in [("q_range", q_range), ("p_range", p_range)]:
        bounds = _checks.finite_array(name, value)
        if bounds.shape != (2,) or not bounds[0] < bounds[1]:
            raise ValueError(f"{name} must be a finite interval (low, high) with low < high, got {value!r:.60}")
        ranges.append(bounds)
    if np.max(np.abs(ranges[1])) > MAX_MOMENTUM:
        raise ValueError(f"p_range must lie within [-{MAX_MOMENTUM:g}, {MAX_MOMENTUM:g}], got {p_range!r:.60}")
    _checks.bounded_work("sample_pairs", n=n, n_steps=min(np.ceil(T * SOLVER_STEPS_PER_TIME), 1e30))
    (q_lo, q_hi), (p_lo, p_hi) = q_range, p_range
    rng = np.random.default_rng(seed)
    x0 = np.stack([rng.uniform(q_lo, q_hi, n), rng.uniform(p_lo, p_hi, n)], axis=-1)
    sol = solve_ivp(
        lambda t, y: _pendulum_field(y.reshape(n, 2)).ravel(),
        (0.0, T),
        x0.ravel(),
        method="DOP853",
        rtol=1e-12,
        atol=1e-12,
    )
    x1 = sol.y[:, -1].reshape(n, 2)
    if noise > 0:
        x1 = x1 + noise * rng.standard_normal(x1.shape)
    return x0, x1


def _trig(q):
    """b(q) = (1, sin q, cos q, sin 2q, cos 2q) and their q-derivatives, each (..., 5)."""
    s, c, s2, c2 = np.sin(q), np.cos(q), np.sin(2 * q), np.cos(2 * q)
    one, zero = np.ones_like(q), np.zeros_like(q)
    return np.stack([one, s, c, s2, c2], -1), np.stack([zero, c, -s, 2 * c2, -2 * s2], -1)


def _powers(p):
    """p^j, j = 0..3, and their p-derivatives, each (..., 4)."""
    one, zero = np.ones_like(p), np.zeros_like(p)
    return np.stack([one, p, p**2, p**3], -1), np.stack([zero, one, 2 * p, 3 * p**2], -1)


class BasisField:
    """A field linear in its parameters: f_theta(x)_c = sum_k theta_k phi_k(x) [comp_k = c].

    ``kind`` is "general" (40 parameters) or "separable" (9); see the module docstring.
    """

    def __init__(self, kind="general"):
        _checks.choice("kind", kind, MODEL_KINDS)
        self.kind = kind
        if kind == "general":
            self.n_params = 40
            self.comp = np.repeat([0, 1], 20)
            self.names = [
                f"{c}: p^{j} {b}"
                for c in ("dq/dt", "dp/dt")
                for j in range(4)
                for b in ("1", "sin q", "cos q", "sin 2q", "cos 2q")
            ]
        else:
            self.n_params = 9
            self.comp = np.array([0] * 4 + [1] * 5)
            self.names = [f"dq/dt: p^{j}" for j in range(4)] + [
                f"dp/dt: {b}" for b in ("1", "sin q", "cos q", "sin 2q", "cos 2q")
            ]
        self.mask = (self.comp[None, :] == np.arange(2)[:, None]).astype(float)  # (2, P)

    def __repr__(self):
        return f"BasisField({self.kind!r})"

    def features(self, x):
        """phi (..., P) and its gradient d phi / d(q, p) (..., P, 2) at finite states x (..., 2)."""
        return self._features(_state("x", x))

    def _features(self, x):
        """``features`` without the argument check (the training loop's tangent steps)."""
        q, p = x[..., 0], x[..., 1]
        b, db = _trig(q)
        w, dw = _powers(p)
        if self.kind == "general":
            phi = (w[..., :, None] * b[..., None, :]).reshape(q.shape + (20,))
            dq = (w[..., :, None] * db[..., None, :]).reshape(q.shape + (20,))
            dp = (dw[..., :, None] * b[..., None, :]).reshape(q.shape + (20,))
            phi, dq, dp = [np.concatenate([v, v], -1) for v in (phi, dq, dp)]
        else:
            zero_w, zero_b = np.zeros_like(w), np.zeros_like(b)
            phi = np.concatenate([w, b], -1)
            dq = np.concatenate([zero_w, db], -1)
            dp = np.concatenate([dw, zero_b], -1)
        return phi, np.stack([dq, dp], -1)

    def to_general(self, theta):
        """The same field's parameters in the general basis (40 entries)."""
        theta = self._check_theta(theta)
        if self.kind == "general":
            return theta.copy()
        out = np.zeros(40)
        out[0:20:5] = theta[:4]  # dq/dt: p^j * 1
        out[20:25] = theta[4:]  # dp/dt: p^0 * b(q)
        return out

    def _check_theta(self, theta):
        theta = _checks.finite_array("theta", theta)
        if theta.shape != (self.n_params,):
            raise ValueError(f"theta must have shape ({self.n_params},) for a {self.kind} model, got {theta.shape}")
        return theta

    def __call__(self, x, theta):
        """f_theta(x) for states x (..., 2)."""
        theta = self._check_theta(theta)
        phi, _ = self._features(_state("x", x))
        with np.errstate(over="ignore", invalid="ignore"):
            return (phi * theta) @ self.mask.T

    def tangent(self, x, theta):
        """(f, A, B): f_theta(x) (N, 2), A = df/dx (N, 2, 2), B = df/dtheta (N, 2, P)."""
        x = _state("x", x)
        if x.ndim != 2:
            raise ValueError(f"x must have shape (N, 2), got {x.shape}")
        return self._tangent(x, self._check_theta(theta))

    def _tangent(self, x, theta):
        """``tangent`` without the argument checks (called at every stage of the training rollout)."""
        phi, dphi = self._features(x)
        f = (phi * theta) @ self.mask.T
        A = np.swapaxes(dphi, -1, -2) @ (theta[:, None] * self.mask.T)  # (N, 2, P) @ (P, 2) -> d, c
        A = np.swapaxes(A, -1, -2)
        B = phi[:, None, :] * self.mask[None]
        return f, A, B

    def least_squares(self, x, v):
        """theta minimizing sum |f_theta(x) - v|^2 (linear least squares); x and v finite (N, 2)."""
        x, v = _state("x", x), _state("v", v)
        if x.ndim != 2 or v.shape != x.shape:
            raise ValueError(f"x and v must both have shape (N, 2), got {x.shape} and {v.shape}")
        phi, _ = self._features(x)
        design = (phi[:, None, :] * self.mask[None]).reshape(-1, self.n_params)
        return np.linalg.lstsq(design, v.reshape(-1), rcond=None)[0]


def _tangent_step(model, theta, x, J, h, method):
    """One step of ``method`` on f_theta from x (N, 2) with sensitivity J = dx/dtheta (N, 2, P)."""

    def F(y, Jy):
        f, A, B = model._tangent(y, theta)
        return f, A @ Jy + B

    if method in _TABLEAUX:
        A, b = _TABLEAUX[method].A, _TABLEAUX[method].b_float
        ks = []
        for i in range(len(b)):
            y, Jy = x, J
            for j, aij in enumerate(A[i, :i]):
                if aij:
                    y, Jy = y + h * aij * ks[j][0], Jy + h * aij * ks[j][1]
            ks.append(F(y, Jy))
        x_new = x + h * sum(bi * k[0] for bi, k in zip(b, ks) if bi)
        J_new = J + h * sum(bi * k[1] for bi, k in zip(b, ks) if bi)
        return x_new, J_new
    # symplectic: kick p with dp/dt(q), drift q with dq/dt(p) (separable fields only)
    x, J = x.copy(), J.copy()
    kicks = [(1.0, "p"), (1.0, "q")] if method == "symplectic_euler" else [(0.5, "p"), (1.0, "q"), (0.5, "p")]
    for frac, part in kicks:
        f, df = F(x, J)
        c = 1 if part == "p" else 0
        x[:, c] += frac * h * f[:, c]
        J[:, c] += frac * h * df[:, c]
    return x, J


def _rollout(model, theta, x0, h, n_sub, method):
    x = x0
    J = np.zeros(x0.shape + (model.n_params,))
    for _ in range(n_sub):
        x, J = _tangent_step(model, theta, x, J, h, method)
    return x, J


def separable_hamiltonian(theta):
    """H_theta(q, p) = kappa(p) + V(q) of a separable model: dq/dt = kappa'(p), dp/dt = -V'(q).

    With dq/dt = sum_j alpha_j p^j and dp/dt = b0 + b1 sin q + b2 cos q + b3 sin 2q + b4 cos 2q:
    kappa = sum_j alpha_j p^{j+1}/(j+1) and V = -(b0 q - b1 cos q + b2 sin q - b3 cos 2q/2 + b4 sin 2q/2).
    Its exact flow conserves H_theta. Returns a function of states (..., 2).
    """
    theta = _checks.finite_array("theta", theta)
    if theta.shape != (9,):
        raise ValueError(f"theta must be a separable model's 9 parameters, got shape {theta.shape}")
    alpha, beta = theta[:4], theta[4:]

    def H(x):
        x = np.asarray(x, dtype=float)
        q, p = x[..., 0], x[..., 1]
        kinetic = sum(alpha[j] * p ** (j + 1) / (j + 1) for j in range(4))
        potential = -(
            beta[0] * q
            - beta[1] * np.cos(q)
            + beta[2] * np.sin(q)
            - beta[3] * np.cos(2 * q) / 2
            + beta[4] * np.sin(2 * q) / 2
        )
        return kinetic + potential

    return H


@dataclass
class FitResult:
    """A trained field: ``theta``, its ``model``, the training ``method``, step ``h`` and sub-steps
    ``n_sub``; ``loss`` per iteration, Loss = (1/2N) sum_i |x_S(x0_i) - x1_i|^2 (the mean squared
    error per coordinate); ``thetas[k]`` the parameters after iteration k (``loss[k]`` is theirs,
    ``thetas[-1]`` is ``theta``), so that ``field_at(k)`` is the fit stopped early after k iterations."""

    model: BasisField
    theta: np.ndarray
    method: str
    h: float
    n_sub: int
    loss: np.ndarray
    thetas: np.ndarray = None

    def __post_init__(self):
        if self.thetas is None:
            self.thetas = self.theta[None].copy()
        if len(self.thetas) != len(self.loss):
            raise ValueError(
                f"thetas ({len(self.thetas)}) and loss ({len(self.loss)}) must have one entry per iteration"
            )

    def field(self, x):
        """The learned field f_theta at states x (..., 2)."""
        return self.model(x, self.theta)

    def field_at(self, k, x):
        """The field after iteration ``k`` of the training (0: the initial fit) at states x (..., 2)."""
        k = _checks.positive_int("k", k, minimum=0)
        if k >= len(self.thetas):
            raise ValueError(f"k must be below the number of recorded iterates, {len(self.thetas)}; got {k}")
        return self.model(x, self.thetas[k])


def fit_field(x0, x1, T, method, n_sub=1, kind=None, n_iter=50, tol=1e-14):
    """Train a ``BasisField`` so that ``n_sub`` steps of ``method`` (h = T/n_sub) map x0 to x1.

    ``kind`` defaults to "separable" for the symplectic methods (they are explicit only for separable
    fields) and "general" otherwise. Levenberg-Marquardt from the finite-difference least-squares fit;
    stops when the loss decreases by less than ``tol`` (relative) or after ``n_iter`` iterations.
    """
    x0, x1 = _state("x0", x0), _state("x1", x1)
    if x0.ndim != 2 or x0.shape != x1.shape:
        raise ValueError(f"x0 and x1 must both have shape (n, 2), got {x0.shape} and {x1.shape}")
    T = _checks.positive_finite("T", T)
    _checks.choice("method", method, TRAIN_METHODS)
    n_sub = _checks.positive_int("n_sub", n_sub)
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
    tol = _checks.finite("tol", tol)
    if tol < 0:
        raise ValueError(f"tol must be a relative decrease >= 0, got {tol!r}")
    # each iteration rolls the n states through n_sub steps, up to 30 times (the damping search)
    _checks.bounded_work("fit_field", n_sub=n_sub, n_states=x0.shape[0], n_iter_x_30=30 * max(n_iter, 1))
    symplectic = method in ("symplectic_euler", "leapfrog")
    kind = kind if kind is not None else ("separable" if symplectic else "general")
    _checks.choice("kind", kind, MODEL_KINDS)
    if symplectic and kind != "separable":
        raise ValueError(f"method {method!r} is explicit only for separable fields: use kind='separable'")
    model = BasisField(kind)
    h = T / n_sub
    with np.errstate(over="ignore"):
        slopes = (x1 - x0) / T
    if not np.all(np.isfinite(slopes)):
        raise ValueError(f"T = {T!r} is too small: the finite differences (x1 - x0) / T overflow")
    theta = model.least_squares(x0, slopes)  # exact for euler with n_sub = 1 (convex)
    if method == "euler" and n_sub == 1:
        r = x0 + T * model(x0, theta) - x1
        return FitResult(model, theta, method, h, n_sub, np.array([np.mean(r**2)]), theta[None].copy())

    def residual(th):
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging trial step is rejected below
            x, J = _rollout(model, th, x0, h, n_sub, method)
            return (x - x1).reshape(-1), J.reshape(-1, model.n_params)

    r, J = residual(theta)
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(J))):
        raise ValueError(
            f"the solver's rollout of the initial fit overflows (T = {T!r}, n_sub = {n_sub}, "
            f"step h = {h:.3g}): use a shorter T or more sub-steps"
        )
    losses, thetas = [np.mean(r**2)], [theta]
    lam = 1e-3
    for _ in range(n_iter):
        g = J.T @ J
        scale = np.diag(g).copy()
        improved = False
        for _ in range(30):
            delta = np.linalg.solve(g + lam * np.diag(scale), -J.T @ r)
            r_new, J_new = residual(theta + delta)
            with np.errstate(over="ignore", invalid="ignore"):
                trial = np.mean(r_new**2)
            if trial < losses[-1] and np.all(np.isfinite(J_new)):
                improved = True
                break
            lam *= 10.0
        if not improved:
            break
        theta = theta + delta
        previous = losses[-1]
        r, J = r_new, J_new
        losses.append(np.mean(r**2))
        thetas.append(theta)
        lam = max(lam / 10.0, 1e-12)
        if previous - losses[-1] <= tol * previous:
            break
    return FitResult(model, theta, method, h, n_sub, np.array(losses), np.array(thetas))
