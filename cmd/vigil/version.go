package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version and revision are set at build time with -ldflags
// "-X main.version=... -X main.revision=...", as `make build` does from
// `git describe --tags --always --dirty` and `git rev-parse HEAD`;
// otherwise they come from the module's build information.
var version, revision = "", ""

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of vigil",
		Long: `Print the version of vigil, the source revision it was built from and the
Go toolchain that built it; vigil --version prints the same.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), versionString())
			return nil
		},
	}
}

// versionString names the version, the source revision and the Go toolchain.
func versionString() string {
	revision := buildRevision()
	if revision == "" {
		revision = "unknown"
	}
	return fmt.Sprintf("vigil version %s (revision %s, %s %s/%s)", buildVersion(), revision, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// buildVersion is the version alone, as the build stamped it, or the
// module's version, or "devel".
func buildVersion() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok && v == "" {
		v = info.Main.Version
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	return v
}

// buildRevision is the source revision as the build stamped it, or as
// the Go toolchain recorded it in the build information (vcs.revision),
// or "" when neither did.
func buildRevision() string {
	if revision != "" {
		return revision
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return ""
}
