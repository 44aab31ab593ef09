// Command vigil-notifier-pushover is Vigil's Pushover notifier plugin, a
// WebAssembly module: it sends each notification as a Pushover message,
// with the request and default templates of Alertmanager's Pushover
// receiver. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-pushover.wasm ./plugins/notifier/pushover
//
// See README.md; the plugin itself is in pushover.go.
package main

import "github.com/vigilmon/vigil/sdk/wasm"

func init() { wasm.Register(pushoverPlugin) }

// main does not run in a module: the host calls the plugin's exports.
func main() {}
