"""The text is computed: every number a chapter's prose quotes is glued from a code cell.

A chapter's Markdown (and its figure captions and alt texts) may type a numeric literal (a decimal, an exponent or
power of ten, a percentage, "N of M", an integer of three or more digits) only if it is a parameter the author
chose, listed with its reason in ``tests/chosen_parameters/<chapter>.yml``. Every other number
comes from ``{glue:text}`name:fmt``` with ``name`` glued by a code cell tagged
``nbval-check-output`` (so nbval fails when the number moves). Exercise solutions run: no code
is fenced in Markdown, and the comments of the code cells inside a solution obey the same rule.
"""

import re

import nbformat
import pytest
import yaml
from myst_nb.core.variables import format_plain_text

from conftest import ROOT

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
PARAMETERS = ROOT / "tests" / "chosen_parameters"
MAX_PARAMETERS = 40  # a chapter's list stays short enough to review line by line

# Markup that holds no prose number: glue roles (the computed numbers), cross-references,
# citations, labels, directive options, link targets, URLs and arXiv identifiers.
_STRIP = [
    r"\{glue(?::\w+)?\}`[^`]*`",
    r"\{(?:ref|numref|eq|doc|download|term|prf:ref|cite(?::\w+)?)\}`[^`]*`",
    r"^\([\w:.-]+\)=\s*$",
    r"^:[\w-]+:.*$",
    r"^```\{\w[\w:-]*\}.*$",
    r"\]\([^)]*\)",
    r"<?https?://[^\s)>]+>?",
    r"arXiv:?\s*\d{4}\.\d{4,5}(?:v\d+)?",
    r"#\d+\b",
]
_STRIP_RE = re.compile("|".join(f"(?:{p})" for p in _STRIP), re.M)

# One alternation, longest forms first, so "2.5e-8" is one literal and not "2.5" then "8".
_NUMBER = r"\d+(?:\.\d+)?"
_LITERAL = re.compile(
    r"(?<![\w.])(?:"
    rf"{_NUMBER}\s*\\?%"  # percentage
    rf"|\d+ of (?:the |all )?\d+"  # "35 of 41"
    rf"|(?:{_NUMBER}\s*(?:\\times|\\cdot|×)\s*)?10\^\{{?[-−]?\d+\}}?"  # power of ten
    rf"|{_NUMBER}[eE][-+−]?\d+"  # 2.5e-8
    r"|\d+\.\d+"  # decimal
    r"|\d{3,}"  # an integer of three or more digits
    r")(?![\w]|\.\d)"
)


def prose_literals(markdown):
    """The numeric literals a reader sees in ``markdown``, whitespace removed, in order."""
    text = _STRIP_RE.sub(" ", markdown)
    return [re.sub(r"\s+", "", m.group(0)) for m in _LITERAL.finditer(text)]


def glue_keys(markdown):
    """The glue names ``markdown`` pastes (``{glue:text}`name:fmt``` and the other glue roles)."""
    return [name for name, _ in glue_uses(markdown)]


def glue_uses(markdown):
    """(name, format spec or None) for every glue role in ``markdown``."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"\{glue(?::\w+)?\}`(\w+)(?::([^`]*))?`", markdown)]


def solution_code_cells(nb):
    """Code cells between a ``solution-start`` and its ``solution-end`` Markdown cell."""
    inside, cells = False, []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            if "```{solution-start}" in cell.source:
                inside = True
            if "```{solution-end}" in cell.source:
                inside = False
        elif inside:
            cells.append(cell)
    return cells


def comments(code):
    return "\n".join(m.group(1) for m in re.finditer(r"#(.*)$", code, re.M))


def chosen_parameters(stem):
    path = PARAMETERS / f"{stem}.yml"
    if not path.is_file():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: list the chapter's chosen parameters there")
    return yaml.safe_load(path.read_text()) or {}


def figure_text(cell):
    """A code cell's figure caption and alt text (myst-nb's cell metadata), which the reader sees too."""
    meta = cell.metadata.get("mystnb") or cell.metadata.get("myst") or {}
    parts = [(meta.get("figure") or {}).get("caption", ""), (meta.get("image") or {}).get("alt", "")]
    return "\n".join(part for part in parts if part)


def reader_text(nb):
    """(cell index, text) of everything in ``nb`` a reader reads as prose: Markdown cells, figure
    captions and alt texts, and the comments of the code cells inside a solution."""
    solution_cells = {id(c) for c in solution_code_cells(nb)}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            yield index, cell.source
            continue
        if figure_text(cell):
            yield index, figure_text(cell)
        if id(cell) in solution_cells:
            yield index, comments(cell.source)


def typed_results(nb, allowed):
    """(cell index, literal) for every literal in ``nb``'s prose that is not ``allowed``."""
    return [
        (index, literal)
        for index, text in reader_text(nb)
        for literal in prose_literals(text)
        if literal not in allowed
    ]


def glued_values(nb, checked_only):
    """{name: stored text/plain} of every glue output in ``nb`` (of the checked cells only)."""
    values = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if checked_only and "nbval-check-output" not in cell.metadata.get("tags", []):
            continue
        for out in cell.get("outputs", []):
            scrapbook = out.get("metadata", {}).get("scrapbook")
            if scrapbook:
                values[scrapbook["name"]] = out["data"].get(scrapbook["mime_prefix"] + "text/plain")
    return values


def glued_names(nb, checked_only):
    return set(glued_values(nb, checked_only))


@pytest.fixture(params=CHAPTERS, ids=lambda p: p.stem)
def chapter(request):
    return request.param.stem, nbformat.read(request.param, as_version=4)


def test_no_typed_results_in_the_prose(chapter):
    stem, nb = chapter
    typed = typed_results(nb, chosen_parameters(stem))
    assert not typed, (
        f"{len(typed)} typed numbers in {stem} (glue them, or list chosen parameters in "
        f"tests/chosen_parameters/{stem}.yml): {typed}"
    )


def test_chosen_parameters_are_short_justified_and_used(chapter):
    stem, nb = chapter
    allowed = chosen_parameters(stem)
    assert len(allowed) <= MAX_PARAMETERS
    assert all(isinstance(reason, str) and reason.strip() for reason in allowed.values()), "give each a reason"
    used = {lit for _, text in reader_text(nb) for lit in prose_literals(text)}
    stale = sorted(set(map(str, allowed)) - used)
    assert not stale, f"listed but not in the text any more: {stale}"


def test_every_pasted_number_is_glued_by_a_checked_cell(chapter):
    stem, nb = chapter
    pasted = {key for _, text in reader_text(nb) for key in glue_keys(text)}
    checked = glued_names(nb, checked_only=True)
    assert not pasted - checked, (
        f"pasted but not glued by a cell tagged nbval-check-output (run make notebooks?): {sorted(pasted - checked)}"
    )
    unused = glued_names(nb, checked_only=False) - pasted
    assert not unused, f"glued but never pasted: {sorted(unused)}"


def test_every_format_spec_applies_to_its_value(chapter):
    _, nb = chapter
    values = glued_values(nb, checked_only=False)
    for _, text in reader_text(nb):
        for name, spec in glue_uses(text):
            if name in values and spec:
                format_plain_text(values[name], spec)  # what {glue:text} does; raises if they clash


_CODE_IN_MARKDOWN = re.compile(
    r"^\s*(?:```|~~~)\s*(?:python|py|ipython3?|pycon)\s*$"  # a fenced code block
    r"|(?:\A|\n[ \t]*\n)(?: {4}|\t)[^\n]*[=(]",  # an indented code block
    re.M,
)


def test_solutions_run_no_code_in_markdown(chapter):
    _, nb = chapter
    code = [c.source[:80] for c in nb.cells if c.cell_type == "markdown" and _CODE_IN_MARKDOWN.search(c.source)]
    assert not code, f"code in Markdown (make it an executed code cell in a solution-start/end block): {code}"


def test_the_code_check_finds_code_in_markdown():
    assert _CODE_IN_MARKDOWN.search("Solution:\n\n    h = sn.train(P, sn.GD(0.01), [-3.0], 3000)\n")
    assert _CODE_IN_MARKDOWN.search("Solution:\n```python\nx = 1\n```")
    assert not _CODE_IN_MARKDOWN.search("```{solution-start} ex-1\n:class: dropdown\n```\n\n- a list\n  item")


# The scanner itself: it must catch a typed result, and let glued numbers and markup through.


@pytest.mark.parametrize(
    "text, expected",
    [
        ("GD needs a median of 169 iterations", ["169"]),
        ("the misfit is 2.2 after two steps", ["2.2"]),
        ("the gap is $2.5 \\times 10^{-8}$", ["2.5\\times10^{-8}"]),
        ("a gap of 2.5e-8, about 30 % of steps", ["2.5e-8", "30%"]),
        ("35 of 41 runs climb back", ["35of41"]),
        ("$a_1 = -0.488$ and $u = 10^{-3}$", ["0.488", "10^{-3}"]),
    ],
)
def test_the_scanner_catches_typed_results(text, expected):
    assert prose_literals(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "GD needs a median of {glue:text}`gd_median:d` iterations",
        "see {numref}`fig-training-2` and {ref}`sec-4.2`, after {cite}`chen2018neural`",
        "(fig-2.1)=\n```{figure} ../_static/fig_1.5.png\n:name: fig-1.5\n:width: 100%\n```",
        "Lu and Tsai (arXiv 2507.14491), [torchdiffeq #88](https://github.com/x/y/issues/88)",
        "with $x_0$, $a_{k+1}$, $e^{2 a t}$ and 41 starts on a grid of step 0",
    ],
)
def test_the_scanner_lets_markup_and_glue_through(text):
    assert prose_literals(text) == []


def test_a_typed_result_fails_the_chapter_check():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("With $\\eta = 0.05$ GD converges in {glue:text}`k:d` steps."),
        nbformat.v4.new_markdown_cell("With $\\eta = 0.05$ GD converges in 38 of 41 runs."),
        nbformat.v4.new_markdown_cell("```{solution-start} ex-1\n:class: dropdown\n```"),
        nbformat.v4.new_code_cell("x = 0.05  # gives 0.3512"),
        nbformat.v4.new_markdown_cell("```{solution-end}\n```"),
    ]
    figure = nbformat.v4.new_code_cell("fig")
    figure.metadata["mystnb"] = {"figure": {"caption": "The loss falls to 1.3e-5 with $\\eta = 0.05$."}}
    nb.cells.append(figure)
    assert typed_results(nb, {"0.05": "the learning rate"}) == [(1, "38of41"), (3, "0.3512"), (5, "1.3e-5")]
