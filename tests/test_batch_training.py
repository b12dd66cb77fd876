"""run_batched: every run advances together; runs freeze at the tolerance or when they diverge.
backtrack: the Armijo step of every run at once."""

import numpy as np

from simplest_node.batch_training import backtrack, run_batched


class Quadratic:
    """loss(p) = sum(p^2) / 2 over the parameter's own axes; leading axes are batch axes (runs, trials)."""

    def __init__(self, param_ndim=1):
        self.axes = tuple(range(-param_ndim, 0))

    def loss(self, params):
        return 0.5 * np.sum(params**2, axis=self.axes)


class Scale:
    """p <- factor p, with a per-run step counter in the state (sliced to the moving runs)."""

    def __init__(self, factor):
        self.factor = factor

    def init(self, params):
        return {"count": np.zeros(params.shape[0], int)}

    def update(self, problem, params, state, k):
        state["count"] += 1
        return self.factor * params


def test_runs_match_the_closed_form_and_keep_their_history():
    p0 = np.array([[1.0, 2.0], [3.0, -1.0]])
    history, losses, diverged_at = run_batched(Quadratic(), Scale(0.5), p0, 4)
    assert np.allclose(history[4], p0 * 0.5**4)
    assert np.allclose(losses[:, 0], 2.5 * 0.25 ** np.arange(5))
    assert np.all(diverged_at == -1)


def test_a_run_below_the_tolerance_is_frozen_and_its_state_stops():
    p0 = np.array([[1e-3], [1.0]])
    optimizer = Scale(0.5)
    state_counts = []
    original_update = optimizer.update

    def update(problem, params, state, k):
        state_counts.append(len(params))
        return original_update(problem, params, state, k)

    optimizer.update = update
    history, losses, _ = run_batched(Quadratic(), optimizer, p0, 3, tol=1e-4)
    assert np.all(history[:, 0] == 1e-3)  # frozen from the start
    assert state_counts == [1, 1, 1]  # only the moving run reaches the optimizer


def test_a_diverging_run_is_frozen_flagged_and_its_loss_is_inf():
    p0 = np.array([[1.0], [1e200]])
    history, losses, diverged_at = run_batched(Quadratic(), Scale(1e100), p0, 3, store=True)
    assert diverged_at.tolist() == [2, 0]  # 1e200 squared overflows at once; 1e200 after two steps
    assert np.isinf(losses[2:, 0]).all() and np.isinf(losses[:, 1]).all()
    assert history[-1, 0, 0] == 1e100  # frozen at its last finite value


def test_store_false_keeps_no_history():
    history, losses, _ = run_batched(Quadratic(2), Scale(0.5), np.ones((3, 2, 2)), 2, store=False)
    assert history is None and losses.shape == (3, 3)


def test_backtrack_takes_the_first_halving_with_enough_decrease_per_run():
    # Loss = |p|^2 / 2 from p = 1 along D = -grad: the full step lr = 4 lands at -3 (loss rises),
    # 2 lands at -1 (no decrease), 1 lands at 0 (accepted). A run already at 0 has slope 0 and
    # passes at once with the full step, which keeps it at 0.
    params = np.array([[1.0], [0.0]])
    grad = params.copy()
    new = backtrack(Quadratic(), params, -grad, grad, lr=4.0)
    assert new[:, 0].tolist() == [0.0, 0.0]


def test_backtrack_leaves_a_run_in_place_when_no_step_decreases_the_loss():
    params = np.ones((1, 2, 2))
    uphill = np.ones((1, 2, 2))  # an ascent direction: no Armijo step exists
    new = backtrack(Quadratic(2), params, uphill, params, lr=1.0, max_halvings=12, chunk=5)
    assert np.array_equal(new, params)


def test_convergence_is_a_settling_time_not_a_first_hit():
    from simplest_node.batch_training import BatchHistory

    class H(BatchHistory):
        def __init__(self, loss):
            self.loss = np.asarray(loss, float).T
            self.diverged_at = np.full(self.loss.shape[1], -1)

    tol = 1e-8
    runs = [
        [1.0, 1e-9, 1e-9, 1e-9],  # settles at 1
        [1.0, 1e-9, 1e-3, 1e-9],  # dips at 1, climbs back at 2, settles at 3
        [1.0, 1e-9, 1e-9, 1e-3],  # dips and ends above: not converged
        [1e-9, 1e-9, 1e-9, 1e-9],  # below from the start
        [1.0, 1.0, 1.0, 1.0],  # never below
    ]
    h = H(runs)
    np.testing.assert_array_equal(h.first_below(tol), [1, 1, 1, 0, -1])
    np.testing.assert_array_equal(h.converged_at(tol), [1, 3, -1, 0, -1])
    # the definition: below tol from the settling time to the end, above it just before
    for j, k in enumerate(h.converged_at(tol)):
        if k >= 0:
            assert np.all(h.loss[k:, j] < tol) and (k == 0 or h.loss[k - 1, j] >= tol)
