// Command vigil-discovery-docker is Vigil's Docker discovery plugin: it
// runs Prometheus's docker_sd_configs mechanism. See README.md.
package main

import (
	"github.com/prometheus/prometheus/discovery/moby"

	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/sdk"
)

var mechanism = upstream.Mechanism{
	Config:      &moby.DockerSDConfig{},
	Version:     "0.1.0",
	Description: "Discovers Docker containers, as Prometheus's docker_sd_configs do.",
}

func main() { sdk.Serve(upstream.Plugin(mechanism)) }
