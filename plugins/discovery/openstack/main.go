// Command vigil-discovery-openstack is Vigil's OpenStack discovery plugin: it
// runs Prometheus's openstack_sd_configs mechanism. See README.md.
package main

import (
	"github.com/prometheus/prometheus/discovery/openstack"

	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/sdk"
)

var mechanism = upstream.Mechanism{
	Config:      &openstack.SDConfig{},
	Version:     "0.1.0",
	Description: "Discovers OpenStack Nova instances and hypervisors, as Prometheus's openstack_sd_configs do.",
}

func main() { sdk.Serve(upstream.Plugin(mechanism)) }
