"""Optimizers and train: update formulas, vectorization to the bit, divergence handling, bad input."""

import numpy as np
import pytest

from simplest_node import GD, SGD, Adam, LinearProblem, SampledLinearProblem, VarianceCorrected, train

A0 = np.linspace(-3.0, 3.0, 13)
EXACT = LinearProblem(1.0, 1.0, 1.0)
RK4 = LinearProblem(1.0, 1.0, 1.0, method="rk4", n_steps=20)


def test_gd_update():
    h = train(EXACT, GD(0.05), [0.2], 1)
    assert h.a[1, 0] == 0.2 - 0.05 * EXACT.grad(0.2)


def test_adam_three_steps_by_hand():
    """torch.optim.Adam with bias correction, written out for three steps."""
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    a, m, v = 0.2, 0.0, 0.0
    expected = [a]
    for k in (1, 2, 3):
        g = EXACT.grad(a)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        a = a - lr * (m / (1 - b1**k)) / (np.sqrt(v / (1 - b2**k)) + eps)
        expected.append(a)
    h = train(EXACT, Adam(lr), [0.2], 3)
    np.testing.assert_allclose(h.a[:, 0], expected, rtol=1e-15, atol=0)
    # The first Adam step has size lr whatever the gradient's scale (bias correction).
    assert abs(h.a[1, 0] - 0.2) == pytest.approx(lr, rel=1e-6)


def test_variance_corrected_closed_form():
    """For the exact flow the rule is a - (lr/t)(1 - e^{(a* - a) t})."""
    p = LinearProblem(a_star=1.0, t=2.0, sigma=0.3)
    h = train(p, VarianceCorrected(0.4), A0, 1)
    np.testing.assert_allclose(h.a[1], A0 - (0.4 / 2.0) * (1 - np.exp((1.0 - A0) * 2.0)), rtol=1e-12)


def test_variance_corrected_contracts_loss_by_one_minus_lr_squared_near_a_star():
    h = train(EXACT, VarianceCorrected(0.3), [1.0 + 1e-5], 3)
    np.testing.assert_allclose(h.loss[1:] / h.loss[:-1], 0.7**2, rtol=1e-4)


@pytest.mark.parametrize(
    "optimizer",
    [GD(0.05), SGD(0.05, batch_size=8, seed=1), Adam(0.05), VarianceCorrected(0.5)],
    ids=repr,
)
@pytest.mark.parametrize("problem", [EXACT, RK4], ids=["exact", "rk4"])
def test_vector_of_a0_equals_each_alone_to_the_bit(optimizer, problem):
    together = train(problem, optimizer, A0, 40)
    for j, a0 in enumerate(A0):
        alone = train(problem, optimizer, [a0], 40)
        np.testing.assert_array_equal(together.a[:, j], alone.a[:, 0])
        np.testing.assert_array_equal(together.loss[:, j], alone.loss[:, 0])
        assert together.diverged_at[j] == alone.diverged_at[0]


def test_history_shapes_and_convergence():
    h = train(RK4, VarianceCorrected(0.5), A0, 100)
    assert h.a.shape == h.loss.shape == (101, A0.size)
    np.testing.assert_array_equal(h.a[0], A0)
    assert not h.diverged.any()
    reached = h.converged_at(1e-8)
    assert (reached[A0 != 1.0] > 0).all() and reached[A0 == 1.0] == 0
    for j, k in enumerate(reached):
        assert h.loss[k, j] < 1e-8 and (k == 0 or h.loss[k - 1, j] >= 1e-8)


def test_divergence_is_flagged_frozen_and_silent():
    # From a0 = -10 the rule's first step is (lr/t)(e^{11} - 1) ~ 3e4: e^{2 a t} overflows.
    h = train(EXACT, VarianceCorrected(0.5), [0.9, -10.0], 20)
    assert h.diverged_at[0] == -1
    k = h.diverged_at[1]
    assert k == 1
    assert np.all(np.isfinite(h.loss[:k, 1])) and np.all(h.loss[k:, 1] == np.inf)
    assert np.all(h.a[k:, 1] == h.a[k, 1]) or np.all(np.isnan(h.a[k:, 1]))


def test_sgd_is_seeded_and_noisy():
    one = train(EXACT, SGD(0.05, batch_size=4, seed=7), A0, 30)
    two = train(EXACT, SGD(0.05, batch_size=4, seed=7), A0, 30)
    three = train(EXACT, SGD(0.05, batch_size=4, seed=8), A0, 30)
    np.testing.assert_array_equal(one.a, two.a)
    assert not np.array_equal(one.a, three.a)
    assert not np.array_equal(one.a, train(EXACT, GD(0.05), A0, 30).a)


def test_variance_corrected_on_sampled_problem_uses_empirical_moment():
    p = SampledLinearProblem(1.0, 1.0, 1.0, n_samples=30, seed=0)
    h = train(p, VarianceCorrected(0.5), [0.0], 1)
    # Empirical grad / (t^2 * empirical second moment) reduces to the same closed form.
    assert h.a[1, 0] == pytest.approx(0.0 - 0.5 * (1 - np.exp(1.0)), rel=1e-12)


def test_zero_iterations():
    h = train(EXACT, GD(0.1), [0.0, 1.0], 0)
    assert h.a.shape == (1, 2)


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: GD(0.0), ValueError, "lr"),
        (lambda: GD(-0.1), ValueError, "lr"),
        (lambda: GD(np.nan), ValueError, "lr"),
        (lambda: Adam(0.1, beta1=1.0), ValueError, "beta1"),
        (lambda: Adam(0.1, beta2=-0.1), ValueError, "beta2"),
        (lambda: Adam(0.1, eps=0.0), ValueError, "eps"),
        (lambda: SGD(0.1, batch_size=0), ValueError, "batch_size"),
        (lambda: SGD(0.1, batch_size=2.0), TypeError, "batch_size"),
        (lambda: VarianceCorrected(np.inf), ValueError, "lr"),
        (lambda: train(EXACT, GD(0.1), [0.0, np.nan], 5), ValueError, "a0"),
        (lambda: train(EXACT, GD(0.1), [np.inf], 5), ValueError, "a0"),
        (lambda: train(EXACT, GD(0.1), [], 5), ValueError, "a0 must not be empty"),
        (lambda: train(EXACT, GD(0.1), [[0.0]], 5), ValueError, "1-D"),
        (lambda: train(EXACT, GD(0.1), [0.0], -1), ValueError, "n_iter"),
        (lambda: train(EXACT, GD(0.1), [0.0], 2.0), TypeError, "n_iter"),
    ],
)
def test_bad_input(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_train_bounds_its_work_and_checks_its_arguments():
    with pytest.raises(ValueError, match="MAX_WORK"):  # used to ask for 7 TiB
        train(EXACT, GD(0.1), [0.0], 10**12)
    with pytest.raises(TypeError, match="a0"):  # used to train from a0 = 1
        train(EXACT, GD(0.1), np.array([1 + 1j]), 3)
    with pytest.raises(TypeError, match="problem"):
        train(None, GD(0.1), [0.0], 3)
    with pytest.raises(TypeError, match="optimizer"):
        train(EXACT, None, [0.0], 3)
    for bad in (-1, 3.5, None):  # seeds are checked when the optimizer is built, not at train time
        with pytest.raises((TypeError, ValueError), match="seed"):
            SGD(0.1, 4, seed=bad)
        with pytest.raises((TypeError, ValueError), match="seed"):
            SampledLinearProblem(seed=bad)


def test_a_nan_update_freezes_the_entry_at_inf():
    # From far below a*, the variance-corrected step is 0/0; the record says inf, never NaN.
    h = train(EXACT, VarianceCorrected(0.5), [-1e308, 0.0], 3)
    assert h.diverged_at[0] == 1 and not np.isnan(h.a).any()
