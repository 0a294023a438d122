# The two commands of the quick start: `make demo` and `make test`.
# Each creates (or reuses) the virtual environment in .venv and installs the
# project into it first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint bench-models bench-sync bench-backtest bench-replay emulators clean

$(INSTALLED): pyproject.toml setup.py dev/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./dev
	touch $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/expansion demo

test: $(INSTALLED)
	scripts/ensure-postgres.sh
	scripts/ensure-chromium.sh
	scripts/ensure-dialects.sh
	scripts/ensure-java.sh
	$(BIN)/ruff check expansion_signals dev tests bench orchestration setup.py
	$(BIN)/pytest

bench-models: $(INSTALLED)
	$(BIN)/python bench/bench_models.py

bench-sync: $(INSTALLED)
	$(BIN)/python bench/bench_sync.py

bench-backtest: $(INSTALLED)
	$(BIN)/python bench/bench_backtest.py --reuse

bench-replay: $(INSTALLED)
	$(BIN)/python bench/replay_daily_runs.py

emulators: $(INSTALLED)
	$(BIN)/expansion emulators

clean:
	rm -rf target logs warehouse.duckdb warehouse.duckdb.wal
