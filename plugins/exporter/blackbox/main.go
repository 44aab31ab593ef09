// Command vigil-exporter-blackbox is Vigil's blackbox prober: a
// multi-target exporter plugin that probes each target of its exporter
// block over HTTP, TCP, DNS, ICMP or gRPC health, as Prometheus's
// blackbox_exporter does, with its modules and its probe_* metric names,
// so that its dashboards and alerts work unchanged.
//
// Build it with
//
//	go build -o bin/vigil-exporter-blackbox ./plugins/exporter/blackbox
//
// and use it from a Vigil config as README.md shows. Start with
// exporter.go (CollectTarget); config.go is the modules' YAML, and each
// prober has its file.
package main

import "github.com/vigilmon/vigil/sdk"

// version is the plugin's version.
const version = "0.1.0"

// plugin is the blackbox prober as the SDK serves it.
var plugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "blackbox",
		Version:      version,
		Description:  "Probes each target over HTTP, TCP, DNS, ICMP or gRPC health with blackbox_exporter's modules and probe_* metric names.",
		Capabilities: []string{sdk.CapabilityMultiTarget},
	},
	Schema:   schema,
	Exporter: newExporter,
}

func main() { sdk.Serve(plugin) }
