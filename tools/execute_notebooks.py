"""Re-execute chapter notebooks in place, so their stored outputs are the reference nbval compares.

Usage: python tools/execute_notebooks.py [chapters/NN_name.ipynb ...]   (default: every chapter)

Each notebook runs in its own folder with PYTHONHASHSEED=0 (set by the Makefile); widget state is
not stored in the notebook (the online book shows a static figure and an animation instead).
"""

import os
import sys
import time
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]
# A backend forced from outside (MPLBACKEND=Agg in a shell) would stop the kernel from displaying
# figures inline, and the committed notebooks would lose their images.
os.environ.pop("MPLBACKEND", None)


def execute(path):
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = nbclient.NotebookClient(
        nb,
        timeout=120,  # per cell; the slowest cell takes seconds
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,  # False trips an nbclient KeyError on interact outputs
        # The book build skips the widget cells (tag skip-execution, see the README); here every
        # cell runs, so the committed notebook carries a complete, checked execution.
        skip_cells_with_tag="run-every-cell",
    )
    client.execute()
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    print(f"{path.relative_to(ROOT)}: executed in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    paths = [Path(p).resolve() for p in sys.argv[1:]] or sorted((ROOT / "chapters").glob("*.ipynb"))
    for notebook in paths:
        execute(notebook)
