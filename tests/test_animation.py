"""The kernel-free scrubber: a self-contained player with no CDN and every frame embedded."""

import re

import matplotlib.pyplot as plt
import pytest

from simplest_node import scrubber


def test_scrubber_is_self_contained():
    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1], [0, 0])

    def update(frame):
        line.set_ydata([0, frame])

    html = scrubber(fig, update, 4).data
    assert "://" not in html and "font-awesome" not in html  # no URL at all (":" is not base64)
    assert 'class="fa' not in html  # every icon replaced by a plain symbol
    assert len(re.findall(r"data:image/png;base64", html)) == 4
    assert 'title="Next frame"' in html
    assert not plt.get_fignums()  # the figure was closed: no duplicate static image


def test_scrubber_bad_input():
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="n_frames"):
        scrubber(fig, lambda k: None, 0)
    plt.close("all")
