// Command vigil-discovery-file is Vigil's file discovery plugin: it reads
// target groups from JSON or YAML files, as Prometheus's file_sd_configs
// do, and sends them again whenever the files change. See README.md.
package main

import "github.com/vigilmon/vigil/sdk"

func main() { sdk.Serve(filePlugin) }
