"""Shared test helpers: where the built site is, which pages the TOC lists, widget slider settings."""

import itertools
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import yaml

matplotlib.use("Agg")  # before any test module imports pyplot: figures are drawn off screen

ROOT = Path(__file__).resolve().parents[1]


def toc_files():
    """Every document the table of contents lists, as paths without extension (root first)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return files


@pytest.fixture(scope="session")
def site_html():
    """The built site's folder (``make test`` builds the book before running the tests)."""
    html = ROOT / "_build" / "html"
    if not (html / "index.html").is_file():
        pytest.fail("the book is not built: run `make book` first (`make test` does)")
    return html


# Debian's chromium and chromium-driver, which .ci/run installs; tests/test_browser.py and
# tests/test_lab.py drive them through start_chromium.
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def start_chromium(profile_dir, log_console=False):
    """Headless Chromium at 1280 x 1600 with a fresh profile; the flags keep it off the network,
    which this machine's closed network would refuse many times at every start."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
        f"--user-data-dir={profile_dir}",
    ]:
        options.add_argument(flag)
    if log_console:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    return driver


def slider_settings(sliders, n, seed=0):
    """``n`` widget settings from ``sliders`` ({name: (low, high, step, default)}), as floats.

    The corners of the slider box come first (every combination of minima and maxima), then
    seeded draws from each slider's grid low + k * step, the values a reader can actually set.
    """
    rng = np.random.default_rng(seed)
    names = list(sliders)
    corners = [dict(zip(names, c)) for c in itertools.product(*[v[:2] for v in sliders.values()])]
    out = []
    for i in range(n):
        if i < len(corners):
            values = corners[i]
        else:
            values = {
                name: low + step * rng.integers(0, round((high - low) / step) + 1)
                for name, (low, high, step, _) in sliders.items()
            }
        out.append({k: float(v) for k, v in values.items()})
    return out


def assert_defaults_on_ranges(sliders):
    """Each slider's default lies in its range, on its step grid."""
    for name, (low, high, step, default) in sliders.items():
        assert low < high and step > 0 and low <= default <= high, name
        assert abs((default - low) / step - round((default - low) / step)) < 1e-9, name


# The chapters' figure text (tests/test_chapter_standard.py checks the import cells set it, and that
# no figure asks for a font smaller than "small"; tests/test_browser.py measures the rendered size).
FIGURE_FONT_SIZE = 12  # points: tick labels, axis labels and titles
FIGURE_DPI = 90  # figure.dpi; the retina PNG doubles it (a lower dpi keeps the site under its weight)
SMALLEST_FONT_NAME = "small"  # the smallest relative size a figure may use (legends, text boxes)
FIGURE_SETUP = [
    "%matplotlib inline",
    '%config InlineBackend.figure_formats = ["retina"]',
    f'plt.rcParams.update({{"font.size": {FIGURE_FONT_SIZE}, "figure.dpi": {FIGURE_DPI}}})',
]
