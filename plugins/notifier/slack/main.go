// Command vigil-notifier-slack is Vigil's Slack notifier plugin, a
// WebAssembly module: it posts each notification to a Slack incoming
// webhook. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-slack.wasm ./plugins/notifier/slack
//
// See README.md; the plugin itself is in slack.go.
package main

import "github.com/vigilmon/vigil/sdk/wasm"

func init() { wasm.Register(slackPlugin) }

// main does not run in a module: the host calls the plugin's exports.
func main() {}
