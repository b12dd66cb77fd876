"""Serve MathJax 3 from the built site instead of a CDN.

The book must render its equations offline (a reader's laptop on a train, CI's browser test with no
internet). MathJax 3 ships in the PyPI package django-static-mathjax (import name ``mathjax``); after
the HTML build this extension copies the files the ``tex-chtml`` component loads into
``_static/mathjax`` and ``_config.yml`` points ``mathjax_path`` there.
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


def setup(app):
    mathjax_source()  # fail early, with a clear message, if the package is missing
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
