"""The chapters in a live JupyterLab, as ``make lab`` opens them: headless Chromium drives JupyterLab.

One chapter (chapter 4, a copy in a temporary folder so the committed notebook is never touched)
is opened in JupyterLab on 127.0.0.1 (a free port, a random token), with the settings ``make lab``
uses: the notebook trusted, jupyterlab-myst installed. The test checks what a reader running the
notebooks locally meets: the MyST markup renders (an exercise as an exercise, a {prf:ref} as a link
to the proposition it names, a {cite} as a citation role, no raw ``{exercise}``/``:label:`` lines;
jupyterlab-myst reads no bibliography, so a citation shows its key, and references to other
chapters' labels stay unresolved: each notebook is rendered on its own); after
"Run All" the widget appears, its readout shows the slider's value to the slider's step, and moving
the slider redraws the figure.

Needs Debian's ``chromium`` and ``chromium-driver`` (tests/test_browser.py drives them the same way);
without them the test is skipped locally and fails under CI (``CI=true``). No network: JupyterLab's
news and update checks are switched off.
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CHROMEDRIVER, CHROMIUM, ROOT, start_chromium

CHAPTER = "04_training.ipynb"
SLIDER, NEW_VALUE = "lr", "0.075"  # a value on the slider's 0.005 grid that two decimals would round

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    if os.environ.get("CI"):
        pytest.fail("CI needs chromium and chromium-driver (apt-get install chromium chromium-driver)", pytrace=False)
    pytest.skip(
        "chromium/chromedriver not installed (apt-get install chromium chromium-driver)", allow_module_level=True
    )

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

# JupyterLab 4 renders only the cells in view; the test reads cells anywhere in the notebook.
NOTEBOOK_SETTINGS = '{"windowingMode": "none"}'


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a copy of the chapter; yields (url of the notebook, log file)."""
    home = tmp_path_factory.mktemp("lab")
    notebooks = home / "notebooks"
    notebooks.mkdir()
    shutil.copy(ROOT / "chapters" / CHAPTER, notebooks / CHAPTER)
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(NOTEBOOK_SETTINGS)
    env = dict(
        os.environ,
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        PYTHONHASHSEED="0",
    )
    env.pop("MPLBACKEND", None)
    jupyter = Path(sys.executable).with_name("jupyter")
    subprocess.run([str(jupyter), "trust", str(notebooks / CHAPTER)], env=env, check=True, capture_output=True)
    port, token = _free_port(), secrets.token_hex(16)
    args = [
        str(jupyter),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={notebooks}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:
        args.append("--allow-root")  # as `make lab` does
    log = home / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "is running at" not in log.read_text():
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/lab/tree/{CHAPTER}?token={token}", log
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-lab-profile"))
    yield driver
    driver.quit()


# The rendered (not the editor's) part of every Markdown cell, joined.
RENDERED_MARKDOWN = """
return [...document.querySelectorAll('.jp-MarkdownCell .jp-Cell-inputArea')]
  .map(a => [...a.children].filter(x => !x.matches('.jp-CodeMirrorEditor, .jp-InputPrompt'))
             .map(x => x.innerText).join(' ')).join('\\n');
"""
KERNEL_IDLE = """
const panel = window.jupyterapp.shell.currentWidget;
const kernel = panel && panel.sessionContext && panel.sessionContext.session
  && panel.sessionContext.session.kernel;
return !!kernel && kernel.status === 'idle'
  && ![...document.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'));
"""
WIDGET_IMAGE = """
const w = document.querySelector('.widget-interact');
const img = w && w.querySelector('.jp-OutputArea-output img, .widget-output img');
return img ? img.getAttribute('src') : null;
"""


def test_chapter_runs_and_its_widget_responds_in_jupyterlab(lab, browser):
    url, log = lab
    browser.get(url)
    wait = WebDriverWait(browser, 40)
    wait.until(
        lambda d: d.execute_script(
            "return !!window.jupyterapp && document.querySelectorAll('.jp-MarkdownCell .myst').length > 10"
        )
    )

    # jupyterlab-myst: the exercise is an exercise box, with its title and a resolved reference.
    exercise = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "aside.myst-exercise#ex-training-1"))
    assert "Exercise 1" in exercise.find_element(By.CSS_SELECTOR, ".myst-exercise-title").text
    refs = [a.text for a in exercise.find_elements(By.CSS_SELECTOR, "a[href='#prop-training-plateau']")]
    assert refs and refs[0].startswith("Proposition"), f"{{prf:ref}} rendered as {refs}"
    # jupyterlab-myst 2.7 reads no .bib file: a {cite} renders as its key marked "Citation Not Found".
    cites = browser.find_elements(By.CSS_SELECTOR, ".myst cite, .myst [title^='Citation']")
    assert any("okamoto2025simplest" in c.text for c in cites), "no {cite} rendered as a citation"
    rendered = browser.execute_script(RENDERED_MARKDOWN)
    for raw in ["```{exercise}", ":label:", "{cite}", "{prf:ref}", "{term}", "(ch-training)="]:
        assert raw not in rendered, f"raw MyST {raw!r} shown in JupyterLab"

    # Run all cells (the reader's "Run All"); the widget is among them.
    browser.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")
    WebDriverWait(browser, 60, poll_frequency=0.5).until(
        lambda d: d.execute_script(WIDGET_IMAGE) and d.execute_script(KERNEL_IDLE)
    )
    errors = browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output[data-mime-type*='error']")
    assert not errors, f"a cell raised: {errors[0].text[:300]}"
    before = browser.execute_script(WIDGET_IMAGE)

    # Move the slider: type a value on its grid into the readout, as a reader may.
    slider = next(
        s
        for s in browser.find_elements(By.CSS_SELECTOR, ".widget-interact .widget-slider")
        if s.find_element(By.CSS_SELECTOR, ".widget-label").text.strip() == SLIDER
    )
    readout = slider.find_element(By.CSS_SELECTOR, ".widget-readout")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", readout)
    readout.click()
    readout.send_keys(Keys.CONTROL, "a")
    readout.send_keys(NEW_VALUE, Keys.ENTER)
    WebDriverWait(browser, 20).until(lambda d: d.execute_script(WIDGET_IMAGE) not in (None, before))
    assert readout.text.strip() == NEW_VALUE, f"the {SLIDER} readout shows {readout.text!r}"
    assert "Traceback" not in log.read_text()
