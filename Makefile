# Everything a fresh machine (python3, bash, make) needs. `make demo` is the main job, `make test` the tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo sandbox test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Main job: start the sandbox, sync it into holded-demo.duckdb, change a few records, sync again, print
# the summaries and example queries. No account, no config.
demo: $(STAMP)
	$(BIN)/holded demo --db $${DB:-holded-demo.duckdb}

# The sandbox in the foreground, for your own experiments (port 8420 unless PORT is set).
sandbox: $(STAMP)
	$(BIN)/holded sandbox --port $${PORT:-8420}

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python bench/client_throughput.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache

# PyAirbyte in its own venv: it pins duckdb 1.4 (ours has duckdb 2), so it never goes into $(VENV).
# It runs our connectors as $(VENV)'s executables. See docs/pyairbyte.md.
PYAIRBYTE_VENV ?= .venv-pyairbyte
PYAIRBYTE_STAMP := $(PYAIRBYTE_VENV)/.installed

.PHONY: pyairbyte-env test-pyairbyte

$(PYAIRBYTE_STAMP): envs/pyairbyte/requirements.txt
	$(PY) -m venv $(PYAIRBYTE_VENV)
	$(PYAIRBYTE_VENV)/bin/python -m pip install -q --upgrade pip
	$(PYAIRBYTE_VENV)/bin/python -m pip install -q -r envs/pyairbyte/requirements.txt
	touch $(PYAIRBYTE_STAMP)

pyairbyte-env: $(PYAIRBYTE_STAMP)

test-pyairbyte: $(STAMP) $(PYAIRBYTE_STAMP)
	AIRBYTE_OFFLINE_MODE=1 $(PYAIRBYTE_VENV)/bin/python -m pytest -q -p no:cacheprovider ecosystem_tests/pyairbyte
