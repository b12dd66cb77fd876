"""Chapter 4 widget: 200 seeded random settings, the outcome box, the scrubber frames, bad input."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from conftest import assert_defaults_on_ranges, slider_settings
from simplest_node import GD, SGD, Adam, VarianceCorrected
from simplest_node.figures.training import TRAINING_SLIDERS, draw_training, training_figure
from simplest_node.optimizers import OPTIMIZER_NAMES, optimizer


def _settings(n, seed=0):
    out = slider_settings(TRAINING_SLIDERS, n, seed)
    for i, values in enumerate(out):
        values["optimizer"] = OPTIMIZER_NAMES["scalar"][i % len(OPTIMIZER_NAMES["scalar"])]
    return out


def test_slider_defaults_lie_on_their_ranges():
    assert_defaults_on_ranges(TRAINING_SLIDERS)
    assert OPTIMIZER_NAMES["scalar"][0] == "GD"


def test_widget_over_200_random_settings():
    outcomes = set()
    fig = training_figure(n_iter=60)
    canvas = FigureCanvasAgg(fig)
    for values in _settings(200):
        sweep = draw_training(fig, **values, n_iter=60)
        h = sweep.history
        loss = h.loss[:, 0]
        text = fig.axes[0].texts[0].get_text()
        outcome = sweep.outcome[0]
        outcomes.add(outcome)
        if h.diverged[0]:
            assert outcome == "diverged" and "diverged (overflow) at step" in text
            assert np.all(np.isfinite(loss[: h.diverged_at[0]]))
        else:
            assert np.all(np.isfinite(loss)) and np.all(np.isfinite(h.a))
        if outcome == "converged":
            assert f"from step {sweep.iterations[0]} on" in text
        if outcome == "plateau":
            assert "plateau" in text
        canvas.draw()  # drawing must not warn either (RuntimeWarnings are errors)
        assert len(fig.axes[0].lines) >= 2 and len(fig.axes[1].lines) >= 4
    assert {"converged", "diverged", "plateau"} <= outcomes  # the settings reach every flag


def test_default_figure_numbers():
    fig = training_figure()
    ax_loss, ax_path = fig.axes
    assert ax_loss.get_yscale() == ax_path.get_yscale() == "log"
    assert "GD: loss < 1e-08 from step 83 on" in ax_loss.texts[0].get_text()  # a0 = -2, lr 0.05
    assert ax_loss.get_xlabel() and ax_path.get_xlabel() and ax_path.get_legend() is not None


def test_overshoot_onto_the_plateau_is_flagged():
    fig = training_figure("GD", lr=0.05, a0=2.7, t=1.0)
    assert "GD: stuck on the plateau" in fig.axes[0].texts[0].get_text()


def test_overflow_is_flagged_with_its_step():
    fig = training_figure("variance-corrected", lr=0.5, a0=-3.0, t=2.0)
    assert "diverged (overflow) at step 1" in fig.axes[0].texts[0].get_text()


def test_k_max_shows_the_run_up_to_k():
    fig = training_figure("GD", lr=0.05, a0=2.7, k_max=1)
    star = fig.axes[1].lines[-1]
    sweep = draw_training(fig, "GD", lr=0.05, a0=2.7, k_max=1)
    assert star.get_xdata()[0] == pytest.approx(sweep.history.a[1, 0])
    assert "up to k = 1" in fig.axes[1].get_title()
    draw_training(fig, "GD", lr=0.05, a0=2.7, k_max=0)  # redraw in place: still two panels
    assert len(fig.axes) == 2


def test_make_optimizer():
    assert isinstance(optimizer("GD", "scalar", 0.1), GD)
    sgd = optimizer("SGD", "scalar", 0.1, batch_size=4, seed=3)
    assert isinstance(sgd, SGD) and sgd.batch_size == 4 and sgd.seed == 3
    assert isinstance(optimizer("Adam", "scalar", 0.1), Adam)
    assert isinstance(optimizer("variance-corrected", "scalar", 0.1), VarianceCorrected)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"lr": 0.0}, ValueError, "lr"),
        ({"lr": "big"}, TypeError, "lr"),
        ({"a0": np.nan}, ValueError, "a0"),
        ({"t": -1.0}, ValueError, "t"),
        ({"optimizer": "momentum"}, ValueError, "optimizer"),
        ({"n_iter": 0}, ValueError, "n_iter"),
        ({"k_max": -1}, ValueError, "k_max"),
        ({"k_max": 301}, ValueError, "k_max"),
        ({"k_max": 2.5}, TypeError, "k_max"),
        ({"optimizer": "SGD", "batch_size": 0}, ValueError, "batch_size"),
    ],
)
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        training_figure(**kwargs)
    plt.close("all")


def test_draw_iterations_marks_every_outcome():
    from simplest_node import LinearProblem
    from simplest_node.figures.training import draw_iterations
    from simplest_node.sweeps import iterations_to_tolerance

    a0 = np.linspace(-3.0, 3.0, 13)
    sweeps = {
        "GD 0.05": iterations_to_tolerance(LinearProblem(), GD(0.05), a0, 200),
        "VC 0.5": iterations_to_tolerance(LinearProblem(), VarianceCorrected(0.5), np.array([-10.0, 0.0]), 200),
        "GD 0.5": iterations_to_tolerance(LinearProblem(), GD(0.5), np.array([0.5]), 200),
    }
    fig, ax = plt.subplots()
    draw_iterations(ax, sweeps)
    labels = [line.get_label() for line in ax.lines]
    assert "GD 0.05: plateau" in labels and "VC 0.5: diverged" in labels and "GD 0.5: not converged" in labels
    assert ax.get_yscale() == "log"
    FigureCanvasAgg(fig).draw()
    with pytest.raises(ValueError, match="sweeps"):
        draw_iterations(ax, {})
    plt.close(fig)


def test_draw_iterations_shows_first_hits_before_the_settling_time():
    """Adam(0.05) from a0 = 1.05 lands on a* at step 1 and climbs back: an open circle at 1."""
    from simplest_node import Adam, LinearProblem
    from simplest_node.figures.training import draw_iterations
    from simplest_node.sweeps import iterations_to_tolerance

    a0 = np.array([-3.0, 1.05, 3.0])
    sweep = iterations_to_tolerance(LinearProblem(), Adam(0.05), a0, 1000)
    hit = sweep.history.first_below(sweep.tol)
    assert hit[1] == 1 and sweep.iterations[1] > 100  # the first hit is not convergence
    fig, ax = plt.subplots()
    draw_iterations(ax, {"Adam": sweep}, first_hits=["Adam"])
    circles = [line for line in ax.lines if line.get_label() == "Adam: first hit, then back above"]
    assert len(circles) == 1
    early = hit < sweep.iterations
    assert np.array_equal(circles[0].get_xdata(), a0[early])
    assert np.array_equal(circles[0].get_ydata(), np.maximum(hit[early], 0.8))
    with pytest.raises(ValueError, match="first_hits"):
        draw_iterations(ax, {"Adam": sweep}, first_hits=["GD"])
    plt.close(fig)


def test_a_run_that_overflows_at_step_0_is_drawn_and_flagged():
    # Regression: a0 = 400 overflows the loss at once; the figure used to fail on an empty path.
    fig = training_figure("GD", 0.05, 400.0, 1.0)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("diverged (overflow) at step 0" in t for t in texts)
    plt.close("all")


def test_figure_arguments_are_checked():
    with pytest.raises(TypeError, match="fig"):
        draw_training(None)
    for bad in (-1, 3.5):
        with pytest.raises((TypeError, ValueError), match="seed"):
            training_figure("GD", 0.05, -2.0, 1.0, seed=bad)
        with pytest.raises((TypeError, ValueError), match="seed"):
            optimizer("GD", "scalar", 0.05, seed=bad)
    with pytest.raises(TypeError, match="optimizer"):
        optimizer([], "scalar", 0.05)
    with pytest.raises(ValueError, match="MAX_WORK"):
        training_figure("GD", 0.05, -2.0, 1.0, n_iter=10**12)
