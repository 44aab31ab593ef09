// Command vigil-discovery-consul is Vigil's Consul discovery plugin: it
// runs Prometheus's consul_sd_configs mechanism. See README.md.
package main

import (
	"github.com/prometheus/prometheus/discovery/consul"

	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/sdk"
)

var mechanism = upstream.Mechanism{
	Config:      &consul.SDConfig{},
	Version:     "0.1.0",
	Description: "Discovers the instances of services registered in Consul's catalog, as Prometheus's consul_sd_configs do.",
}

func main() { sdk.Serve(upstream.Plugin(mechanism)) }
