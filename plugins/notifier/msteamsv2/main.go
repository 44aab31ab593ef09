// Command vigil-notifier-msteamsv2 is Vigil's Microsoft Teams notifier
// plugin for Workflows (Power Automate) webhooks, a WebAssembly module:
// it posts each notification as an Adaptive Card, with the payload and
// default templates of Alertmanager's msteamsv2 receiver. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-msteamsv2.wasm ./plugins/notifier/msteamsv2
//
// See README.md; the plugin itself is in msteamsv2.go.
package main

import "github.com/vigilmon/vigil/sdk/wasm"

func init() { wasm.Register(msteamsv2Plugin) }

// main does not run in a module: the host calls the plugin's exports.
func main() {}
