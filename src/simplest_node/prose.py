"""``glue``: a number computed by a chapter, stored for its prose.

A chapter quotes a result in Markdown as ``{glue:text}`name:.3g``` (myst-nb's glue role with a
format spec); the code cell that computes it calls ``glue(name, value)``. The stored text is what
nbval compares (the cell is tagged ``nbval-check-output``), so a float is rounded to ``digits``
significant digits first: the text moves when the result moves, not with last-bit noise.
"""

import numbers
import re

import numpy as np

from . import _checks

__all__ = ["glue", "typeset"]

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


def glue(name, value, digits=6):
    """Store ``value`` under ``name`` for ``{glue:text}`name:fmt``` and display nothing.

    ``value``: an int, a finite float (rounded to ``digits`` significant digits, 1 to 15) or a
    string (for a phrase such as a method's name). ``name``: lower-case letters, digits and ``_``.
    Outside a Jupyter Book build (myst-nb not installed, as on Colab) nothing is stored.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name must be lower-case letters, digits and '_' (a letter first), got {name!r}")
    digits = _checks.positive_int("digits", digits)
    if digits > 15:
        raise ValueError(f"digits must be an integer from 1 to 15, got {digits!r}")
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"value must be a number or a string, got a bool ({value!r}); glue a count instead")
    if isinstance(value, numbers.Integral):
        value = int(value)
    elif isinstance(value, numbers.Real):
        value = _checks.finite("value", value)
        value = float(f"{value:.{digits}g}")
    elif not isinstance(value, str):
        raise TypeError(f"value must be an int, a float or a str, got {type(value).__name__}")
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    myst_glue(name, value, display=False)


class Typeset:
    """LaTeX shown typeset in a notebook and on the page, whose plain-text form is the LaTeX itself.

    ``IPython.display.Math`` has the plain text ``<IPython.core.display.Math object>``, and nbval
    compares plain text only, so a derivation shown with it would no longer be checked. Display a
    ``Typeset`` instead: the page shows the formula and nbval compares its LaTeX source.
    """

    def __init__(self, tex):
        if not isinstance(tex, str):
            raise TypeError(f"tex must be a string of LaTeX, got {type(tex).__name__}")
        self.tex = tex

    def _repr_latex_(self):
        return f"$\\displaystyle {self.tex}$"

    def __repr__(self):
        return self.tex


def typeset(tex):
    """``Typeset(tex)``: show the LaTeX string ``tex`` as a formula, checked by nbval as text."""
    return Typeset(tex)
