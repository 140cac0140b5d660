# Everything a fresh machine (python3, bash, make) needs. `make demo` is the main job, `make test` the tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo sandbox test test-main test-ecosystem lint docs bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Main job: start the sandbox, sync it into holded-demo.duckdb, change a few records, sync again, print
# the summaries and example queries. No account, no config. Through Holded API v2 (an API token, what a new
# Holded user has); `make demo API_VERSION=v1` runs it through the deprecated API v1 (an API key).
demo: $(STAMP)
	$(BIN)/holded demo --db $${DB:-holded-demo.duckdb} --api-version $(or $(API_VERSION),v2)

# The sandbox in the foreground, for your own experiments (port 8420 unless PORT is set).
sandbox: $(STAMP)
	$(BIN)/holded sandbox --port $${PORT:-8420}

# The docs' Holded API v2 permission tables, regenerated from the v2 dialect (a test checks they match).
docs: $(STAMP)
	$(BIN)/python docs/permission_tables.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The whole suite, as CI runs it: the main venv's lint and tests, then PyAirbyte and Meltano, each in
# its own venv (they pin other versions of duckdb, click, SQLAlchemy...; the main install stays lean).
test: test-main test-ecosystem

test-main: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-ecosystem: test-pyairbyte test-meltano

bench: $(STAMP)
	$(BIN)/python bench/client_throughput.py
	$(BIN)/python bench/source_read.py
	$(BIN)/python bench/dest_write.py
	$(MAKE) pyairbyte-env
	$(BIN)/python bench/local_sync.py

clean:
	rm -rf $(VENV) .venv-pyairbyte .venv-meltano build *.egg-info .pytest_cache .ruff_cache

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

# Meltano in its own venv: it brings its own SQLAlchemy, click, structlog, uv..., so it never goes into
# $(VENV). The example project (examples/meltano) runs $(VENV)'s tap-holded / target-holded from the PATH
# and installs its PyPI plugins (target-jsonl, tap-jsonl) under its own .meltano/. See docs/meltano.md.
MELTANO_VENV ?= .venv-meltano
MELTANO_STAMP := $(MELTANO_VENV)/.installed

.PHONY: meltano-env test-meltano

$(MELTANO_STAMP): envs/meltano/requirements.txt
	$(PY) -m venv $(MELTANO_VENV)
	$(MELTANO_VENV)/bin/python -m pip install -q --upgrade pip
	$(MELTANO_VENV)/bin/python -m pip install -q -r envs/meltano/requirements.txt
	touch $(MELTANO_STAMP)

meltano-env: $(MELTANO_STAMP)

# `-o filterwarnings=`: the main suite's warning filter names pydantic, which this venv does not have.
test-meltano: $(STAMP) $(MELTANO_STAMP)
	MELTANO_SEND_ANONYMOUS_USAGE_STATS=false $(MELTANO_VENV)/bin/python -m pytest -q -p no:cacheprovider \
		-o filterwarnings= ecosystem_tests/meltano
