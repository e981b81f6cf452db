# The two commands the README opens with: `make dev` and `make test`.
# Both bootstrap everything they need (uv, then the hashed lock) into .venv.
# Bytecode is compiled at install: processes start in a second even where the environment
# forbids writing .pyc files at run time.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
UV_VERSION := $(shell sed -n 's/^uv==\([^ ]*\).*/\1/p' requirements.lock)
STAMP := $(VENV)/.installed-stamp
ARGS ?=

export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

.PHONY: install dev api worker bench bench-events test test-full lint format pytest lock clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes --compile-bytecode requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	$(BIN)/python -m compileall -q backend worker cli client > /dev/null
	touch $@

install: $(STAMP)

## Start the whole product on its embedded default (pass flags with ARGS="--api-port 9000").
dev: install
	$(BIN)/agent-runtime dev $(ARGS)

api: install
	$(BIN)/agent-runtime api $(ARGS)

worker: install
	$(BIN)/agent-runtime worker $(ARGS)

## Our runs vs bare temporalio, side by side (not a test).
bench: install
	$(BIN)/python -m bench.runs $(ARGS)

## Live event latency vs raw Redis, first step event vs bare start_workflow (not a test).
bench-events: install
	$(BIN)/python -m bench.events $(ARGS)

## Lint, type-check and run every test (SQLite, and Postgres when reachable; CI requires it).
test: lint pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

pytest: install
	$(BIN)/pytest $(ARGS)

## The full-stack profile: Postgres, Redis, S3 (SeaweedFS), an OIDC issuer, a LangFuse receiver,
## a separate Temporal server, an API and two workers, all at once.
test-full: install
	$(BIN)/pytest fullstack $(ARGS)

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Re-resolve the pinned dependencies into the hashed lock.
lock:
	$(UV) pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		--quiet -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
