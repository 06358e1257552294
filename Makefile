# Two commands set everything up on a fresh machine: `make run` and `make test`.
# Both create .venv from pyproject.toml the first time (and again when pyproject.toml changes).

VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
EXTRAS  ?= cpu,test,eval,scale
# The first interpreter that is Python 3.11 or 3.12 (mediapipe 0.10.21 has wheels for those only).
PYTHON  ?= $(shell for p in python3.11 python3.12 python3; do \
              $$p -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else 1)' \
              >/dev/null 2>&1 && { echo $$p; break; }; done)
ARGS    ?=

.PHONY: run test lint bench quality clean venv browser

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "facecam needs Python 3.11 or 3.12 (mediapipe 0.10.21); none found" >&2; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/facecam run $(ARGS)

# The overlay's tests drive a real browser: Debian's Chromium (as root, or through sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the overlay's browser tests"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); export DEBIAN_FRONTEND=noninteractive; \
	  $$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null 2>&1 && $$SUDO apt-get install -y -q chromium >/dev/null 2>&1; } || \
	  echo "could not install chromium: the overlay's browser tests will be skipped" >&2; }

test: $(STAMP) browser
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/facecam bench $(ARGS)

clean:
	rm -rf $(VENV) out .pytest_cache
