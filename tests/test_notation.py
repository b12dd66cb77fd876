"""One meaning per symbol: the book's pages use the notation page's spellings, not retired ones.

Each entry below is a spelling that once gave a symbol a second meaning (the offset called u, the data's
terminal variance called s_*^2, the residual called R, the loss called L, ...). notation.md declares the
spelling that replaced it; a page that brings the old one back fails here.
"""

import re

import nbformat
import pytest

from conftest import ROOT, toc_files

RETIRED = {
    r"\bu\s*=\s*\(?\s*a_?k?\s*-": "u is the growth ratio e^{(a-a*)t}; the offset a - a* is \\delta",
    r"\bu\s*=\s*\\delta": "u is the growth ratio e^{(a-a*)t}; the offset a - a* is \\delta",
    r"\bs_\{?\*\}?\^?2?": "the data's terminal variance is \\sigma_*^2",
    r"(?<![\w\\])R\(A\)": "R is the stability polynomial; the matrix residual is \\rho(A)",
    r"(?<![\w\\])L\((?:A|X),\s*E\)": (
        "the Frechet derivative is \\mathrm{D}\\exp_A[E]; L is never the loss or a derivative"
    ),
    r"(?<![\w\\])T_\\theta": "T is the horizon; a separable Hamiltonian is \\kappa(p) + V(q)",
    r"training time \$s\$|\\mathrm\{d\}s\b.*training": "training time is \\tau = k\\eta; s is time inside the ODE",
}


def pages():
    for stem in toc_files():
        path = ROOT / f"{stem}.ipynb"
        if path.is_file():
            nb = nbformat.read(path, as_version=4)
            yield stem, "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        elif (ROOT / f"{stem}.md").is_file():
            yield stem, (ROOT / f"{stem}.md").read_text()


@pytest.mark.parametrize("pattern", list(RETIRED), ids=list(range(len(RETIRED))))
def test_no_retired_spelling(pattern):
    found = [(stem, m.group(0)) for stem, text in pages() if stem != "notation" for m in re.finditer(pattern, text)]
    assert not found, f"{RETIRED[pattern]}: {found}"


def test_the_retired_spellings_are_caught():
    samples = [
        "with $u = a_k - a^*$",
        "$s_*^2 = \\sigma^2e^{2a^*t}$",
        "the residual $R(A)$",
        "$L(A, E)$",
        "$T_\\theta(p)$",
    ]
    for sample in samples:
        assert any(re.search(p, sample) for p in RETIRED), sample
    for fine in ["$u = e^{(a - a^*)t}$", "$R(ah)$", "$\\sigma_*^2$", "$\\rho(A)$", "$\\mathrm{Loss}(a)$"]:
        assert not any(re.search(p, fine) for p in RETIRED), fine
