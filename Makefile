# dcbench developer entry points. Both `make demo` and `make test` create or
# reuse the project virtual environment in .venv.
#
# TORCH_SPEC is the one knob for GPU users, e.g.
#   make demo TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128"
# The default installs the CPU build of torch 2.13.0.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.dcbench-installed

.PHONY: setup demo test lint bench gpu-test gpu-check clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH_SPEC)
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/dcbench bench all --size tiny

lint: $(STAMP)
	$(BIN)/ruff check dcbench workloads simulator reports tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m pytest benchmarks --benchmark-enable --benchmark-only -p no:cacheprovider -o addopts="" -q

gpu-test: $(STAMP)
	$(BIN)/python -m pytest -m gpu -o addopts="-q"

# Every GPU-only path plus a short bf16 bench, with a compact table (scripts/gpu_check.sh).
gpu-check: $(STAMP)
	PYTHON=$(BIN)/python scripts/gpu_check.sh

clean:
	rm -rf $(VENV) .dcbench .pytest_cache .mypy_cache .ruff_cache
