"""A real Neural ODE in diffrax: an MLP field fitted to the damped cubic oscillator.

The data come from x' = A x^3 (elementwise cube), A = [[-0.1, 2], [-2, -0.1]], the system of
torchdiffeq's ``ode_demo.py`` (which writes it for row vectors, y^3 A = (A^T y^3)^T). The model is an
equinox MLP field x' = g_theta(x) (2 inputs, one tanh hidden layer, 2 outputs) whose last layer is
multiplied by an *initial output scale* ``scale``. All series are solved as one state of shape
(series, 2), so an adaptive solver takes one step sequence for the whole batch and its step count is
the batch's.

This module is imported explicitly (``from simplest_node import real_node``): ``import
simplest_node`` does not import JAX. Importing it switches JAX to float64 (``jax_enable_x64``), which
every experiment here assumes. Experiments run under ``jax.jit`` and ``jax.vmap``; their results
are NumPy arrays, with inf where a run diverged (never NaN).
"""

import functools
import time
from collections.abc import Callable
from typing import ClassVar

import jax

jax.config.update("jax_enable_x64", True)

import diffrax
import equinox as eqx
import jax.numpy as jnp
import numpy as np
import optax
import optimistix as optx
from scipy.integrate import solve_ivp

from . import _checks

__all__ = [
    "RK4",
    "TRUE_A",
    "continuation_study",
    "cubic_field",
    "fit_adam",
    "fit_lm",
    "fit_one_step",
    "gradient_study",
    "init_field",
    "make_data",
    "one_step_pairs",
    "settling_step",
    "solve",
    "stiff_step_counts",
    "train_grid",
]

TRUE_A = np.array([[-0.1, 2.0], [-2.0, -0.1]])
MAX_SERIES = 256
MAX_HORIZON = 100.0
MAX_SCALE = 1e3
MAX_WIDTH = 512


class RK4(diffrax.AbstractERK):
    """The classic fourth-order Runge-Kutta method as a diffrax solver, from its Butcher tableau
    (diffrax ships no RK4; fixed steps only: its error estimate is zero)."""

    tableau: ClassVar[diffrax.ButcherTableau] = diffrax.ButcherTableau(
        c=np.array([0.5, 0.5, 1.0]),
        b_sol=np.array([1.0, 2.0, 2.0, 1.0]) / 6,
        b_error=np.zeros(4),
        a_lower=(np.array([0.5]), np.array([0.0, 0.5]), np.array([0.0, 0.0, 1.0])),
    )
    interpolation_cls: ClassVar[Callable] = diffrax.ThirdOrderHermitePolynomialInterpolation.from_k

    def order(self, terms):
        return 4


MIN_HORIZON = 1e-3  # shorter, the states barely move and relative losses are 0 / 0


def _horizon(name, value):
    value = _checks.positive_finite(name, value)
    if not MIN_HORIZON <= value <= MAX_HORIZON:
        raise ValueError(f"{name} must lie in [{MIN_HORIZON:g}, {MAX_HORIZON:g}], got {value!r}")
    return value


def _scale(name, value):
    value = _checks.positive_finite(name, value)
    if value > MAX_SCALE:
        raise ValueError(f"{name} must be at most {MAX_SCALE:g}, got {value!r}")
    return value


def _positive_list(name, values, check):
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"{name} must be a non-empty list of numbers, got {type(values).__name__}")
    if len(values) == 0 or len(values) > 64:
        raise ValueError(f"{name} must hold 1 to 64 numbers, got {len(values)}")
    return [check(f"{name}[{i}]", v) for i, v in enumerate(values)]


def _lr(name, value):
    value = _checks.positive_finite(name, value)
    if value > 10:
        raise ValueError(f"{name} must be a learning rate in (0, 10], got {value!r}")
    return value


def _seed(name, value):
    return _checks.positive_int(name, value, minimum=0, maximum=2**32 - 1)  # what PRNGKey accepts


def _tolerance(name, value):
    value = _checks.positive_finite(name, value)
    if not 1e-14 <= value <= 1e-1:
        raise ValueError(f"{name} must lie in [1e-14, 0.1], got {value!r}")
    return value


def _field(name, value):
    if not isinstance(value, eqx.nn.MLP):
        raise TypeError(f"{name} must be an equinox MLP (from real_node.init_field), got {type(value).__name__}")
    if value.in_size != 2 or value.out_size != 2:
        raise ValueError(f"{name} must map R^2 to R^2, got in_size={value.in_size}, out_size={value.out_size}")
    return value


def cubic_field(t, y, args=None):
    """The true field A y^3 (NumPy) for states y of shape (..., 2), |y| <= 1e100; diffrax's
    (t, y, args) signature (inside a solve the module uses its JAX twin)."""
    y = _checks.finite_array("y", y)
    if y.ndim == 0 or y.shape[-1] != 2:
        raise ValueError(f"y must hold states of shape (..., 2), got shape {y.shape}")
    if np.max(np.abs(y), initial=0.0) > 1e100:
        raise ValueError("y must lie within [-1e100, 1e100] (its cube would overflow)")
    return (y**3) @ TRUE_A.T


def _cubic(t, y, args=None):
    return (y**3) @ jnp.asarray(TRUE_A).T


def _true_solve(y0, ts):
    """The true states at ts from every row of y0 (scipy's DOP853 at rtol = atol = 1e-12: the data
    need no JAX compilation)."""

    def rhs(t, y):
        return ((y.reshape(-1, 2) ** 3) @ TRUE_A.T).ravel()

    sol = solve_ivp(rhs, (0.0, ts[-1]), y0.ravel(), method="DOP853", t_eval=ts, rtol=1e-12, atol=1e-12)
    return sol.y.T.reshape(len(ts), len(y0), 2)


def make_data(n_series=8, horizon=1.0, n_times=10, seed=0, radius=(0.6, 1.2)):
    """Series of the true system: (y0, ts, ys) with y0 of shape (n_series, 2) drawn uniformly on the
    annulus radius[0] <= |y0| <= radius[1], ts the n_times times horizon/n_times, ..., horizon, and
    ys[i] the states at ts[i] (shape (n_times, n_series, 2)), solved by scipy's DOP853 at rtol = atol = 1e-12."""
    n_series = _checks.positive_int("n_series", n_series, maximum=MAX_SERIES)
    horizon = _horizon("horizon", horizon)
    n_times = _checks.positive_int("n_times", n_times, maximum=1000)
    seed = _seed("seed", seed)
    radius = _checks.finite_array("radius", radius)
    if radius.shape != (2,) or not 0 < radius[0] <= radius[1] <= 2.0:
        raise ValueError(f"radius must be (r_min, r_max) with 0 < r_min <= r_max <= 2, got {radius!r}")
    rng = np.random.default_rng(seed)
    r = np.sqrt(rng.uniform(radius[0] ** 2, radius[1] ** 2, n_series))
    angle = rng.uniform(0, 2 * np.pi, n_series)
    y0 = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
    ts = horizon * np.arange(1, n_times + 1) / n_times
    ys = _true_solve(y0, ts)
    return y0, ts, ys


def init_field(width=32, scale=1.0, seed=0):
    """An equinox MLP 2 -> width (tanh) -> 2, equinox's default initialization, with the last
    layer's weights and bias multiplied by ``scale`` (the field's initial output scale)."""
    width = _checks.positive_int("width", width, maximum=MAX_WIDTH)
    scale = _scale("scale", scale)
    seed = _seed("seed", seed)
    return _init(width, scale, jax.random.PRNGKey(seed))


def _init(width, scale, key):
    mlp = eqx.nn.MLP(2, 2, width, depth=1, activation=jnp.tanh, key=key)
    last = mlp.layers[-1]
    return eqx.tree_at(
        lambda m: (m.layers[-1].weight, m.layers[-1].bias), mlp, (scale * last.weight, scale * last.bias)
    )


def _term():
    # the state holds all series, shape (series, 2); the field acts on each row
    return diffrax.ODETerm(lambda t, y, field: jax.vmap(field)(y))


def _solve(field, y0, ts, solver, dt0, controller, adjoint, max_steps):
    return diffrax.diffeqsolve(
        _term(),
        solver,
        0.0,
        ts[-1],
        dt0,
        y0,
        args=field,
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=controller,
        adjoint=adjoint,
        max_steps=max_steps,
        throw=False,
    )


_solve_jit = eqx.filter_jit(_solve)


def solve(field, y0, ts, solver=None, n_steps=None, rtol=1e-6, atol=1e-9, adjoint=None, max_steps=4096):
    """diffrax's solution of x' = field(x) from every row of y0, saved at ts (an increasing array of
    times > 0). With ``n_steps`` the step is fixed, ts[-1] / n_steps; without, a PIDController at
    (rtol, atol). ``solver`` defaults to Tsit5, ``adjoint`` to RecursiveCheckpointAdjoint."""
    field = _field("field", field)
    y0, ts = _data(y0, ts)
    solver = diffrax.Tsit5() if solver is None else solver
    if not isinstance(solver, diffrax.AbstractSolver):
        raise TypeError(f"solver must be a diffrax solver, got {type(solver).__name__}")
    adjoint = diffrax.RecursiveCheckpointAdjoint() if adjoint is None else adjoint
    if not isinstance(adjoint, diffrax.AbstractAdjoint):
        raise TypeError(f"adjoint must be a diffrax adjoint, got {type(adjoint).__name__}")
    max_steps = _checks.positive_int("max_steps", max_steps, maximum=100_000)
    if n_steps is None:
        controller, dt0 = diffrax.PIDController(rtol=_tolerance("rtol", rtol), atol=_tolerance("atol", atol)), None
    else:
        n_steps = _checks.positive_int("n_steps", n_steps, maximum=max_steps)
        controller, dt0 = diffrax.ConstantStepSize(), float(ts[-1]) / n_steps
    _checks.bounded_work("solve", steps=max_steps, series=len(y0))
    dt0 = None if dt0 is None else jnp.asarray(dt0)
    return _solve_jit(field, jnp.asarray(y0), jnp.asarray(ts), solver, dt0, controller, adjoint, max_steps)


def _data(y0, ts):
    y0 = _checks.finite_array("y0", y0)
    ts = _checks.finite_array("ts", ts)
    if y0.ndim != 2 or y0.shape[1] != 2 or not 1 <= len(y0) <= MAX_SERIES:
        raise ValueError(f"y0 must have shape (series, 2) with 1 to {MAX_SERIES} series, got {y0.shape}")
    if ts.ndim != 1 or not 1 <= len(ts) <= 1000 or ts[0] <= 0 or np.any(np.diff(ts) <= 0):
        raise ValueError("ts must be an increasing 1-D array of 1 to 1000 times > 0")
    if ts[-1] > MAX_HORIZON or np.max(np.abs(y0)) > 10:
        raise ValueError(f"ts must end by {MAX_HORIZON} and the states y0 lie in [-10, 10]")
    return y0, ts


# --- training: one compiled scan of optimizer steps ---------------------------------------------


def _finite(x):
    x = np.asarray(x, dtype=float)
    return np.where(np.isnan(x), np.inf, x)


RUNS = 32  # runs per compiled training call: every call pads to it, so one compilation serves all


def _stacked_losses(params, static, y0, T, ys, n_steps):
    """Per-run MSEs of RUNS fields solved as *one* ODE: the state stacks every run's series, shape
    (runs, series, 2), and run r's field is T_r g_r(x) on s in [0, 1], so that x(s) is its state at
    time T_r s. With a fixed step 1/n_steps this is, step for step, Tsit5 on [0, T_r] with step
    T_r / n_steps; one solve compiles several times faster than a vmap over diffeqsolve."""

    def field(s, y, args):
        p, horizon = args
        g = jax.vmap(lambda p_r, y_r: jax.vmap(eqx.combine(p_r, static))(y_r))(p, y)
        return horizon[:, None, None] * g

    n_times = ys.shape[1]
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(field),
        diffrax.Tsit5(),
        0.0,
        1.0,
        1.0 / n_steps,
        y0,
        args=(params, T),
        saveat=diffrax.SaveAt(ts=jnp.arange(1, n_times + 1) / n_times),
        max_steps=n_steps + 1,
        throw=False,
    )
    return jnp.mean((jnp.moveaxis(sol.ys, 0, 1) - ys) ** 2, axis=(1, 2, 3))


@functools.lru_cache(maxsize=8)
def _runner(width, n_iter, n_steps):
    """The compiled trainer: RUNS independent runs, each n_iter steps of gradient descent or Adam
    (chosen per run) on fixed-step Tsit5. The runs share nothing but the solve: the gradient of the
    sum of their losses is each run's own gradient, and both optimizers act entry by entry."""
    static = eqx.filter(_init(width, 1.0, jax.random.PRNGKey(0)), eqx.is_array, inverse=True)

    def total(p, y0, T, ys):
        losses = _stacked_losses(p, static, y0, T, ys, n_steps)
        return jnp.sum(losses), losses

    def run(params, y0, T, ys, use_adam, lr_gd, lr_adam):
        # the learning rates are traced arrays: one compilation serves every value
        gd, adam = optax.sgd(lr_gd), optax.adam(lr_adam)
        loss_grad = jax.value_and_grad(total, has_aux=True)

        def step(carry, _):
            p, s_gd, s_adam = carry
            (_, losses), g = loss_grad(p, y0, T, ys)
            u_gd, s_gd = gd.update(g, s_gd, p)
            u_adam, s_adam = adam.update(g, s_adam, p)

            def pick(a, b):
                return jnp.where(use_adam.reshape((-1,) + (1,) * (a.ndim - 1)), b, a)

            updates = jax.tree_util.tree_map(pick, u_gd, u_adam)
            return (optax.apply_updates(p, updates), s_gd, s_adam), losses

        carry = (params, gd.init(params), adam.init(params))
        (p, _, _), history = jax.lax.scan(step, carry, None, length=n_iter)
        last = _stacked_losses(p, static, y0, T, ys, n_steps)
        return p, jnp.concatenate([history, last[None]]).T

    return static, jax.jit(run)


def _train_runs(params, data, use_adam, width, n_iter, n_steps, lr_gd, lr_adam):
    """Train up to RUNS runs in one compiled call; params and data ((y0, ts, ys) with ts evenly
    spaced, ts[-1] the horizon) are lists, one per run. Returns (final params, losses, static)."""
    n = len(params)
    pad = RUNS - n

    def stack(items):
        return jax.tree_util.tree_map(lambda *a: jnp.stack(a), *(items + items[:1] * pad))

    data = data + data[:1] * pad
    static, run = _runner(width, n_iter, n_steps)
    p, losses = run(
        stack(params),
        jnp.asarray(np.stack([d[0] for d in data])),
        jnp.asarray([d[1][-1] for d in data]),
        jnp.asarray(np.stack([d[2] for d in data])),
        jnp.asarray(list(use_adam) + [True] * pad),
        jnp.asarray(lr_gd),
        jnp.asarray(lr_adam),
    )
    return [jax.tree_util.tree_map(lambda a, i=i: a[i], p) for i in range(n)], np.asarray(losses)[:n], static


def _params(width, scale, seed):
    return eqx.filter(_init(width, scale, jax.random.PRNGKey(seed)), eqx.is_array)


def train_grid(scales, horizons, lr_gd=0.1, lr_adam=0.01, n_iter=150, width=32, n_steps=20, seed=0):
    """Train one field per (optimizer, horizon, scale), gradient descent (learning rate lr_gd) and
    Adam (lr_adam) for n_iter steps on fixed-step Tsit5 with n_steps steps per horizon, in one
    compiled, vmapped call (at most RUNS = 2 len(horizons) len(scales) runs).

    Every run starts from the same network (key ``seed``) with its last layer times ``scale``; the
    data of each horizon are ``make_data(8, horizon, 10, seed)``. Returns the relative losses, shape
    (2, len(horizons), len(scales), n_iter + 1), GD first: the MSE divided by that of the zero field
    (which predicts x(t) = x0), inf once a run diverged."""
    scales = _positive_list("scales", scales, _scale)
    horizons = _positive_list("horizons", horizons, _horizon)
    if 2 * len(scales) * len(horizons) > RUNS:
        raise ValueError(
            f"train_grid trains at most {RUNS} runs: 2 x len(horizons) x len(scales) "
            f"= {2 * len(scales) * len(horizons)}"
        )
    lr_gd = _lr("lr_gd", lr_gd)
    lr_adam = _lr("lr_adam", lr_adam)
    n_iter = _checks.positive_int("n_iter", n_iter, maximum=10_000)
    width = _checks.positive_int("width", width, maximum=MAX_WIDTH)
    n_steps = _checks.positive_int("n_steps", n_steps, maximum=1000)
    seed = _seed("seed", seed)
    _checks.bounded_work("train_grid", runs=RUNS, n_iter=n_iter, n_steps=n_steps, width=width)
    data = {T: make_data(8, T, 10, seed) for T in horizons}
    runs = [(adam, T, s) for adam in (False, True) for T in horizons for s in scales]
    params = [_params(width, s, seed) for _, _, s in runs]
    _, losses, _ = _train_runs(
        params, [data[T] for _, T, _ in runs], [a for a, _, _ in runs], width, n_iter, n_steps, lr_gd, lr_adam
    )
    zero = np.array([_zero_loss(data[T]) for _, T, _ in runs])
    return _finite(losses / zero[:, None]).reshape(2, len(horizons), len(scales), n_iter + 1)


def _zero_loss(data):
    y0, _, ys = data
    return float(np.mean((ys - y0[None]) ** 2))


def settling_step(losses, tol):
    """The first step from which ``losses`` (last axis: steps) stay below ``tol`` to the end; -1
    where the last loss is not below it. Array over the leading axes."""
    losses = np.asarray(_checks.numeric_array("losses", losses), dtype=float)
    tol = _checks.positive_finite("tol", tol)
    if losses.ndim == 0 or losses.shape[-1] == 0:
        raise ValueError("losses must have a non-empty last axis (the steps)")
    below = np.nan_to_num(losses, nan=np.inf) < tol
    # the last step that is not below tol, + 1
    above_rev = np.argmax(~below[..., ::-1], axis=-1)
    all_below = below.all(axis=-1)
    first = losses.shape[-1] - above_rev
    first = np.where(all_below, 0, first)
    return np.where(below[..., -1], first, -1)


def continuation_study(horizon=4.0, fraction=0.1, n_seeds=8, lr=0.01, n_iter=100, width=32, n_steps=20):
    """Long horizons on the MLP: Adam from n_seeds networks, with last-layer scale 1 or 1/horizon,
    trained either n_iter steps on the first ``fraction`` of each series and then n_iter steps on the
    whole series (continuation in t), or 2 n_iter steps on the whole series (direct). Data:
    ``make_data(8, horizon, 10, 0)`` and, for the first stage, the same series up to fraction x horizon.

    Returns {(schedule, scaling): relative losses on the whole series, shape (n_seeds, 2 n_iter + 1)}
    for schedule in (direct, continuation) and scaling in (1, 1/T); the first n_iter + 1 entries of a
    continuation run are its losses on the short series."""
    horizon = _horizon("horizon", horizon)
    fraction = _checks.open_interval("fraction", fraction, 0.0, 1.0)
    if fraction * horizon < MIN_HORIZON:
        raise ValueError(f"fraction x horizon must be at least {MIN_HORIZON:g}, got fraction = {fraction!r}")
    n_seeds = _checks.positive_int("n_seeds", n_seeds, maximum=RUNS // 4)
    lr = _lr("lr", lr)
    n_iter = _checks.positive_int("n_iter", n_iter, maximum=10_000)
    width = _checks.positive_int("width", width, maximum=MAX_WIDTH)
    n_steps = _checks.positive_int("n_steps", n_steps, maximum=1000)
    _checks.bounded_work("continuation_study", runs=RUNS, stages=2, n_iter=n_iter, n_steps=n_steps, width=width)
    full, short = make_data(8, horizon, 10, 0), make_data(8, fraction * horizon, 10, 0)
    keys = [
        (schedule, scaling, seed)
        for schedule in ("direct", "continuation")
        for scaling in ("1", "1/T")
        for seed in range(n_seeds)
    ]
    params = [_params(width, 1.0 if scaling == "1" else 1.0 / horizon, seed) for _, scaling, seed in keys]
    first = [short if schedule == "continuation" else full for schedule, _, _ in keys]
    adam = [True] * len(keys)
    params, stage1, _ = _train_runs(params, first, adam, width, n_iter, n_steps, 0.1, lr)
    _, stage2, _ = _train_runs(params, [full] * len(keys), adam, width, n_iter, n_steps, 0.1, lr)
    zero_full, zero_short = _zero_loss(full), _zero_loss(short)
    out = {}
    for i, (schedule, scaling, _seed) in enumerate(keys):
        zero = zero_short if schedule == "continuation" else zero_full
        out.setdefault((schedule, scaling), []).append(np.concatenate([stage1[i] / zero, stage2[i][1:] / zero_full]))
    return {key: _finite(np.array(value)) for key, value in out.items()}


# --- the cure at scale: Levenberg-Marquardt against Adam ----------------------------------------


def _adaptive(field, y0, ts, rtol, atol, adjoint):
    return diffrax.diffeqsolve(
        _term(),
        diffrax.Tsit5(),
        0.0,
        ts[-1],
        None,
        y0,
        args=field,
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        adjoint=adjoint,
        throw=False,
    )


def _residuals(params, args):
    static, y0, ts, ys, n_steps = args
    # optimistix builds the Jacobian by forward-mode autodiff: ForwardMode, not the default
    # RecursiveCheckpointAdjoint (a custom VJP, which JAX cannot differentiate in forward mode)
    sol = _solve(
        eqx.combine(params, static),
        y0,
        ts,
        diffrax.Tsit5(),
        ts[-1] / n_steps,
        diffrax.ConstantStepSize(),
        diffrax.ForwardMode(),
        n_steps + 1,
    )
    return (sol.ys - ys) / np.sqrt(ys.size)


_LM = optx.LevenbergMarquardt(rtol=1e-12, atol=1e-12)


def _lm_fn(p, args):
    return _residuals(p, args), None  # a least-squares fn with no aux output


@eqx.filter_jit
def _lm(params, static, y0, ts, ys, n_steps, n_iter):
    """n_iter steps of optimistix's Levenberg-Marquardt, stepped by hand (``init``, then ``step``
    in a ``lax.scan``: one compilation) so that the loss after every step is recorded
    (least_squares would only return the end)."""
    args = (static, y0, ts, ys, n_steps)
    f_struct = eqx.filter_eval_shape(_residuals, params, args)
    state = _LM.init(_lm_fn, params, args, {}, f_struct, None, frozenset())
    dynamic, static_state = eqx.partition(state, eqx.is_array)

    def step(carry, _):
        p, dyn = carry
        p, new_state, _ = _LM.step(_lm_fn, p, args, {}, eqx.combine(dyn, static_state), frozenset())
        new_dyn, _ = eqx.partition(new_state, eqx.is_array)
        return (p, new_dyn), jnp.sum(new_state.f_info.residual**2)

    # step 0 only evaluates the start
    (params, _), history = jax.lax.scan(step, (params, dynamic), None, length=n_iter + 1)
    return params, history


def _checked_series(field, y0, ts, ys):
    field = _field("field", field)
    y0, ts = _data(y0, ts)
    ys = _checks.finite_array("ys", ys)
    if ys.shape != (len(ts), len(y0), 2):
        raise ValueError(f"ys must have shape {(len(ts), len(y0), 2)}, got {ys.shape}")
    return field, jnp.asarray(y0), jnp.asarray(ts), jnp.asarray(ys)


def fit_lm(field, y0, ts, ys, n_iter=30, n_steps=20):
    """n_iter steps of Levenberg-Marquardt (optimistix) on the residuals of the field's states at ts
    against ys, through fixed-step Tsit5 (n_steps steps) with forward-mode autodiff. Returns
    (trained field, MSE history of length n_iter + 1, wall seconds of the call, compilation included
    the first time a shape is seen)."""
    field, y0, ts, ys = _checked_series(field, y0, ts, ys)
    n_iter = _checks.positive_int("n_iter", n_iter, maximum=1000)
    n_steps = _checks.positive_int("n_steps", n_steps, maximum=1000)
    params, static = eqx.partition(field, eqx.is_array)
    start = time.perf_counter()
    value, history = _lm(params, static, y0, ts, ys, n_steps, n_iter)
    history = jax.block_until_ready(history)
    return eqx.combine(value, static), _finite(history), time.perf_counter() - start


@eqx.filter_jit
def _adam(params, static, y0, ts, ys, lr, n_iter):
    opt = optax.adam(lr)

    def loss(p):
        sol = _adaptive(eqx.combine(p, static), y0, ts, 1e-8, 1e-8, diffrax.RecursiveCheckpointAdjoint())
        return jnp.mean((sol.ys - ys) ** 2), sol.stats["num_steps"]

    def step(carry, _):
        p, state = carry
        (value, steps), g = jax.value_and_grad(loss, has_aux=True)(p)
        updates, state = opt.update(g, state, p)
        return (optax.apply_updates(p, updates), state), (value, steps)

    (p, _), (values, steps) = jax.lax.scan(step, (params, opt.init(params)), None, length=n_iter)
    last, last_steps = loss(p)
    return p, jnp.append(values, last), jnp.append(steps, last_steps)


def fit_adam(field, y0, ts, ys, lr=0.01, n_iter=300):
    """n_iter Adam steps (optax) on the MSE of the field's states at ts (Tsit5 with a PIDController
    at 1e-8, RecursiveCheckpointAdjoint). Returns (trained field, MSE history of length n_iter + 1,
    the forward solve's accepted+rejected step count at each iterate, wall seconds of the call,
    compilation included the first time a shape is seen)."""
    field, y0, ts, ys = _checked_series(field, y0, ts, ys)
    lr = _lr("lr", lr)
    n_iter = _checks.positive_int("n_iter", n_iter, maximum=10_000)
    params, static = eqx.partition(field, eqx.is_array)
    start = time.perf_counter()
    p, history, steps = _adam(params, static, y0, ts, ys, jnp.asarray(lr), n_iter)
    history = jax.block_until_ready(history)
    seconds = time.perf_counter() - start
    return eqx.combine(p, static), _finite(history), np.asarray(steps), seconds


# --- which gradient: discretize-then-optimize against optimize-then-discretize -----------------


@eqx.filter_jit
def _grad(params, static, y0, ts, ys, rtol, adjoint):
    def loss(p):
        sol = _adaptive(eqx.combine(p, static), y0, ts, rtol, rtol, adjoint)
        return jnp.mean((sol.ys - ys) ** 2), sol.stats["num_steps"]

    (value, steps), g = jax.value_and_grad(loss, has_aux=True)(params)
    return value, jnp.concatenate([leaf.ravel() for leaf in jax.tree_util.tree_leaves(g)]), steps


def gradient_study(field, y0, ts, ys, rtols=(1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8), repeat=3):
    """The MSE's gradient with Tsit5 + PIDController(rtol, atol = rtol) through
    RecursiveCheckpointAdjoint (backpropagation through the solver) and BacksolveAdjoint (the
    continuous adjoint, solved backwards), against a reference (RecursiveCheckpointAdjoint at
    rtol = atol = 1e-12). Returns a dict of arrays over rtols: ``gap`` |g_bs - g_rc| / |g_rc|,
    ``err_rc``, ``err_bs`` (relative errors against the reference), ``loss_err`` (relative error of
    the loss), ``steps`` (forward steps), ``seconds_rc``, ``seconds_bs`` (median wall time of one
    compiled gradient)."""
    field, y0, ts, ys = _checked_series(field, y0, ts, ys)
    rtols = _positive_list("rtols", rtols, _tolerance)
    repeat = _checks.positive_int("repeat", repeat, maximum=20)
    params, static = eqx.partition(field, eqx.is_array)
    adjoints = {"rc": diffrax.RecursiveCheckpointAdjoint(), "bs": diffrax.BacksolveAdjoint()}
    ref_loss, ref, _ = _grad(params, static, y0, ts, ys, jnp.asarray(1e-12), adjoints["rc"])
    out = {k: [] for k in ("gap", "err_rc", "err_bs", "loss_err", "steps", "seconds_rc", "seconds_bs")}
    for rtol in rtols:
        grads = {}
        for name, adjoint in adjoints.items():
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                value, g, steps = jax.block_until_ready(_grad(params, static, y0, ts, ys, jnp.asarray(rtol), adjoint))
                times.append(time.perf_counter() - start)
            grads[name] = np.asarray(g)
            out[f"seconds_{name}"].append(float(np.median(times)))
            if name == "rc":
                out["steps"].append(int(steps))
                out["loss_err"].append(abs(float(value) - float(ref_loss)) / float(ref_loss))
        norm = np.linalg.norm(grads["rc"])
        out["gap"].append(np.linalg.norm(grads["bs"] - grads["rc"]) / norm)
        out["err_rc"].append(np.linalg.norm(grads["rc"] - ref) / np.linalg.norm(ref))
        out["err_bs"].append(np.linalg.norm(grads["bs"] - ref) / np.linalg.norm(ref))
    return {k: _finite(v) for k, v in out.items()}


# --- stiffness: explicit against implicit -------------------------------------------------------


def _stiff_field(t, y, lam):
    return _cubic(t, y) - lam * jnp.array([1.0, 0.0]) * y


@eqx.filter_jit
def _stiff_steps(solver, lam, rtol):
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(_stiff_field),
        solver,
        0.0,
        1.0,
        None,
        jnp.array([1.0, 0.5]),
        args=lam,
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=rtol),
        max_steps=100_000,
        throw=False,
    )
    return sol.stats["num_steps"], sol.stats["num_rejected_steps"], sol.ys[-1], sol.result == diffrax.RESULTS.successful


def stiff_step_counts(lams=(1.0, 10.0, 100.0, 1000.0, 10000.0), rtol=1e-6):
    """Steps (accepted + rejected) of Tsit5 (explicit) and Kvaerno5 (implicit, ESDIRK) with a
    PIDController at rtol = atol = ``rtol`` on x' = A x^3 - lam (x_1, 0) from (1, 0.5) over [0, 1]:
    the damping lam makes x_1 a fast decaying mode. Returns {solver: array of steps over lams} and
    the largest difference between the two end states."""
    lams = _positive_list(
        "lams",
        lams,
        lambda n, v: (
            _checks.positive_finite(n, v)
            if v <= 1e6
            else (_ for _ in ()).throw(ValueError(f"{n} must be at most 1e6, got {v!r}"))
        ),
    )
    rtol = _tolerance("rtol", rtol)
    if rtol < 1e-10:
        raise ValueError(f"rtol must be at least 1e-10 here (Tsit5 would need too many steps), got {rtol!r}")
    steps, ends = {"Tsit5": [], "Kvaerno5": []}, {"Tsit5": [], "Kvaerno5": []}
    for lam in lams:
        for name, solver in (("Tsit5", diffrax.Tsit5()), ("Kvaerno5", diffrax.Kvaerno5())):
            n, _, end, ok = _stiff_steps(solver, jnp.asarray(lam), jnp.asarray(rtol))
            steps[name].append(int(n) if bool(ok) else np.inf)
            ends[name].append(np.asarray(end))
    gap = float(np.max(np.abs(np.array(ends["Tsit5"]) - np.array(ends["Kvaerno5"]))))
    return {k: np.array(v, dtype=float) for k, v in steps.items()}, gap


# --- what training learns: a coarse Euler step and the modified field ---------------------------


def one_step_pairs(n_pairs=200, h=0.1, seed=0, radius=(0.6, 1.2)):
    """Pairs (x0, x_h) of the true flow over one interval h: x0 uniform on the annulus, x_h by scipy's
    DOP853 at rtol = atol = 1e-12. Returns two arrays of shape (n_pairs, 2)."""
    y0, _, ys = make_data(n_pairs, h, 1, seed, radius)
    return y0, ys[0]


def _one_step_residuals(params, args):
    # one diffrax.Euler step of size h from x0 is x0 + h g(x0): its misfit over h, without the
    # solve (the chapter checks the identity; compiling the solver's Jacobian costs far more)
    static, x0, x1, h = args
    g = jax.vmap(eqx.combine(params, static))(x0)
    return (x0 + h * g - x1) / (h * np.sqrt(x1.size))


@eqx.filter_jit
def _lm_one_step(params, static, x0, x1, h, max_steps):
    sol = optx.least_squares(
        _one_step_residuals,
        optx.LevenbergMarquardt(rtol=1e-10, atol=1e-10),
        params,
        args=(static, x0, x1, h),
        max_steps=max_steps,
        throw=False,
    )
    return sol.value, sol.stats["num_steps"]


def fit_one_step(field, x0, x1, h, max_steps=50):
    """Fit the field so that *one explicit Euler step* of size h maps each x0 to x1:
    Levenberg-Marquardt (optimistix) on (x0 + h g(x0) - x1) / h. Returns (trained field, RMS
    residual, steps)."""
    field = _field("field", field)
    x0, _ = _data(x0, [1.0])
    x1 = _checks.finite_array("x1", x1)
    if x1.shape != x0.shape:
        raise ValueError(f"x1 must have the shape of x0, {x0.shape}, got {x1.shape}")
    h = _checks.positive_finite("h", h)
    if not 1e-4 <= h <= 1:
        raise ValueError(f"h must lie in [1e-4, 1], got {h!r}")
    max_steps = _checks.positive_int("max_steps", max_steps, maximum=1000)
    params, static = eqx.partition(field, eqx.is_array)
    args = (static, jnp.asarray(x0), jnp.asarray(x1), jnp.asarray(h))
    value, steps = _lm_one_step(params, static, *args[1:], max_steps)
    rms = float(jnp.sqrt(jnp.sum(_one_step_residuals(value, args) ** 2)))
    return eqx.combine(value, static), (rms if np.isfinite(rms) else np.inf), int(steps)
