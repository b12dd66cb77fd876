# The two commands of the README: `make book` and `make test`. Both create .venv when it is missing.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PYTHONHASHSEED := 0

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HTML := _build/html
# What ruff checks (chapters/ruff.toml sets the notebooks' line length)
LINTED := src tests benchmarks tools _ext chapters

.PHONY: book test lint unit nbval lab notebooks benchmarks clean

$(INSTALLED): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

## book: execute every chapter (cached) and build the HTML into _build/html, warnings as errors
book: $(INSTALLED)
	$(VENV)/bin/jupyter-book build . --builder html -W -n --keep-going
	@echo "The book is at $(abspath $(HTML))/index.html"

## lint: ruff's lint rules and its formatting, checked (pyproject.toml configures both)
lint: $(INSTALLED)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

## test: lint, the book build, then unit tests, nbval on every chapter and the checks of the built site
test: lint book
	$(PY) -m pytest tests chapters --nbval-lax -p no:cacheprovider

## lab: open the chapters in JupyterLab (MyST rendered by jupyterlab-myst), with the package importable
# The committed notebooks are the book's own: trusting them lets their stored figures and scrubbers
# show before a run. JupyterLab refuses to start as root unless told (containers, Colab-like machines).
lab: $(INSTALLED)
	$(VENV)/bin/jupyter trust chapters/*.ipynb
	$(VENV)/bin/jupyter lab $$(test "$$(id -u)" = 0 && echo --allow-root) chapters

## notebooks: re-execute the chapters in place (their outputs are nbval's reference)
notebooks: $(INSTALLED)
	$(PY) tools/execute_notebooks.py $(NOTEBOOKS)

## benchmarks: print the speed figures (not tests)
benchmarks: $(INSTALLED)
	$(PY) benchmarks/sweep.py
	$(PY) benchmarks/widgets.py

clean:
	rm -rf _build
