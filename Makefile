# Vigil: `make help` lists the targets.
GO      ?= go
PKGS    ?= ./...
BIN     := bin

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

build: ## Build every package, and the vigil binary into bin/
	$(GO) build $(PKGS)
	$(GO) build -o $(BIN)/vigil ./cmd/vigil

test: build ## Run all tests (unit, upstream PromQL suite, crash tests) with the race detector
	$(GO) vet $(PKGS)
	$(GO) test -race -timeout 30m $(PKGS)

lint: ## Check formatting (gofmt) and run go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

bench: bench-tsdb ## Run every benchmark against its upstream anchor

bench-tsdb: ## Compare core/tsdb with the upstream Prometheus TSDB
	$(GO) run ./core/tsdb/bench

run: build ## Run the Vigil server on 127.0.0.1:9090 with the default config (it scrapes itself)
	$(BIN)/vigil server

.PHONY: help build test lint bench bench-tsdb run
