# Two commands matter: `make demo` (the whole loop offline) and `make test`.
# Both create or reuse ./.venv; `make test` also builds ./.venv-image, pinned like the built-in
# XGBoost 3.0-5 image, and runs the job and handler tests a second time there.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
# The image runs Python 3.10; use it when the machine has it, else the same pins on this Python.
IMAGE_PYTHON ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10; do \
	"$$p" -c 'import sys' 2>/dev/null && { command -v "$$p"; break; }; done)
ifeq ($(IMAGE_PYTHON),)
IMAGE_PYTHON := $(PYTHON)
endif
VENV := .venv
IMAGE_VENV := .venv-image
# checkov pins an old boto3 (1.35), so it lives in a venv of its own; tests/templates/test_checkov.py uses it.
CHECKOV_VENV := .venv-checkov
CHECKOV := checkov==3.3.30
PIP_FLAGS := --disable-pip-version-check --quiet

.PHONY: demo test lint unit image-test venv image-venv checkov-venv checkov clean bench browser

venv: $(VENV)/.installed
$(VENV)/.installed: setup.py constraints.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) --upgrade "pip>=24"
	$(VENV)/bin/pip install $(PIP_FLAGS) -c constraints.txt -e '.[test]'
	touch $@

image-venv: $(IMAGE_VENV)/.installed
$(IMAGE_VENV)/.installed: requirements-image.txt
	test -x $(IMAGE_VENV)/bin/python || $(IMAGE_PYTHON) -m venv $(IMAGE_VENV)
	$(IMAGE_VENV)/bin/pip install $(PIP_FLAGS) -r requirements-image.txt
	touch $@

checkov-venv: $(CHECKOV_VENV)/.installed
$(CHECKOV_VENV)/.installed:
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install $(PIP_FLAGS) "$(CHECKOV)"
	touch $@

# The packaged CloudFormation templates and the portal's Dockerfile through checkov, offline (no download of its
# online checks).
# The templates embed region-specific image URIs; any region checks the same resources.
TEMPLATE_REGION ?= us-east-1
checkov: venv checkov-venv
	rm -rf .build/templates
	$(VENV)/bin/mlops template package --output .build/templates --region $(TEMPLATE_REGION)
	$(CHECKOV_VENV)/bin/checkov --skip-download --framework cloudformation --quiet --compact -d .build/templates
	$(CHECKOV_VENV)/bin/checkov --skip-download --framework dockerfile --quiet --compact -d templates/portal

demo: venv
	$(VENV)/bin/mlops demo --fresh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/vermin --no-tips --violations --target=3.10- processing inference

# checkov-venv: so that the suite's checkov test runs instead of skipping (about 70 s to build, once).
unit: venv checkov-venv
	$(VENV)/bin/pytest

# The job code and the handler run inside the XGBoost 3.0-5 image (Python 3.10, pandas 2.2.3,
# numpy 2.1.0): run their tests again with those packages, without the SDK installed.
image-test: image-venv
	PYTHONPATH=$(CURDIR) $(IMAGE_VENV)/bin/python -m pytest -m image -p no:cacheprovider -q

test: lint unit image-test

# Speed and memory against the peers each milestone names; serving needs Debian's wrk
# (apt-get install -y wrk). Figures are printed, and recorded in docs/.
bench: venv
	$(VENV)/bin/python benchmarks/pipeline.py
	$(VENV)/bin/python benchmarks/monitor.py
	$(VENV)/bin/python benchmarks/serving.py
	$(VENV)/bin/python benchmarks/local_aws.py
	$(VENV)/bin/python benchmarks/portal.py
	$(VENV)/bin/python benchmarks/human_loops.py

# The portal's browser tests use Debian's Chromium at /usr/bin/chromium (Playwright's own download needs
# the network); without it they skip, saying so.
browser:
	test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

clean:
	rm -rf $(VENV) $(IMAGE_VENV) $(CHECKOV_VENV) .mlops .build
