"""Chapter 2 widget: median time of one update of landscape_figure."""

from widget_timing import report

from simplest_node import landscape_figure

SETTINGS = [
    {"a0": a0, "a_star": a_star, "t": t, "sigma": sigma}
    for a0, a_star, t, sigma in [
        (-1.0, 1.0, 1.0, 1.0),
        (-3.0, 2.0, 3.0, 0.1),
        (3.0, -1.0, 0.1, 3.0),
        (1.5, 1.0, 2.0, 0.5),
    ]
]

if __name__ == "__main__":
    report("ch02 landscape_figure", landscape_figure, SETTINGS)
