# Switchboard — run `make` or `make help` to see the targets.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PYTHON ?= python3

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*?## "} /^[a-zA-Z_-]+:.*?## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip

.PHONY: install
install: $(PY) browser ## Create .venv, install Switchboard with its dev tools, build the editor
	$(BIN)/pip install --quiet -e '.[dev]'
	cd webui/frontend && npm ci --no-audit --no-fund && npm run build
	cd webui/frontend/codegen && npm ci --no-audit --no-fund

.PHONY: browser
browser: ## Install Debian's Chromium for the browser tests when it is missing (as root)
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "install: Debian's chromium for the browser tests"; \
	  apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium </dev/null; \
	else \
	  echo "install: the browser tests need Chromium; run: sudo apt-get install -y chromium" >&2; \
	fi

.PHONY: run
run: ## Run the product on its embedded default (SQLite, no Redis)
	$(BIN)/switchboard serve

.PHONY: test
test: ## Run the test suite (starts Redis and PostgreSQL when they are down; stops at once if a part is missing)
	$(PY) -m tests.preflight
	$(BIN)/pytest -q

.PHONY: soak
soak: ## Run the fault tests with 20x bursts, 3 rounds each (counts in var/soak-report.json) and the randomized books test with 100 new sequences per library
	SWITCHBOARD_SOAK=1 $(BIN)/pytest -q tests/faults tests/scenarios/test_books_balance.py

.PHONY: lint
lint: ## Check style (ruff, prettier), types (mypy: strict on the engine core) and the editor's generated API types
	$(BIN)/ruff check .
	$(BIN)/ruff format --check switchboard engine modules webui tests
	$(BIN)/mypy
	cd webui/frontend && node_modules/.bin/prettier --check src
	$(PY) -m tests.api_types --check

.PHONY: api-types
api-types: ## Regenerate webui/frontend/src/api.gen.ts from /api/openapi.json (after changing webui/api/models.py)
	$(PY) -m tests.api_types

.PHONY: bench
bench: ## Run the benchmarks (BENCH="engine ingest" picks some) and print their figures
	$(BIN)/python -m tests.benchmarks $(BENCH)

.PHONY: demo
demo: ## Start the sandboxes and the product with the prebuilt scenarios (LIBRARY=quickbooks)
	$(BIN)/switchboard demo --library $(or $(LIBRARY),xero)

.PHONY: corpus
corpus: ## Validate every blueprint of the corpus and report what is supported
	$(BIN)/switchboard validate ../shared/corpus/blueprints/*.json --summary
