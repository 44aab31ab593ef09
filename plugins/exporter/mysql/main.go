// Command vigil-exporter-mysql is Vigil's MySQL exporter: a plugin that
// reports a MySQL or MariaDB server's global status and variables,
// replication status and InnoDB compression statistics under
// mysqld_exporter's metric names, so that its dashboards and alerts work
// unchanged.
//
// Build it with
//
//	go build -o bin/vigil-exporter-mysql ./plugins/exporter/mysql
//
// and use it from a Vigil config as README.md shows. Start reading at
// exporter.go; each of mysqld_exporter's collectors is a scraper in a file
// of its own.
package main

import "github.com/vigilmon/vigil/sdk"

// version is the plugin's version.
const version = "0.1.0"

// plugin is the MySQL exporter as the SDK serves it.
var plugin = sdk.Plugin{
	Info: sdk.Info{
		Name:        "mysql",
		Version:     version,
		Description: "Reports a MySQL or MariaDB server's status, variables, replication and InnoDB statistics with mysqld_exporter's metric names.",
	},
	Schema:   schema,
	Exporter: newExporter,
}

func main() { sdk.Serve(plugin) }
