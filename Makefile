# The two commands of a fresh machine:
#   make demo   synthetic municipality -> trained, audited model with its card -> the service on localhost
#   make test   the whole test suite
# Both create the virtual environment in .venv themselves.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WORKERS ?= 2

.PHONY: demo test install clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: install
	$(BIN)/vroegsignaal demo

test: install
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup

clean:
	rm -rf var .pytest_cache
