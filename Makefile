# riskmesh — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-unit test-integration lint bench install schemas clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

## make run: install if needed, start the embedded stack and stream synthetic transactions with a live view
run: install
	$(VENV)/bin/riskmesh run

## make test: the whole suite (unit tests, then integration tests against the real broker, Redis, MCP and A2A)
test: install
	$(VENV)/bin/pytest -q

test-unit: install
	$(VENV)/bin/pytest -q tests/unit

test-integration: install
	$(VENV)/bin/pytest -q tests/integration

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy contracts agents a2a mcp_servers orchestrator

bench: install
	$(VENV)/bin/riskmesh bench stream --tx 100000 --table

schemas: install
	$(VENV)/bin/riskmesh schemas

clean:
	rm -rf .riskmesh .pytest_cache .mypy_cache .ruff_cache
