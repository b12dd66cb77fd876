"""Tick labels that render without mathtext.

Matplotlib's default log-axis labels ($10^{-2}$) go through its TeX-like parser, and that parser's
cache lives on the renderer, so a widget that draws a new figure on every slider move parses every
label again (about 9 ms each). Plain-text labels such as ``1e-2`` cost a fraction of that.
"""

import numpy as np
from matplotlib.ticker import FuncFormatter

__all__ = ["POWER_OF_TEN"]

#: Major-tick formatter for log axes: "1e-3", "1e0", "1e5".
POWER_OF_TEN = FuncFormatter(lambda v, _: f"1e{np.log10(v):.0f}" if v > 0 else "")
