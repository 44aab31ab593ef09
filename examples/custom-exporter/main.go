// Command custom-exporter is a complete Vigil exporter plugin, to copy
// when writing your own: it reports how many bytes and files the folders
// of its config hold. README.md builds and runs it.
package main

import (
	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/promexport"
)

func main() {
	sdk.Serve(sdk.Plugin{
		Info: sdk.Info{Name: "dirsize", Version: "0.1.0", Description: "Reports the size of folders."},
		Schema: sdk.Schema{
			sdk.StringList("paths", "The folders to measure.", sdk.Required),
		},
		Exporter: func(cfg sdk.Config) (sdk.Exporter, error) {
			paths := cfg.StringList("paths")
			if len(paths) == 0 {
				return nil, sdk.AttributeErrorf("paths", "name at least one folder")
			}
			reg := promexport.NewRegistry()
			reg.MustRegister(folders{paths: paths})
			return reg.Exporter(), nil
		},
	})
}
