// Command vigil-discovery-dns is Vigil's DNS discovery plugin: it runs
// Prometheus's dns_sd_configs mechanism, and can ask given name servers
// in place of /etc/resolv.conf's. See README.md.
package main

import (
	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/sdk"
)

func main() { sdk.Serve(upstream.Plugin(mechanism)) }
