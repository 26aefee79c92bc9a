# The two commands a new machine needs: `make demo` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench clean browser

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "calbot needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/calbot demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The browser tests need Debian's chromium (never a downloaded browser): installed here when
# we may, otherwise said plainly, and every skip is listed with its reason (-rs).
CHROMIUM := /usr/bin/chromium

test: lint browser
	$(BIN)/pytest -rs

browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y --no-install-recommends chromium; \
	  else \
	    echo "NOTE: $(CHROMIUM) is missing, so the browser tests will be SKIPPED."; \
	    echo "      Install it with: sudo apt-get install chromium"; \
	  fi; }

# Speed and memory figures for the README (not part of `make test`: timings flake on shared CI).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.parse_bench
	$(BIN)/python -m benchmarks.availability_bench
	$(BIN)/python -m benchmarks.group_bench
	$(BIN)/python -m benchmarks.load_bench --conversations 100

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
