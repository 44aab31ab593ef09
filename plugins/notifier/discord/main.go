// Command vigil-notifier-discord is Vigil's Discord notifier plugin, a
// WebAssembly module: it posts each notification to a Discord webhook,
// with the payload and default templates of Alertmanager's Discord
// receiver. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-discord.wasm ./plugins/notifier/discord
//
// See README.md; the plugin itself is in discord.go.
package main

import "github.com/vigilmon/vigil/sdk/wasm"

func init() { wasm.Register(discordPlugin) }

// main does not run in a module: the host calls the plugin's exports.
func main() {}
