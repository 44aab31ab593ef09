// Command vigil-discovery-nomad is Vigil's Nomad discovery plugin: it
// runs Prometheus's nomad_sd_configs mechanism. See README.md.
package main

import (
	"github.com/prometheus/prometheus/discovery/nomad"

	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/sdk"
)

var mechanism = upstream.Mechanism{
	Config:      &nomad.SDConfig{},
	Version:     "0.1.0",
	Description: "Discovers the services registered in Nomad, as Prometheus's nomad_sd_configs do.",
}

func main() { sdk.Serve(upstream.Plugin(mechanism)) }
