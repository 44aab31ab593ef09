// Command vigil-exporter-haproxy is Vigil's HAProxy exporter: a plugin
// that reads HAProxy's statistics, as CSV over HTTP or from its stats
// socket, and reports its frontends, backends and servers under
// haproxy_exporter's metric names, so that its dashboards and alerts work
// unchanged.
//
// Build it with
//
//	go build -o bin/vigil-exporter-haproxy ./plugins/exporter/haproxy
//
// and use it from a Vigil config as README.md shows. Start reading at
// exporter.go; metrics.go lists the metrics by CSV field.
package main

import "github.com/vigilmon/vigil/sdk"

// version is the plugin's version.
const version = "0.1.0"

// plugin is the HAProxy exporter as the SDK serves it.
var plugin = sdk.Plugin{
	Info: sdk.Info{
		Name:        "haproxy",
		Version:     version,
		Description: "Reports HAProxy's frontends, backends and servers from its statistics, with haproxy_exporter's metric names.",
	},
	Schema:   schema,
	Exporter: newExporter,
}

func main() { sdk.Serve(plugin) }
