"""Chapter 3 widget: median time of one update of gradients_figure."""

from widget_timing import report

from simplest_node import gradients_figure

SETTINGS = [
    {"method": method, "n_steps": n_steps, "t": t}
    for method, n_steps, t in [("euler", 4, 1.0), ("midpoint", 32, 3.0), ("rk4", 1, 0.2), ("euler", 16, 2.0)]
]

if __name__ == "__main__":
    report("ch03 gradients_figure", gradients_figure, SETTINGS)
