# Two commands on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test bench bench-web install clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	FORECASTS_ENV=$${FORECASTS_ENV:-development} $(BIN)/forecasts init-db
	FORECASTS_ENV=$${FORECASTS_ENV:-development} $(BIN)/forecasts demo --serve --host 127.0.0.1 --port 5000

# Two pytest-xdist workers (TEST_WORKERS=0 runs the suite in one process).
TEST_WORKERS ?= 2
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Debian's Chromium for the browser tests (as root); Playwright never downloads one.
browser:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_rules.py
	$(BIN)/python benchmarks/bench_db.py
	$(BIN)/python benchmarks/bench_numeric.py

# gunicorn (2 workers) under load on the 1M-forecast synth data set, SQLite then PostgreSQL
# (BENCH_PG_URL; BENCH_WEB_FORECASTS for a smaller set). One JSON line per case.
bench-web: $(TEST_STAMP)
	$(BIN)/python benchmarks/bench_web.py $(BENCH_WEB_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info
