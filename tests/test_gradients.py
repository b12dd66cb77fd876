"""The three gradients: closed form, backprop through the solver, continuous adjoint; their error
tables, the solver's optimum, gradient descent, cost counts and the chapter 3 figures."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simplest_node import (
    BUTCHER_TABLEAUX,
    GRADIENT_SLIDERS,
    ORDERS,
    RK_METHODS,
    CostTable,
    LinearProblem,
    LinearSystemFit,
    adjoint_gradient,
    backprop_gradient,
    closed_form_gradient,
    damped_oscillator,
    descend,
    discrete_optimum,
    draw_gradients,
    gradient_cost,
    gradient_cost_figure,
    gradient_error_figure,
    gradient_error_table,
    gradient_root,
    gradients_figure,
    integrate,
    observed_orders,
)

EXACT = LinearProblem(1.0, 1.0, 1.0)
A_GRID = np.linspace(-2.0, 2.5, 10)
METHODS = list(BUTCHER_TABLEAUX)


def test_tableaux_reproduce_the_solvers():
    # One step of each tableau on x' = a x equals the package's solver step.
    for method in METHODS:
        A, b = BUTCHER_TABLEAUX[method]
        assert np.allclose(np.tril(A, -1), A) and b.sum() == pytest.approx(1.0)
        for a in (-1.3, 0.4, 2.0):
            p = LinearProblem(1.0, 0.3, 1.0, method=method, n_steps=1)
            assert p.model_map(a) == pytest.approx(integrate(lambda t, x, a=a: a * x, 1.0, 0.3, 1, method), rel=1e-14)


def test_closed_form_gradient():
    np.testing.assert_allclose(closed_form_gradient(EXACT, A_GRID), EXACT.grad(A_GRID), rtol=1e-15)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n_steps", [1, 3, 10])
def test_backprop_is_the_exact_derivative_of_the_discrete_loss(method, n_steps):
    p = LinearProblem(0.7, 1.3, 0.8, method=method, n_steps=n_steps)
    g = backprop_gradient(p, A_GRID, method, n_steps)
    scale = np.max(np.abs(p.grad(A_GRID)))
    assert np.max(np.abs(g - p.grad(A_GRID))) <= 1e-13 * scale
    eps = 1e-6
    fd = (p.loss(A_GRID + eps) - p.loss(A_GRID - eps)) / (2 * eps)
    assert np.max(np.abs(g - fd)) <= 1e-7 * scale


@pytest.mark.parametrize("method", METHODS)
def test_backprop_with_a_batch_matches_the_batch_loss(method):
    x0 = np.random.default_rng(2).normal(size=30)
    p = LinearProblem(1.0, 1.0, 1.0, method=method, n_steps=5)
    g = backprop_gradient(p, np.array([-0.5, 0.3, 1.7]), method, 5, x0=x0)
    np.testing.assert_allclose(g, p.grad(np.array([-0.5, 0.3, 1.7]), x0=x0), rtol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_adjoint_equals_linear_problem_adjoint(method):
    p = LinearProblem(0.7, 1.3, 0.8, method=method, n_steps=6)
    np.testing.assert_allclose(
        adjoint_gradient(p, A_GRID, method, 6), p.grad_adjoint(A_GRID, 6), rtol=1e-12, atol=1e-14
    )


def test_adjoint_is_not_the_discrete_derivative_but_shares_its_zero():
    p = LinearProblem(1.0, 1.0, 1.0, method="euler", n_steps=4)
    a_h = float(discrete_optimum(1.0, 1.0, "euler", 4))
    assert abs(adjoint_gradient(EXACT, 0.5, "euler", 4) - p.grad(0.5)) > 1e-3
    # At the solver's optimum x_n equals the data, so lambda(t) = 0 and both gradients vanish.
    assert abs(adjoint_gradient(EXACT, a_h, "euler", 4)) < 1e-13
    assert abs(backprop_gradient(EXACT, a_h, "euler", 4)) < 1e-13


def test_memory_counts():
    x0 = np.ones(7)
    for method in METHODS:
        stages = len(BUTCHER_TABLEAUX[method][1])
        for n in (1, 5, 20):
            _, tape = backprop_gradient(EXACT, np.zeros(3), method, n, x0, return_tape_size=True)
            _, state = adjoint_gradient(EXACT, np.zeros(3), method, n, x0, return_state_size=True)
            assert tape == n * stages * 3 * 7
            assert state == 3 * 3 * 7


@pytest.mark.parametrize("method", ["euler", "midpoint", "rk4"])
def test_error_table_observed_orders(method):
    table = gradient_error_table(EXACT, 0.5, (method,), (8, 16, 32, 64))
    for kind in ("backprop", "adjoint"):
        orders = table.orders(kind)[method]
        assert abs(orders[-1] - ORDERS[method]) < 0.1
        errors = getattr(table, kind)[method]
        assert np.all(np.diff(errors) < 0)
    text = table.format("backprop")
    assert text.splitlines()[0].split() == ["n_steps", method, "order"]
    assert len(text.splitlines()) == 5


def test_observed_orders():
    n = np.array([10, 20, 40])
    np.testing.assert_allclose(observed_orders(n, 3.0 / n**2), [2.0, 2.0], rtol=1e-12)
    e = np.stack([1.0 / n, 1.0 / n**4], axis=1)
    np.testing.assert_allclose(observed_orders(n, e), [[1, 4], [1, 4]], rtol=1e-12)


def test_discrete_optimum_closed_forms():
    n = np.array([1, 2, 10, 100])
    h = 1.5 / n
    np.testing.assert_allclose(discrete_optimum(0.8, 1.5, "euler", n), (np.exp(0.8 * h) - 1) / h, rtol=1e-14)
    midpoint = (np.sqrt(2 * np.exp(0.8 * h) - 1) - 1) / h
    np.testing.assert_allclose(discrete_optimum(0.8, 1.5, "midpoint", n), midpoint, rtol=1e-13)
    for method in ("euler", "midpoint", "heun", "rk4"):
        a_h = discrete_optimum(0.8, 1.5, method, 7)
        p = LinearProblem(0.8, 1.5, 1.0, method=method, n_steps=7)
        assert p.model_map(a_h) == pytest.approx(p.target(), rel=1e-14)
        assert p.loss(a_h) < 1e-28


@given(a_star=st.floats(-1, 2), t=st.floats(0.1, 3), n=st.integers(4, 200))
@settings(max_examples=50, deadline=None)
def test_discrete_optimum_converges_at_the_method_order(a_star, t, n):
    # |a_h - a*| <= C h^p with a generous constant; the leading terms are a*^(p+1) h^p / (p+1)!.
    for method, p in (("euler", 1), ("midpoint", 2), ("rk4", 4)):
        gap = abs(float(discrete_optimum(a_star, t, method, n)) - a_star)
        # Rounding: z = a_h h is found to ~1e-16, so a_h = z / h carries ~1e-16 / h.
        assert gap <= 2 * max(abs(a_star), 1e-3) ** (p + 1) * (t / n) ** p + 1e-14 * n / t


def test_gradient_descent_converges_to_the_solver_optimum():
    for method in ("euler", "midpoint"):
        p = LinearProblem(1.0, 1.0, 1.0, method=method, n_steps=4)
        a_h = float(discrete_optimum(1.0, 1.0, method, 4))
        a = descend(p.grad, np.array([0.0, 0.5, 1.5]), lr=0.05, n_iter=3000)
        np.testing.assert_allclose(a, a_h, rtol=1e-10)
        a = descend(
            lambda x, method=method: adjoint_gradient(EXACT, x, method, 4), np.array([0.0, 1.5]), lr=0.05, n_iter=3000
        )
        np.testing.assert_allclose(a, a_h, rtol=1e-10)
        assert abs(a_h - 1.0) > 1e-3


def test_descend_reports_divergence_as_inf():
    # a <- a - lr (-10 a) = 11 a overflows; a <- a - lr (a - 1) converges to 1; -3 overflows downwards.
    a = descend(lambda x: np.where(np.abs(x) > 1.5, -10 * x, x - 1), np.array([0.0, 3.0, -3.0]), lr=1.0, n_iter=400)
    assert a[0] == 1.0 and a[1] == np.inf and a[2] == -np.inf
    # A step that turns NaN (inf - inf in the gradient) is reported as inf too, never as NaN.
    a = descend(lambda x: np.where(x > 1.5, np.nan, x - 1), np.array([3.0]), lr=1.0, n_iter=3)
    assert a[0] == np.inf


def test_gradient_cost_keeps_a_callers_tracing():
    import tracemalloc

    tracemalloc.start()
    try:
        cost = gradient_cost("euler", (2, 4), batch=5, repeat=1)
        assert tracemalloc.is_tracing() and np.all(cost.backprop_peak_bytes > 0)
    finally:
        tracemalloc.stop()
    assert not tracemalloc.is_tracing()


def test_gradient_cost_counts():
    cost = gradient_cost("midpoint", (4, 8), batch=10, repeat=1)
    assert isinstance(cost, CostTable)
    np.testing.assert_array_equal(cost.backprop_floats, [4 * 2 * 10, 8 * 2 * 10])
    np.testing.assert_array_equal(cost.adjoint_floats, [30, 30])
    assert np.all(cost.backprop_seconds > 0) and np.all(cost.adjoint_peak_bytes > 0)
    fig = gradient_cost_figure(cost)
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)


def test_error_figure():
    table = gradient_error_table(EXACT, methods=RK_METHODS)
    fig = gradient_error_figure(table)
    (ax,) = fig.axes
    # backprop and adjoint per method, a guide per distinct order, two legend entries for the styles
    n_lines = 2 * len(table.methods) + len({ORDERS[m] for m in table.methods}) + 2
    assert ax.get_xlabel() and ax.get_ylabel() and len(ax.get_lines()) == n_lines


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: backprop_gradient(EXACT, 0.0, "rk45", 4), ValueError, "accepted: euler, heun, midpoint, ralston, rk4"),
        (lambda: backprop_gradient(EXACT, 0.0, "rk4", 0), ValueError, "n_steps"),
        (lambda: backprop_gradient(EXACT, 0.0, "rk4", 2.0), TypeError, "n_steps"),
        (lambda: backprop_gradient(EXACT, np.nan, "rk4", 2), ValueError, "a must contain only finite"),
        (lambda: backprop_gradient(EXACT, 0.0, "rk4", 2, x0=np.ones((2, 2))), ValueError, "1-D batch"),
        (lambda: backprop_gradient("p", 0.0), TypeError, "LinearProblem"),
        (lambda: adjoint_gradient(EXACT, 0.0, "leapfrog", 4), ValueError, "accepted"),
        (lambda: adjoint_gradient(EXACT, 0.0, "rk4", 3, x0=[]), ValueError, "x0 must not be empty"),
        (lambda: closed_form_gradient(None, 0.0), TypeError, "LinearProblem"),
        (lambda: gradient_error_table(LinearProblem(method="rk4", n_steps=2)), ValueError, "exact-flow"),
        (lambda: gradient_error_table(EXACT, a=1.0), ValueError, "a must differ"),
        (lambda: gradient_error_table(EXACT, n_steps=(8,)), ValueError, "at least 2"),
        (lambda: gradient_error_table(EXACT, n_steps=(8, 4)), ValueError, "increasing"),
        (lambda: gradient_error_table(EXACT, methods=()), ValueError, "methods must not be empty"),
        (lambda: gradient_error_table(EXACT).format("fd"), ValueError, "accepted"),
        (lambda: observed_orders([1, 2], [1.0]), ValueError, "one row per entry"),
        (lambda: observed_orders([2, 1], [1.0, 2.0]), ValueError, "strictly increasing"),
        (lambda: discrete_optimum(1.0, 1.0, "euler", 0), ValueError, "n_steps"),
        (lambda: discrete_optimum(1.0, 1.0, "euler", 1.5), ValueError, "n_steps"),
        (lambda: discrete_optimum(1.0, 0.0, "euler", 1), ValueError, "t must be"),
        (lambda: discrete_optimum(-1.0, 3.0, "midpoint", 1), ValueError, "too large"),
        (lambda: descend(EXACT.grad, [0.0], lr=-1.0, n_iter=3), ValueError, "lr"),
        (lambda: descend(None, [0.0], lr=1.0, n_iter=3), TypeError, "callable"),
        (lambda: gradient_cost(n_steps=(0,)), ValueError, "n_steps"),
        (lambda: gradient_cost(batch=0), ValueError, "batch"),
        (lambda: gradient_error_figure({}), TypeError, "ErrorTable"),
        (lambda: gradient_cost_figure([]), TypeError, "CostTable"),
        (lambda: gradients_figure(method="heun4"), ValueError, "accepted"),
        (lambda: gradients_figure(n_steps=0), ValueError, "n_steps"),
    ],
)
def test_bad_input(call, error, words):
    with pytest.raises(error, match=words):
        call()
    plt.close("all")


def random_gradient_settings(n, seed):
    """Settings from GRADIENT_SLIDERS: extremes first, then seeded draws (integers for n_steps)."""
    rng = np.random.default_rng(seed)
    lo_n, hi_n = GRADIENT_SLIDERS["n_steps"][:2]
    lo_t, hi_t = GRADIENT_SLIDERS["t"][:2]
    methods = GRADIENT_SLIDERS["method"]
    settings = [{"method": m, "n_steps": n_, "t": t_} for m in methods for n_ in (lo_n, hi_n) for t_ in (lo_t, hi_t)]
    while len(settings) < n:
        settings.append(
            {
                "method": str(rng.choice(methods)),
                "n_steps": int(rng.integers(lo_n, hi_n + 1)),
                "t": float(rng.uniform(lo_t, hi_t)),
            }
        )
    return settings


@pytest.mark.parametrize("settings", random_gradient_settings(200, seed=0))
def test_gradients_figure_over_slider_ranges(settings):
    fig = gradients_figure(**settings)
    left, right = fig.axes
    title = left.get_title()
    assert "aₕ = " in title or "no solver optimum" in title
    if "aₕ = " in title:
        assert np.isfinite(float(title.split("aₕ = ")[1].split(",")[0]))
    assert np.all(np.isfinite(right.get_ylim())) and len(right.get_lines()) == 4


def test_draw_gradients_on_given_axes():
    fig, axes = plt.subplots(1, 2)
    draw_gradients(axes, "rk4", 2, 1.0)
    assert "rk4" in axes[1].get_title()
    plt.close(fig)


# --- Several parameters: LinearSystemFit, damped_oscillator, gradient_root -----------------------


OSC = damped_oscillator(k_star=4.0, c_star=1.0, t=1.0)
THETA_STAR = np.array([4.0, 1.0])
THETA = np.array([3.0, 0.5])
P_ORDER = {"euler": 1, "midpoint": 2, "heun": 2, "rk4": 4}


def _fd(loss, theta, eps=1e-6):
    return np.array([(loss(theta + e) - loss(theta - e)) / (2 * eps) for e in eps * np.eye(theta.size)])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n_steps", [1, 3, 10])
def test_system_backprop_is_the_derivative_of_the_discrete_loss(method, n_steps):
    g = OSC.backprop_grad(THETA, method, n_steps)
    fd = _fd(lambda th: OSC.loss(th, method, n_steps), THETA)
    assert np.max(np.abs(g - fd)) <= 1e-7 * np.max(np.abs(g))  # central differences: O(eps^2) + rounding/eps


def test_system_exact_gradient_and_solver_map():
    fd = _fd(OSC.loss, THETA)
    g = OSC.exact_grad(THETA)
    assert np.max(np.abs(g - fd)) <= 1e-7 * np.max(np.abs(g))
    assert np.allclose(OSC.exact_grad(THETA_STAR), 0.0, atol=1e-14)
    # The solver map is R(hA)^n, the stability polynomial evaluated at the matrix hA.
    A, h = OSC.matrix(THETA), 0.25
    R = np.eye(2) + h * A + (h * A) @ (h * A) / 2
    assert np.allclose(OSC.solver_map(THETA, "midpoint", 4), np.linalg.matrix_power(R, 4), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("method", ["euler", "midpoint", "rk4"])
def test_one_dimension_reduces_to_the_scalar_gradients(method):
    scalar = LinearSystemFit(np.ones((1, 1, 1)), np.array([[1.0]]), t=1.0)
    for a in (-1.2, 0.3, 2.0):
        assert scalar.backprop_grad(np.array([a]), method, 5)[0] == pytest.approx(
            float(backprop_gradient(EXACT, a, method, 5)), rel=1e-13
        )
        assert scalar.adjoint_grad(np.array([a]), method, 5, "reconstructed")[0] == pytest.approx(
            float(adjoint_gradient(EXACT, a, method, 5)), rel=1e-12
        )
        assert scalar.exact_grad(np.array([a]))[0] == pytest.approx(float(EXACT.grad(a)), rel=1e-12)


@pytest.mark.parametrize("method", ["euler", "midpoint", "rk4"])
@pytest.mark.parametrize("states", ["exact", "reconstructed"])
def test_system_adjoint_is_not_the_discrete_adjoint(method, states):
    # Both converge to the exact-flow gradient at the method's order, and they differ from each
    # other at that order too: even with exact states the adjoint is not backprop.
    n = np.array([32, 64, 128])
    exact = OSC.exact_grad(THETA)
    bp = np.array([OSC.backprop_grad(THETA, method, k) for k in n])
    adj = np.array([OSC.adjoint_grad(THETA, method, k, states) for k in n])
    p = P_ORDER[method]
    for errors in (np.abs(bp - exact).max(axis=1), np.abs(adj - exact).max(axis=1), np.abs(adj - bp).max(axis=1)):
        assert np.all(np.abs(observed_orders(n, errors) - p) < 0.25 * p)
    assert np.all(np.abs(adj - bp).max(axis=1) > 1e4 * np.finfo(float).eps * np.abs(exact).max())  # far above rounding


def test_one_parameter_gradients_share_their_zero():
    scalar = LinearSystemFit(np.ones((1, 1, 1)), np.array([[1.0]]), t=1.0)
    for method in ("euler", "midpoint", "rk4"):
        a_h = float(discrete_optimum(1.0, 1.0, method, 4))
        root = gradient_root(
            lambda th, method=method: scalar.adjoint_grad(th, method, 4, "reconstructed"), np.array([1.0])
        )
        assert root[0] == pytest.approx(a_h, abs=1e-10)
        assert gradient_root(lambda th, method=method: scalar.backprop_grad(th, method, 4), np.array([1.0]))[
            0
        ] == pytest.approx(a_h, abs=1e-10)


@pytest.mark.parametrize("method", ["euler", "midpoint"])
def test_adjoint_zero_is_not_the_solver_optimum(method):
    # The oscillator's solver optimum keeps a residual, so lambda(t) != 0 there and the adjoint's
    # zero moves away from it, by O(h^{2p}): order 2p between n = 8, 16, 32.
    n = np.array([8, 16, 32])
    gaps = []
    for k in n:
        theta_h = gradient_root(lambda th, k=k: OSC.backprop_grad(th, method, k), THETA_STAR)
        theta_adj = gradient_root(lambda th, k=k: OSC.adjoint_grad(th, method, k), THETA_STAR)
        assert np.max(np.abs(OSC.backprop_grad(theta_h, method, k))) < 1e-12
        assert OSC.loss(theta_h, method, k) > 1e-8  # a residual remains at the solver's optimum
        assert np.max(np.abs(OSC.adjoint_grad(theta_h, method, k))) > 1e-8
        assert OSC.loss(theta_adj, method, k) > OSC.loss(theta_h, method, k)
        gaps.append(np.max(np.abs(theta_adj - theta_h)))
    assert np.all(np.abs(observed_orders(n, np.array(gaps)) - 2 * P_ORDER[method]) < 0.6)


def test_symplectic_pair_is_the_discrete_adjoint():
    # Implicit midpoint (symplectic): applied to lambda with the forward's stage values it gives the
    # exact derivative of its own discrete loss. (No explicit method has this property.)
    n, h = 5, 0.2
    Y = OSC.target()

    def forward(theta):
        A = OSC.matrix(theta)
        R = np.linalg.solve(np.eye(2) - h * A / 2, np.eye(2) + h * A / 2)
        xs = [np.eye(2)]
        for _ in range(n):
            xs.append(R @ xs[-1])
        return A, xs

    def loss(theta):
        return 0.5 * np.sum((forward(theta)[1][-1] - Y) ** 2)

    A, xs = forward(THETA)
    lam = xs[-1] - Y
    G = np.zeros((2, 2))
    for k in range(n - 1, -1, -1):
        lam_new = np.linalg.solve(np.eye(2) - h * A.T / 2, (np.eye(2) + h * A.T / 2) @ lam)
        G += h * ((lam + lam_new) / 2) @ ((xs[k] + xs[k + 1]) / 2).T
        lam = lam_new
    g = OSC._project(G)
    assert np.max(np.abs(g - _fd(loss, THETA))) <= 1e-8 * np.max(np.abs(g))
    for method in ("euler", "midpoint", "heun", "rk4"):  # b_i a_ij + b_j a_ji = b_i b_j fails
        A_rk, b = BUTCHER_TABLEAUX[method]
        assert not np.allclose(b[:, None] * A_rk + (b[:, None] * A_rk).T, np.outer(b, b))


def test_gradient_root_and_input_checks():
    root = gradient_root(lambda th: np.array([th[0] ** 3 - 8.0, th[1] - th[0]]), np.array([1.5, 0.0]))
    assert root == pytest.approx([2.0, 2.0], abs=1e-12)
    with pytest.raises(ValueError, match="did not converge"):
        gradient_root(lambda th: np.array([th[0] ** 2 + 1.0]), np.array([0.3]), max_iter=5)
    with pytest.raises(TypeError, match="callable"):
        gradient_root(3.0, np.array([1.0]))
    with pytest.raises(ValueError, match="1-D"):
        gradient_root(lambda th: th, np.ones((2, 2)))
    with pytest.raises(ValueError, match="basis"):
        LinearSystemFit(np.ones((2, 2)), np.eye(2))
    with pytest.raises(ValueError, match="A_star"):
        LinearSystemFit(np.ones((1, 2, 2)), np.eye(3))
    with pytest.raises(ValueError, match="theta"):
        OSC.matrix(np.ones(3))
    with pytest.raises(ValueError, match="states"):
        OSC.adjoint_grad(THETA, "rk4", 4, states="stored")
    with pytest.raises(ValueError, match="method"):
        OSC.backprop_grad(THETA, "leapfrog", 4)


def test_checks_instance():
    from simplest_node import _checks

    assert _checks.instance("x", 3, int, "an int") == 3
    with pytest.raises(TypeError, match="x must be an int, got str"):
        _checks.instance("x", "3", int, "an int")
