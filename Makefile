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
