"""Wall time of a clean book build (no cache at all) and of a no-change rebuild.

Usage: .venv/bin/python benchmarks/build.py   (from the repository root; takes a few minutes)
Targets: clean build under 90 s, no-change rebuild under 15 s.
"""

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = [
    str(Path(sys.executable).parent / "jupyter-book"),
    "build",
    ".",
    "--builder",
    "html",
    "-W",
    "-n",
    "--keep-going",
]


def timed_build():
    start = time.perf_counter()
    subprocess.run(BUILD, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


if __name__ == "__main__":
    shutil.rmtree(ROOT / "_build", ignore_errors=True)
    clean = timed_build()
    again = timed_build()
    print(f"clean build (executes every chapter): {clean:.1f} s (target < 90 s)")
    print(f"no-change rebuild:                    {again:.1f} s (target < 15 s)")
