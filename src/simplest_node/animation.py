"""Kernel-free interactivity for the online book: a matplotlib animation with a frame scrubber.

On the static site ipywidgets callbacks cannot run. ``scrubber`` renders an animation to the
self-contained JavaScript player of ``Animation.to_jshtml`` (play, pause, step, a slider), which
works in any browser without a Python kernel, and closes the figure so no duplicate image is shown.
"""

import matplotlib.pyplot as plt
from IPython.display import HTML
from matplotlib.animation import FuncAnimation

from . import _checks

__all__ = ["scrubber"]


def scrubber(fig, update, n_frames, interval=300, dpi=72):
    """Animate ``fig`` by calling ``update(frame)`` for frame in 0..n_frames-1; return HTML.

    ``update`` redraws the figure's artists for one frame. Frames are embedded as PNG at ``dpi``
    (keep n_frames * size modest: the page carries every frame).
    """
    n_frames = _checks.positive_int("n_frames", n_frames)
    animation = FuncAnimation(fig, update, frames=n_frames, interval=interval, blit=False)
    with plt.rc_context({"savefig.dpi": dpi, "animation.embed_limit": 8.0}):
        html = animation.to_jshtml(default_mode="once")
    plt.close(fig)
    return HTML(html)
