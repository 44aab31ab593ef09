# Vigil: `make help` lists the targets.
# The go command takes the toolchain go.mod names (a newer Go release than
# the machine's, for the standard library's security fixes) from the Go
# module proxy, unless the machine's own Go is newer.
export GOTOOLCHAIN := auto
GO      ?= go
PKGS    ?= ./...
BIN     := bin
# The plugin SDK is a module of its own (github.com/vigilmon/vigil/sdk);
# ./... in the root does not reach it, so each target also runs there.
SDK     := sdk
SDK_PKGS ?= ./...
# sdk/promexport, the SDK's client_golang registry, is one too, so that
# the SDK's module does not require client_golang.
PROMEXPORT := sdk/promexport

# The version stamped into bin/vigil: `git describe` of the checkout (a
# commit ID when there are no tags, -dirty with uncommitted changes); and
# the commit it was built from. `make build VERSION=v1.2.0 REVISION=...`
# sets them by hand, as a build without the git history must.
ifeq ($(origin VERSION), undefined)
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null)
endif
ifeq ($(origin REVISION), undefined)
REVISION := $(shell git rev-parse HEAD 2>/dev/null)
endif
LDFLAGS := -X main.version=$(VERSION) -X main.revision=$(REVISION)

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

# First-party plugins: programs speaking gRPC, and WebAssembly modules.
GRPC_PLUGINS := exporter/node exporter/mysql exporter/haproxy exporter/blackbox discovery/file discovery/http discovery/dns discovery/kubernetes discovery/consul discovery/ec2 discovery/azure discovery/gce discovery/openstack discovery/docker discovery/nomad discovery/eureka notifier/webhook notifier/email
WASM_PLUGINS := exporter/apache discovery/http notifier/slack notifier/pagerduty notifier/opsgenie notifier/msteams notifier/msteamsv2 notifier/telegram notifier/discord notifier/pushover notifier/victorops notifier/webex notifier/sns notifier/jira notifier/rocketchat notifier/incidentio
# Wasm modules are built without their name section (-s): a host that
# loads one decodes less, and the Go runtime's own tracebacks do not use
# it. Binaryen's wasm-opt was measured too: -O1 to -O3 take 20 s to two
# minutes per module on two cores and left a Go guest's calls no faster, -Oz
# shrinks the code by 9%; it is not run.
WASM_LDFLAGS := -ldflags='-s -w'
# The Windows exporter is a module of its own (see its go.mod), and runs
# on Windows only: make plugins cross-builds it into
# bin/vigil-exporter-windows.exe, and make windows-check builds and vets it
# for Windows, which make test and make lint run.
WINDOWS_EXPORTER := plugins/exporter/windows

build: ## Build every package of both modules, and the vigil binary into bin/ with its version stamped
	$(GO) build $(PKGS)
	cd $(SDK) && $(GO) build $(SDK_PKGS)
	cd $(PROMEXPORT) && $(GO) build ./...
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/vigil ./cmd/vigil

plugins: ## Build the first-party plugins into bin/vigil-<kind>-<name> (.wasm for modules)
	@for p in $(GRPC_PLUGINS); do \
		echo "$(GO) build -o $(BIN)/vigil-$${p%%/*}-$${p##*/} ./plugins/$$p"; \
		$(GO) build -o $(BIN)/vigil-$${p%%/*}-$${p##*/} ./plugins/$$p || exit 1; \
	done
	@for p in $(WASM_PLUGINS); do \
		echo "GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared $(WASM_LDFLAGS) -o $(BIN)/vigil-$${p%%/*}-$${p##*/}.wasm ./plugins/$$p"; \
		GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared $(WASM_LDFLAGS) -o $(BIN)/vigil-$${p%%/*}-$${p##*/}.wasm ./plugins/$$p || exit 1; \
	done
	cd $(WINDOWS_EXPORTER) && GOOS=windows GOARCH=amd64 $(GO) build -o $(abspath $(BIN))/vigil-exporter-windows.exe .

windows-check: ## Build and vet the Windows exporter for Windows (its collectors exist there only), and vet it for this machine
	cd $(WINDOWS_EXPORTER) && GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null .
	cd $(WINDOWS_EXPORTER) && GOOS=windows GOARCH=amd64 $(GO) vet ./...
	cd $(WINDOWS_EXPORTER) && $(GO) vet ./...

# The tests run under bin/noleftovers, which fails when a process they
# started (a plugin, a server) outlives them, and names it.
# Peer servers the end-to-end tests run beside Vigil, built with go install
# at pinned versions once into .cache/peers and reused (internal/peers finds
# them there). Debian's packages provide the others (see .ci/run).
PEERS_DIR := $(CURDIR)/.cache/peers
PROMETHEUS_VERSION := v0.316.0
VICTORIAMETRICS_VERSION := v1.151.0
NODE_EXPORTER_VERSION := v1.12.1
PROMETHEUS_DIR := $(PEERS_DIR)/prometheus-$(PROMETHEUS_VERSION)
VICTORIAMETRICS_DIR := $(PEERS_DIR)/victoria-metrics-$(VICTORIAMETRICS_VERSION)
NODE_EXPORTER_DIR := $(PEERS_DIR)/node_exporter-$(NODE_EXPORTER_VERSION)

peers: ## Build the peer servers end-to-end tests compare with (Prometheus, promtool, VictoriaMetrics, node_exporter) into .cache/peers, once
	@test -x $(PROMETHEUS_DIR)/prometheus -a -x $(PROMETHEUS_DIR)/promtool || \
		GOBIN=$(PROMETHEUS_DIR) $(GO) install github.com/prometheus/prometheus/cmd/prometheus@$(PROMETHEUS_VERSION) github.com/prometheus/prometheus/cmd/promtool@$(PROMETHEUS_VERSION)
	@test -x $(VICTORIAMETRICS_DIR)/victoria-metrics || \
		GOBIN=$(VICTORIAMETRICS_DIR) $(GO) install github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@$(VICTORIAMETRICS_VERSION)
	@test -x $(NODE_EXPORTER_DIR)/node_exporter || \
		GOBIN=$(NODE_EXPORTER_DIR) $(GO) install github.com/prometheus/node_exporter@$(NODE_EXPORTER_VERSION)

test: build plugins peers windows-check ## Run all tests of the modules (unit, upstream PromQL suite, crash tests) with the race detector; fail if they leave processes behind
	$(GO) build -o $(BIN)/noleftovers ./internal/cmd/noleftovers
	$(GO) vet $(PKGS)
	cd $(SDK) && $(GO) vet $(SDK_PKGS)
	cd $(PROMEXPORT) && $(GO) vet ./...
	$(BIN)/noleftovers $(GO) test -race -timeout 30m $(PKGS)
	cd $(SDK) && $(CURDIR)/$(BIN)/noleftovers $(GO) test -race -timeout 10m $(SDK_PKGS)
	cd $(PROMEXPORT) && $(CURDIR)/$(BIN)/noleftovers $(GO) test -race -timeout 10m ./...
	cd $(WINDOWS_EXPORTER) && VIGIL_BINARY=$(abspath $(BIN))/vigil $(abspath $(BIN))/noleftovers $(GO) test -race -timeout 10m ./...

# The fuzz targets are found in the sources: every func FuzzX of a test
# file of the root module. Each runs for FUZZTIME, one after the other; an
# input that fails is written to testdata/fuzz/FuzzX in its package, where
# go test replays it from then on.
# FUZZTIME is a duration (20s) or a count of inputs (10000x); CI uses a
# count, which Go 1.26's fuzzing cannot fail at its end (golang/go#75804).
FUZZTIME ?= 20s

fuzz: ## Run each fuzz target (func FuzzX in a _test.go file) for FUZZTIME (default 20s)
	@set -e; for f in $$(grep -rl --include='*_test.go' --exclude-dir=sdk --exclude-dir=.cache --exclude-dir=.git '^func Fuzz' . | sort); do \
		for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
			echo "$(GO) test -run '^$$' -fuzz '^$$t$$' -fuzztime $(FUZZTIME) $$(dirname $$f)"; \
			$(GO) test -run '^$$' -fuzz "^$${t}\$$" -fuzztime $(FUZZTIME) $$(dirname $$f); \
		done; \
	done

# Linters, run with go run at pinned versions so a fresh machine needs
# nothing else. govulncheck reads a vulnerability database built from the
# Go vulnerability database's own module, at a pinned snapshot, so it needs
# no other network access than the module proxy.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
VULNDB_DIR  := $(CURDIR)/.cache/vulndb
# The Windows exporter is checked as Windows builds it: staticcheck and
# govulncheck read GOOS when they load the packages, so they are
# installed for this machine into TOOLS_DIR and run with GOOS=windows.
TOOLS_DIR   := $(CURDIR)/.cache/tools

lint: $(VULNDB_DIR)/index/db.json windows-check ## Check formatting (gofmt), go vet, staticcheck and govulncheck, in every module
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	cd $(SDK) && $(GO) vet $(SDK_PKGS)
	cd $(SDK) && GOOS=wasip1 GOARCH=wasm $(GO) vet ./wasm/...
	cd $(PROMEXPORT) && $(GO) vet ./...
	$(GO) run $(STATICCHECK) $(PKGS)
	cd $(SDK) && $(GO) run $(STATICCHECK) $(SDK_PKGS)
	$(GO) run $(GOVULNCHECK) -db file://$(VULNDB_DIR) $(PKGS)
	cd $(SDK) && $(GO) run $(GOVULNCHECK) -db file://$(VULNDB_DIR) $(SDK_PKGS)
	GOBIN=$(TOOLS_DIR) $(GO) install $(STATICCHECK)
	GOBIN=$(TOOLS_DIR) $(GO) install $(GOVULNCHECK)
	cd $(WINDOWS_EXPORTER) && $(TOOLS_DIR)/staticcheck ./...
	cd $(WINDOWS_EXPORTER) && GOOS=windows GOARCH=amd64 $(TOOLS_DIR)/staticcheck ./...
	cd $(WINDOWS_EXPORTER) && GOOS=windows GOARCH=amd64 $(TOOLS_DIR)/govulncheck -db file://$(VULNDB_DIR) ./...
	cd $(PROMEXPORT) && $(TOOLS_DIR)/staticcheck ./...
	cd $(PROMEXPORT) && $(TOOLS_DIR)/govulncheck -db file://$(VULNDB_DIR) ./...

# The database govulncheck reads, built once with the vulndb module's gendb
# from its OSV reports (gendb reads them from a git repository).
$(VULNDB_DIR)/index/db.json:
	@set -e; src=$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	repo=$$(mktemp -d); trap 'rm -rf "$$repo"' EXIT; \
	mkdir -p "$$repo/data" && cp -R "$$src/data/osv" "$$repo/data/" && chmod -R u+w "$$repo"; \
	git -C "$$repo" init -q && git -C "$$repo" add -A && \
	git -C "$$repo" -c user.name=vigil -c user.email=vigil@localhost commit -q -m "vulndb snapshot"; \
	rm -rf $(VULNDB_DIR); $(GO) run golang.org/x/vulndb/cmd/gendb@$(VULNDB_VERSION) -repo "$$repo" -out $(VULNDB_DIR)

bench: bench-tsdb bench-scrape bench-plugins bench-alerting bench-remote bench-ui ## Run every side-by-side benchmark in bench/ against its anchor

bench-tsdb: ## Compare core/tsdb with the upstream Prometheus TSDB (bench/tsdb)
	$(GO) run ./bench/tsdb

bench-tsdb-scale: ## Compare core/tsdb with the upstream TSDB at a server's size: RSS with 1M active series and with 2M churning, ingest (bench/tsdb -scale)
	$(GO) run ./bench/tsdb -scale

bench-ui: build ## Time the drawing of a graph of 100 series x 1,000 points in headless Chromium (median of 5), failing past 200 ms
	VIGIL_REQUIRE_BROWSER=1 VIGIL_UI_RENDER_BAR=1 $(GO) test ./cmd/vigil -run 'TestUIGraphRenderTime$$' -count=1 -v

bench-scrape: ## Compare core/scrape with the upstream Prometheus scrape manager (bench/scrape)
	$(GO) run ./bench/scrape

bench-plugins: ## Compare an exporter plugin with an HTTP scrape, and a Wasm notifier with a gRPC one (bench/plugins)
	$(GO) run ./bench/plugins

bench-alerting: build plugins ## Compare core/alert's dispatch with the Alertmanager binary, installed with apt-get (bench/alerting)
	command -v prometheus-alertmanager >/dev/null || { apt-get update && apt-get install -y prometheus-alertmanager; }
	$(GO) run ./bench/alerting

bench-remote: build peers ## Compare vigil agent with prometheus --agent scraping 200 targets x 1,000 series and remote-writing to one receiver, at once (bench/remote)
	$(GO) run ./bench/remote -vigil $(BIN)/vigil -prometheus $(PROMETHEUS_DIR)/prometheus

# The generated code lives in the SDK's module; the generators are tools of
# the root module, whose module prefix protoc strips from the go_package
# paths, so the files land in sdk/proto.
PROTO_DIR := sdk/proto
proto: ## Regenerate the plugin protocol's Go code from sdk/proto (needs protoc: apt-get install -y protobuf-compiler)
	@command -v protoc >/dev/null || { echo "make proto needs protoc: apt-get install -y protobuf-compiler"; exit 1; }
	$(GO) build -o $(BIN)/protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go
	$(GO) build -o $(BIN)/protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc
	protoc -I $(PROTO_DIR) -I $$($(GO) list -m -f '{{.Dir}}' github.com/prometheus/client_model) \
		--plugin=protoc-gen-go=$(BIN)/protoc-gen-go --plugin=protoc-gen-go-grpc=$(BIN)/protoc-gen-go-grpc \
		--go_out=. --go_opt=module=github.com/vigilmon/vigil \
		--go-grpc_out=. --go-grpc_opt=module=github.com/vigilmon/vigil \
		$$(cd $(PROTO_DIR) && find . -name '*.proto' | sed 's|^\./||')

proto-check: proto ## Fail when the generated protocol code differs from sdk/proto's .proto files
	@if [ -n "$$(git status --porcelain -- $(PROTO_DIR))" ]; then git status --short -- $(PROTO_DIR); git diff -- $(PROTO_DIR) | head -40; echo "generated code is stale: run make proto and commit"; exit 1; fi

# The web UI: TypeScript sources in web/, built with Vite from npm into
# core/api/ui/dist, which the binary embeds. The build is committed, so
# that building and testing need Go alone; make ui-check rebuilds it and
# fails when it differs from the committed one.
UI_DIST := core/api/ui/dist
ui: ## Build the web UI from web/ into core/api/ui/dist (needs node and npm; npm ci installs the locked packages)
	cd web && npm ci --no-audit --no-fund && npm run build

ui-check: ui ## Fail when the committed UI build differs from what web/'s sources give
	@if [ -n "$$(git status --porcelain -- $(UI_DIST))" ]; then git status --short -- $(UI_DIST); echo "the UI build is stale: run make ui and commit"; exit 1; fi

# The README's pictures of the UI: TestUIScreenshots starts a server with
# some data and renders each page with Chromium (Debian's chromium
# package) to a 1280x800 PNG.
screenshots: ## Render each page of the web UI to docs/screenshots/*.png (needs chromium)
	VIGIL_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots VIGIL_REQUIRE_BROWSER=1 $(GO) test ./cmd/vigil -run '^TestUIScreenshots$$' -count=1

run: ## Run the Vigil server on 127.0.0.1:9090 with the default config (it scrapes itself)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/vigil ./cmd/vigil
	$(BIN)/vigil server

.PHONY: help build plugins windows-check test fuzz lint ui ui-check screenshots bench bench-tsdb bench-tsdb-scale bench-scrape bench-plugins bench-alerting bench-remote bench-ui peers run
