"""Median time of one widget update: compute, draw and render on the Agg backend.

``widgets.py`` calls ``report`` with each chapter's figure function and slider settings.
An update is timed the way Jupyter's inline backend shows it: the figure function, then the figure
rendered to PNG (``savefig``), which draws every artist.
"""

import io
import statistics
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def render(fig):
    """Render ``fig`` to PNG as the inline backend does."""
    fig.savefig(io.BytesIO(), format="png")


def median_update_ms(figure_function, settings, repeat=20):
    """Median wall time in ms of ``figure_function(**s)`` rendered to PNG, cycling ``settings``."""
    render(figure_function(**settings[0]))  # warm-up: imports, font cache
    plt.close("all")
    times = []
    for k in range(repeat):
        start = time.perf_counter()
        fig = figure_function(**settings[k % len(settings)])
        render(fig)
        times.append(time.perf_counter() - start)
        plt.close(fig)
    return 1000 * statistics.median(times)


def report(name, figure_function, settings, repeat=20, target_ms=100.0):
    ms = median_update_ms(figure_function, settings, repeat)
    verdict = "ok" if ms < target_ms else f"over the {target_ms:.0f} ms target"
    print(f"{name}: median update {ms:.1f} ms over {repeat} calls ({verdict})")
    return ms
