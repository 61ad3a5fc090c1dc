# Mineral Passport — developer entry points. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
FORGE := node_modules/.bin/forge
# CI (CI=true) runs the longer fuzz and invariant campaigns of foundry.toml's `ci` profile.
export FOUNDRY_PROFILE ?= $(if $(CI),ci,default)
# Unit tests only: fuzz and invariant gas varies with the run count of the profile.
SNAPSHOT_FILTER := --no-match-test 'testFuzz|invariant'

.PHONY: help setup test test-contracts test-python lint lint-contracts gas gas-snapshot compile clean demo

help:
	@echo "make test          set up (.venv, node_modules) and run forge + pytest + lint"
	@echo "make demo          set up and run the tungsten scenario on a fresh dev node"
	@echo "make node          run a dev node (passport node start --dev) on 127.0.0.1:8545"
	@echo "make bench-node    node throughput/memory/restart benchmark (scripts/bench_node.py)"
	@echo "make gas           print the gas benchmark table (scripts/bench_gas.py)"
	@echo "make gas-snapshot  rewrite .gas-snapshot after an intended gas change"
	@echo "make compile       regenerate passport/artifacts from contracts/"

# CometBFT (the consortium network's consensus engine), built once with Go from the module proxy
# at the pinned version into .bin/, and rebuilt only when the pin changes.
COMETBFT := .bin/cometbft
COMETBFT_VERSION_FILE := passport/node/consensus/COMETBFT_VERSION
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
$(COMETBFT): $(COMETBFT_VERSION_FILE)
	@test -x "$(GO)" || { echo "Go is needed to build CometBFT (go install from the module proxy)"; exit 1; }
	GOBIN=$(CURDIR)/.bin $(GO) install github.com/cometbft/cometbft/cmd/cometbft@$$(cat $(COMETBFT_VERSION_FILE))
	@test "$$($(COMETBFT) version)" = "$$(cat $(COMETBFT_VERSION_FILE) | sed 's/^v//')" || { echo "built cometbft reports $$($(COMETBFT) version)"; exit 1; }
	touch $@

setup: $(VENV)/.installed node_modules/.installed $(COMETBFT)


# Re-run when the dependency lists change; pip and npm are idempotent either way.
$(VENV)/.installed: pyproject.toml constraints.txt
	@# Debian packages the tests use, installed when we are root: zbar-tools (zbarimg decodes the QR
	@# labels), chromium (the viewer's browser tests, through playwright-core) and mosquitto (the
	@# telemetry gateway's MQTT tests).
	missing=""; command -v zbarimg >/dev/null || missing="zbar-tools"; test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -x /usr/sbin/mosquitto || missing="$$missing mosquitto"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "not root: $$missing not installed; the tests that need them are skipped"; fi; \
	fi
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: setup test-contracts test-python lint lint-contracts

test-contracts: setup
	$(FORGE) test
	$(FORGE) snapshot --check $(SNAPSHOT_FILTER)

test-python: setup
	$(VPY) -m pytest

lint: setup
	$(VENV)/bin/ruff check passport tests scripts
	$(VENV)/bin/ruff format --check passport tests scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# slither (static analysis of contracts/) in a venv of its own: it needs web3 7, the project web3 8.
SLITHER_VENV := .venv-slither
$(SLITHER_VENV)/.installed: scripts/slither-requirements.txt
	test -x $(SLITHER_VENV)/bin/python || $(PYTHON) -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/pip install --quiet --disable-pip-version-check -r scripts/slither-requirements.txt
	touch $@

# High and medium findings must be fixed or triaged with a reason in slither.triage.json.
lint-contracts: setup $(SLITHER_VENV)/.installed
	$(VPY) scripts/slither.py

gas: setup
	$(VPY) scripts/bench_gas.py

gas-snapshot: setup
	$(FORGE) snapshot $(SNAPSHOT_FILTER)

compile: setup
	$(VENV)/bin/passport compile

clean:
	rm -rf build .bin $(VENV) $(SLITHER_VENV) node_modules .pytest_cache .mypy_cache .ruff_cache

# The tungsten scenario on a fresh dev node (passport node start --dev, in-process, temporary
# data dir): passports, policy checks and the signed attestation land in build/demo/.
.PHONY: demo node bench-node
demo: setup
	$(VENV)/bin/passport demo

# A dev node on 127.0.0.1:8545 (the test mnemonic's ten accounts funded) until Ctrl-C.
node: setup
	$(VENV)/bin/passport node start --dev

bench-node: setup
	$(VPY) scripts/bench_node.py
