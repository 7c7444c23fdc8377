# reels: the two commands are `make up` and `make test`; everything else supports them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Local overrides (see .env.example); the environment wins over the file.
-include .env
export

PYTHON_BOOTSTRAP ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# `make token USER=bob`: only a USER given on the command line counts, not the login name.
TOKEN_USER := $(if $(filter command line,$(origin USER)),$(USER),alice)

.PHONY: help venv protos check-gen keys migrate models up down status token test lint format bench security

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	bash scripts/ensure_system_packages.sh
	test -x $(PY) || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP) ## create .venv and install reels with its dev tools

protos: $(STAMP) ## regenerate gen/ and envoy/reels_descriptor.pb from protos/
	PYTHON=$(PY) bash scripts/gen_protos.sh

check-gen: protos ## fail when gen/ or the descriptor set is stale
	@git diff --exit-code --stat -- gen envoy/reels_descriptor.pb \
	  && test -z "$$(git status --porcelain -- gen envoy/reels_descriptor.pb)" \
	  || { echo "gen/ is stale: run 'make protos' and commit the result"; exit 1; }

keys: $(STAMP) ## create the local development signing key (var/keys) if missing
	$(PY) -m reels_runtime.auth keys --dir var/keys

migrate: $(STAMP) ## create the database if missing and apply PostgreSQL + ClickHouse migrations
	$(PY) -m reels_runtime.migrate --create-database --postgres --clickhouse

# The exported SavedModels are git-ignored; the stamp re-exports them when their code changes.
MODELS_STAMP := models/.exported
$(MODELS_STAMP): $(STAMP) $(wildcard embed_models/*.py)
	$(PY) -m embed_models.export --out models --dim 256
	touch $(MODELS_STAMP)

models: $(MODELS_STAMP) ## export the video encoder and ranking SavedModels into models/

up: protos keys migrate models ## bring the whole mesh up in the background and wait until healthy
	$(PY) scripts/stack.py up

down: ## stop exactly what `make up` started
	@if [ -x $(PY) ]; then $(PY) scripts/stack.py down; fi

status: $(STAMP) ## every component with its health and resident memory
	$(PY) scripts/stack.py status

token: $(STAMP) ## print a JWT for USER=<id> signed with the local development key
	@$(PY) -m reels_runtime.auth token --keys var/keys --user "$(TOKEN_USER)"

test: $(STAMP) ## run the test suite (needs PostgreSQL and Redis; starts everything else)
	$(PY) -m pytest

lint: $(STAMP) ## ruff, buf lint and buf format
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/buf lint
	$(VENV)/bin/buf format -d --exit-code

format: $(STAMP) ## apply ruff and buf formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	$(VENV)/bin/buf format -w

# bandit over our own code (generated stubs, vendored protos and tests excluded): no
# high-severity finding allowed; then every test marked `security` (auth matrix,
# object-level authorization, hostile uploads).
BANDIT_ARGS := -q -r . -x ./.venv,./gen,./tests,./third_party,./var,./build -lll
security: $(STAMP) ## bandit (no high-severity finding) and the tests marked `security`
	$(VENV)/bin/bandit $(BANDIT_ARGS)
	$(PY) -m pytest -m security

bench: $(STAMP) ## run the benchmarks in bench/ (prints figures; not a test)
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
