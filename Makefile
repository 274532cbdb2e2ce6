# `sam build` runs one target per function (template.yaml: Metadata: BuildMethod: makefile) with
# ARTIFACTS_DIR set. Both functions ship the same code: wsapp's runtime modules (not the repo root's
# .venv, tests or notebooks) plus its runtime dependencies, built for Lambda's python3.12 on arm64.
# `wsapp deploy` builds the same contents itself (wsapp/deploy/package.py); this is the SAM CLI route.
PYTHON ?= python3
LAMBDA_DEPS = "PyJWT>=2.8" "aws-lambda-powertools>=3.0"
PIP_TARGET = --platform manylinux2014_aarch64 --implementation cp --python-version 3.12 --only-binary=:all:

build-WebSocketFunction build-AuthorizerFunction:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check $(PIP_TARGET) --target "$(ARTIFACTS_DIR)" $(LAMBDA_DEPS)
	$(PYTHON) -m wsapp.deploy.package --sources-into "$(ARTIFACTS_DIR)"

.PHONY: build-WebSocketFunction build-AuthorizerFunction
