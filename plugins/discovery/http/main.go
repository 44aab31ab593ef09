// Command vigil-discovery-http is Vigil's HTTP discovery plugin: it polls
// a URL for target groups, as Prometheus's http_sd_configs do. See
// README.md.
package main

import "github.com/vigilmon/vigil/sdk"

func main() { sdk.Serve(httpPlugin) }
