# `sam build` runs one target per function (template.yaml: Metadata: BuildMethod: makefile) with
# ARTIFACTS_DIR set, and `wsapp deploy` runs the same targets. Both functions ship the same code:
# wsapp's runtime modules (not the repo root's .venv, tests or notebooks) plus its runtime
# dependencies, pinned to the versions installed here and resolved for the function's runtime and
# architecture by aws-lambda-builders (the library sam build's own Python builder is).
# sam build does not tell a Makefile a function's Runtime and Architectures: these defaults are
# template.yaml's (wsapp deploy passes the template's values).
PYTHON ?= python3
RUNTIME ?= python3.12
ARCHITECTURE ?= arm64

build-WebSocketFunction build-AuthorizerFunction:
	@$(PYTHON) -m wsapp.deploy.build "$(ARTIFACTS_DIR)" --with-wsapp --runtime $(RUNTIME) --architecture $(ARCHITECTURE)

.PHONY: build-WebSocketFunction build-AuthorizerFunction
