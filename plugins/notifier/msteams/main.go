// Command vigil-notifier-msteams is Vigil's Microsoft Teams notifier
// plugin for the legacy Office 365 connectors (incoming webhooks), a
// WebAssembly module: it posts each notification as a message card, with
// the payload and default templates of Alertmanager's msteams receiver.
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-msteams.wasm ./plugins/notifier/msteams
//
// See README.md; the plugin itself is in msteams.go.
package main

import "github.com/vigilmon/vigil/sdk/wasm"

func init() { wasm.Register(msteamsPlugin) }

// main does not run in a module: the host calls the plugin's exports.
func main() {}
