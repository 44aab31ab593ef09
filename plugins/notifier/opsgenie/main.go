// Command vigil-notifier-opsgenie is Vigil's Opsgenie notifier plugin, a
// WebAssembly module: it creates and closes Opsgenie alerts, with the
// payloads and default templates of Alertmanager's Opsgenie receiver.
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-opsgenie.wasm ./plugins/notifier/opsgenie
//
// See README.md; the plugin itself is in opsgenie.go.
package main

import "github.com/vigilmon/vigil/sdk/wasm"

func init() { wasm.Register(opsgeniePlugin) }

// main does not run in a module: the host calls the plugin's exports.
func main() {}
