"""Median time of one update of the chapter 8 widget (compute + draw + canvas draw on Agg)."""

import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from simplest_node.plot_wide import wide_histogram_figure  # noqa: E402

SETTINGS = [
    ("tanh", 16, 1.0, "fixed"),  # the defaults
    ("softplus", 64, 8.0, "fixed"),
    ("relu", 128, 32.0, "1/T"),
    ("gelu", 4, 0.5, "fixed"),
]


def one_update(setting):
    start = time.perf_counter()
    fig = wide_histogram_figure(*setting)
    fig.canvas.draw()
    elapsed = time.perf_counter() - start
    plt.close(fig)
    return elapsed


if __name__ == "__main__":
    for setting in SETTINGS:
        one_update(setting)  # warm the weight cache, as a moving slider would
        times = [one_update(setting) for _ in range(20)]
        print(f"widget ch08 {setting}: median {1e3 * np.median(times):.1f} ms over 20 updates")
