"""Every chapter's widget: median time of one update of its figure function (``widget_timing``).

Each widget is timed at its default and at settings that reach the sliders' ends and every
dropdown's costliest options. ``python benchmarks/widgets.py ch04 ch08`` times only those chapters.
Chapter 8's second row times the widest network (weights cached, as when a slider moves; the first
call at a new width also samples the weights).
"""

import os
import sys

from widget_timing import report

import simplest_node as sn

# name: (figure function, its arguments, one row of values per setting)
WIDGETS = {
    "ch01 simplest_model_figure": (
        sn.simplest_model_figure,
        ("a0", "t", "sigma"),
        [(0.0, 1.0, 1.0), (-3.0, 3.0, 0.1), (3.0, 0.1, 3.0), (1.5, 2.0, 0.5)],
    ),
    "ch02 landscape_figure": (
        sn.landscape_figure,
        ("a0", "a_star", "t", "sigma"),
        [(-1.0, 1.0, 1.0, 1.0), (-3.0, 2.0, 3.0, 0.1), (3.0, -1.0, 0.1, 3.0), (1.5, 1.0, 2.0, 0.5)],
    ),
    "ch03 gradients_figure": (
        sn.gradients_figure,
        ("method", "n_steps", "t"),
        [("euler", 4, 1.0), ("midpoint", 32, 3.0), ("rk4", 1, 0.2), ("euler", 16, 2.0)],
    ),
    "ch04 training_figure": (
        sn.training_figure,
        ("optimizer", "lr", "a0", "t"),
        [
            ("GD", 0.05, -2.0, 1.0),
            ("Adam", 0.5, 3.0, 2.0),
            ("SGD", 0.005, -3.0, 0.25),
            ("variance-corrected", 0.5, -3.0, 2.0),
        ],
    ),
    "ch05 variance_corrected_figure": (
        sn.variance_corrected_figure,
        ("lr", "a0", "t", "safeguard"),
        [
            (0.5, -5.0, 1.0, "line search"),
            (0.05, -10.0, 0.25, "clipping"),
            (1.0, 10.0, 3.0, "line search"),
            (0.3, 2.5, 1.5, "clipping"),
        ],
    ),
    "ch06 beyond_figure": (
        sn.beyond_figure,
        ("d", "optimizer", "lr", "coupling", "seed"),
        [
            (3, "covariance + line search", 0.5, 1.0, 0),
            (5, "Gauss-Newton + line search", 1.0, 3.0, 9),
            (5, "GD", 0.05, 0.0, 3),
            (5, "Adam", 1.0, 2.0, 5),
            (5, "covariance", 1.0, 3.0, 1),
            (2, "Gauss-Newton", 0.05, 0.5, 7),
        ],
    ),
    "ch07 imde_figure": (
        sn.imde_figure,
        ("method", "n_sub", "a_star"),
        [("euler", 2, -1.0), ("midpoint", 1, -3.0), ("rk4", 16, 2.0), ("heun", 5, -0.5)],
    ),
    "ch08 wide_histogram_figure (width 16)": (
        sn.wide_histogram_figure,
        ("activation", "width", "T", "scaling"),
        [
            ("tanh", 16, 1.0, "fixed"),
            ("softplus", 16, 8.0, "fixed"),
            ("relu", 16, 32.0, "1/T"),
            ("gelu", 16, 0.5, "fixed"),
        ],
    ),
    "ch08 wide_histogram_figure (width 128)": (
        sn.wide_histogram_figure,
        ("activation", "width", "T", "scaling"),
        [("softplus", 128, 1.0, "fixed")],
    ),
    "ch10 time_rescaling_figure": (
        sn.time_rescaling_figure,
        ("c", "lr", "a0"),
        [(2.0, 0.1, -1.0), (0.25, 0.01, -3.0), (4.0, 0.5, 3.0), (1.5, 0.2, 0.5)],
    ),
}

# Chapter 9's widget needs JAX, which ``import simplest_node`` never imports: loaded only when timed.
CH09_SETTINGS = [{"log10_scale": s, "horizon": t} for s, t in [(0.0, 1.0), (-1.0, 4.0), (1.0, 8.0), (0.5, 2.0)]]


def time_ch09():
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    from simplest_node.figures import real_node as figures

    for setting in CH09_SETTINGS:  # first visit of each horizon: its data, and the compilation
        figures.scale_horizon_figure(**setting)
    report("ch09 scale_horizon_figure", figures.scale_horizon_figure, CH09_SETTINGS)


if __name__ == "__main__":
    chosen = sys.argv[1:]
    for name, (figure_function, arguments, rows) in WIDGETS.items():
        if not chosen or name.split()[0] in chosen:
            report(name, figure_function, [dict(zip(arguments, row)) for row in rows])
        if name.startswith("ch08") and "width 128" in name and (not chosen or "ch09" in chosen):
            time_ch09()
