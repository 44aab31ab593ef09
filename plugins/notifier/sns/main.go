// Command vigil-notifier-sns is Vigil's Amazon SNS notifier plugin, a
// WebAssembly module: it publishes each notification to a topic, a
// phone number or an endpoint, signing the request with AWS Signature
// Version 4, with the request and default templates of Alertmanager's SNS
// receiver. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-sns.wasm ./plugins/notifier/sns
//
// See README.md; the plugin itself is in sns.go.
package main

import "github.com/vigilmon/vigil/sdk/wasm"

func init() { wasm.Register(snsPlugin) }

// main does not run in a module: the host calls the plugin's exports.
func main() {}
