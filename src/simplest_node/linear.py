"""The simplest Neural ODE: dx/dt = a x, fitted to data from dx/dt = a* x.

Initial states x0 ~ N(0, sigma^2); the model is compared with the data at one time ``t`` (the
sampling interval). With the exact flow the model maps x0 to M(a) x0 with M(a) = e^{a t}; with a
solver ``method`` and ``n_steps`` steps of size h = t / n_steps it maps x0 to M(a) = R(a h)^n_steps,
where R is the method's stability polynomial (its one-step map for the linear field). The data
always come from the exact flow, x(t) = e^{a* t} x0. Then

    Loss(a)  = 1/2 E[(M(a) x0 - e^{a* t} x0)^2] = m2 / 2 (M(a) - e^{a* t})^2
    Loss'(a) = m2 (M(a) - e^{a* t}) M'(a)
    E[x_a(t)^2] = m2 M(a)^2

with m2 = E[x0^2] = sigma^2, or the empirical mean of x0^2 over a finite batch: for this model a batch
enters the loss only through its second moment.
"""

import numbers

import numpy as np

from . import _checks
from .runge_kutta import STABILITY_DERIVATIVES, STABILITY_POLYNOMIALS, polyval
from .solvers import EXPLICIT_METHODS, _integrate

__all__ = ["LinearProblem", "SampledLinearProblem"]

# The largest x with e^x finite, and the accepted range of t and sigma (t^2, sigma^2 stay normal floats).
_LOG_MAX = 709.78  # just below log of the largest double, 709.7827
_SCALE = (1e-100, 1e100)


def _scale(name, value):
    value = _checks.positive_finite(name, value)
    if not _SCALE[0] <= value <= _SCALE[1]:
        raise ValueError(f"{name} must lie in [{_SCALE[0]:g}, {_SCALE[1]:g}], got {value!r}")
    return value


def _rates(a):
    """The public methods' check of ``a``: a non-empty array (or number) of real rates, no NaN.

    +-inf are accepted: the limits a -> -inf (the plateau, M = 0) and a -> inf (the wall, M = inf)
    are well defined, and the book writes the plateau's height as ``loss(-np.inf)``.
    """
    try:
        return _checks.finite_array("a", a)
    except ValueError:
        arr = np.asarray(a)  # it passed the type checks: it is empty or holds NaN or inf
        if arr.size and not np.isnan(arr).any():
            return arr.astype(float, copy=False)
        if arr.size:
            raise ValueError("a must not contain NaN (real rates only; +-inf are the landscape's limits)") from None
        raise


# Arrays of a up to this size have their last map evaluation kept (see LinearProblem._growth).
_MEMO_SIZE = 4096


class LinearProblem:
    """The scalar linear Neural ODE with Gaussian initial states.

    Parameters: ``a_star`` (true rate), ``t`` (sampling interval, > 0), ``sigma`` (std of x0, > 0),
    ``method`` (None for the exact flow, else an explicit Runge-Kutta method of ``runge_kutta``) and ``n_steps``
    (solver steps over [0, t]; required with a method). Every method accepts an array ``a`` of
    rates (no NaN; +-inf give the limits) and broadcasts; ``x0`` (optional) is a batch of initial states along the last
    axis that replaces the expectation over N(0, sigma^2) by the batch mean.

    ``t`` and ``sigma`` must lie in [1e-100, 1e100] (so that t^2 and sigma^2 are positive finite
    floats) and the data's factor e^{a* t} must be a finite float (a* t <= 709.78). Where the
    model's map overflows (a far above a*) the loss, gradient and second moment are inf, never NaN.
    """

    def __init__(self, a_star=1.0, t=1.0, sigma=1.0, method=None, n_steps=None):
        self.a_star = _checks.finite("a_star", a_star)
        self.t = _scale("t", t)
        self.sigma = _scale("sigma", sigma)
        if not self.a_star * self.t <= _LOG_MAX:
            raise ValueError(
                f"a_star * t must be at most {_LOG_MAX:.6g} (else the data e^(a* t) x0 overflow), "
                f"got a_star = {self.a_star!r}, t = {self.t!r}"
            )
        if method is None:
            if n_steps is not None:
                raise ValueError("n_steps is only used with a solver method; pass method=... too")
        else:
            _checks.choice("method", method, EXPLICIT_METHODS)
            if n_steps is None:
                raise ValueError(f"method={method!r} needs n_steps (an integer >= 1)")
            n_steps = _checks.positive_int("n_steps", n_steps, maximum=_checks.MAX_WORK)
        self.method = method
        self.n_steps = n_steps

    def __repr__(self):
        extra = "" if self.method is None else f", method={self.method!r}, n_steps={self.n_steps}"
        return f"{type(self).__name__}(a_star={self.a_star}, t={self.t}, sigma={self.sigma}{extra})"

    # --- the model's map x0 -> x_a(t) = M(a) x0 ---------------------------------------------
    # The public methods validate and silence overflow once; the private ones below do the
    # arithmetic (the training loop's hot path), sharing R(a h) between M(a) and M'(a).
    def target(self):
        """The data's factor e^{a* t}: the true system maps x0 to e^{a* t} x0."""
        return np.exp(self.a_star * self.t)

    def _growth(self, a):
        """(R(a h), M(a)) for a float array ``a``; R is None for the exact flow.

        A training step evaluates the map at the same a twice or three times (the loss after an
        update, then the gradient and the second moment at the next step), so the last result for
        a small ``a`` is kept, keyed by the bytes of ``a`` and the attributes the map depends on.
        The kept arrays never leave the class: callers get new arrays computed from them.
        """
        small = a.size <= _MEMO_SIZE
        if small:
            key = (self.t, self.method, self.n_steps, a.shape, a.tobytes())
            memo = self.__dict__.get("_memo")
            if memo is not None and memo[0] == key:
                return memo[1], memo[2]
        if self.method is None:
            r, growth = None, np.exp(a * self.t)
        else:
            r = polyval(STABILITY_POLYNOMIALS[self.method], a * (self.t / self.n_steps))
            growth = r**self.n_steps
        if small:
            self._memo = (key, r, growth)
        return r, growth

    def _map_and_derivative(self, a):
        r, growth = self._growth(a)
        if self.method is None:
            return growth, self.t * growth
        h, n = self.t / self.n_steps, self.n_steps
        return growth, n * r ** (n - 1) * polyval(STABILITY_DERIVATIVES[self.method], a * h) * h

    def model_map(self, a):
        """M(a): e^{a t} for the exact flow, R(a h)^n_steps for a solver."""
        a = _rates(a)
        with np.errstate(over="ignore", invalid="ignore"):
            growth = self._growth(a)[1]
            return growth.copy() if isinstance(growth, np.ndarray) else growth

    def model_map_derivative(self, a):
        """dM/da: t e^{a t} exactly, n R(a h)^(n-1) R'(a h) h for a solver."""
        a = _rates(a)
        with np.errstate(over="ignore", invalid="ignore"):
            return self._map_and_derivative(a)[1]

    def _checked_x0(self, x0):
        """The public methods' check of a batch ``x0`` (None: the expectation)."""
        if x0 is None:
            return None
        x0 = _checks.finite_array("x0", x0)
        if x0.ndim == 0:
            raise ValueError("x0 must hold a non-empty batch of initial states along its last axis, got a number")
        with np.errstate(over="ignore", under="ignore"):
            if not np.all(np.isfinite(np.mean(x0**2, axis=-1))):
                raise ValueError("x0 is too large: the batch mean of x0^2 overflows")
        return x0

    def _m2(self, x0):
        if x0 is None:
            return self.sigma**2
        x0 = np.asarray(x0, dtype=float)
        if x0.ndim == 0 or x0.shape[-1] == 0:
            raise ValueError("x0 must hold a non-empty batch of initial states along its last axis")
        return np.mean(x0**2, axis=-1)

    # --- the quantities the book studies -----------------------------------------------------
    # Each public method checks its arguments and calls its unchecked twin (_loss, _grad,
    # _second_moment): the training loop and the optimizers call the twins, once per step.
    def loss(self, a, x0=None):
        """1/2 E[(x_a(t) - x_{a*}(t))^2] = m2/2 (M(a) - e^{a* t})^2 (inf where M(a) overflows)."""
        return self._loss(_rates(a), self._checked_x0(x0))

    def _loss(self, a, x0=None):
        """``loss`` without the argument checks (the training loop's hot path)."""
        with np.errstate(over="ignore", invalid="ignore"):
            m2 = self._m2(x0)
            return 0.5 * m2 * (self._growth(np.asarray(a, dtype=float))[1] - self.target()) ** 2

    def grad(self, a, x0=None):
        """The exact derivative of the loss of the model in use: m2 (M(a) - e^{a* t}) M'(a)."""
        return self._grad(_rates(a), self._checked_x0(x0))

    def _grad(self, a, x0=None):
        """``grad`` without the argument checks (the training loop's hot path)."""
        with np.errstate(over="ignore", invalid="ignore"):
            m2 = self._m2(x0)
            growth, derivative = self._map_and_derivative(np.asarray(a, dtype=float))
            return m2 * (growth - self.target()) * derivative

    def second_moment(self, a, x0=None):
        """E[x_a(t)^2] = m2 M(a)^2, the model's terminal variance sigma_k^2(t)."""
        return self._second_moment(_rates(a), self._checked_x0(x0))

    def _second_moment(self, a, x0=None):
        """``second_moment`` without the argument checks (the training loop's hot path)."""
        with np.errstate(over="ignore", invalid="ignore"):
            m2 = self._m2(x0)
            return m2 * self._growth(np.asarray(a, dtype=float))[1] ** 2

    def grad_exact_flow(self, a):
        """The closed-form gradient of the exact-flow loss, sigma^2 t e^{a t}(e^{a t} - e^{a* t})."""
        a = _rates(a)
        with np.errstate(over="ignore", invalid="ignore"):
            growth = np.exp(a * self.t)
            return self.sigma**2 * self.t * growth * (growth - self.target())

    def grad_adjoint(self, a, n_steps, method=None):
        """The continuous adjoint gradient, solved numerically backwards in time.

        With lambda(t) = dLoss/dx(t) the adjoint solves d lambda/dt = -a lambda from
        lambda(t) = x_a(t) - x_{a*}(t), and dLoss/da = int_0^t lambda(s) x(s) ds. The state x is
        integrated backwards alongside from the forward pass's final state (that of the model in
        use), all with ``n_steps`` steps of ``method`` (default: the problem's method, else rk4).
        Everything is linear in x0, so the expectation is sigma^2 times the value for x0 = 1.
        Where the backward solve overflows, the result is inf with the sign of the exact
        integrand lambda x = (x_a(t) - e^{a* t}) x_a(t) (as ``grad`` gives inf there), never NaN.
        """
        method = method if method is not None else (self.method or "rk4")
        _checks.choice("method", method, EXPLICIT_METHODS)
        n_steps = _checks.positive_int("n_steps", n_steps)
        a = _rates(a)
        _checks.bounded_work("grad_adjoint", n_steps=n_steps, batch=3 * a.size)
        x_final = self.model_map(a)

        def backward(s, y):
            # Reversed time s = t - time: signs of the forward and adjoint fields flip.
            x, lam, _ = y
            return np.stack([-a * x, a * lam, lam * x])

        y0 = np.stack(np.broadcast_arrays(x_final, x_final - self.target(), np.zeros_like(x_final)))
        with np.errstate(over="ignore", invalid="ignore"):
            y_end = _integrate(backward, y0, self.t, n_steps, method=method)
            g = self.sigma**2 * y_end[2]
            return _overflowed_to_inf(g, (x_final - self.target()) * x_final)

    def sample_x0(self, size, rng):
        """Draw initial states x0 ~ N(0, sigma^2) of shape ``size`` (an int >= 0 or a tuple of
        them) from ``rng`` (a ``numpy.random.Generator``)."""
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
            )
        dims = (size,) if isinstance(size, numbers.Integral) or not isinstance(size, (tuple, list)) else size
        dims = tuple(_checks.positive_int("size", d, minimum=0, maximum=_checks.MAX_WORK) for d in dims)
        _checks.bounded_work("sample_x0", draws=int(np.prod(dims, dtype=object)))
        return self._sample_x0(dims, rng)

    def _sample_x0(self, size, rng):
        """``sample_x0`` without the argument checks (the optimizers draw a batch every step)."""
        return rng.normal(0.0, self.sigma, size=size)


def _overflowed_to_inf(g, sign):
    """``g`` with its NaNs (from an overflowing solve: inf - inf) replaced by inf with the sign of
    ``sign`` (0 where ``sign`` is 0): the value the gradient tends to there."""
    nan = np.isnan(g)
    if not np.any(nan):
        return g
    with np.errstate(invalid="ignore"):
        fallback = np.where(sign == 0, 0.0, np.copysign(np.inf, sign))
        fallback = np.where(np.isnan(fallback), np.inf, fallback)
    return np.where(nan, fallback, g)


class SampledLinearProblem(LinearProblem):
    """The linear problem on a fixed finite batch of ``n_samples`` initial states (seeded).

    ``loss``, ``grad`` and ``second_moment`` default to this batch (empirical means) instead of
    the expectation; ``x0`` and ``x1`` hold the data pairs (x0, e^{a* t} x0).
    """

    def __init__(self, a_star=1.0, t=1.0, sigma=1.0, method=None, n_steps=None, n_samples=100, seed=0):
        super().__init__(a_star, t, sigma, method, n_steps)
        self.n_samples = _checks.positive_int("n_samples", n_samples, maximum=_checks.MAX_WORK)
        self.seed = _checks.seed("seed", seed)
        self.x0 = self._sample_x0(self.n_samples, np.random.default_rng(self.seed))
        self.x1 = self.target() * self.x0

    def _m2(self, x0):
        return super()._m2(self.x0 if x0 is None else x0)

    def grad_adjoint(self, a, n_steps, method=None):
        """As for the expectation, with sigma^2 replaced by the batch mean of x0^2."""
        with np.errstate(over="ignore", invalid="ignore"):
            return super().grad_adjoint(a, n_steps, method) * (self._m2(None) / self.sigma**2)
