"""Chapter 9 widget: median time of one update of scale_horizon_figure (the solve compiled and the
data of each horizon cached, as when a slider moves)."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

from widget_timing import report

from simplest_node.plot_real_node import scale_horizon_figure

SETTINGS = [{"log10_scale": s, "horizon": t} for s, t in [(0.0, 1.0), (-1.0, 4.0), (1.0, 8.0), (0.5, 2.0)]]

if __name__ == "__main__":
    for setting in SETTINGS:  # first visit of each horizon: its data, and the compilation
        scale_horizon_figure(**setting)
    report("ch09 scale_horizon_figure", scale_horizon_figure, SETTINGS)
