"""run_batched: every run advances together; runs freeze at the tolerance or when they diverge."""

import numpy as np

from simplest_node.batch_training import run_batched


class Quadratic:
    """loss(p) = sum(p^2) / 2 over every axis but the first (the runs)."""

    def loss(self, params):
        return 0.5 * np.sum(params**2, axis=tuple(range(1, params.ndim)))


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
    history, losses, _ = run_batched(Quadratic(), Scale(0.5), np.ones((3, 2, 2)), 2, store=False)
    assert history is None and losses.shape == (3, 3)
