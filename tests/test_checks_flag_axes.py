"""simplest_node._checks: the flag and axes checks (added with the group-B input validation)."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from simplest_node import _checks


def test_flag_accepts_bools_only():
    assert _checks.flag("store", True) is True and _checks.flag("store", np.bool_(False)) is False
    for bad in [None, "yes", 1, 0.0, np.nan, [True]]:
        with pytest.raises(TypeError, match="store"):
            _checks.flag("store", bad)


def test_axes_accepts_an_axes_or_a_sequence_of_them():
    fig = Figure()
    ax = fig.subplots()
    pair = Figure().subplots(1, 2)
    assert _checks.axes("ax", ax) is ax
    assert _checks.axes("axes", pair, count=2) is pair
    assert _checks.axes("axes", list(pair), count=2) is not None
    for bad in [None, 3, "x", object(), fig]:
        with pytest.raises(TypeError, match="ax"):
            _checks.axes("ax", bad)
    for bad in [ax, [ax], [ax, None], "ab", None]:
        with pytest.raises(TypeError, match="axes"):
            _checks.axes("axes", bad, count=2)
