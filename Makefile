# brandtrace: `make run` serves the demo, `make test` runs the whole suite.
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
PYTEST_WORKERS ?= 2
PORT ?= 5000

help:  ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## Create .venv and install brandtrace with its dev tools (idempotent)

migrate: install  ## Migrate the configured database to the latest schema
	$(FLASK) db upgrade

# The public origin follows the port unless BRANDTRACE_BASE_URL is set.
run: export BRANDTRACE_BASE_URL ?= http://127.0.0.1:$(PORT)
run: migrate  ## Install, migrate, load the demo into an empty database, serve on 127.0.0.1:5000 (PORT=...)
	$(FLASK) demo seed --if-empty
	$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --threads 4 wsgi:app

test: install  ## Run the whole test suite (SQLite unless BRANDTRACE_TEST_DATABASE_URL is PostgreSQL)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

lint: install  ## ruff (lint and format check) and mypy on app/
	$(BIN)/ruff check app tests tools bench config.py wsgi.py
	$(BIN)/ruff format --check app tests tools bench config.py wsgi.py
	$(BIN)/mypy app

i18n: install  ## Add new translatable texts to the zh_CN catalogues and list untranslated ones
	$(BIN)/python -m tools.i18n update
	-$(BIN)/python -m tools.i18n check

bench: install  ## Run the benchmarks (prints ratios measured in one run)
	$(BIN)/python -m bench

.PHONY: help install migrate run test lint i18n bench
