// Command vigil-exporter-apache is Vigil's Apache exporter, a WebAssembly
// module: it reads the Apache HTTP Server's mod_status page in its
// machine-readable form (?auto) and reports it under apache_exporter's
// metric names, so that its dashboards and alerts work unchanged. Build it
// with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-exporter-apache.wasm ./plugins/exporter/apache
//
// See README.md; the plugin is in apache.go, the page's parsing in
// status.go.
package main

import "github.com/vigilmon/vigil/sdk/wasm"

func init() { wasm.Register(apachePlugin) }

// main does not run in a module: the host calls the plugin's exports.
func main() {}
