# Two commands on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
INDEX ?= .index
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-test run ingest serve test test-fast lint bench clean

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed  ## create .venv and install (idempotent)

install-test: $(VENV)/.installed-test

ingest: install
	$(VENV)/bin/policy-search ingest corpus --index $(INDEX)

serve: install
	$(VENV)/bin/policy-search serve --index $(INDEX) --host $(HOST) --port $(PORT)

run: ingest serve  ## set up, index corpus/, start the web service

test: install-test  ## install the test extras, lint, type-check and run the whole suite
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy
	$(PY) -m pytest

test-fast: install-test  ## the edit-test loop: every test not marked slow (CI runs `make test`)
	$(PY) -m pytest -m "not slow" -q

lint: install-test
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy

bench: install  ## benchmarks, each prints its table: embedders, ingest, HTTP queries (10k/100k), recall
	$(PY) -m bench.bench_embed
	$(PY) -m bench.bench_ingest
	$(PY) -m bench.bench_query
	$(PY) -m bench.bench_recall

clean:
	rm -rf $(VENV) $(INDEX) .pytest_cache .mypy_cache .ruff_cache
