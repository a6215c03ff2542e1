# riskmesh — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-unit test-integration test-browser browser-deps lint bench install schemas clean

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
test: install browser-deps
	$(VENV)/bin/pytest -q

## browser tests (tests/browser) need Debian's chromium: installed here when missing and we are root with apt-get.
## Otherwise only a warning: the rest of the suite still runs and the browser tests FAIL saying what is missing.
## (playwright-core itself is installed by the tests into build/node on first use.)
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
	      || echo "warning: could not install chromium; the browser tests will fail" >&2; \
	  else \
	    echo "warning: chromium not found (install Debian's chromium as root); the browser tests will fail" >&2; \
	  fi; }

test-browser: install browser-deps
	$(VENV)/bin/pytest -q tests/browser

test-unit: install
	$(VENV)/bin/pytest -q tests/unit

test-integration: install
	$(VENV)/bin/pytest -q tests/integration

# mypy cannot follow setuptools' package-dir mapping, so it checks a symlinked riskmesh/ tree
# (checking the a2a/ folder directly would hide the a2a-sdk package of the same name).
TYPECHECK := build/typecheck
lint: install
	$(VENV)/bin/ruff check .
	@mkdir -p $(TYPECHECK)/riskmesh
	@for d in contracts agents a2a mcp_servers orchestrator; do ln -sfn ../../../$$d $(TYPECHECK)/riskmesh/$$d; done
	cd $(TYPECHECK) && ../../$(VENV)/bin/mypy -p riskmesh --config-file ../../pyproject.toml

bench: install
	$(VENV)/bin/riskmesh bench stream --tx 100000 --table

schemas: install
	$(VENV)/bin/riskmesh schemas

clean:
	rm -rf .riskmesh .pytest_cache .mypy_cache .ruff_cache
