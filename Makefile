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
# The JavaScript runtime Reflex builds the workbench's frontend with, from the npm registry.
BUN_VERSION := 1.4.4
BUN := .tools/bun/node_modules/.bin/bun
# The workbench's frontend, built at install (its npm packages are fetched then, not at run time)
# and again only when its sources change.
WORKBENCH_BUILD := .web/agent-runtime-build.json
WORKBENCH_SOURCES := rxconfig.py $(shell find app -name '*.py' 2>/dev/null) $(wildcard reflex.lock/*)
ARGS ?=

export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

.PHONY: install dev api worker bench bench-events test test-full test-faults lint format pytest lock clean \
	bench-workbench bench-threads \
	ui workbench e2e

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes --compile-bytecode requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	$(BIN)/python -m compileall -q core backend worker cli client > /dev/null
	touch $@

install: $(STAMP) $(BUN) $(WORKBENCH_BUILD)

$(BUN):
	npm install --prefix .tools/bun --no-audit --no-fund --silent bun@$(BUN_VERSION)

$(WORKBENCH_BUILD): $(STAMP) $(BUN) $(WORKBENCH_SOURCES)
	$(BIN)/agent-runtime ui --build-only
	touch $@

## Start the whole product on its embedded default (pass flags with ARGS="--api-port 9000").
dev: install
	$(BIN)/agent-runtime dev $(ARGS)

api: install
	$(BIN)/agent-runtime api $(ARGS)

## The workbench (web UI) alone, on :3000 against the API on :8002 (ARGS="--port 3001").
ui: install
	$(BIN)/agent-runtime ui $(ARGS)

## Build the workbench's frontend if its sources changed (`make install` does it too).
workbench: $(WORKBENCH_BUILD)

## Browser end-to-end tests of the workbench (Playwright with Debian's chromium).
e2e: install
	$(BIN)/pytest e2e $(ARGS)

worker: install
	$(BIN)/agent-runtime worker $(ARGS)

## Our runs vs bare temporalio, side by side (not a test).
bench: install
	$(BIN)/python -m bench.runs $(ARGS)

## Live event latency vs raw Redis, first step event vs bare start_workflow (not a test).
bench-events: install
	$(BIN)/python -m bench.events $(ARGS)

## One thread of 50 runs: per-step latency of its last runs vs its first (not a test).
bench-threads: install
	$(BIN)/python -m bench.threads $(ARGS)

## The workbench in Chromium: a 500-step run page's render, a live step's delay (not a test).
bench-workbench: install
	$(BIN)/python -m bench.workbench $(ARGS)

## Lint, type-check and run every test (SQLite, and Postgres when reachable; CI requires it),
## then the fault suite.
test: lint pytest test-faults

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

pytest: install
	$(BIN)/pytest --ignore=tests/faults $(ARGS)

## Outages with real parts the tests start and stop themselves: their own Postgres cluster,
## redis-server, Temporal dev server and API processes.
test-faults: install
	$(BIN)/pytest tests/faults $(ARGS)

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
