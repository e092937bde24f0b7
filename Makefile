# relay — the two quick-start commands are `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test
RUNTIME_STAMP := $(VENV)/.installed-runtime
RUNNER_PORT ?= 8787
PORT ?= 8080

.PHONY: bytecode serve test test-fast test-crash test-long test-image lint typecheck install bench clean chromium promtool screenshots wrk

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The editable install is a plain path entry (a .pth naming this checkout): setuptools' default
# for this layout adds a finder module that every interpreter start imports (5-10 ms on each
# `relay` command). setuptools calls its "compat" mode transitional: if a release drops it,
# the default editable install is made instead.
EDITABLE := PYTHONWARNINGS="ignore:Compat editable installs" $(BIN)/python -m pip install \
	--quiet --config-settings editable_mode=compat -e

$(STAMP): pyproject.toml | $(BIN)/python
	$(EDITABLE) '.[test]' || $(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) bytecode

# relay's bytecode, written into the checkout: where PYTHONDONTWRITEBYTECODE is set (as on
# these machines), Python would otherwise compile every relay module on every `relay` command
# and test subprocess (about 100 ms each). Only changed modules are recompiled (~50 ms when
# nothing changed).
bytecode: | $(BIN)/python
	@$(BIN)/python -m compileall -q relay

# `make serve` needs relay's runtime dependencies only (no test toolchain); `make test` and
# `make install` add the test dependencies to the same venv.
$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(EDITABLE) . || $(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME_STAMP)

# Starts `relay local-runner` (a Notte-compatible Functions API on localhost) and
# `relay serve` with config/relay.yaml on ./relay.db. Ctrl-C stops both.
serve: $(RUNTIME_STAMP) bytecode
	@$(BIN)/relay local-runner --port $(RUNNER_PORT) --functions config/functions & \
	runner=$$!; trap 'kill $$runner 2>/dev/null' EXIT INT TERM; \
	$(BIN)/relay serve --config config/relay.yaml --port $(PORT)

# lint-imports: the import contracts in pyproject.toml ([tool.importlinter]: relay's layers).
lint: $(STAMP)
	$(BIN)/ruff check relay tests $(wildcard bench)
	$(BIN)/ruff format --check relay tests $(wildcard bench)
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# The admin page's browser test uses Debian's Chromium (/usr/bin/chromium; Playwright never
# downloads one). Installed here only when missing, as root, with apt-get; otherwise that
# one test is skipped (see README: Reading delivery logs).
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium for the browser test (apt-get)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 || \
			echo "could not install chromium: the browser test will be skipped"; \
	fi

# The alert rules' tests (deploy/prometheus) run promtool, from Debian's prometheus package:
# installed here only when missing, as root, with apt-get (without its recommended exporters;
# the server is not started); otherwise those tests are skipped.
promtool:
	@if ! command -v promtool >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing promtool for the alert rule tests (apt-get install prometheus)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends prometheus) >/dev/null 2>&1 || \
			echo "could not install promtool: the alert rule tests will be skipped"; \
	fi

# Everything (CI runs this: .ci/run). The two tiers below add up to it, `long` and `image` aside.
test: lint typecheck chromium promtool bytecode
	$(BIN)/pytest -q

# The everyday tier: everything but the subprocess crash and outage scenarios (marker `crash`:
# relay processes SIGKILLed, stopped under load or cut from their store; minutes of the suite).
TIER_DEFAULT := not long and not image
test-fast: lint typecheck bytecode
	$(BIN)/pytest -q -m "$(TIER_DEFAULT) and not crash"

# Only the crash and outage scenarios.
test-crash: $(STAMP)
	$(BIN)/pytest -q -m "$(TIER_DEFAULT) and crash"

# Refresh docs/screenshots/*.png from the browser test.
screenshots: $(STAMP) chromium
	RELAY_UPDATE_SCREENSHOTS=1 $(BIN)/pytest -q tests/integration/test_admin_ui.py

test-long: $(STAMP)
	$(BIN)/pytest -q -m long

# The container image built and run (tests/image/; minutes, not part of `make test`): installs
# podman, runc, debootstrap (apt-get, as root) and podman-compose when missing, makes a Debian
# base image once (debootstrap, kept in podman's storage), builds the Dockerfile on it, runs
# it with a volume, sends it a signed webhook, replaces the container, and runs the compose
# file's two instances on PostgreSQL (the host's, at 127.0.0.1:5432). Run it whenever
# Dockerfile or deploy/ change.
TEST_IMAGE ?= localhost/notte-relay:test
BASE_IMAGE ?= localhost/relay-base:bookworm
test-image: $(STAMP)
	VENV_BIN=$(BIN) RELAY_BASE_IMAGE=$(BASE_IMAGE) tests/image/prepare.sh
	RELAY_TEST_IMAGE=$(TEST_IMAGE) RELAY_BASE_IMAGE=$(BASE_IMAGE) tests/image/build.sh
	RELAY_TEST_IMAGE=$(TEST_IMAGE) RELAY_REQUIRE_POSTGRES=1 $(BIN)/pytest -v -m image tests/image

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

# Benchmarks against same-run baselines (bench/, ~45 min; not part of `make test`).
# BENCH_ARGS="--quick" for a smoke run, "--only ingest,latency", "--relay-src git:HEAD".
# wrk is installed when missing (apt-get, as root), else a Python load generator is used.
# wrk (Debian's package) is the load generator; installed here when missing, as root, with
# apt-get; otherwise the benchmarks fall back to their Python load generator.
wrk:
	@if ! command -v wrk >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing wrk for the benchmarks (apt-get)"; \
		(apt-get install -y -qq wrk || (apt-get update -qq && apt-get install -y -qq wrk)) \
			>/dev/null 2>&1 || echo "could not install wrk: using the Python load generator"; \
	fi

bench: $(BENCH_STAMP) wrk
	$(BIN)/python -m bench.run_all $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache .grimp_cache
	find relay -name __pycache__ -type d -prune -exec rm -rf {} +
