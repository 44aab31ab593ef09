// Command vigil-notifier-jira is Vigil's Jira notifier plugin, a
// WebAssembly module: it opens a Jira issue for each alert group, updates
// it while the group fires and transitions it once resolved, with the
// requests and default templates of Alertmanager's Jira receiver. Build
// it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-jira.wasm ./plugins/notifier/jira
//
// See README.md; the plugin itself is in jira.go.
package main

import "github.com/vigilmon/vigil/sdk/wasm"

func init() { wasm.Register(jiraPlugin) }

// main does not run in a module: the host calls the plugin's exports.
func main() {}
