# The README's commands. Every target sets up .venv first, so a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench package clean reliability-doc iac lambda-rt FORCE

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rotator demo

test: lint typecheck iac package lambda-rt unit

lint: $(STAMP)
	$(BIN)/ruff check rotator lambda tests
	$(BIN)/ruff format --check rotator lambda tests
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest --cov --cov-report=term -q

bench: $(STAMP) $(ZIP) lambda-rt
	$(BIN)/python benchmarks/run.py

reliability-doc: $(STAMP)
	ROTATOR_WRITE_RELIABILITY_DOC=1 $(BIN)/pytest -q tests/reliability/test_fault_injection.py

clean:
	rm -rf $(VENV) dist .pytest_cache .mypy_cache .ruff_cache .coverage $(TOOLS) build

# --- Deployment: the Lambda package and the template checks ---------------------------------
# `make package` builds dist/rotator-lambda.zip for python$(LAMBDA_PYTHON) on $(ARCH) with pip's
# --platform/--python-version/--only-binary options (no Docker). ARCH=x86_64 selects the other
# architecture. Wheels are cached in build/wheelhouse; the zip is rebuilt only when an input
# changes. Versions are pinned to what .venv (and so the test suite) runs.
ARCH ?= arm64
LAMBDA_PYTHON ?= 3.13
ZIP := dist/rotator-lambda.zip
LAMBDA_TARGET := build/.lambda-target
LAMBDA_SOURCES := $(shell find rotator -name '*.py' -not -path 'rotator/testing/*') lambda/handler.py

package: $(ZIP)
	@$(BIN)/python -c "import os; s = os.path.getsize('$(ZIP)'); print(f'$(ZIP): {s:,} bytes ({s / 1048576:.1f} MiB)')"

$(LAMBDA_TARGET): FORCE
	@mkdir -p build
	@echo "$(ARCH) $(LAMBDA_PYTHON)" | cmp -s - $@ || echo "$(ARCH) $(LAMBDA_PYTHON)" > $@

$(ZIP): $(STAMP) $(LAMBDA_TARGET) pyproject.toml scripts/build_lambda_zip.py $(LAMBDA_SOURCES)
	@mkdir -p build
	$(BIN)/python -m pip freeze --exclude-editable > build/lambda-constraints.txt
	$(BIN)/python scripts/build_lambda_zip.py --arch $(ARCH) --python-version $(LAMBDA_PYTHON) \
		--constraints build/lambda-constraints.txt

FORCE:

# cfn-lint, checkov and parliament live in their own venv: checkov pins boto3/botocore to other
# versions than rotator's, so sharing .venv would break its resolution. parliament reads the
# role's policies as deployed in each parameter mode (scripts/resolve_iam_policies.py).
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
TOOLS_PKGS := cfn-lint==1.58.0 checkov==3.3.30 parliament==1.6.4 json-cfg==0.4.2 kwonly-args==1.0.10

$(TOOLS_STAMP): Makefile
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check $(TOOLS_PKGS)
	touch $(TOOLS_STAMP)

iac: $(STAMP) $(TOOLS_STAMP)
	$(BIN)/ruff check scripts
	$(BIN)/ruff format --check scripts
	$(BIN)/mypy --strict scripts/build_lambda_zip.py scripts/lambda_runtime_env.py scripts/resolve_iam_policies.py
	$(TOOLS)/bin/cfn-lint template.yaml
	$(TOOLS)/bin/checkov --file template.yaml --framework cloudformation --skip-download --compact --quiet
	$(BIN)/python scripts/resolve_iam_policies.py --out build/iam-policies
	$(TOOLS)/bin/parliament --directory build/iam-policies --include-community-auditors --minimum_severity INFO < /dev/null

# --- The real Lambda runtime client -------------------------------------------------------------
# `make lambda-rt` sets up build/lambda-rt: a bare python3.13 venv (like /var/lang) and the pinned
# awslambdaric (like /var/runtime), from cp313 wheels cached in build/wheelhouse/lambda-rt.
# tests/deploy/test_lambda_runtime_client.py runs the unzipped package on it. Without a
# python3.13 (PATH or pyenv) it says so and the test skips with that reason.
lambda-rt: $(STAMP)
	@$(BIN)/python scripts/lambda_runtime_env.py
