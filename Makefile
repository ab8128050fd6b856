# Every target makes its own .venv and installs what it needs from this repo's files.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test serve lint format bench clean python-version

# The app needs Python 3.11 or newer. Checked before anything else, every time: a .venv made by
# an older Python would otherwise stay and fail in confusing ways on every run.
ASK_VERSION := import sys; print("%d.%d" % sys.version_info[:2])
define CHECK_VERSION
new_enough() { [ "$${1%%.*}" -gt 3 ] || { [ "$${1%%.*}" -eq 3 ] && [ "$${1#*.}" -ge 11 ]; }; } 2>/dev/null; \
if [ -e $(BIN)/python ] || [ -L $(BIN)/python ]; then \
	version=$$($(BIN)/python -c '$(ASK_VERSION)' 2>/dev/null); \
	new_enough "$$version" && exit 0; \
	if [ -n "$$version" ]; then echo "$(VENV) was made by Python $$version, and this app needs Python 3.11 or newer." >&2; \
	else echo "$(VENV)'s Python no longer runs, and this app needs Python 3.11 or newer." >&2; fi; \
	echo "Remove it and make it again with a newer Python: rm -rf $(VENV) && make PYTHON=python3.12 demo" >&2; \
	exit 1; \
fi; \
version=$$($(PYTHON) -c '$(ASK_VERSION)' 2>/dev/null); \
new_enough "$$version" && exit 0; \
if [ -n "$$version" ]; then echo "This app needs Python 3.11 or newer, and $(PYTHON) is Python $$version." >&2; \
else echo "This app needs Python 3.11 or newer, and $(PYTHON) did not run." >&2; fi; \
echo "Install a newer Python and name it, e.g. make PYTHON=python3.12 demo" >&2; \
exit 1
endef

python-version:
	@$(CHECK_VERSION)

$(BIN)/python: | python-version
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-app: pyproject.toml | python-version $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | python-version $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed-app

demo: $(VENV)/.installed-app
	$(BIN)/leading-bot demo

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

serve: $(VENV)/.installed-app
	$(BIN)/leading-bot serve

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/ack_latency.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
