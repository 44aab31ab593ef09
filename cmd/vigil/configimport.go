package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vigilmon/vigil/hclconfig/promimport"
)

func newConfigImportCommand() *cobra.Command {
	var output, pluginDir string
	cmd := &cobra.Command{
		Use:   "import [-o FILE] PROMETHEUS_YML",
		Short: "Convert a Prometheus configuration file into Vigil's HCL",
		Long: `Convert PROMETHEUS_YML, a Prometheus configuration, into Vigil's HCL: the
global block, the scrape configs with their static targets, their service
discoveries that a plugin serves (file, http, kubernetes, consul, ec2, dns,
azure, gce, openstack, docker, nomad, eureka: discovery blocks of those
plugins),
relabeling, limits, authentication and TLS, rule_files, the Alertmanagers
of alerting, and remote_write and remote_read (remote_write and remote_read
blocks, named after each entry's name or its URL's host). Prometheus's own
code reads the file, with its
defaults and checks. The HCL, in the canonical format, goes to standard
output, or to FILE with -o.

What Vigil has no equivalent for (other service discoveries, storage
settings, remote write metadata, sigv4, ...) is left out of the HCL and
reported on standard error, a line each:

  PROMETHEUS_YML:LINE: KEY is not converted: WHY

Exit status: 0 when everything was converted; 1 when something was not (the
HCL is written all the same), or when the file is not a configuration
Prometheus would load (then nothing is written).

The plugin blocks name the programs (vigil-discovery-file, ...) alone,
which vigil finds beside itself (where make plugins builds them) or on
PATH; --plugin-dir names their folder instead.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			src, err := os.ReadFile(name)
			if err != nil {
				return fmt.Errorf("cannot read %q: %w", name, err)
			}
			res, err := promimport.Convert(src, promimport.Options{Filename: filepath.Base(name), PluginDir: pluginDir})
			if err != nil {
				return fmt.Errorf("cannot import %q: %w", name, err)
			}
			if output == "" {
				if _, err := cmd.OutOrStdout().Write(res.HCL); err != nil {
					return fmt.Errorf("cannot write the HCL: %w", err)
				}
			} else if err := writeLike(output, res.HCL, name); err != nil {
				return err
			}
			if err := res.WriteReport(cmd.ErrOrStderr(), name); err != nil {
				return fmt.Errorf("cannot write the report: %w", err)
			}
			if n := len(res.Unconverted); n > 0 {
				return fmt.Errorf("%d settings of %q are not converted; the HCL leaves them out", n, name)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the HCL to `FILE` instead of standard output")
	cmd.Flags().StringVar(&pluginDir, "plugin-dir", "", "the `DIR` of the discovery plugin programs, relative to the HCL file's folder or absolute (default: their names alone, found beside vigil or on PATH)")
	return cmd
}

// writeLike writes data to name with the permissions of the file like,
// since the HCL carries the secrets the YAML had.
func writeLike(name string, data []byte, like string) error {
	perm := os.FileMode(0o600)
	if fi, err := os.Stat(like); err == nil {
		perm = fi.Mode().Perm()
	}
	if err := os.WriteFile(name, data, perm); err != nil {
		return fmt.Errorf("cannot write %q: %w", name, err)
	}
	return nil
}
