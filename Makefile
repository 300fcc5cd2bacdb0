# The README's two commands: `make lab` and `make test`. Both set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LAB_ARGS ?=
PYTEST_ARGS ?=

.PHONY: test lab install browser-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel

# Reinstall when the package definition changes; torch 2.13.0 (the CPU wheel) is the test oracle.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev]" torch==2.13.0
	touch $@

install: $(VENV)/.installed

# Debian's chromium for the real-browser widget tests (installed when missing and we are root).
browser-deps:
	bash .ci/browser-deps.sh

test: install browser-deps
	$(BIN)/ruff check nbframe magics widgets kernels tests benchmarks
	$(BIN)/pytest $(PYTEST_ARGS)

lab: install
	$(BIN)/python -m pip install -q jupyterlab
	$(BIN)/jupyter lab tutorials/ $(LAB_ARGS)

# mygrad (a NumPy autograd) joins PyTorch in benchmarks/ops.py's table; chainer and tinygrad when installed.
bench: install
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/ops.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
