// Command vigil-exporter-windows is Vigil's Windows exporter: a plugin
// that runs windows_exporter's collectors, from its collector package, and
// reports what they report, under windows_exporter's names, labels and
// help texts, so that its dashboards and alerts work unchanged.
//
// It runs on Windows only. Build it with
//
//	cd plugins/exporter/windows && GOOS=windows go build -o ../../../bin/vigil-exporter-windows.exe .
//
// (make plugins does) and use it from a Vigil config as README.md shows.
// config.go turns a config into windows_exporter's flags, and
// exporter_windows.go runs the collectors with them. Built for another
// system (exporter_other.go), the program checks configs as the Windows
// build does, so that vigil config validate works anywhere, and each
// collection fails saying that the plugin runs on Windows only.
package main

import (
	"os"

	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/sdk"
)

// version is the plugin's version.
const version = "0.1.0"

// plugin is the Windows exporter as the SDK serves it.
var plugin = sdk.Plugin{
	Info: sdk.Info{
		Name:        "windows",
		Version:     version,
		Description: "Runs windows_exporter's collectors on Windows: CPU, memory, logical disks, network, OS, services and system, with windows_exporter's metric names.",
	},
	Schema:   schema,
	Exporter: newExporter,
}

// logger is the plugin's logger, on its stderr, which the host reads.
var logger = hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true, Level: hclog.Trace})

func main() {
	sdk.Serve(plugin)
}
