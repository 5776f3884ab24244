# Everyday commands. Every target works from a fresh clone: it builds what it needs first.
#
#   make venv              create .venv and install the project with its test tools and the spark extra
#   make demo              build the demo warehouse at $(WAREHOUSE) (only if there is none) and its sample users
#   make run               serve the dashboard with gunicorn on http://127.0.0.1:8050 (limits: gunicorn.conf.py)
#   make run WAREHOUSE=P   serve the warehouse at P instead (the demo is built only for the default)
#   make test              every test tier; installs chromium + chromium-driver, postgresql and
#                          Java 17 (for the Spark cube build's tests) first if missing
#   make test-fast         the unit tier only: pure tests, well under a minute
#   make test-integration  | test-browser | test-realdata: one tier
#   make lint              ruff
#   make bench             run the benchmark scripts in benchmarks/
#
# PYTEST_ARGS passes more options to pytest, e.g. make test-fast PYTEST_ARGS='-k wilson'.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install: the install re-runs only when pyproject.toml is newer.
STAMP := $(VENV)/.stamp
DEFAULT_WAREHOUSE := data/warehouse.duckdb
WAREHOUSE := $(DEFAULT_WAREHOUSE)
PYTEST_ARGS ?=
# `make test` runs the tiers in two pytest-xdist workers, a test file per worker at a time
# (module fixtures stay in one process; session warehouses are still built once per run; each
# worker starts one Chromium and serves the demo once for all its browser tests). Browser tests
# use CPU too (Chromium's drawing and axe), not only waits: docs/testing-speed.md. Which file goes
# to which worker, and when, is tests/conftest.py's pytest_xdist_make_scheduler: the unit files
# last (they fill the gaps), the two Spark files on one worker (one JVM).
PYTEST_PARALLEL ?= -n 2 --dist loadfile

.PHONY: venv demo run test test-fast test-integration test-browser test-realdata browser-deps postgres-deps java-deps lint bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e '.[test,spark]'
	touch $(STAMP)

# `test -e` follows the symlink, so a link left pointing at a deleted version rebuilds too.
# A new demo gets a sample user per role; their passwords are printed once, here (README).
demo: venv
	test -e '$(WAREHOUSE)' || { $(BIN)/python -m etl demo --warehouse '$(WAREHOUSE)' && \
		$(BIN)/python -m dashboard users sample --warehouse '$(WAREHOUSE)'; }

# The demo is built only for the default warehouse; another one must exist already.
# Chromium too: the packs draw their charts (kaleido) and print their PDFs (Playwright) with it.
run: venv browser-deps $(if $(filter $(DEFAULT_WAREHOUSE),$(WAREHOUSE)),demo)
	@test -e '$(WAREHOUSE)' || { echo "make run: no warehouse at $(WAREHOUSE)" \
		"(build one with: $(BIN)/python -m etl demo --warehouse $(WAREHOUSE), or load into it)" >&2; exit 1; }
	@echo "Storing the assessments of every unit beside the warehouse in the background" \
		"(docs/precompute.md; log: $(WAREHOUSE).precompute.log); pages compute what is not stored yet."
	nice -n 10 $(BIN)/python -m dashboard precompute --warehouse '$(WAREHOUSE)' \
		> '$(WAREHOUSE).precompute.log' 2>&1 &
	LG_WAREHOUSE='$(WAREHOUSE)' $(BIN)/gunicorn -c gunicorn.conf.py -w 2 -b 127.0.0.1:8050 app:server

# --durations=25: every run's log (CI's too) ends with the 25 slowest set-ups, calls and
# tear-downs, so a test that grows slow shows up where the time is read (docs/testing-speed.md).
test: venv browser-deps postgres-deps java-deps
	$(BIN)/pytest $(PYTEST_PARALLEL) --durations=25 $(PYTEST_ARGS)

test-fast: venv
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

test-integration: venv postgres-deps java-deps
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

test-browser: venv browser-deps
	$(BIN)/pytest tests/browser $(PYTEST_ARGS)

# One real-data test drives the browser too; one builds the cubes with Spark (Java).
test-realdata: venv browser-deps java-deps
	$(BIN)/pytest tests/realdata $(PYTEST_ARGS)

# Debian's chromium + chromium-driver: installed when missing and root, else stop with the command.
browser-deps:
	@scripts/ensure-chromium

# A PostgreSQL server for the store's tests against a real server: installed when missing and root.
postgres-deps:
	@scripts/ensure-postgres

# Java 17+ for PySpark (the Spark cube build, etl/cubes/spark.py): Debian's openjdk-17-jre-headless.
java-deps:
	@scripts/ensure-java

lint: venv
	$(BIN)/ruff check .

bench: venv
	@set -e; found=0; \
	for script in benchmarks/*.py; do \
		[ -e "$$script" ] || continue; \
		found=1; echo "== $$script"; $(BIN)/python "$$script"; \
	done; \
	[ $$found = 1 ] || echo "no benchmark scripts in benchmarks/"
