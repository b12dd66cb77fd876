"""Beyond one dimension: the linear Neural ODE dx/dt = A x with a d x d matrix A.

Initial states x0 ~ N(0, sigma^2 I) in R^d; the data come from dx/dt = A* x and are compared with
the model at one time ``t``. With M(A) = e^{A t} the model maps x0 to M(A) x0, so with the residual
rho(A) = e^{A t} - e^{A* t}

    Loss(A) = 1/2 E|rho(A) x0|^2 = sigma^2/2 tr(rho^T rho E[x0 x0^T]/sigma^2) = sigma^2/2 ||rho(A)||_F^2.

The derivative of the matrix exponential is its Frechet derivative Dexp_X[E] = d/de e^{X + e E}|_{e=0},
so dLoss = sigma^2 <rho, Dexp_{tA}[t dA]>_F, and since the adjoint of Dexp_X in the Frobenius inner
product is Dexp_{X^T},

    grad Loss(A) = sigma^2 t Dexp_{t A^T}[rho(A)].

Dexp_X[E] is the upper-right block of expm([[X, E], [0, X]]) (Najfeld and Havel 1995), which
``expm_stack`` (a vectorized scaling-and-squaring exponential, checked against
``scipy.linalg.expm``) evaluates for a whole stack of matrices at once. The terminal covariance of the model is

    Sigma_t(A) = E[x_A(t) x_A(t)^T] = sigma^2 e^{A t} e^{A^T t},

which for d = 1 is chapter 5's sigma_k^2(t) = sigma^2 e^{2 a t}. Every function takes a stack of
matrices of shape (..., d, d) and works on all of them at once.

Optimizers (``init(A)``, ``update(problem, A, state, k)``, as in ``simplest_node.optimizers``; the
package's ``GD`` and ``Adam`` work unchanged, elementwise, on matrix stacks):

* ``CovariancePreconditioned(lr)``: A <- A - lr G Sigma_t^{-1} / t^2 (right preconditioning by the
  terminal covariance; for d = 1 exactly the variance-corrected rule). ``side="left"`` uses
  Sigma_t^{-1} G / t^2 and ``side="both"`` Sigma_t^{-1/2} G Sigma_t^{-1/2} / t^2.
* ``GaussNewton(lr)``: A <- A + lr D with D the least-squares solution of Dexp_{tA}[t D] = -rho(A) (the
  Gauss-Newton step for the residual rho, whose Jacobian is the d^2 x d^2 matrix of Dexp_{tA}[t .]);
  for d = 1 it is the variance-corrected rule again.

Both accept ``line_search=True``: Armijo backtracking from the step ``lr`` (halving until
Loss(A + alpha D) <= Loss(A) + 1e-4 alpha <G, D>), as chapter 5's safeguard.
"""

from dataclasses import dataclass

import numpy as np
from scipy.linalg import expm

from . import _checks
from .batch_training import BatchHistory, backtrack, check_training, run_batched

__all__ = [
    "MatrixProblem",
    "expm_stack",
    "frechet_expm",
    "CovariancePreconditioned",
    "GaussNewton",
    "MatrixHistory",
    "train_matrix",
    "jordan_matrix",
    "random_matrices",
]


def _square_stack(name, value, d=None):
    """``value`` as a finite float array of shape (..., d, d)."""
    arr = _checks.finite_array(name, value)
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(
            f"{name} must be a square matrix or a stack of them (shape (..., d, d)), got shape {arr.shape}"
        )
    if d is not None and arr.shape[-1] != d:
        raise ValueError(f"{name} must be {d} x {d} (the problem's dimension d = {d}), got shape {arr.shape}")
    return arr


TAYLOR_DEGREE = 19  # truncation error of the scaled series: 1/20! ~ 4e-19 for ||X / 2^s||_1 <= 1
MAX_SQUARINGS = 60
_COEFFS = 1.0 / np.cumprod(np.r_[1.0, np.arange(1.0, TAYLOR_DEGREE + 1)])  # 1/k!, k = 0..19
_BLOCK_COEFFS = np.zeros((5, 4))  # row i: the coefficients of Y^0..Y^3 in block i (degree 4i + j)
_BLOCK_COEFFS.flat[: TAYLOR_DEGREE + 1] = _COEFFS


def expm_stack(X):
    """e^X for a stack (..., d, d), vectorized: scaling and squaring with a degree-19 Taylor series.

    Each matrix is scaled by 2^-s so that its 1-norm is at most 1, the series is summed by the
    Paterson-Stockmeyer scheme (powers Y^2..Y^4, then Horner's rule in Y^4: 7 matrix products),
    and the result squared s times (s per matrix, masked). The whole stack moves through each
    matrix product at once, which on small matrices is many times faster than
    ``scipy.linalg.expm`` (a Python loop over the stack); the tests check the two agree to 1e-11
    relative. Matrices needing more than 60 squarings (1-norm > 2^60) go to scipy. ``X`` must be
    finite; an entry whose exponential overflows is inf (or nan where inf - inf arises in the
    squarings of a huge matrix).
    """
    X = _square_stack("X", X)
    _checks.bounded_work("expm_stack", batch=X.size, n_steps=X.shape[-1])
    return _expm(X)


def _expm(X):
    """``expm_stack`` without the argument check (the models call it with their own checked stacks)."""
    X = np.asarray(X, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        norm = np.max(np.sum(np.abs(X), axis=-2), axis=-1)
        s = np.ceil(np.log2(np.maximum(norm, 1e-300))).clip(0, None)
        s = np.where(np.isfinite(s), s, MAX_SQUARINGS + 1).astype(int)
        big = s > MAX_SQUARINGS
        s = np.minimum(s, MAX_SQUARINGS)
        Y = X / (2.0**s)[..., None, None]
        eye = np.broadcast_to(np.eye(X.shape[-1]), X.shape)
        Y2 = Y @ Y
        powers = np.stack([eye, Y, Y2, Y2 @ Y])
        Y4 = Y2 @ Y2
        blocks = np.tensordot(_BLOCK_COEFFS, powers, axes=(1, 0))  # B_i = sum_j c_{4i+j} Y^j
        E = blocks[4]
        for i in range(3, -1, -1):
            E = blocks[i] + Y4 @ E
        for i in range(int(s.max()) if s.size else 0):
            E = np.where((i < s)[..., None, None], E @ E, E)
        if np.any(big):
            finite = big & np.all(np.isfinite(X), axis=(-2, -1))
            E[big] = np.nan
            if np.any(finite):
                E[finite] = expm(X[finite])
    return E


def frechet_expm(X, E):
    """The Frechet derivative Dexp_X[E] of the matrix exponential, for stacks (..., d, d).

    Dexp_X[E] = int_0^1 e^{s X} E e^{(1 - s) X} ds is the upper-right d x d block of
    expm([[X, E], [0, X]]); X and E broadcast against each other.
    """
    X = _square_stack("X", X)
    E = _square_stack("E", E, X.shape[-1])
    try:
        shape = np.broadcast_shapes(X.shape, E.shape)
    except ValueError as err:
        raise ValueError(f"X and E must broadcast against each other, got shapes {X.shape} and {E.shape}") from err
    _checks.bounded_work("frechet_expm", batch=int(np.prod(shape)), n_steps=8 * X.shape[-1])
    return _frechet_expm(X, E)


def _frechet_expm(X, E):
    """``frechet_expm`` without the argument checks (the models' gradients and Jacobians)."""
    X, E = np.broadcast_arrays(X, E)
    d = X.shape[-1]
    block = np.zeros(X.shape[:-2] + (2 * d, 2 * d))
    block[..., :d, :d] = X
    block[..., d:, d:] = X
    block[..., :d, d:] = E
    return _expm(block)[..., :d, d:]


class MatrixProblem:
    """The linear Neural ODE dx/dt = A x in R^d, x0 ~ N(0, sigma^2 I), compared at time ``t``.

    ``A_star`` is the true d x d matrix. Methods take a matrix or a stack (..., d, d) of them.
    """

    def __init__(self, A_star, t=1.0, sigma=1.0):
        A_star = _square_stack("A_star", A_star)
        if A_star.ndim != 2:
            raise ValueError(f"A_star must be one d x d matrix, got shape {A_star.shape}")
        self.A_star = A_star
        self.d = A_star.shape[0]
        self.t = _checks.positive_finite("t", t)
        self.sigma = _checks.positive_finite("sigma", sigma)
        self._target = expm(A_star * self.t)

    def __repr__(self):
        return f"MatrixProblem(d={self.d}, t={self.t}, sigma={self.sigma})"

    def _check(self, A):
        return _square_stack("A", A, self.d)

    def target(self):
        """The data's map e^{A* t}."""
        return self._target

    def model_map(self, A):
        """M(A) = e^{A t} for each matrix in the stack.

        The last few results are cached by the bytes of A: an optimizer step asks for the map of
        the same iterate several times (loss, gradient, covariance, line search).
        """
        A = self._check(A)
        key = (A.shape, A.tobytes())
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            if len(cache) >= 4:
                cache.pop(next(iter(cache)))
            cache[key] = _expm(A * self.t)
            cache[key].flags.writeable = False
        return cache[key]

    def residual(self, A):
        """The residual rho(A) = e^{A t} - e^{A* t}."""
        return self.model_map(A) - self._target

    def loss(self, A):
        """sigma^2/2 ||e^{A t} - e^{A* t}||_F^2 = 1/2 E|x_A(t) - x_{A*}(t)|^2, shape A.shape[:-2]."""
        R = self.residual(A)
        with np.errstate(over="ignore", invalid="ignore"):
            return 0.5 * self.sigma**2 * np.sum(R * R, axis=(-2, -1))

    def grad(self, A):
        """sigma^2 t Dexp_{t A^T}[rho(A)], the exact gradient of the loss (Frechet derivative)."""
        A = self._check(A)
        R = self.residual(A)
        with np.errstate(over="ignore", invalid="ignore"):
            R = np.where(np.isfinite(R), R, np.nan)
            # A non-finite residual would stop expm's input check; such an entry has diverged anyway.
            bad = ~np.all(np.isfinite(R), axis=(-2, -1))
            R[bad] = 0.0
            G = self.sigma**2 * self.t * _frechet_expm(self.t * np.swapaxes(A, -1, -2), R)
            G[bad] = np.nan
        return G

    def covariance(self, A):
        """The model's terminal covariance Sigma_t(A) = sigma^2 e^{A t} e^{A^T t}."""
        M = self.model_map(A)
        with np.errstate(over="ignore", invalid="ignore"):
            return self.sigma**2 * M @ np.swapaxes(M, -1, -2)

    def jacobian(self, A):
        """The d^2 x d^2 Jacobian of vec(sigma rho(A)) (row-major vec): column j is sigma Dexp_{tA}[t E_j]."""
        A = self._check(A)
        d = self.d
        basis = np.eye(d * d).reshape(d * d, d, d)
        X = self.t * A[..., None, :, :]
        with np.errstate(over="ignore", invalid="ignore"):
            columns = self.sigma * self.t * _frechet_expm(np.broadcast_to(X, A.shape[:-2] + (d * d, d, d)), basis)
        return np.swapaxes(columns.reshape(A.shape[:-2] + (d * d, d * d)), -1, -2)

    def sample_x0(self, size, rng):
        """Draw ``size`` initial states x0 ~ N(0, sigma^2 I) from ``rng``: shape (size, d)."""
        return rng.normal(0.0, self.sigma, size=(size, self.d))


class CovariancePreconditioned:
    """The variance correction with the terminal covariance: A <- A - lr P(G) / t^2.

    ``side="right"``: P(G) = G Sigma_t^{-1} (the default; the input-covariance preconditioner of a
    linear layer dx = dA x with input x(t)); ``"left"``: Sigma_t^{-1} G; ``"both"``:
    Sigma_t^{-1/2} G Sigma_t^{-1/2}. For d = 1 all three are a - lr Loss'(a) / (t^2 sigma_k^2(t)).
    Each direction has <G, P(G)> > 0, so it is a descent direction.
    """

    SIDES = ("right", "left", "both")

    def __init__(self, lr, side="right", line_search=False):
        self.lr = _checks.positive_finite("lr", lr)
        self.side = _checks.choice("side", side, self.SIDES)
        self.line_search = _checks.flag("line_search", line_search)

    def __repr__(self):
        return f"CovariancePreconditioned(lr={self.lr}, side={self.side!r}, line_search={self.line_search})"

    def init(self, A):
        return {}

    def direction(self, problem, A, G):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            S = problem.covariance(A)
            good = np.all(np.isfinite(S), axis=(-2, -1)) & np.all(np.isfinite(G), axis=(-2, -1))
            S = np.where(good[..., None, None], S, np.eye(problem.d))
            Gs = np.where(good[..., None, None], G, 0.0)
            # Sigma_t^{-1} (or ^{-1/2}) from its eigendecomposition; eigenvalues below 1e-15 of the
            # largest count as zero (a pseudo-inverse), as a numerically singular Sigma_t is common.
            w, V = np.linalg.eigh(S)
            keep = w > 1e-15 * w[..., -1:]
            power = -0.5 if self.side == "both" else -1.0
            scaled = np.where(keep, np.maximum(w, np.finfo(float).tiny) ** power, 0.0)
            inv = (V * scaled[..., None, :]) @ np.swapaxes(V, -1, -2)
            if self.side == "right":
                P = Gs @ inv
            elif self.side == "left":
                P = inv @ Gs
            else:
                P = inv @ Gs @ inv
            P = np.where(good[..., None, None], P, np.nan)
        return -P / problem.t**2

    def update(self, problem, A, state, k):
        G = problem.grad(A)
        D = self.direction(problem, A, G)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.line_search:
                return backtrack(problem, A, np.nan_to_num(D), G, self.lr)
            return A + self.lr * D


def _solve_stack(J, b):
    """Solve J x = b for a stack of square systems by Gaussian elimination with partial pivoting.

    Returns x and a mask of the systems whose pivot fell below 1e-14 of the largest entry of their J
    (treated as singular; their x is not meaningful). Kept for that mask, not for speed:
    ``benchmarks/solve_stack.py`` measures ``np.linalg.solve`` over the stack 4 to 40 times faster
    on a shared 2-core machine (medians of three runs: 6 systems of 9 x 9, 0.18-0.32 ms here and 6 us
    there; 200 of 9 x 9, 0.38-0.77 ms here and 0.09-0.19 ms there, one thread or OpenBLAS's default,
    whichever the load favours), but it flags only exactly singular systems (LinAlgError for the whole
    stack), and the stacked LU that would give the pivots (``scipy.linalg.lu``, 1.0 ms for 200) is
    slower than this elimination.
    """
    n = J.shape[-1]
    M = np.concatenate([J, b], axis=-1).astype(float, copy=True)
    scale = np.max(np.abs(J), axis=(-2, -1))
    singular = ~(scale > 0)
    batch = np.indices(M.shape[:-2])
    for col in range(n):
        piv = col + np.argmax(np.abs(M[..., col:, col]), axis=-1)
        rows = M[(*batch, piv)].copy()
        M[(*batch, piv)] = M[..., col, :]
        M[..., col, :] = rows
        pivot = M[..., col, col]
        small = ~(np.abs(pivot) > 1e-14 * scale)
        singular |= small
        pivot = np.where(small, 1.0, pivot)
        factors = M[..., col + 1 :, col] / pivot[..., None]
        M[..., col + 1 :, :] -= factors[..., None] * M[..., col, None, :]
    x = np.zeros(b.shape)
    for row in range(n - 1, -1, -1):
        pivot = np.where(singular, 1.0, M[..., row, row])
        acc = M[..., row, n:] - np.einsum("...j,...jk->...k", M[..., row, row + 1 : n], x[..., row + 1 :, :])
        x[..., row, :] = acc / pivot[..., None]
    return x, singular


class GaussNewton:
    """Gauss-Newton for the residual rho(A) = e^{A t} - e^{A* t}: A <- A + lr D.

    D minimizes |vec rho(A) + J vec D|^2 with J the Jacobian of vec rho (the d^2 x d^2 matrix of
    Dexp_{tA}[t .]); J is square, so where it is invertible D = -J^{-1} vec rho, Newton's method for the
    root rho(A) = 0 (an LU solve). If some J is exactly singular (eigenvalues of tA differing by a
    nonzero multiple of 2 pi i), those steps are least-squares solutions (``lstsq``). For d = 1 this is
    chapter 5's rule.
    """

    def __init__(self, lr=1.0, line_search=False):
        self.lr = _checks.positive_finite("lr", lr)
        self.line_search = _checks.flag("line_search", line_search)

    def __repr__(self):
        return f"GaussNewton(lr={self.lr}, line_search={self.line_search})"

    def init(self, A):
        return {}

    def direction(self, problem, A):
        d = problem.d
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            R = problem.sigma * problem.residual(A)
            J = problem.jacobian(A)
            good = np.all(np.isfinite(R), axis=(-2, -1)) & np.all(np.isfinite(J), axis=(-2, -1))
            J = np.where(good[..., None, None], J, np.eye(d * d))
            r = np.where(good[..., None, None], R, 0.0).reshape(A.shape[:-2] + (d * d, 1))
            D, singular = _solve_stack(J, r)
            if np.any(singular):  # some J numerically singular: least squares for those
                flat_J, flat_r, flat_D = (
                    J.reshape((-1, d * d, d * d)),
                    r.reshape((-1, d * d, 1)),
                    D.reshape((-1, d * d, 1)),
                )
                for k in np.flatnonzero(singular.ravel()):
                    flat_D[k] = np.linalg.lstsq(flat_J[k], flat_r[k], rcond=None)[0]
                D = flat_D
            D = -D.reshape(A.shape)
        return np.where(good[..., None, None], D, np.nan)

    def update(self, problem, A, state, k):
        A = problem._check(A)
        D = self.direction(problem, A)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.line_search:
                return backtrack(problem, A, np.nan_to_num(D), problem.grad(A), self.lr)
            return A + self.lr * D


@dataclass
class MatrixHistory(BatchHistory):
    """What ``train_matrix`` did: ``loss`` (n_iter + 1, n), ``A`` (n_iter + 1, n, d, d) or None.

    ``diverged_at[j]`` is the first iteration whose loss or matrix was not finite (-1 if never);
    from then on the entry is frozen at its last finite matrix and its loss is inf.
    """

    loss: np.ndarray
    diverged_at: np.ndarray
    A: np.ndarray = None


def train_matrix(problem, optimizer, A0, n_iter, store=False, tol=None):
    """Train every matrix of the stack ``A0`` (n, d, d) for ``n_iter`` steps of ``optimizer``.

    Runs whose loss falls below ``tol`` (if given) are frozen there, to save work (only the moving
    runs are passed to the optimizer, with its per-run state arrays sliced alike); runs whose loss
    or matrix stops being finite are frozen at their last finite matrix and flagged. ``store=True``
    keeps every iterate in ``MatrixHistory.A``.
    """
    if not isinstance(problem, MatrixProblem):
        raise TypeError(f"problem must be a MatrixProblem, got {type(problem).__name__} {problem!r:.60}")
    A = _square_stack("A0", A0, problem.d)
    if A.ndim == 2:
        A = A[None]
    if A.ndim != 3:
        raise ValueError(f"A0 must be one d x d matrix or a stack (n, d, d), got shape {A.shape}")
    # one step costs a few exponentials of 2d x 2d blocks per run: d^3 per run and iteration
    n_iter = check_training("train_matrix", problem, MatrixProblem, optimizer, n_iter, A.shape[0] * problem.d**3)
    if tol is not None:
        tol = _checks.positive_finite("tol", tol)
    store = _checks.flag("store", store)
    if store:
        _checks.bounded_work("train_matrix (stored iterates)", n_iter=n_iter + 1, batch=A.size)
    params, losses, diverged_at = run_batched(problem, optimizer, A, n_iter, tol, store)
    return MatrixHistory(loss=losses, diverged_at=diverged_at, A=params)


def jordan_matrix(d, eigenvalue=-0.5, coupling=1.0):
    """The non-normal d x d matrix eigenvalue I + coupling N (N: ones on the superdiagonal)."""
    d = _checks.positive_int("d", d)
    _checks.bounded_work("jordan_matrix", batch=d * d)
    eigenvalue = _checks.finite("eigenvalue", eigenvalue)
    coupling = _checks.finite("coupling", coupling)
    return eigenvalue * np.eye(d) + coupling * np.eye(d, k=1)


def random_matrices(n, d, scale=1.0, seed=0):
    """``n`` seeded d x d matrices with iid N(0, scale^2 / d) entries: shape (n, d, d).

    The 1/d variance keeps the spectrum in a disc of radius about ``scale`` for every d.
    """
    n = _checks.positive_int("n", n)
    d = _checks.positive_int("d", d)
    scale = _checks.positive_finite("scale", scale)
    seed = _checks.seed("seed", seed)
    _checks.bounded_work("random_matrices", batch=n * d * d)
    return np.random.default_rng(seed).normal(0.0, scale / np.sqrt(d), size=(n, d, d))
