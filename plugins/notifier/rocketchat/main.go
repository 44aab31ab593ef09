// Command vigil-notifier-rocketchat is Vigil's Rocket.Chat notifier
// plugin, a WebAssembly module: it posts each notification to a channel
// through Rocket.Chat's REST API, with the payload and default templates
// of Alertmanager's Rocket.Chat receiver. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-rocketchat.wasm ./plugins/notifier/rocketchat
//
// See README.md; the plugin itself is in rocketchat.go.
package main

import "github.com/vigilmon/vigil/sdk/wasm"

func init() { wasm.Register(rocketchatPlugin) }

// main does not run in a module: the host calls the plugin's exports.
func main() {}
