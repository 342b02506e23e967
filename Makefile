# logferry — every entry point a developer or CI needs.
SHELL := /bin/bash
GO    ?= go
BIN   := bin

.PHONY: all build lambdas test test-short bench demo es-up es-down vet fmt-check clean synth test-infra cdk-cli cfn-lint

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

# Until the full demo lands: parse every fixture in testdata/s3 into ECS documents as the
# Lambda would ship them (first document of each on stdout, the per-file summary on stderr).
DEMO_LOGS = $(shell find testdata/s3 -type f \( -name '*.log' -o -name '*.log.gz' \) | sort)
demo: build
	@for f in $(DEMO_LOGS); do \
	  echo "== $${f#testdata/s3/}" >&2; \
	  $(BIN)/logferry parse -bucket elb-logs -key "$${f#testdata/s3/elb-logs/}" "$$f" | head -n 1; \
	done

# The whole suite: one real Elasticsearch node (shared/esnode, built by Maven on first use)
# shared by every package through ES_URL, the in-process S3 server, the Logstash stand-in.
test: vet fmt-check test-infra
	@set -e; url=$$($(MAKE) -s es-up ES_DIR=tmp/es-test | tail -1); \
	trap '$(MAKE) -s es-down ES_DIR=tmp/es-test' EXIT; \
	echo "Elasticsearch for the tests: $$url"; \
	ES_URL=$$url $(GO) test -count=1 -timeout 15m ./...

# Benchmarks: parse+encode per format, the object→sink path, and logferry parse against
# gzip -dc on a generated ≥ 200 MB .log.gz (scripts/bench-parse.sh). Compare runs with
# benchstat: go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da old.txt new.txt
BENCH_COUNT ?= 6
bench:
	@mkdir -p tmp; set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) \
	  ./shared/lines ./shared/elblog ./shared/logstash ./shared/ingest | tee tmp/bench.txt
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
