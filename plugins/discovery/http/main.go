//go:build !wasip1

// Command vigil-discovery-http is Vigil's HTTP discovery plugin: it polls
// a URL for target groups, as Prometheus's http_sd_configs do. See
// README.md.
//
// The package builds two ways: as a program speaking gRPC (this file),
// and, for GOOS=wasip1, as a WebAssembly module (main_wasip1.go) that the
// host polls through the Wasm ABI's vigil_discover call:
//
//	go build -o bin/vigil-discovery-http ./plugins/discovery/http
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-discovery-http.wasm ./plugins/discovery/http
//
// The plugin is in http.go; client.go and client_wasip1.go make its HTTP
// client and logger for each build.
package main

import "github.com/vigilmon/vigil/sdk"

func main() { sdk.Serve(httpPlugin) }
