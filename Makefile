# logferry — every entry point a developer or CI needs.
SHELL := /bin/bash
GO    ?= go
BIN   := bin

.PHONY: all build lambdas test test-short bench pgo demo es-up es-down moto moto-up moto-down vet fmt-check clean sfn-tools asl-validate synth test-infra cdk-cli cfn-lint bench-reindex

all: build

build:
	$(GO) build -o $(BIN)/logferry ./cmd/logferry

# The Lambda bundles as `cdk deploy` ships them: provided.al2023 on arm64, binary named bootstrap.
LAMBDA_ARCH ?= arm64
lambdas:
	for f in ingest reindex; do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_ARCH) $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
	    -o $(BIN)/lambda/$$f/bootstrap ./functions/$$f || exit 1; \
	done

# The deployed pipeline end to end on this machine (shared/demo, README "The demo"): a real
# Elasticsearch node, moto (S3, SQS), the Logstash stand-in, the ingest Lambda's own binary
# (built for this machine, as `lambdas` builds it for Lambda) behind an SQS event source
# mapping, backfill and the reindex state machine. Installs what it needs first.
DEMO_DIR ?= tmp/demo
demo: build moto sfn-tools
	$(GO) build -tags lambda.norpc -o $(BIN)/host/ingest/bootstrap ./functions/ingest
	$(BIN)/logferry demo --dir $(DEMO_DIR)

# The whole suite: one real Elasticsearch node (shared/esnode, built by Maven on first use)
# shared by every package through ES_URL, the in-process S3 server, the Logstash stand-in.
# One moto server (S3, SQS, Secrets Manager, SSM) is shared the same way through MOTO_URL.
test: vet fmt-check moto asl-validate test-infra
	@set -e; url=$$($(MAKE) -s es-up ES_DIR=tmp/es-test | tail -1); \
	trap '$(MAKE) -s es-down ES_DIR=tmp/es-test; $(MAKE) -s moto-down MOTO_DIR=tmp/moto-test' EXIT; \
	moto=$$($(MAKE) -s moto-up MOTO_DIR=tmp/moto-test | tail -1); \
	echo "Elasticsearch for the tests: $$url; moto: $$moto"; \
	ES_URL=$$url MOTO_URL=$$moto $(GO) test -count=1 -timeout 15m ./...
	$(GO) test -count=1 -tags gunzip_checked ./shared/gunzip   # its pointer accesses, bounds-checked

# Benchmarks: parse+encode per format, the object→sink path (with and without a mirror),
# enqueueing a backfill against moto (objects/s), and logferry parse against
# gzip -dc on a generated ≥ 200 MB .log.gz (scripts/bench-parse.sh). Compare runs with
# benchstat: go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da old.txt new.txt
# Profile-guided optimization: cmd/logferry/default.pgo and functions/ingest/default.pgo,
# which `go build` uses by itself, regenerated from `logferry parse` on every format.
pgo:
	bash scripts/pgo.sh

BENCH_COUNT ?= 6
bench: moto
	@mkdir -p tmp; set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) \
	  ./shared/gunzip ./shared/lines ./shared/elblog ./shared/logstash ./shared/ingest ./shared/backfill | tee tmp/bench.txt
	bash scripts/bench-parse.sh

# The CDK app (infra/, its own Go module so the main module never pulls the CDK).
# CLI and linter are installed under tmp/ from npm and PyPI, pinned. The CLI's directory
# starts with "_" so that `go vet ./...` and `go test ./...` skip it: the npm package holds
# Go template files (init-templates/…/%name%.template.go) that would not build.
CDK_CLI_VERSION  ?= 2.1148.1
CFN_LINT_VERSION ?= 1.58.0
CDK        := tmp/_cdk-cli/node_modules/.bin/cdk
CFN_LINT   := tmp/cfn-lint/bin/cfn-lint
CDK_OUTDIR ?= cdk.out
# Example values so `make synth` runs offline with no context of your own; yours (cdk.json,
# -c on the command line via SYNTH_CONTEXT) replace them.
SYNTH_CONTEXT ?= -c logstashUrl=https://logstash.example.internal:8080 -c elasticsearchUrl=https://elasticsearch.example.internal:9200

cdk-cli: $(CDK)
$(CDK):
	npm install --no-audit --no-fund --loglevel=error --prefix tmp/_cdk-cli aws-cdk@$(CDK_CLI_VERSION)

cfn-lint: $(CFN_LINT)
$(CFN_LINT):
	python3 -m venv tmp/cfn-lint
	tmp/cfn-lint/bin/pip install -q cfn-lint==$(CFN_LINT_VERSION)

# Synthesize into $(CDK_OUTDIR) without an AWS account; fails on any cdk-nag error (the app
# exits 1 on error annotations, and so does the CLI), then lints every template.
synth: lambdas $(CDK) $(CFN_LINT)
	CDK_OUTDIR=$(CDK_OUTDIR) $(CDK) synth --quiet --no-notices --no-version-reporting --output $(CDK_OUTDIR) $(SYNTH_CONTEXT)
	$(CFN_LINT) --ignore-checks W3005 -- $(CDK_OUTDIR)/*.template.json   # W3005: see infra/stack/lint_test.go

# assertions on the synthesized stack, cdk-nag, cfn-lint (infra/stack/*_test.go).
test-infra: lambdas $(CFN_LINT)
	cd infra && $(GO) vet ./... && $(GO) test -count=1 -timeout 15m ./...

# Unit tests only (skips anything that needs a JVM).
test-short:
	$(GO) test -short -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

clean:
	rm -rf $(BIN)

# A real Elasticsearch 7.17 node (shared/esnode). `make es-up` starts one in the background
# (state in tmp/es: pid, url, esnode.log, data) and prints its URL as the last line;
# `make es-down` stops it and deletes its data. Both are idempotent. Run
# `ES_URL=$$(make -s es-up | tail -1) go test ./...` to share one node across all packages.
.PHONY: esnode
ES_DIR ?= tmp/es

# Build the node's Java launcher (Maven; downloads the jars into ~/.m2 on first run).
esnode:
	cd shared/esnode/launcher && mvn -q -B -Dstyle.color=never package

es-up:
	@$(GO) run ./shared/esnode/cmd/esnode up -dir $(ES_DIR)

es-down:
	@$(GO) run ./shared/esnode/cmd/esnode down -dir $(ES_DIR)

# moto in server mode (PyPI moto[server]): real S3, SQS, Secrets Manager and SSM protocols on
# 127.0.0.1 (shared/motoserver). `make moto` installs it into a venv under tmp/ (once);
# `make moto-up` starts a detached server and prints its URL as the last line; `make moto-down`
# stops it. Tests find the venv by themselves, or use MOTO_URL.
MOTO_VERSION ?= 5.2.5
MOTO_VENV    ?= tmp/moto-venv
MOTO_DIR     ?= tmp/moto
moto: $(MOTO_VENV)/.installed-$(MOTO_VERSION)
$(MOTO_VENV)/.installed-$(MOTO_VERSION):
	python3 -m venv $(MOTO_VENV)
	$(MOTO_VENV)/bin/pip install -q --disable-pip-version-check 'moto[server]==$(MOTO_VERSION)'
	touch $@

moto-up: moto
	@$(GO) run ./shared/motoserver/cmd/motoserver up -dir $(MOTO_DIR)

moto-down:
	@$(GO) run ./shared/motoserver/cmd/motoserver down -dir $(MOTO_DIR)

# The reindex state machine's tools, under tmp/sfn and never global: Node 22 (npm package
# node@22, which aws-local-stepfunctions needs) runs `logferry reindex` locally and the
# state machine tests; asl-validator runs on the machine's own node (20).
SFN_DIR   ?= tmp/sfn
SFN_PKGS  := node@22.23.3 aws-local-stepfunctions@3.0.0 asl-validator@4.0.0
SFN_STAMP := $(SFN_DIR)/.installed-node-22.23.3-alsf-3.0.0-aslv-4.0.0
sfn-tools: $(SFN_STAMP)
$(SFN_STAMP):
	@mkdir -p $(SFN_DIR)
	npm install --prefix $(SFN_DIR) --no-audit --no-fund --loglevel=error $(SFN_PKGS)
	@v=$$($(SFN_DIR)/node_modules/.bin/node --version) && case $$v in v22.*) ;; *) echo "node@22 installed $$v"; exit 1;; esac
	@touch $@

# Static validation of the definition, as deployed (the ARN substituted) and as written.
ASL := infra/statemachine/reindex.asl.json
asl-validate: sfn-tools
	@sed 's/$${ReindexFunctionArn}/arn:aws:lambda:us-east-1:123456789012:function:logferry-reindex/g' $(ASL) > $(SFN_DIR)/reindex.asl.deployed.json
	node $(SFN_DIR)/node_modules/asl-validator/dist/bin/asl-validator.js --json-path $(SFN_DIR)/reindex.asl.deployed.json --json-path $(ASL)

# logferry reindex of one ≥ 500,000-document index against a bare _reindex (same node, same
# mappings, alternating), and the local interpreter's start-up (scripts/bench-reindex.sh).
bench-reindex: build sfn-tools
	bash scripts/bench-reindex.sh
