# logferry — every entry point a developer or CI needs.
SHELL := /bin/bash
GO    ?= go
BIN   := bin

.PHONY: all build lambdas test test-short bench demo es-up es-down moto moto-up moto-down vet fmt-check clean

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
# One moto server (S3, SQS, Secrets Manager, SSM) is shared the same way through MOTO_URL.
test: vet fmt-check moto
	@set -e; url=$$($(MAKE) -s es-up ES_DIR=tmp/es-test | tail -1); \
	trap '$(MAKE) -s es-down ES_DIR=tmp/es-test; $(MAKE) -s moto-down MOTO_DIR=tmp/moto-test' EXIT; \
	moto=$$($(MAKE) -s moto-up MOTO_DIR=tmp/moto-test | tail -1); \
	echo "Elasticsearch for the tests: $$url; moto: $$moto"; \
	ES_URL=$$url MOTO_URL=$$moto $(GO) test -count=1 -timeout 15m ./...

# Benchmarks: parse+encode per format, the object→sink path (with and without a mirror),
# enqueueing a backfill against moto (objects/s), and logferry parse against
# gzip -dc on a generated ≥ 200 MB .log.gz (scripts/bench-parse.sh). Compare runs with
# benchstat: go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da old.txt new.txt
BENCH_COUNT ?= 6
bench: moto
	@mkdir -p tmp; set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) \
	  ./shared/lines ./shared/elblog ./shared/logstash ./shared/ingest ./shared/backfill | tee tmp/bench.txt
	bash scripts/bench-parse.sh

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
