"""The chapter on a real Neural ODE: diffrax agrees with the package, and JAX stays optional.

The linear model's discrete loss and its backpropagated gradient (``LinearProblem`` with a solver,
``sn.backprop_gradient``) are autodiff through the same fixed-step solver in diffrax: Euler,
Midpoint, Heun and a classic RK4 built from a ``diffrax.ButcherTableau``.
"""

import subprocess
import sys

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simplest_node as sn
from conftest import ROOT
from simplest_node import real_node

SOLVERS = {"euler": diffrax.Euler(), "midpoint": diffrax.Midpoint(), "heun": diffrax.Heun(), "rk4": real_node.RK4()}


def diffrax_loss(a, x0, a_star, t, method, n_steps):
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda s, x, a: a * x), SOLVERS[method], 0.0, t, t / n_steps, x0, args=a, max_steps=n_steps + 1
    )
    return 0.5 * jnp.mean((sol.ys[-1] - np.exp(a_star * t) * x0) ** 2)


@pytest.mark.parametrize("method", sorted(SOLVERS))
@pytest.mark.parametrize("a", [-1.3, 0.2, 1.1])
def test_loss_and_gradient_equal_diffrax(method, a):
    a_star, t, n_steps = 0.7, 1.5, 6
    x0 = np.random.default_rng(0).normal(size=5)
    problem = sn.LinearProblem(a_star=a_star, t=t, method=method, n_steps=n_steps)
    loss, grad = jax.value_and_grad(diffrax_loss)(a, jnp.asarray(x0), a_star, t, method, n_steps)
    assert abs(problem.loss(a, x0) - float(loss)) <= 1e-10 * max(1.0, abs(float(loss)))
    backprop = sn.backprop_gradient(problem, np.array([a]), method=method, n_steps=n_steps, x0=x0)[0]
    assert abs(backprop - float(grad)) <= 1e-10 * max(1.0, abs(float(grad)))
    assert abs(problem.grad(a, x0) - float(grad)) <= 1e-10 * max(1.0, abs(float(grad)))


def test_rk4_tableau_is_the_packages():
    A, b = sn.BUTCHER_TABLEAUX["rk4"]
    tableau = real_node.RK4.tableau
    assert np.allclose(tableau.b_sol, b)
    for i, row in enumerate(tableau.a_lower, start=1):
        assert np.allclose(row, A[i, :i])


def test_import_simplest_node_does_not_import_jax():
    code = "import sys, simplest_node; print('jax' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""},
    )
    assert out.stdout.strip() == "False"


def test_settling_step():
    losses = np.array([[1.0, 0.5, 0.05, 0.2, 0.05, 0.01], [1.0, 0.5, 0.4, 0.3, 0.2, 0.2]])
    assert list(real_node.settling_step(losses, 0.1)) == [4, -1]
    assert real_node.settling_step(np.array([0.01, 0.02]), 0.1) == 0


def test_stacked_training_equals_one_run():
    """Training several runs as one stacked ODE gives each run what it gets alone."""
    grid = real_node.train_grid([0.5, 2.0], [1.0], n_iter=3, n_steps=5)
    alone = real_node.train_grid([2.0], [1.0], n_iter=3, n_steps=5)
    assert np.allclose(grid[:, :, 1], alone[:, :, 0], rtol=1e-12)
