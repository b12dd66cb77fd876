"""Median time of one update of chapter 5's widget: compute + draw + canvas draw on Agg."""

import statistics
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from simplest_node import SAFEGUARDS, VARIANCE_SLIDERS, draw_variance_corrected, variance_corrected_figure  # noqa: E402


def main(n_calls=20, seed=0):
    rng = np.random.default_rng(seed)
    fig = variance_corrected_figure()
    ax = fig.axes[0]
    times = []
    for i in range(n_calls):
        values = {name: float(rng.uniform(low, high)) for name, (low, high, _, _) in VARIANCE_SLIDERS.items()}
        start = time.perf_counter()
        ax.clear()
        draw_variance_corrected(ax, **values, safeguard=SAFEGUARDS[i % 2])
        fig.canvas.draw()
        times.append(time.perf_counter() - start)
    plt.close(fig)
    print(f"chapter 5 widget: median update {1000 * statistics.median(times):.1f} ms over {n_calls} calls")


if __name__ == "__main__":
    main()
