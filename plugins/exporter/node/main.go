//go:build linux

// Command vigil-exporter-node is Vigil's node exporter: a plugin that
// runs node_exporter's collectors, from its collector package, and
// reports what they report, under node_exporter's names, labels and help
// texts, so that its dashboards and alerts work unchanged.
//
// Build it with
//
//	go build -o bin/vigil-exporter-node ./plugins/exporter/node
//
// and use it from a Vigil config as README.md shows. flags.go reads
// node_exporter's collectors and options, config.go turns a config into
// node_exporter's flags, process.go runs the collectors in a process of
// their own (child.go) for each config, and exporter.go ties them to the
// SDK.
package main

import (
	"os"

	"github.com/vigilmon/vigil/sdk"
)

// version is the plugin's version.
const version = "0.2.0"

// plugin is the node exporter as the SDK serves it.
var plugin = sdk.Plugin{
	Info: sdk.Info{
		Name:        "node",
		Version:     version,
		Description: "Runs node_exporter's collectors: the host's CPU, memory, disks, filesystems, network and more, with node_exporter's metric names.",
	},
	Schema:   schema,
	Exporter: newExporter,
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == childArg {
		os.Exit(serveCollectors(os.Args[2:], os.Stdin, os.Stdout, logger.Named("collectors")))
	}
	sdk.Serve(plugin)
	stopCollectors()
}
