# The README's two commands are `make run` and `make test`; everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup lint unit services-up services-down clean

run: setup ## Start SeedCore on the embedded profile (no external service needed)
	$(BIN)/seedcore serve

test: setup lint services-up ## Lint, then run the whole suite against real backends
	@if [ -z "$$SEEDCORE_EXTERNAL_SERVICES" ]; then eval "$$(scripts/services.sh env)"; fi; \
		$(BIN)/pytest

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy domain application adapters entrypoints
	$(BIN)/lint-imports --config importlinter.ini

unit: setup ## The fast suites only (no backend needed)
	$(BIN)/pytest tests/unit tests/contract tests/scenarios -m "not backends"

# SEEDCORE_EXTERNAL_SERVICES=1 keeps your own services: export the SEEDCORE_*_URL/_DSN
# variables that point at them (and have promtool, amtool and prometheus on PATH).
services-up: setup
	@if [ -n "$$SEEDCORE_EXTERNAL_SERVICES" ]; then echo "using external services"; \
		else scripts/services.sh up --with-prometheus; fi

services-down:
	scripts/services.sh down

lock: ## Re-resolve requirements.lock from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --quiet

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
