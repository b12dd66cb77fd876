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


def test_scrubber_refuses_bad_arguments_before_drawing():
    from matplotlib.figure import Figure

    fig = Figure()
    fig.add_subplot()
    with pytest.raises(ValueError, match="MAX_WORK"):  # used to draw frames it then dropped
        scrubber(fig, lambda k: None, 10**12)
    with pytest.raises(ValueError, match="dpi"):  # used to divide by zero
        scrubber(fig, lambda k: None, 2, dpi=0)
    with pytest.raises(ValueError, match="interval"):
        scrubber(fig, lambda k: None, 2, interval=0)
    with pytest.raises(TypeError, match="fig"):
        scrubber(None, lambda k: None, 2)
    with pytest.raises(TypeError, match="update"):
        scrubber(fig, None, 2)
