"""Solvers: convergence orders, symplectic energy behaviour, shapes, bad input."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from simplest_node import EXPLICIT_METHODS, ORDERS, integrate, step

STEPS = np.array([10, 20, 40, 80])


def observed_order(errors, n_steps=STEPS):
    """Slope of log(error) against log(h) fitted over the step counts."""
    return -np.polyfit(np.log(n_steps), np.log(errors), 1)[0]


@pytest.mark.parametrize("method", EXPLICIT_METHODS)
def test_order_on_linear_decay(method):
    errors = [abs(integrate(lambda t, x: -x, 1.0, 1.0, n, method) - np.exp(-1.0)) for n in STEPS]
    assert abs(observed_order(errors) - ORDERS[method]) < 0.15


@pytest.mark.parametrize("method", EXPLICIT_METHODS)
def test_order_on_nonlinear_nonautonomous_ode(method):
    def f(t, x):
        return np.sin(t) - x**3 + 0.5 * x

    reference = solve_ivp(f, (0.0, 2.0), [0.8], rtol=1e-13, atol=1e-13, method="DOP853").y[0, -1]
    steps = 2 * STEPS  # h <= 0.1: past the pre-asymptotic range of this field
    errors = [abs(integrate(f, 0.8, 2.0, n, method) - reference) for n in steps]
    assert abs(observed_order(errors, steps) - ORDERS[method]) < 0.15


def oscillator(t, x):
    """Harmonic oscillator H = (q^2 + p^2)/2 in the (q, p) layout: dq/dt = p, dp/dt = -q."""
    q, p = x[..., :1], x[..., 1:]
    return np.concatenate([p, -q], axis=-1)


def energy(x):
    return 0.5 * (x[..., 0] ** 2 + x[..., 1] ** 2)


@pytest.mark.parametrize("method", ["symplectic_euler", "leapfrog"])
def test_symplectic_orders_on_oscillator(method):
    exact = np.array([np.cos(1.0), -np.sin(1.0)])
    errors = [np.abs(integrate(oscillator, [1.0, 0.0], 1.0, n, method) - exact).max() for n in STEPS]
    assert abs(observed_order(errors) - ORDERS[method]) < 0.15


@pytest.mark.parametrize("method", ["symplectic_euler", "leapfrog"])
def test_symplectic_energy_bounded_over_ten_thousand_steps(method):
    path = integrate(oscillator, [1.0, 0.0], 1000.0, 10_000, method, return_path=True)
    drift = np.abs(energy(path) - 0.5)
    # h = 0.1: the modified energy is conserved, so the error oscillates at O(h) or O(h^2) ...
    assert drift.max() < (0.06 if method == "symplectic_euler" else 0.002)
    # ... and does not grow: the last thousand steps are no worse than the first thousand.
    assert drift[-1000:].max() < 1.05 * drift[:1000].max()


def test_explicit_euler_energy_grows_on_oscillator():
    path = integrate(oscillator, [1.0, 0.0], 1000.0, 10_000, "euler", return_path=True)
    # Each step multiplies the energy by exactly 1 + h^2.
    np.testing.assert_allclose(energy(path[-1]), 0.5 * 1.01**10_000, rtol=1e-9)
    assert energy(path[-1]) > 1e40


def test_batch_shapes_and_path():
    x0 = np.arange(6.0).reshape(2, 3)
    assert integrate(lambda t, x: -x, x0, 1.0, 5).shape == (2, 3)
    path = integrate(lambda t, x: -x, x0, 1.0, 5, return_path=True)
    assert path.shape == (6, 2, 3)
    np.testing.assert_array_equal(path[0], x0)
    np.testing.assert_array_equal(path[-1], integrate(lambda t, x: -x, x0, 1.0, 5))


def test_batch_equals_one_by_one():
    x0 = np.linspace(-1, 1, 7)
    together = integrate(lambda t, x: np.sin(x) + t, x0, 1.5, 13, "rk4")
    alone = [integrate(lambda t, x: np.sin(x) + t, np.array([v]), 1.5, 13, "rk4")[0] for v in x0]
    np.testing.assert_array_equal(together, alone)


def test_step_matches_integrate_with_one_step():
    def f(t, x):
        return np.cos(t) * x

    for method in ["euler", "midpoint", "heun", "rk4"]:
        assert step(f, 0.0, 0.3, 0.25, method) == integrate(f, 0.3, 0.25, 1, method)


def test_time_offset_t0():
    def f(t, x):
        return t * np.ones_like(x)

    # x(t1) - x(t0) = (t1^2 - t0^2)/2 exactly for every method of order >= 2.
    assert integrate(f, 0.0, 3.0, 4, "midpoint", t0=1.0) == pytest.approx(4.0, rel=1e-14)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"method": "rk5"}, ValueError, "accepted: euler"),
        ({"n_steps": 0}, ValueError, "n_steps"),
        ({"n_steps": 2.5}, TypeError, "n_steps"),
        ({"t1": -1.0}, ValueError, "t1"),
        ({"t1": 0.0}, ValueError, "t1"),
        ({"t1": np.inf}, ValueError, "t1"),
        ({"t1": np.nan}, ValueError, "t1"),
        ({"t0": np.nan}, ValueError, "t0"),
    ],
)
def test_bad_input(kwargs, error, words):
    args = {"f": lambda t, x: -x, "x0": 1.0, "t1": 1.0, "n_steps": 4} | kwargs
    with pytest.raises(error, match=words):
        integrate(**args)


def test_field_returning_wrong_shape():
    with pytest.raises(ValueError, match="same shape as x"):
        integrate(lambda t, x: np.zeros(3), np.zeros(2), 1.0, 2)


def test_symplectic_needs_even_last_axis():
    with pytest.raises(ValueError, match="even length"):
        integrate(lambda t, x: -x, np.zeros(3), 1.0, 2, "leapfrog")


def test_work_is_bounded_and_bad_states_refused():
    import time

    def f(t, x):
        return -x

    start = time.perf_counter()
    with pytest.raises(ValueError, match="MAX_WORK"):  # used to run for days
        integrate(f, 1.0, 1.0, 10**12)
    assert time.perf_counter() - start < 1.0
    with pytest.raises(ValueError, match="x0"):  # used to return NaN
        integrate(f, np.nan, 1.0, 4)
    with pytest.raises(TypeError, match="x0"):
        integrate(f, np.array([1 + 1j]), 1.0, 4)
    with pytest.raises(ValueError, match="h"):  # used to return NaN
        step(f, 0.0, 1.0, np.nan)
    with pytest.raises(TypeError, match="f must be a callable"):
        integrate(None, 1.0, 1.0, 4)
    with pytest.raises(TypeError, match="method"):
        integrate(f, 1.0, 1.0, 4, method=[])


def test_overflow_gives_inf_and_inf_minus_inf_is_refused():
    with np.errstate(all="raise"):  # no warning escapes
        assert integrate(lambda t, x: x * x, 1e200, 1.0, 1, method="euler") == np.inf
        with pytest.raises(ValueError, match="overflowed"):
            integrate(lambda t, x: -x, np.array([1e308]), 1.0, 4)
