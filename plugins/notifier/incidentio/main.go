// Command vigil-notifier-incidentio is Vigil's incident.io notifier
// plugin, a WebAssembly module: it posts each notification to an
// incident.io HTTP alert source, with the payload of Alertmanager's
// incident.io receiver. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-incidentio.wasm ./plugins/notifier/incidentio
//
// See README.md; the plugin itself is in incidentio.go.
package main

import "github.com/vigilmon/vigil/sdk/wasm"

func init() { wasm.Register(incidentioPlugin) }

// main does not run in a module: the host calls the plugin's exports.
func main() {}
