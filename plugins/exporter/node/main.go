//go:build linux

// Command vigil-exporter-node is Vigil's node exporter: a plugin that
// reports the host's CPU, memory, load, filesystem, network and disk
// statistics from /proc and /sys, under node_exporter's metric names so
// that its dashboards and alerts work unchanged.
//
// Build it with
//
//	go build -o bin/vigil-exporter-node ./plugins/exporter/node
//
// and use it from a Vigil config as README.md shows.
package main

import "github.com/vigilmon/vigil/sdk"

// version is the plugin's version.
const version = "0.1.0"

// plugin is the node exporter as the SDK serves it.
var plugin = sdk.Plugin{
	Info: sdk.Info{
		Name:        "node",
		Version:     version,
		Description: "Reports the host's CPU, memory, load, filesystem, network and disk statistics with node_exporter's metric names.",
	},
	Schema:   schema,
	Exporter: newExporter,
}

func main() { sdk.Serve(plugin) }
