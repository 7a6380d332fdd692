# pbshare — two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-test run serve test test-fast fuzz lint bench services browser vendor-ui clean help

help:
	@echo "make run     install, initialise ./var, load demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test    install test tools, start PostgreSQL/RabbitMQ/Mosquitto/NATS and chromium, run all tests"
	@echo "make fuzz    only the schemathesis run over every API operation (also part of make test)"
	@echo "make bench   run the benchmarks in bench/"
	@echo "make lint    ruff, import contracts (lint-imports), mypy"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "pbshare needs Python 3.11 (spyne does not import on 3.12+)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamp is rebuilt when pyproject.toml changes, so `make install` is cheap when nothing changed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/pbshare init
	$(BIN)/pbshare demo
	$(BIN)/pbshare serve --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/pbshare serve --host $(HOST) --port $(PORT)

services:
	bash scripts/services.sh

browser:
	bash scripts/browser.sh

test: install-test services browser
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	@# Browser tests run in their own pytest processes: Playwright's sync API refuses to start in a
	@# worker where an asyncio loop from the channel tests is still registered.
	$(BIN)/python -m pytest -n 2 --dist loadfile --ignore=tests/e2e --durations=15 $(PYTEST_ARGS)
	$(BIN)/python -m pytest -n 2 --dist loadfile tests/e2e --durations=10 $(PYTEST_ARGS)

# The bounded schemathesis run over the OpenAPI document (tests/test_openapi_fuzz.py); make test runs it too.
fuzz: install-test services
	$(BIN)/python -m pytest -n 2 tests/test_openapi_fuzz.py $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

bench: install-test services
	@set -e; for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b; done

vendor-ui:
	bash scripts/vendor-ui.sh

clean:
	rm -rf $(VENV) var .pytest_cache
