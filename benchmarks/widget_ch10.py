"""Chapter 9 widget: median time of one update of time_rescaling_figure."""

from widget_timing import report

from simplest_node.figures.troubleshooting import time_rescaling_figure

SETTINGS = [
    {"c": c, "lr": lr, "a0": a0}
    for c, lr, a0 in [(2.0, 0.1, -1.0), (0.25, 0.01, -3.0), (4.0, 0.5, 3.0), (1.5, 0.2, 0.5)]
]

if __name__ == "__main__":
    report("ch10 time_rescaling_figure", time_rescaling_figure, SETTINGS)
