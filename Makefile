# For `sam build` (template.yaml, BuildMethod: makefile): SAM runs
# `make build-<FunctionLogicalId>` here with ARTIFACTS_DIR set, and zips
# what lands there. Building by hand: scripts/package-lambda.sh OUT_DIR.
.PHONY: build-ApiFunction build-WorkerFunction

build-ApiFunction:
	scripts/package-lambda.sh "$(ARTIFACTS_DIR)"

build-WorkerFunction:
	scripts/package-lambda.sh "$(ARTIFACTS_DIR)"
