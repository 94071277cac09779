# Jamie: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export JAMIE_HOME ?= $(CURDIR)/var

.PHONY: run test setup system-deps index lint format bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

system-deps:
	@bash deploy/dev/system-deps.sh

index: $(STAMP)
	$(BIN)/jamie index

## Sets everything up, builds the knowledge index and starts Jamie (console on a terminal).
run: $(STAMP) index
	$(BIN)/jamie serve

## Sets everything up (Python packages and the PostgreSQL server the suite starts) and runs it.
test: system-deps $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
