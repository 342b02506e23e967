# logferry — every entry point a developer or CI needs.
SHELL := /bin/bash
GO    ?= go
BIN   := bin

.PHONY: all build test test-short bench demo es-up es-down vet fmt-check clean

all: build

build:
	$(GO) build -o $(BIN)/logferry ./cmd/logferry

# The whole suite, including the real Elasticsearch node and the in-process S3 server.
test: vet fmt-check
	$(GO) test -count=1 -timeout 15m ./...

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
