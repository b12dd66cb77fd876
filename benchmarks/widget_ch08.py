"""Chapter 8 widget: median time of one update of wide_histogram_figure (weights cached, as when a
slider moves; the first call at a new width also samples the weights)."""

from widget_timing import report

from simplest_node import wide_histogram_figure

SETTINGS = [
    {"activation": a, "width": n, "T": T, "scaling": s}
    for a, n, T, s in [
        ("tanh", 16, 1.0, "fixed"),
        ("softplus", 16, 8.0, "fixed"),
        ("relu", 16, 32.0, "1/T"),
        ("gelu", 16, 0.5, "fixed"),
    ]
]
WIDEST = [{"activation": "softplus", "width": 128, "T": 1.0, "scaling": "fixed"}]

if __name__ == "__main__":
    report("ch08 wide_histogram_figure (width 16)", wide_histogram_figure, SETTINGS)
    report("ch08 wide_histogram_figure (width 128)", wide_histogram_figure, WIDEST)
