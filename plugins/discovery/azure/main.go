// Command vigil-discovery-azure is Vigil's Azure discovery plugin: it
// runs Prometheus's azure_sd_configs mechanism. See README.md.
package main

import (
	"github.com/prometheus/prometheus/discovery/azure"

	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/sdk"
)

var mechanism = upstream.Mechanism{
	Config:      &azure.SDConfig{},
	Version:     "0.1.0",
	Description: "Discovers Azure virtual machines and scale set instances, as Prometheus's azure_sd_configs do.",
}

func main() { sdk.Serve(upstream.Plugin(mechanism)) }
