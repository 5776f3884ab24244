# Everyday commands. Every target works from a fresh clone: it builds what it needs first.
#
#   make venv   create .venv and install the project with its test tools
#   make demo   build the demo warehouse (only if there is none)
#   make run    serve the dashboard with gunicorn on http://127.0.0.1:8050
#   make test   run the test suite (browser tests need chromium + chromium-driver)
#   make lint   ruff
#   make bench  run the benchmark scripts in benchmarks/

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install: the install re-runs only when pyproject.toml is newer.
STAMP := $(VENV)/.stamp
WAREHOUSE := data/warehouse.duckdb
PYTEST_ARGS ?=

.PHONY: venv demo run test lint bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e '.[test]'
	touch $(STAMP)

# `test -e` follows the symlink, so a link left pointing at a deleted version rebuilds too.
demo: venv
	test -e $(WAREHOUSE) || $(BIN)/python -m etl demo

run: venv demo
	$(BIN)/gunicorn -w 2 -b 127.0.0.1:8050 app:server

test: venv
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .

bench: venv
	@set -e; found=0; \
	for script in benchmarks/*.py; do \
		[ -e "$$script" ] || continue; \
		found=1; echo "== $$script"; $(BIN)/python "$$script"; \
	done; \
	[ $$found = 1 ] || echo "no benchmark scripts in benchmarks/"
