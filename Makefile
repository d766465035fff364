# Frontdesk: the README's commands. Each target installs what it needs into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export FLASK_APP := wsgi

REQ_HASH := $(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
RUNTIME  := $(VENV)/.runtime-$(shell cat requirements.txt | sha1sum | cut -c1-12)
DEV      := $(VENV)/.dev-$(REQ_HASH)
BENCH    := $(VENV)/.bench-$(shell cat requirements*.txt | sha1sum | cut -c1-12)

.PHONY: demo test lint chromium wrk screenshots bench soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(RUNTIME): requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(DEV): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(RUNTIME)

$(BENCH): requirements.txt requirements-dev.txt requirements-bench.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-bench.txt
	touch $@ $(DEV) $(RUNTIME)

## demo: emulator + portal on SQLite, with a demo admin; prints the URLs and credentials.
demo: $(RUNTIME)
	$(BIN)/flask db upgrade
	$(BIN)/flask demo run

## test: lint, then the whole suite (unit, integration, browser). TEST_DATABASE_URL / TEST_REDIS_URL pick backends.
test: $(DEV) chromium
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(DEV)
	$(BIN)/ruff check .

## chromium: Debian's Chromium for the browser tests (never a downloaded browser build).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }

## screenshots: refresh the README's images from the browser journeys.
screenshots: $(DEV) chromium
	FRONTDESK_SCREENSHOTS=docs/img $(BIN)/pytest -m browser -q

## wrk: Debian's HTTP load generator, for the portal benchmark and the soak.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "Installing Debian's wrk for the portal benchmark..."; \
	  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null; }

## bench: emulator, sync, msgraph-sdk peer, portal, admin-at-scale and live updates benchmarks (not part of CI); see bench/RESULTS.md.
bench: $(BENCH) wrk
	$(BIN)/python -m bench.emulator_paging 100000
	$(BIN)/python -m bench.sync_bench 100000
	$(BIN)/python -m bench.sync_bench 100000 $${BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
	$(BIN)/python -m bench.sync_bench 10000
	$(BIN)/python -m bench.graph_peer 100000
	$(BIN)/python -m bench.portal_bench 20 50
	$(BIN)/python -m bench.admin_bench
	$(BIN)/python -m bench.admin_bench $${ADMIN_BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/bench_admin}
	$(BIN)/python -m bench.live_updates_bench 50
	$(BIN)/python -m bench.live_updates_bench 50 $${BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}

## soak: SIGKILL a 20,000-user sync ten times, then 200 requesters browse for 60 s during syncs (stops by itself).
soak: $(DEV)
	$(BIN)/python -m soak.sync_kill 10 20000 $${SOAK_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
	$(BIN)/python -m soak.load 60 200

clean:
	rm -rf $(VENV) instance .pytest_cache
