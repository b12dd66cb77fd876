"""Checks of the built site that need no browser: pages, page weight, no assets from a CDN."""

import re

import pytest

from conftest import toc_files

MAX_PAGE_BYTES = 2 * 1024 * 1024
MAX_SITE_BYTES = 40 * 1024 * 1024
# A reader offline must get every script and stylesheet from the site itself. Links (launch
# buttons, the repository) may point outside; <script src> and <link rel=stylesheet> may not.
EXTERNAL_ASSET = re.compile(r"<(?:script[^>]*\bsrc|link[^>]*\bhref)=\"(?:https?:)?//[^\"]+\"[^>]*>")


@pytest.mark.parametrize("doc", toc_files())
def test_every_toc_page_is_built_light_and_self_contained(site_html, doc):
    page = site_html / f"{doc}.html"
    assert page.is_file(), f"{doc} is in _toc.yml but {page} was not built"
    assert page.stat().st_size < MAX_PAGE_BYTES, f"{doc}.html weighs {page.stat().st_size} bytes"
    html = page.read_text(encoding="utf-8")
    external = [tag for tag in EXTERNAL_ASSET.findall(html) if "stylesheet" in tag or "<script" in tag]
    assert not external, f"{doc}.html loads assets from outside the site: {external}"


def test_site_weight(site_html):
    total = sum(p.stat().st_size for p in site_html.rglob("*") if p.is_file())
    assert total < MAX_SITE_BYTES, f"_build/html weighs {total / 2**20:.1f} MiB"


def test_mathjax_is_served_locally(site_html):
    assert (site_html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert any((site_html / "_static" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff"))


def test_bibliography_labels_read_as_the_text_cites(site_html):
    page = (site_html / "bibliography.html").read_text()
    assert "Chen et al., 2018" in page and "Kingma and Ba, 2015" in page
    assert "[CRBD18]" not in page  # pybtex's alpha label, which the text never uses


def test_downloadable_notebooks_carry_no_outputs(site_html):
    import nbformat

    notebooks = sorted((site_html / "_sources").rglob("*.ipynb"))
    assert notebooks, "no notebook offered for download"
    with_outputs = [
        path.name for path in notebooks if any(cell.get("outputs") for cell in nbformat.read(path, as_version=4).cells)
    ]
    assert not with_outputs, f"downloadable notebooks with outputs: {with_outputs}"
