"""Keep the built site self-contained and its pages' scripts clean.

* MathJax 3 is served from the site, not a CDN: the book must render its equations offline (a
  reader's laptop on a train, CI's browser test with no internet). MathJax ships in the PyPI package
  django-static-mathjax (import name ``mathjax``); after the HTML build this extension copies the
  files the ``tex-chtml`` component loads into ``_static/mathjax``, where ``mathjax_path`` points.
* Each page's script list is de-duplicated: the default Jupyter Book set-up registers sphinx-thebe's
  inline configuration twice, and the second ``const THEBE_JS_URL`` is a SyntaxError in every
  page's console.
* Saved ipywidgets state is dropped from the pages: the static site shows each widget's figure as
  an image and a kernel-free animation instead (widget outputs are tagged ``remove-output``), so
  the state would be dead weight, and the widget manager that reads it would come from a CDN.
* The notebooks offered for download (``_sources/**/*.ipynb``) are stored without outputs: their
  figures are already on the pages, the copies with outputs doubled the site's weight, and a
  reader who downloads a chapter runs it.
"""

import shutil
from pathlib import Path

# tex-chtml.js plus what it loads at run time: fonts (output/), TeX extensions (input/),
# the context menu (ui/) and assistive MathML (a11y/). The speech engine (sre/) is left out.
MATHJAX_PARTS = ("tex-chtml.js", "output", "input", "ui", "a11y", "adaptors")


def mathjax_source():
    import mathjax

    source = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (source / "tex-chtml.js").is_file():
        raise RuntimeError(f"MathJax 3 not found at {source}; is django-static-mathjax installed?")
    return source


def copy_mathjax(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    source, target = mathjax_source(), Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part, dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / part, target / part)


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def clean_page_scripts(app, pagename, templatename, context, doctree):
    scripts, seen = [], set()
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        # Inline scripts come with filename None or "" depending on who added them.
        key = (getattr(script, "filename", script) or None, tuple(sorted(attributes.items())))
        if key in seen or attributes.get("type") == WIDGET_STATE:
            continue
        seen.add(key)
        scripts.append(script)
    if "script_files" in context:
        context["script_files"][:] = scripts


def strip_downloads(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    import nbformat

    for path in (Path(app.outdir) / "_sources").rglob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        notebook.metadata.pop("widgets", None)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
                cell.metadata.pop("execution", None)
        nbformat.write(notebook, path)


def setup(app):
    mathjax_source()  # fail early, with a clear message, if the package is missing
    app.connect("build-finished", copy_mathjax)
    app.connect("build-finished", strip_downloads)
    # After myst-nb (priority 500) has added its per-page scripts.
    app.connect("html-page-context", clean_page_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
