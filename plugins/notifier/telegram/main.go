// Command vigil-notifier-telegram is Vigil's Telegram notifier plugin, a
// WebAssembly module: a bot sends each notification to a chat, with the
// request and default template of Alertmanager's Telegram receiver.
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-telegram.wasm ./plugins/notifier/telegram
//
// See README.md; the plugin itself is in telegram.go.
package main

import "github.com/vigilmon/vigil/sdk/wasm"

func init() { wasm.Register(telegramPlugin) }

// main does not run in a module: the host calls the plugin's exports.
func main() {}
