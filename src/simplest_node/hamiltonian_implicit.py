"""A non-separable Hamiltonian model trained with the implicit midpoint rule (chapter 7).

The explicit symplectic methods (symplectic Euler, leapfrog) are symplectic only for separable
fields, and the IMDE of a symplectic method is Hamiltonian but not separable; the general remedy is
an implicit symplectic method with a general Hamiltonian model.

Model: H_theta(q, p) = sum_k theta_k psi_k(q, p) with psi = p^j b(q), j = 0..4,
b in {1, sin q, cos q, sin 2q, cos 2q, sin 3q, cos 3q}, without the constant psi = 1 (34 parameters).
Its field is f_theta = (dH/dp, -dH/dq), linear in theta and divergence-free for every theta.

Method: the implicit midpoint rule y = x + h f((x + y)/2), symplectic for every field
(f = J grad H) and exact on quadratic invariants; each step is solved by Newton's method on the
(N, 2) states at once (a 2 x 2 linear solve per state and iteration).

Training: Loss = (1/2N) sum |x_S - x1|^2 over S steps of h = T/S; Levenberg-Marquardt with the
exact Jacobian from the implicit function theorem,
(I - h/2 A) dy = (I + h/2 A) dx + h B dtheta, A = df/dx and B = df/dtheta at the midpoint,
started from the least-squares fit of the midpoint equation x1 - x0 = T f_theta((x0 + x1)/2).
"""

from dataclasses import dataclass

import numpy as np

from . import _checks

__all__ = ["HamiltonianBasis", "implicit_midpoint", "ImplicitFit", "fit_hamiltonian_implicit"]

NEWTON_TOL = 1e-13  # relative size of the last Newton correction at which a step counts as solved
NEWTON_MAX = 50


def _state(name, x):
    x = _checks.finite_array(name, x)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2) holding (q, p), got {x.shape}")
    return x


class HamiltonianBasis:
    """H_theta(q, p) = sum_k theta_k p^j b(q) (34 terms, see the module docstring) and its field."""

    n_params = 34
    TRIG = ("1", "sin q", "cos q", "sin 2q", "cos 2q", "sin 3q", "cos 3q")

    def __init__(self):
        self.names = [f"p^{j} {b}" for j in range(5) for b in self.TRIG][1:]

    def __repr__(self):
        return "HamiltonianBasis()"

    @staticmethod
    def _trig(q):
        """b(q) and its first two q-derivatives, each (N, 7)."""
        k = np.array([0, 1, 1, 2, 2, 3, 3])
        is_sin = np.array([False, True, False, True, False, True, False])
        kq = q[:, None] * k
        s, c = np.sin(kq), np.cos(kq)
        b = np.where(is_sin, s, c)
        b[:, 0] = 1.0
        db = np.where(is_sin, k * c, -k * s)
        d2b = -(k**2) * b
        d2b[:, 0] = 0.0
        return b, db, d2b

    @staticmethod
    def _powers(p):
        """p^j, j = 0..4, and their first two p-derivatives, each (N, 5)."""
        j = np.arange(5)
        pw = p[:, None] ** j
        d1 = j * np.concatenate([np.zeros_like(p)[:, None], pw[:, :-1]], 1)
        d2 = j * (j - 1) * np.concatenate([np.zeros((p.size, 2)), pw[:, :-2]], 1)
        return pw, d1, d2

    def _parts(self, x):
        """The basis' second-order jet at x (N, 2): H_q, H_p, H_qq, H_qp, H_pp of every psi, (N, 34)."""
        b, db, d2b = self._trig(x[:, 0])
        w, dw, d2w = self._powers(x[:, 1])

        def outer(u, v):
            return (u[:, :, None] * v[:, None, :]).reshape(x.shape[0], 35)[:, 1:]

        return outer(w, db), outer(dw, b), outer(w, d2b), outer(dw, db), outer(d2w, b), outer(w, b)

    def hamiltonian(self, x, theta):
        """H_theta at states x (N, 2)."""
        x, theta = _state("x", x), self._check_theta(theta)
        return self._parts(x)[5] @ theta

    def field(self, x, theta):
        """f_theta(x) = (dH/dp, -dH/dq) at states x (N, 2)."""
        x, theta = _state("x", x), self._check_theta(theta)
        return self._field(x, theta)[0]

    def _field(self, x, theta):
        """(f (N, 2), A = df/dx (N, 2, 2), B = df/dtheta (N, 2, P))."""
        Hq, Hp, Hqq, Hqp, Hpp, _ = self._parts(x)
        B = np.stack([Hp, -Hq], 1)
        f = B @ theta
        A = np.empty((x.shape[0], 2, 2))
        A[:, 0, 0], A[:, 0, 1] = Hqp @ theta, Hpp @ theta
        A[:, 1, 0], A[:, 1, 1] = -(Hqq @ theta), -(Hqp @ theta)
        return f, A, B

    def _check_theta(self, theta):
        theta = _checks.finite_array("theta", theta)
        if theta.shape != (self.n_params,):
            raise ValueError(f"theta must have shape ({self.n_params},), got {theta.shape}")
        return theta


def _newton_midpoint(fA, x, h):
    """y with y = x + h f((x + y)/2), by Newton from the explicit Euler guess; fA(m) -> (f, A)."""
    f, _ = fA(x)
    y = x + h * f
    eye = np.eye(2)
    for _ in range(NEWTON_MAX):
        f, A = fA((x + y) / 2)
        g = y - x - h * f
        step = np.linalg.solve(eye - h / 2 * A, g[..., None])[..., 0]
        y = y - step
        if not np.all(np.isfinite(y)):
            raise ValueError(f"the implicit midpoint step diverged (h = {h!r}): use a smaller step")
        if np.max(np.abs(step)) <= NEWTON_TOL * max(1.0, np.max(np.abs(y))):
            return y
    raise ValueError(
        f"Newton's method did not solve the implicit midpoint step in {NEWTON_MAX} iterations "
        f"(h = {h!r}): use a smaller step"
    )


def implicit_midpoint(field, jacobian, x, h, n_steps=1):
    """``n_steps`` implicit midpoint steps y = x + h f((x + y)/2) from states x (N, 2).

    ``field`` maps states (N, 2) to fields (N, 2) and ``jacobian`` to df/dx (N, 2, 2) (Newton's method
    needs it); returns the states after each step, (n_steps + 1, N, 2).
    """
    if not callable(field) or not callable(jacobian):
        raise TypeError("field and jacobian must be callables of states (N, 2)")
    x = _state("x", x)
    h = _checks.positive_finite("h", h)
    n_steps = _checks.positive_int("n_steps", n_steps)
    _checks.bounded_work("implicit_midpoint", n_steps=n_steps, n_states=x.shape[0], newton=NEWTON_MAX)

    def fA(m):
        return np.asarray(field(m), dtype=float), np.asarray(jacobian(m), dtype=float)

    out = [x]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(n_steps):
            out.append(_newton_midpoint(fA, out[-1], h))
    return np.stack(out)


@dataclass
class ImplicitFit:
    """A trained Hamiltonian model: ``basis``, ``theta``, step ``h``, sub-steps ``n_sub`` and the
    ``loss`` per Levenberg-Marquardt iteration (``loss[0]``: the least-squares start)."""

    basis: HamiltonianBasis
    theta: np.ndarray
    h: float
    n_sub: int
    loss: np.ndarray

    def field(self, x):
        """The learned field at states x (..., 2) (any leading shape, for ``simplest_node.flow``)."""
        x = _checks.finite_array("x", x)
        if x.shape[-1:] != (2,):
            raise ValueError(f"x must have a last axis of length 2 holding (q, p), got shape {x.shape}")
        return self.basis._field(x.reshape(-1, 2), self.theta)[0].reshape(x.shape)

    def hamiltonian(self, x):
        """The learned Hamiltonian H_theta at states x (..., 2)."""
        x = _checks.finite_array("x", x)
        if x.shape[-1:] != (2,):
            raise ValueError(f"x must have a last axis of length 2 holding (q, p), got shape {x.shape}")
        return (self.basis._parts(x.reshape(-1, 2))[5] @ self.theta).reshape(x.shape[:-1])


def _rollout(basis, theta, x0, h, n_sub):
    """x_S and dx_S/dtheta (N, 2, P) of S implicit midpoint steps on f_theta."""
    x, J = x0, np.zeros(x0.shape + (basis.n_params,))
    eye = np.eye(2)
    for _ in range(n_sub):
        y = _newton_midpoint(lambda m: basis._field(m, theta)[:2], x, h)
        _, A, B = basis._field((x + y) / 2, theta)
        lhs = eye - h / 2 * A
        J = np.linalg.solve(lhs, (eye + h / 2 * A) @ J + h * B)
        x = y
    return x, J


def fit_hamiltonian_implicit(x0, x1, T, n_sub=1, n_iter=20, tol=1e-14):
    """Train a ``HamiltonianBasis`` model so that ``n_sub`` implicit midpoint steps map x0 to x1.

    Levenberg-Marquardt from the least-squares fit of x1 - x0 = T f_theta((x0 + x1)/2); stops when
    the loss decreases by less than ``tol`` (relative) or after ``n_iter`` iterations.
    """
    x0, x1 = _state("x0", x0), _state("x1", x1)
    if x0.shape != x1.shape:
        raise ValueError(f"x0 and x1 must have the same shape, got {x0.shape} and {x1.shape}")
    T = _checks.positive_finite("T", T)
    n_sub = _checks.positive_int("n_sub", n_sub)
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
    tol = _checks.finite("tol", tol)
    if tol < 0:
        raise ValueError(f"tol must be a relative decrease >= 0, got {tol!r}")
    _checks.bounded_work(
        "fit_hamiltonian_implicit",
        n_iter_x_30=30 * max(n_iter, 1),
        n_sub=n_sub,
        n_states=x0.shape[0],
        newton=NEWTON_MAX,
    )
    basis = HamiltonianBasis()
    h = T / n_sub
    with np.errstate(over="ignore", invalid="ignore"):
        slopes = (x1 - x0) / T
    if not np.all(np.isfinite(slopes)):
        raise ValueError(f"T = {T!r} is too small: the finite differences (x1 - x0) / T overflow")
    _, _, B = basis._field((x0 + x1) / 2, np.zeros(basis.n_params))
    theta = np.linalg.lstsq(B.reshape(-1, basis.n_params), slopes.reshape(-1), rcond=None)[0]

    def residual(th):
        with np.errstate(over="ignore", invalid="ignore"):
            x, J = _rollout(basis, th, x0, h, n_sub)
        return (x - x1).reshape(-1), J.reshape(-1, basis.n_params)

    r, J = residual(theta)
    with np.errstate(over="ignore", invalid="ignore"):
        losses, lam = [0.5 * np.sum(r**2) / x0.shape[0]], 1e-3
        jacobian_ok = np.all(np.isfinite(J)) and np.isfinite(np.sum(J**2))
    if not (np.isfinite(losses[0]) and jacobian_ok):
        raise ValueError(
            f"the implicit midpoint rollout of the initial fit overflows (T = {T!r}, "
            f"n_sub = {n_sub}): use a shorter T or more sub-steps"
        )
    for _ in range(n_iter):
        g = J.T @ J
        scale = np.diag(g).copy()
        for _ in range(30):
            delta = np.linalg.solve(g + lam * np.diag(scale), -J.T @ r)
            try:
                r_new, J_new = residual(theta + delta)
            except ValueError:  # Newton diverged on a wild trial step
                lam *= 10.0
                continue
            with np.errstate(over="ignore", invalid="ignore"):
                trial = 0.5 * np.sum(r_new**2) / x0.shape[0]
                finite = np.all(np.isfinite(J_new)) and np.isfinite(np.sum(J_new**2))
            if trial < losses[-1] and finite:
                break
            lam *= 10.0
        else:
            break
        theta, r, J = theta + delta, r_new, J_new
        previous = losses[-1]
        losses.append(trial)
        lam = max(lam / 10.0, 1e-12)
        if previous - trial <= tol * previous:
            break
    return ImplicitFit(basis, theta, h, n_sub, np.array(losses))
