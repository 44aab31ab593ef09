// Command vigil-discovery-eureka is Vigil's Eureka discovery plugin: it
// runs Prometheus's eureka_sd_configs mechanism. See README.md.
package main

import (
	"github.com/prometheus/prometheus/discovery/eureka"

	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/sdk"
)

var mechanism = upstream.Mechanism{
	Config:      &eureka.SDConfig{},
	Version:     "0.1.0",
	Description: "Discovers the application instances registered in Eureka, as Prometheus's eureka_sd_configs do.",
}

func main() { sdk.Serve(upstream.Plugin(mechanism)) }
