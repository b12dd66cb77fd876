"""Every chapter notebook meets the chapter standard (README, Contributing).

These are structural checks: a label and a title, the Colab cell, checked outputs, a figure, an
interactive figure with its static and kernel-free forms, exercises with solutions, a summary,
citations, committed outputs, and a place in the table of contents.
"""

import re

import nbformat
import pytest

from conftest import ROOT, toc_files

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def source(nb, kind):
    return "\n".join(c.source for c in nb.cells if c.cell_type == kind)


@pytest.fixture(params=CHAPTERS, ids=lambda p: p.stem)
def chapter(request):
    return request.param, nbformat.read(request.param, as_version=4)


def test_every_chapter_is_in_the_toc(chapter):
    path, _ = chapter
    assert f"chapters/{path.stem}" in toc_files()


def test_label_title_and_goals(chapter):
    _, nb = chapter
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    assert re.match(r"\(ch-[a-z0-9-]+\)=\n# \S", first.source), "first cell: (ch-label)= then # Title"
    assert "learning goals" in first.source.lower()


def test_colab_install_cell(chapter):
    _, nb = chapter
    cell = nb.cells[1]
    assert cell.cell_type == "code" and "remove-cell" in cell.metadata.get("tags", [])
    assert "import simplest_node" in cell.source and "%pip install" in cell.source


def test_checked_outputs_and_committed_outputs(chapter):
    _, nb = chapter
    code = [c for c in nb.cells if c.cell_type == "code"]
    checked = [c for c in code if "nbval-check-output" in c.metadata.get("tags", [])]
    assert len(checked) >= 3, "tag derivations and key numbers nbval-check-output"
    assert not any("NBVAL_" in c.source for c in code), "nbval markers go in cell tags, not in the code"
    # nbval compares plain text only, and IPython's Math/Latex objects have none worth checking.
    assert not any(re.search(r"\b(Math|Latex)\(", c.source) for c in checked), "show formulas with sn.typeset"
    assert all(c.outputs for c in checked), "checked cells must carry their outputs (make notebooks)"
    assert all(c.execution_count for c in code if "remove-cell" not in c.metadata.get("tags", []))
    for c in code:
        for out in c.outputs:
            assert out.output_type != "error", f"committed error output in: {c.source[:60]}"
            if out.output_type == "stream":
                assert out.name == "stdout", f"stderr output (a warning?) in: {c.source[:60]}"


def test_figures_widget_and_scrubber(chapter):
    _, nb = chapter
    code = [c for c in nb.cells if c.cell_type == "code"]
    images = [c for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, "a chapter has figures"
    widgets = [c for c in code if "interact" in c.source and "ipywidgets" in c.source]
    assert widgets, "a chapter has an ipywidgets figure"
    # The static site shows no widget cell (it would be empty there): a note says how to get it live.
    assert all("remove-cell" in c.metadata.get("tags", []) for c in widgets)
    for c in widgets:
        note = nb.cells[nb.cells.index(c) - 1]
        assert note.cell_type == "markdown" and "live notebook" in note.source, "a note before the widget cell"
    # The book build does not run widget cells: their output is removed from the page anyway, and
    # executing ipywidgets under nbclient can stall a cell until its timeout (jupyter/nbclient#312).
    # nbval still runs them.
    assert all("skip-execution" in c.metadata.get("tags", []) for c in widgets)
    assert any("scrubber(" in c.source for c in code), "a kernel-free scrubber"


def test_exercises_summary_citations(chapter):
    _, nb = chapter
    text = source(nb, "markdown")
    exercises = re.findall(r"```\{exercise\}", text)
    solutions = re.findall(r"```\{solution(?:-start)?\}[^\n]*\n:class: dropdown", text)
    assert text.count("```{solution-start}") == text.count("```{solution-end}")
    assert len(exercises) >= 3 and len(solutions) == len(exercises)
    assert re.search(r"^#+ Summary", text, re.M)
    assert "{cite}`" in text


MAX_CODE_WIDTH = 80  # characters: a wider line runs off the page's code column


def test_code_fits_the_column(chapter):
    """Every code line the page shows (collapsed cells too) is at most MAX_CODE_WIDTH wide."""
    _, nb = chapter
    wide = [
        line
        for c in nb.cells
        if c.cell_type == "code" and not {"remove-cell", "remove-input"} & set(c.metadata.get("tags", []))
        for line in c.source.splitlines()
        if len(line) > MAX_CODE_WIDTH
    ]
    assert not wide, f"{len(wide)} code lines wider than {MAX_CODE_WIDTH} characters: {wide[:3]}"


def test_every_figure_is_captioned_labelled_and_described(chapter):
    """Every figure output has a caption, a name (for {numref}) and an alt text, in myst-nb's cell
    metadata; an alt text is a description, not a file name."""
    _, nb = chapter
    for c in nb.cells:
        if c.cell_type != "code" or not any("image/png" in o.get("data", {}) for o in c.outputs):
            continue
        meta = c.metadata.get("mystnb", {})
        figure, image = meta.get("figure", {}), meta.get("image", {})
        where = c.source[:60]
        assert figure.get("caption", "").strip(), f"a figure without a caption: {where}"
        assert re.fullmatch(r"fig-[a-z0-9-]+", figure.get("name", "")), f"a figure without a fig- name: {where}"
        alt = image.get("alt", "")
        assert len(alt.split()) >= 8 and not re.search(r"\.(png|svg)\b|/", alt), f"alt text: {where}"


def test_figures_are_sharp_and_legible(chapter):
    """The import cell draws figures for high-density screens (retina PNG) with the book's font
    size; no figure asks for a font below SMALLEST_FONT_NAME (tests/test_browser.py assumes that)."""
    from conftest import FIGURE_SETUP

    _, nb = chapter
    setup = nb.cells[2].source.splitlines()
    assert setup[:2] == FIGURE_SETUP[:2], "the import cell starts with %matplotlib inline and retina"
    assert any(line.startswith(FIGURE_SETUP[2]) for line in setup), f"the import cell sets {FIGURE_SETUP[2]}"
    code = source(nb, "code")
    too_small = re.findall(r"(?:fontsize|labelsize)\s*=\s*(\"x+-small\"|[0-9.]+)", code)
    assert not [s for s in too_small if '"' in s or float(s) < 10], f"fonts below small: {too_small}"


def test_plot_modules_use_no_font_below_small():
    for path in sorted((ROOT / "src" / "simplest_node").glob("figures/*.py")):
        text = path.read_text()
        assert not re.search(r"x+-small", text), f"{path.name} uses a font below small"
        sizes = [float(s) for s in re.findall(r"fontsize\s*=\s*([0-9.]+)", text)]
        assert all(s >= 10 for s in sizes), f"{path.name}: numeric font sizes {sizes} below 10 pt"
