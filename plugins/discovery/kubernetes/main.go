// Command vigil-discovery-kubernetes is Vigil's Kubernetes discovery
// plugin: it runs Prometheus's kubernetes_sd_configs mechanism. See
// README.md.
package main

import (
	"github.com/prometheus/prometheus/discovery/kubernetes"
	"k8s.io/klog/v2"

	"github.com/vigilmon/vigil/internal/hclogslog"
	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/sdk"
)

var mechanism = upstream.Mechanism{
	Config:      &kubernetes.SDConfig{},
	Version:     "0.1.0",
	Description: "Discovers pods, services, endpoints, endpoint slices, nodes and ingresses from the Kubernetes API, as Prometheus's kubernetes_sd_configs do.",
}

func main() {
	// client-go logs through klog: into the plugin's one log stream too.
	klog.SetSlogLogger(hclogslog.New(sdk.Logger()))
	sdk.Serve(upstream.Plugin(mechanism))
}
