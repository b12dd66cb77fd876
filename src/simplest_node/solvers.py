"""Fixed-step one-step integrators and ``integrate``.

Every method advances ``dx/dt = f(t, x)`` from ``x_n`` to ``x_{n+1}`` over a step ``h``. The explicit
Runge-Kutta methods (euler, midpoint, heun, rk4, ralston) step through their tableaux in
``simplest_node.runge_kutta``, with their orders there.

The two symplectic methods are for separable Hamiltonian systems ``H(q, p) = T(p) + V(q)``.
State convention: the last axis of ``x`` has even length ``2m``; ``x[..., :m]`` is the position ``q``
and ``x[..., m:]`` the momentum ``p``, and ``f`` returns ``(dq/dt, dp/dt)`` in the same layout, with
``dq/dt`` depending on ``p`` only and ``dp/dt`` on ``q`` only (they are explicit only then):

* ``symplectic_euler``  p' = p + h dp/dt(q),   q' = q + h dq/dt(p')                  (order 1)
* ``leapfrog``          Stormer-Verlet, kick-drift-kick:
                        p_half = p + h/2 dp/dt(q),  q' = q + h dq/dt(p_half),
                        p' = p_half + h/2 dp/dt(q')                                 (order 2)
"""

import numpy as np

from . import _checks
from .runge_kutta import RK_METHODS, TABLEAUX

__all__ = ["METHODS", "EXPLICIT_METHODS", "SYMPLECTIC_METHODS", "ORDERS", "step", "integrate"]


def _split(x):
    m = x.shape[-1] // 2
    return x[..., :m], x[..., m:], m


def _symplectic_euler(f, t, x, h):
    q, p, m = _split(x)
    p_new = p + h * f(t, x)[..., m:]
    q_new = q + h * f(t, np.concatenate([q, p_new], axis=-1))[..., :m]
    return np.concatenate([q_new, p_new], axis=-1)


def _leapfrog(f, t, x, h):
    q, p, m = _split(x)
    p_half = p + (h / 2) * f(t, x)[..., m:]
    q_new = q + h * f(t + h / 2, np.concatenate([q, p_half], axis=-1))[..., :m]
    p_new = p_half + (h / 2) * f(t + h, np.concatenate([q_new, p_half], axis=-1))[..., m:]
    return np.concatenate([q_new, p_new], axis=-1)


_STEPS = {name: tableau.step for name, tableau in TABLEAUX.items()}
_STEPS.update(symplectic_euler=_symplectic_euler, leapfrog=_leapfrog)
EXPLICIT_METHODS = RK_METHODS
SYMPLECTIC_METHODS = ("symplectic_euler", "leapfrog")
METHODS = EXPLICIT_METHODS + SYMPLECTIC_METHODS
ORDERS = {name: tableau.order for name, tableau in TABLEAUX.items()} | {"symplectic_euler": 1, "leapfrog": 2}


def _checked_field(f, x):
    """Wrap ``f`` so that a return value of the wrong shape fails with a clear message."""

    def field(t, y):
        out = np.asarray(f(t, y))
        if out.shape != y.shape:
            raise ValueError(
                f"f returned an array of shape {out.shape} for a state of shape {y.shape}; "
                "f(t, x) must return dx/dt with the same shape as x"
            )
        return out

    return field


def _check_field(f):
    if not callable(f):
        raise TypeError(f"f must be a callable f(t, x) returning dx/dt, got {type(f).__name__}")


def _check_state(name, x, method):
    x = _checks.finite_array(name, x)
    if method in SYMPLECTIC_METHODS and (x.ndim == 0 or x.shape[-1] % 2):
        raise ValueError(
            f"method {method!r} needs {'a state' if name == 'x' else name} whose last axis holds (q, p) "
            f"and has even length; got shape {x.shape}"
        )
    return x


def _no_nan(x, where):
    """ValueError if the state ``x`` holds a NaN (an overflow, inf - inf, from finite input)."""
    if np.isnan(x).any():
        raise ValueError(
            f"the solution overflowed {where}: the state became inf - inf (NaN); "
            "use smaller steps or a smaller initial state"
        )
    return x


def step(f, t, x, h, method="rk4"):
    """One step of ``method`` of size ``h`` from ``(t, x)``; returns ``x_{n+1}``.

    ``x`` must be finite, ``t`` and ``h`` finite numbers. An overflowing step gives inf; one whose
    state becomes NaN (inf - inf) raises ValueError.
    """
    _checks.choice("method", method, METHODS)
    _check_field(f)
    t = _checks.finite("t", t)
    h = _checks.finite("h", h)
    x = _check_state("x", x, method)
    with np.errstate(over="ignore", invalid="ignore"):
        out = _STEPS[method](_checked_field(f, x), t, x, h)
    return _no_nan(out, f"in the step of size h = {h:g}")


def integrate(f, x0, t1, n_steps, method="rk4", t0=0.0, return_path=False):
    """Integrate ``dx/dt = f(t, x)`` from ``x(t0) = x0`` to ``t1`` with ``n_steps`` equal steps.

    ``x0`` may have any shape (a batch of states is integrated at once) and must be finite. Returns
    ``x(t1)``, or with ``return_path=True`` the array of shape ``(n_steps + 1, *x0.shape)`` holding
    ``x`` at ``t0 + k h``, ``h = (t1 - t0) / n_steps``. The work n_steps x x0.size must stay within
    ``_checks.MAX_WORK``. A solution that overflows is inf from there on; one that becomes NaN
    (inf - inf) raises ValueError.
    """
    _checks.choice("method", method, METHODS)
    _check_field(f)
    n_steps = _checks.positive_int("n_steps", n_steps)
    t0 = _checks.finite("t0", t0)
    t1 = _checks.finite("t1", t1)
    if not t1 > t0:
        raise ValueError(f"t1 must be a finite number > t0 = {t0!r}, got {t1!r}")
    if not np.isfinite(t1 - t0):
        raise ValueError(f"t1 - t0 must be a finite float, got t0 = {t0!r}, t1 = {t1!r}")
    if not isinstance(return_path, (bool, np.bool_)):
        raise TypeError(f"return_path must be True or False, got {return_path!r}")
    x = _check_state("x0", x0, method)
    _checks.bounded_work("integrate", n_steps=n_steps, batch=max(x.size, 1))
    with np.errstate(over="ignore", invalid="ignore"):
        out = _integrate(f, x, t1, n_steps, method, t0, return_path)
    return _no_nan(out, f"between t0 = {t0:g} and t1 = {t1:g} with {n_steps} steps")


def _integrate(f, x, t1, n_steps, method="rk4", t0=0.0, return_path=False):
    """``integrate`` without the argument checks (callers that have checked them)."""
    field = _checked_field(f, x)
    one_step = _STEPS[method]
    h = (t1 - t0) / n_steps
    path = [x] if return_path else None
    for k in range(n_steps):
        x = one_step(field, t0 + k * h, x, h)
        if return_path:
            path.append(x)
    return np.stack(path) if return_path else x
