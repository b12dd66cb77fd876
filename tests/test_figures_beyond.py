"""Chapter 6 widget: 200 random slider settings (corners first), flags, and bad input."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from conftest import assert_defaults_on_ranges, slider_settings
from simplest_node.figures.beyond import (
    BEYOND_SLIDERS,
    N_RUNS,
    TOL,
    beyond_figure,
    beyond_history,
    draw_beyond,
)
from simplest_node.optimizers import OPTIMIZER_NAMES

INTEGER = {"d", "seed"}


def _settings(n, seed=0):
    out = slider_settings(BEYOND_SLIDERS, n, seed)
    for i, values in enumerate(out):
        values.update({k: int(values[k]) for k in INTEGER})
        values["optimizer"] = OPTIMIZER_NAMES["matrix"][i % len(OPTIMIZER_NAMES["matrix"])]
    return out


def test_slider_defaults_lie_on_their_ranges():
    assert_defaults_on_ranges(BEYOND_SLIDERS)


def test_widget_over_200_random_settings():
    for values in _settings(200):
        fig, ax = plt.subplots()
        history = draw_beyond(ax, **values, n_iter=15)
        text = ax.texts[0].get_text()
        assert f"diverged (overflow): {int(history.diverged.sum())}" in text
        for j in range(N_RUNS):
            loss = history.loss[:, j]
            if history.diverged[j]:
                assert np.all(np.isfinite(loss[: history.diverged_at[j]]))
            else:
                assert np.all(np.isfinite(loss)), values
        if "line search" in values["optimizer"]:
            assert not history.diverged.any(), values  # the line search never diverges
            assert np.all(np.diff(history.loss, axis=0) <= 0), values
        fig.canvas.draw()  # RuntimeWarnings are errors: drawing must be silent too
        plt.close(fig)


def test_default_figure():
    fig = beyond_figure()
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert "runs settle below loss 1e-10" in ax.texts[0].get_text()
    plt.close(fig)


def test_gauss_newton_default_converges_on_the_widget():
    fig, ax = plt.subplots()
    history = draw_beyond(ax, d=3, optimizer="Gauss-Newton + line search", lr=1.0, coupling=1.0, seed=0)
    assert np.all(history.converged_at(1e-10) > 0)
    assert f"{N_RUNS} of {N_RUNS} runs settle" in ax.texts[0].get_text()
    plt.close(fig)


def test_widget_runs_are_not_frozen_at_a_first_hit():
    # every run is trained to the end, so converged_at is the settling time: Adam dips below the
    # tolerance and climbs back before it settles, which a run frozen at its first hit would hide
    history = beyond_history(d=2, optimizer="Adam", lr=0.05, coupling=0.0, seed=0, n_iter=300)
    assert history.loss.shape == (301, N_RUNS)
    settled, first = history.converged_at(TOL), history.first_below(TOL)
    assert np.all(settled > 0)
    assert np.any(first < settled)
    for j in range(N_RUNS):
        assert np.all(history.loss[settled[j] :, j] < TOL)
        assert history.loss[settled[j] - 1, j] >= TOL


def test_gauss_newton_with_line_search_settles_fast_only_with_the_full_step():
    # the chapter's "things to try": at d = 3, lr 1 settles within a few iterations at every
    # coupling, the slider's default lr 0.5 (error times 1 - lr per step near A*) needs three times as many
    for coupling in [0.0, 1.5, 3.0]:
        full = beyond_history(3, "Gauss-Newton + line search", 1.0, coupling, 0).converged_at(TOL)
        half = beyond_history(3, "Gauss-Newton + line search", 0.5, coupling, 0).converged_at(TOL)
        assert np.all(full > 0) and full.max() <= 8, (coupling, full)
        assert np.all(half > 0) and half.min() >= 15, (coupling, half)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"d": 0}, ValueError, "d"),
        ({"d": 2.5}, TypeError, "d"),
        ({"optimizer": "Newton"}, ValueError, "optimizer"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"coupling": np.inf}, ValueError, "coupling"),
        ({"seed": -1}, ValueError, "seed"),
        ({"n_iter": 0}, ValueError, "n_iter"),
    ],
)
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        beyond_figure(**kwargs)
    plt.close("all")


# --- robustness regressions: bad and extreme inputs that once crashed, warned or gave NaN ------
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: draw_beyond(None), TypeError, "ax"),
        (lambda: beyond_figure(seed=-1), ValueError, "seed"),
        (lambda: beyond_figure(seed=3.5), TypeError, "seed"),
        (lambda: beyond_history(n_iter=10**12), ValueError, "MAX_WORK"),
    ],
)
def test_beyond_figures_refuse_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
