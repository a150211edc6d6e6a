# Two entry points: `make demo` and `make test`. Both create the virtualenv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint

demo: $(VENV)/.installed
	$(BIN)/python populate.py --force
	$(BIN)/hubsgen build

test: lint
	$(BIN)/pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	# fedmsg's metadata processors: their setup.py asks for fasjson-client, whose gssapi
	# needs Kerberos headers to build; we never use it (FAS lookups are off), so skip deps.
	$(BIN)/pip install --quiet --no-deps 'fedmsg_meta_fedora_infrastructure==0.31.0'
	touch $@
