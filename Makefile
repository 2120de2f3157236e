# Two commands for a fresh machine: `make demo` and `make test`. Both set up .venv first;
# set-up is skipped when pyproject.toml and constraints.txt have not changed since.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
# pip's notes about unused local index folders are noise on these machines.
QUIET_PIP := grep -v "is ignored: it is neither a file nor a directory" || true
PG_URL := postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: setup demo test lint format bench lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing torch (CPU build) first, then the project ..."
	@# torch first and pinned: anything else asking for torch would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install -q torch==2.13.0 2>&1 | $(QUIET_PIP)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,live]' 2>&1 | $(QUIET_PIP)
	@# Debian's chromium for the widget's browser test (Playwright never downloads a browser here)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1; } || \
		echo "chromium could not be installed: the browser test will be skipped"
	@touch $(STAMP)

demo: setup
	@# a data dir from an earlier version: bring its database schema up to date (else a no-op)
	@$(BIN)/assistant db upgrade >/dev/null
	@echo "== Loading the sample prices (real adjusted closes, 21 symbols, 1990-2022) =="
	$(BIN)/assistant data load-sample
	@echo; echo "== Indexing the sample news and filings (synthetic, labelled source=sample) =="
	$(BIN)/assistant ingest --sample
	@echo; echo "== Asking the assistant (the offline model: no API key) =="
	@echo; echo '>>> assistant chat "Compare Apple and Microsoft over the last year"'
	@$(BIN)/assistant chat "Compare Apple and Microsoft over the last year"
	@echo; echo '>>> assistant chat "Backtest a golden cross on Coca-Cola since 2010"'
	@$(BIN)/assistant chat "Backtest a golden cross on Coca-Cola since 2010"
	@echo; echo '>>> assistant chat "What did the news say about Pfizer'"'"'s vaccine?"'
	@$(BIN)/assistant chat "What did the news say about Pfizer's vaccine?"
	@echo; echo '>>> assistant chat "buy 10 shares of Walmart"'
	@$(BIN)/assistant chat "buy 10 shares of Walmart"
	@echo; echo "== The order waits for a person: nothing reaches the (paper) broker until approved =="
	$(BIN)/assistant approvals list
	@echo
	@echo "Approve or reject it:  $(BIN)/assistant approvals approve ID  (or reject ID)"
	@echo "Open the chat widget:  $(BIN)/assistant serve   then open the login link it prints"
	@echo "                       (http://127.0.0.1:8000/ on this machine)"
	@echo "More:                  $(BIN)/assistant --help"

test: setup
	@if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
		export TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$(PG_URL)}"; \
		echo "PostgreSQL answers: persistence tests also run against $$TEST_DATABASE_URL"; \
	fi; \
	$(BIN)/python -m pytest -q --durations=15

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python -m benchmarks.bench_indicators
	$(BIN)/python -m benchmarks.bench_backtest
	$(BIN)/python -m benchmarks.bench_optimizer
	$(BIN)/python -m benchmarks.bench_agent
	$(BIN)/python -m benchmarks.bench_retrieval
	$(BIN)/python -m benchmarks.bench_api_load
	$(BIN)/python -m benchmarks.bench_freshness
	$(BIN)/python -m benchmarks.bench_cli
	$(BIN)/python -m benchmarks.bench_anomaly

# Re-pin every dependency after changing pyproject.toml (needs a working .venv).
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v "^market-assistant" > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
