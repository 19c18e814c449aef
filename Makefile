# Every target installs what it needs first (make setup is idempotent and quick when nothing changed).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      ?= .venv
# checkov pins boto3 and packaging versions that conflict with requirements-dev.txt: own venv.
CHECKOV_VENV ?= .venv-checkov
PY        := $(VENV)/bin/python
CDK       := npx --no-install cdk
LOCAL_PORT ?= 4566
LOCAL_ENV := AWS_ENDPOINT_URL=http://localhost:$(LOCAL_PORT) AWS_ACCESS_KEY_ID=test \
             AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
             CDK_DEFAULT_ACCOUNT=123456789012 CDK_DEFAULT_REGION=us-east-1
# jsii prints a banner about Node 20's end of life on every synth; the pinned CLI runs fine on it.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
# Its check reads the silenced major version(s) from the variable.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
STAMPS    := $(VENV)/.stamp-pip node_modules/.stamp-npm $(CHECKOV_VENV)/.stamp-pip

.PHONY: help setup test lint typecheck unit synth deploy destroy diff \
        local-up local-down deploy-local destroy-local demo bench aws-acceptance clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.stamp-pip: requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -e .
	@touch $@

$(CHECKOV_VENV)/.stamp-pip: requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	@touch $@

node_modules/.stamp-npm: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(STAMPS) ## Create .venv (+ .venv-checkov), install Python packages and the pinned CDK CLI (idempotent)

lint: setup ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup ## mypy
	$(VENV)/bin/mypy

test: lint typecheck ## Lint, type-check and run every test (unit, handler, template + cdk-nag/cfn-lint/checkov, local cloud end to end)
	$(PY) -m pytest -n 2 --dist loadgroup

synth: setup ## Synthesize the TranscriptionPipeline template into cdk.out/
	$(CDK) synth --quiet

deploy: setup ## Deploy to the AWS account of your current credentials
	$(CDK) deploy --require-approval never

destroy: setup ## Remove the stack from your AWS account
	$(CDK) destroy --force

diff: setup ## Show what a deploy would change in your AWS account
	$(CDK) diff

local-up: setup ## Start the local cloud in the background on localhost:$(LOCAL_PORT)
	$(PY) -m localcloud up --port $(LOCAL_PORT)

local-down: ## Stop the local cloud
	@if [ -x $(PY) ]; then $(PY) -m localcloud down --port $(LOCAL_PORT); fi

deploy-local: setup ## Bootstrap and deploy the app to the running local cloud
	$(LOCAL_ENV) $(CDK) bootstrap aws://123456789012/us-east-1 --quiet
	$(LOCAL_ENV) $(CDK) deploy --require-approval never

destroy-local: setup ## Destroy the app on the running local cloud
	$(LOCAL_ENV) $(CDK) destroy --force

demo: setup ## Local cloud up, deploy, transcribe a shipped sample, print it, destroy, local cloud down
	$(PY) -m localcloud demo --port $(LOCAL_PORT)

bench: setup ## Run the benchmarks and write benchmarks/results
	$(PY) -m benchmarks

aws-acceptance: setup ## Deploy a throw-away copy to your AWS account, check a hostile corpus, destroy it (about USD 0.06; README)
	$(PY) -m acceptance $(ACCEPTANCE_ARGS)

clean: local-down ## Remove build output (keeps .venv and node_modules)
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
