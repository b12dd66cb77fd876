"""Chapter 1 widget: median time of one update of simplest_model_figure."""

from widget_timing import report

from simplest_node import simplest_model_figure

SETTINGS = [
    {"a0": a0, "t": t, "sigma": sigma}
    for a0, t, sigma in [(0.0, 1.0, 1.0), (-3.0, 3.0, 0.1), (3.0, 0.1, 3.0), (1.5, 2.0, 0.5)]
]

if __name__ == "__main__":
    report("ch01 simplest_model_figure", simplest_model_figure, SETTINGS)
