"""The variance-corrected rule on minibatches, and the rate of the noisy preconditioner."""

import numpy as np
import pytest

from simplest_node import (
    LinearProblem,
    SampledLinearProblem,
    VarianceCorrected,
    VarianceCorrectedSGD,
    moment_noise_rate,
    train,
)

EXACT = LinearProblem(1.0, 1.0, 1.0)
A0 = np.linspace(-3.0, 3.0, 13)


def test_fixed_batch_equals_expectation_up_to_rounding():
    """On a fixed batch m2 cancels in Loss'/second moment: the same iterates as the expectation."""
    sampled = SampledLinearProblem(1.0, 1.0, 1.0, n_samples=7, seed=3)
    assert abs(sampled._m2(None) - 1.0) > 0.1  # the batch moment is far from sigma^2 ...
    a_batch = train(sampled, VarianceCorrected(0.5), A0, 40).a
    a_exact = train(EXACT, VarianceCorrected(0.5), A0, 40).a
    np.testing.assert_allclose(a_batch, a_exact, rtol=0, atol=1e-12)  # ... and does not matter


@pytest.mark.parametrize("batch_size", [1, 5, 64])
def test_same_batch_minibatches_equal_expectation(batch_size):
    h = train(EXACT, VarianceCorrectedSGD(0.5, batch_size, seed=2), A0, 40)
    np.testing.assert_allclose(h.a, train(EXACT, VarianceCorrected(0.5), A0, 40).a, rtol=0, atol=1e-12)


def test_independent_batches_scale_the_step_by_the_moment_ratio():
    opt = VarianceCorrectedSGD(0.5, 4, seed=7, moment="independent")
    a = np.array([-1.0, 0.5, 2.0])
    new = opt.update(EXACT, a, opt.init(a), 1)
    rng = np.random.default_rng(7)
    b, b_prime = rng.normal(size=4), rng.normal(size=4)
    rho = np.mean(b**2) / np.mean(b_prime**2)
    np.testing.assert_allclose(new, a - 0.5 * rho * (1 - np.exp(1.0 - a)), rtol=1e-12)


def test_moment_noise_rate_same_batch_limit_and_monte_carlo():
    # a huge batch: rho -> 1 and the rate -> 2 log|1 - lr|
    assert moment_noise_rate(0.5, 100_000) == pytest.approx(2 * np.log(0.5), abs=1e-3)
    rng = np.random.default_rng(0)
    for lr, b in [(0.5, 1), (0.5, 4), (1.0, 8)]:
        rho = rng.f(b, b, size=1_000_000)
        mc = 2 * np.mean(np.log(np.abs(1 - lr * rho)))
        assert moment_noise_rate(lr, b) == pytest.approx(mc, abs=0.01)


def test_moment_noise_rate_predicts_the_simulated_decay():
    """Near a* the measured mean log-loss decrease per step matches the rate (many seeds)."""
    lr, b, n = 0.5, 4, 20
    slopes = []
    for seed in range(100):
        h = train(EXACT, VarianceCorrectedSGD(lr, b, seed=seed, moment="independent"), [1.0 + 1e-2], n)
        assert not h.diverged.any()
        slopes.append(np.log(h.loss[n, 0] / h.loss[0, 0]) / n)
    # the per-seed slope has a std of about 0.45, so the mean over 100 seeds one of 0.045: 4.5 sigma
    assert np.mean(slopes) == pytest.approx(moment_noise_rate(lr, b), abs=0.2)


def test_single_sample_batches_destroy_linear_convergence():
    assert moment_noise_rate(0.5, 1) > 0 > moment_noise_rate(0.5, 2)


def test_repr_and_seed_reproducible():
    opt = VarianceCorrectedSGD(0.5, 8, seed=1, moment="independent")
    assert repr(opt) == "VarianceCorrectedSGD(lr=0.5, batch_size=8, seed=1, moment='independent')"
    np.testing.assert_array_equal(train(EXACT, opt, A0, 10).a, train(EXACT, opt, A0, 10).a)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: VarianceCorrectedSGD(0.0, 4), ValueError, "lr"),
        (lambda: VarianceCorrectedSGD(0.5, 0), ValueError, "batch_size"),
        (lambda: VarianceCorrectedSGD(0.5, 2.5), TypeError, "batch_size"),
        (lambda: VarianceCorrectedSGD(0.5, 4, moment="other"), ValueError, "moment"),
        (lambda: moment_noise_rate(-1.0, 4), ValueError, "lr"),
        (lambda: moment_noise_rate(0.5, 0), ValueError, "batch_size"),
    ],
)
def test_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()
