# The README's commands. Every target sets up .venv first, so a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench package clean reliability-doc iac FORCE

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rotator demo

test: lint typecheck iac package unit

lint: $(STAMP)
	$(BIN)/ruff check rotator lambda tests
	$(BIN)/ruff format --check rotator lambda tests
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest --cov --cov-report=term -q

bench: $(STAMP)
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

# cfn-lint and checkov live in their own venv: checkov pins boto3/botocore to other versions
# than rotator's, so sharing .venv would break its resolution.
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
TOOLS_PKGS := cfn-lint==1.58.0 checkov==3.3.30

$(TOOLS_STAMP): Makefile
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check $(TOOLS_PKGS)
	touch $(TOOLS_STAMP)

iac: $(STAMP) $(TOOLS_STAMP)
	$(BIN)/ruff check scripts
	$(BIN)/ruff format --check scripts
	$(BIN)/mypy --strict scripts/build_lambda_zip.py
	$(TOOLS)/bin/cfn-lint template.yaml
	$(TOOLS)/bin/checkov --file template.yaml --framework cloudformation --skip-download --compact --quiet
