# relay — the two quick-start commands are `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test
RUNNER_PORT ?= 8787
PORT ?= 8080

.PHONY: serve test test-long lint typecheck install bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Starts `relay local-runner` (a Notte-compatible Functions API on localhost) and
# `relay serve` with config/relay.yaml on ./relay.db. Ctrl-C stops both.
serve: $(STAMP)
	@$(BIN)/relay local-runner --port $(RUNNER_PORT) --functions config/functions & \
	runner=$$!; trap 'kill $$runner 2>/dev/null' EXIT INT TERM; \
	$(BIN)/relay serve --config config/relay.yaml --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check relay tests $(wildcard bench)
	$(BIN)/ruff format --check relay tests $(wildcard bench)

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -q

test-long: $(STAMP)
	$(BIN)/pytest -q -m long

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
