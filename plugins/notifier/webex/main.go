// Command vigil-notifier-webex is Vigil's Cisco Webex notifier plugin, a
// WebAssembly module: a bot posts each notification to a room, with the
// payload and default template of Alertmanager's Webex receiver. Build
// it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-webex.wasm ./plugins/notifier/webex
//
// See README.md; the plugin itself is in webex.go.
package main

import "github.com/vigilmon/vigil/sdk/wasm"

func init() { wasm.Register(webexPlugin) }

// main does not run in a module: the host calls the plugin's exports.
func main() {}
