"""sn.typeset: a formula the page typesets and nbval checks as text."""

import IPython.core.formatters
import pytest

import simplest_node as sn


def test_typeset_shows_latex_and_keeps_its_source_as_plain_text():
    data, _ = IPython.core.formatters.format_display_data(sn.typeset(r"x' - a x = 0"))
    assert data["text/latex"] == r"$\displaystyle x' - a x = 0$"
    assert data["text/plain"] == r"x' - a x = 0"  # what nbval compares


def test_typeset_refuses_a_non_string():
    with pytest.raises(TypeError, match="tex"):
        sn.typeset(3)
