package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vigilmon/vigil/core/pluginhost"
	"github.com/vigilmon/vigil/hclconfig"
)

func newConfigCommand() *cobra.Command {
	return newGroupCommand("config", "Work with configuration files", newConfigValidateCommand(), newConfigImportCommand())
}

func newConfigValidateCommand() *cobra.Command {
	var agent bool
	cmd := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a configuration file and print its diagnostics",
		Long: `Decode FILE as Vigil's HCL configuration and report every mistake with
file, line, column and the line it is on. The plugins the file uses are
started (or loaded) to check each config block against the plugin's own
schema, then stopped; Wasm modules are interpreted, or read back from the
server's compilation cache in data_dir when it holds them compiled. With --agent, the blocks that vigil agent refuses
(rules, alerting, pushes, the remote-write receiver) are mistakes too.
Exit 0 when it is valid, 1 when it is not.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, diags := hclconfig.Load(args[0])
			if !diags.HasErrors() {
				// The host lives only to ask plugins their schemas: Wasm
				// modules are interpreted, not compiled, which would take
				// seconds each, unless the server's compilation cache
				// holds them compiled already, which loads faster still.
				host := pluginhost.New(pluginhost.Options{InterpretWasm: true, CacheDir: filepath.Join(cfg.Server.DataDir, "wasm-cache")})
				_, pluginDiags := host.Resolve(cmd.Context(), cfg)
				diags = append(diags, pluginDiags...)
				host.Close()
			}
			if len(diags) > 0 {
				if err := hclconfig.WriteDiagnostics(cmd.ErrOrStderr(), diags); err != nil {
					return err
				}
			}
			if diags.HasErrors() {
				return fmt.Errorf("configuration %q is not valid", args[0])
			}
			if agent {
				if err := cfg.CheckAgent(); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "configuration %q is valid: %d scrape and exporter blocks, %d plugins, %d dashboards\n", args[0], len(cfg.Scrapes), len(cfg.Plugins), len(cfg.Dashboards))
			return nil
		},
	}
	cmd.Flags().BoolVar(&agent, "agent", false, "check the file for vigil agent")
	return cmd
}
