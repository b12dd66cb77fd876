"""Kernel-free interactivity for the online book: a matplotlib animation with a frame scrubber.

On the static site ipywidgets callbacks cannot run. ``scrubber`` renders an animation to the
self-contained JavaScript player of ``Animation.to_jshtml`` (play, pause, step, a slider), which
works in any browser without a Python kernel, and closes the figure so no duplicate image is shown.
"""

import re

import matplotlib.pyplot as plt
from IPython.display import HTML
from matplotlib.animation import FuncAnimation

from .. import _checks

__all__ = ["scrubber"]

# matplotlib's player draws its buttons with Font Awesome icons loaded from a CDN; offline (and in
# the browser test) the buttons would be blank and the console would log a failed request. The
# player is given plain Unicode symbols instead, and the stylesheet link is dropped.
_ICONS = {  # only the two triangles and ASCII: they render in every font, even a bare CI's
    "fa fa-play fa-flip-horizontal": "\u25c0",  # play backwards
    "fa fa-play": "\u25b6",
    "fa fa-pause": "||",
    "fa fa-step-backward": "|\u25c0",
    "fa fa-step-forward": "\u25b6|",
    "fa fa-fast-backward": "|\u25c0\u25c0",
    "fa fa-fast-forward": "\u25b6\u25b6|",
    "fa fa-minus": "\u2212",
    "fa fa-plus": "+",
}
_FONT_AWESOME_LINK = re.compile(r"<link[^>]*font-awesome[^>]*>", re.S)


def _without_cdn(html):
    """The player's HTML with its CDN stylesheet removed and its icons replaced by Unicode."""
    html = _FONT_AWESOME_LINK.sub("", html)
    for css_class, symbol in _ICONS.items():
        html = html.replace(f'<i class="{css_class}"></i>', f'<span aria-hidden="true">{symbol}</span>')
    return html


def scrubber(fig, update, n_frames, interval=300, dpi=72):
    """Animate ``fig`` by calling ``update(frame)`` for frame in 0..n_frames-1; return HTML.

    ``update`` redraws the figure's artists for one frame. Frames are embedded as PNG at ``dpi``
    (keep n_frames * size modest: the page carries every frame). ``interval`` (ms between frames)
    must be > 0 and ``dpi`` lie in [10, 600]; the pixels drawn, n_frames x width x height at
    ``dpi``, must stay within ``_checks.MAX_WORK``.
    """
    from matplotlib.figure import Figure

    _checks.instance("fig", fig, Figure, "a matplotlib Figure")
    if not callable(update):
        raise TypeError(f"update must be callable: update(frame) redraws the figure, got {type(update).__name__}")
    n_frames = _checks.positive_int("n_frames", n_frames)
    interval = _checks.positive_finite("interval", interval)
    dpi = _checks.positive_finite("dpi", dpi)
    if not 10 <= dpi <= 600:
        raise ValueError(f"dpi must lie in [10, 600], got {dpi!r}")
    width, height = fig.get_size_inches()
    _checks.bounded_work("scrubber", n_frames=n_frames, pixels=max(1, round(width * dpi) * round(height * dpi)))
    animation = FuncAnimation(fig, update, frames=n_frames, interval=interval, blit=False)
    with plt.rc_context({"savefig.dpi": dpi, "animation.embed_limit": 8.0}):
        html = animation.to_jshtml(default_mode="once")
    plt.close(fig)
    return HTML(_without_cdn(html))
