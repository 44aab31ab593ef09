// Command vigil-notifier-pagerduty is Vigil's PagerDuty notifier plugin,
// a WebAssembly module: it sends each notification as an event of
// PagerDuty's Events API v2. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-pagerduty.wasm ./plugins/notifier/pagerduty
//
// See README.md; the plugin itself is in pagerduty.go.
package main

import "github.com/vigilmon/vigil/sdk/wasm"

func init() { wasm.Register(pagerdutyPlugin) }

// main does not run in a module: the host calls the plugin's exports.
func main() {}
