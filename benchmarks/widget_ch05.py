"""Chapter 5 widget: median time of one update of variance_corrected_figure."""

from widget_timing import report

from simplest_node import variance_corrected_figure

SETTINGS = [
    {"lr": lr, "a0": a0, "t": t, "safeguard": safeguard}
    for lr, a0, t, safeguard in [
        (0.5, -5.0, 1.0, "line search"),
        (0.05, -10.0, 0.25, "clipping"),
        (1.0, 10.0, 3.0, "line search"),
        (0.3, 2.5, 1.5, "clipping"),
    ]
]

if __name__ == "__main__":
    report("ch05 variance_corrected_figure", variance_corrected_figure, SETTINGS)
