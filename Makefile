# Two set-up commands work on a fresh machine: `make demo` and `make test`. Both create .venv and install exactly
# what requirements.lock pins.
export SAM_CLI_TELEMETRY := 0
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 3000
STATE_FILE ?= .crossdock-state.json

.PHONY: install chromium test lint typecheck validate unit openapi demo serve bench chaos build clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP) chromium

# The console's browser tests (tests/browser) drive Debian's chromium; apt-get installs it where it is missing.
chromium:
	.ci/chromium

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy layers/core/crossdock local/crossdock_local functions

validate: $(STAMP)
	$(BIN)/sam validate --lint --template template.yaml --region eu-west-1

unit: $(STAMP) chromium
	$(BIN)/pytest

test: lint typecheck validate unit

# The admin API's OpenAPI document, kept in the repo (tests/unit/test_admin_openapi.py fails when it is stale).
openapi: $(STAMP)
	$(BIN)/python -m crossdock_local.openapi docs/admin-api/openapi.json

demo: $(STAMP)
	$(BIN)/crossdock demo

serve: $(STAMP)
	$(BIN)/crossdock serve --port $(PORT) --state-file $(STATE_FILE)

# The issue-5 budgets (DESIGN §8), each printed as a ratio or a price measured in one run: ingest work per webhook,
# cold import of the ingest handler, and AWS cost per 1,000 orders (~5 minutes for its 200 orders).
# The full chaos run (issue 5): 2,000 orders with refunds and stock changes under faults; prints the figures and
# fails unless nothing was lost, duplicated or mismatched. `make test` runs a small one (tests/chaos).
# Then Shopbox's (issue 14): till sales at two branches polled into Rackbeat under Shopbox's and Rackbeat's faults.
# Then Webshipper's (issue 15): orders both ways, shipped, tracked to Shopify, under Webshipper's and Rackbeat's faults.
# Then PeakWMS's (issue 16): authorised Shopify orders held, released, packed, captured, refunded, under PeakWMS's and
# Shopify's faults.
CHAOS_ORDERS ?= 2000
CHAOS_SHOPBOX_SALES ?= 1000
CHAOS_WEBSHIPPER_ORDERS ?= 400
CHAOS_PEAKWMS_ORDERS ?= 200
chaos: $(STAMP)
	$(BIN)/crossdock chaos --orders $(CHAOS_ORDERS)
	$(BIN)/crossdock chaos-shopbox --sales $(CHAOS_SHOPBOX_SALES)
	$(BIN)/crossdock chaos-webshipper --orders $(CHAOS_WEBSHIPPER_ORDERS)
	$(BIN)/crossdock chaos-peakwms --orders $(CHAOS_PEAKWMS_ORDERS)

bench: $(STAMP)
	$(BIN)/python bench/ingest_work.py
	$(BIN)/python bench/cold_import.py
	$(BIN)/python bench/cost_per_order.py

# Builds without Docker: the venv's bin goes first on PATH so sam finds a python3.11 with pip (the layer's
# BuildMethod); arm64 wheels are fetched by pip's --platform, so this also works on an x86_64 machine.
build: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/sam build --template template.yaml
	$(BIN)/python .ci/check_build.py

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
