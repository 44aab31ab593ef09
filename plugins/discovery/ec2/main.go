// Command vigil-discovery-ec2 is Vigil's Amazon EC2 discovery plugin: it
// runs Prometheus's ec2_sd_configs mechanism. See README.md.
package main

import (
	"github.com/prometheus/prometheus/discovery/aws"

	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/sdk"
)

var mechanism = upstream.Mechanism{
	Config:      &aws.EC2SDConfig{},
	Version:     "0.1.0",
	Description: "Discovers Amazon EC2 instances, as Prometheus's ec2_sd_configs do.",
}

func main() { sdk.Serve(upstream.Plugin(mechanism)) }
