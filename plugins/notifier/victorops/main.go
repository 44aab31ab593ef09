// Command vigil-notifier-victorops is Vigil's VictorOps (Splunk On-Call)
// notifier plugin, a WebAssembly module: it sends each notification to
// the REST endpoint of an integration, with the payload and default
// templates of Alertmanager's VictorOps receiver. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-victorops.wasm ./plugins/notifier/victorops
//
// See README.md; the plugin itself is in victorops.go.
package main

import "github.com/vigilmon/vigil/sdk/wasm"

func init() { wasm.Register(victoropsPlugin) }

// main does not run in a module: the host calls the plugin's exports.
func main() {}
