// Command vigil-notifier-webhook is Vigil's webhook notifier plugin: it
// POSTs each notification as Alertmanager's webhook message, version 4.
// See README.md.
package main

import "github.com/vigilmon/vigil/sdk"

func main() { sdk.Serve(webhookPlugin) }
