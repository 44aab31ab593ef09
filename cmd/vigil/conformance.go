package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vigilmon/vigil/conformance"
	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/sdk"
)

func newConformanceCommand() *cobra.Command {
	return newGroupCommand("conformance", "Check that a plugin keeps the plugin contract", newConformanceRunCommand())
}

func newConformanceRunCommand() *cobra.Command {
	var kind, configFile, format, wasmCache string
	cmd := &cobra.Command{
		Use:   "run [--kind K] [--config FILE] [--format text|json|junit] PLUGIN",
		Short: "Run the conformance suite against a plugin program or .wasm module",
		Long: `Run every check of the conformance suite (see conformance/CHECKS.md)
against PLUGIN, a plugin program or a WebAssembly module (a path ending in
.wasm), and report each check as pass, fail or skip, with why. Exit 1 when
a MUST check fails.

--kind is the kind the plugin must be: exporter, discovery or notifier; by
default the kind it says it is. --config is an HCL file holding the
plugin's config attributes, as in a config {} block (bare, or inside one
config block; env() and file() work); without it the suite builds a config
from the plugin's schema, pointing URL attributes at a loopback receiver
on 127.0.0.1. A progress line is shown on stderr when it is a terminal.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			write, ok := reportWriters[format]
			if !ok {
				return usageError{fmt.Errorf("--format must be text, json or junit, not %q", format)}
			}
			opts := conformance.Options{}
			if kind != "" {
				k, err := parseKind(kind, cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				opts.Kind = k
			}
			if configFile != "" {
				inst, diags := hclconfig.LoadPluginConfig(configFile, opts.Kind)
				if diags.HasErrors() {
					hclconfig.WriteDiagnostics(cmd.ErrOrStderr(), diags)
					return errors.New("cannot read the plugin config")
				}
				opts.DecodeConfig = func(_ sdk.Info, _ sdk.Kind, schema sdk.Schema) ([]byte, error) {
					out, diags := hclconfig.DecodePluginConfig(inst, schema)
					if diags.HasErrors() {
						return nil, errors.New(strings.TrimSpace(diags.Error()))
					}
					return out, nil
				}
			}
			if _, err := os.Stat(args[0]); err != nil {
				return fmt.Errorf("cannot run the suite: %w", err)
			}
			// A bare name is the file here, not a program on $PATH.
			path, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			target := conformance.Program(path)
			target.WasmCacheDir = wasmCache
			progress := newProgress(cmd.ErrOrStderr())
			opts.Progress = progress.show
			rep, err := conformance.Run(cmd.Context(), target, opts)
			progress.clear()
			if err != nil {
				return err
			}
			if err := write(cmd.OutOrStdout(), rep); err != nil {
				return err
			}
			if rep.Failed() {
				n, checks := rep.MustFailures(), "checks"
				if n == 1 {
					checks = "check"
				}
				return fmt.Errorf("%s does not conform: %d MUST %s failed", args[0], n, checks)
			}
			return nil
		},
	}
	addKindFlag(cmd, &kind, "the kind the plugin must be: "+kindList()+" (default: the plugin's own)")
	cmd.Flags().StringVar(&configFile, "config", "", "an HCL file with the plugin's config attributes (default: built from the plugin's schema)")
	cmd.Flags().StringVar(&format, "format", "text", "the report's format: text, json or junit")
	cmd.Flags().StringVar(&wasmCache, "wasm-cache", "", "a directory to keep a compiled .wasm module in across runs")
	return cmd
}

var reportWriters = map[string]func(io.Writer, conformance.Report) error{
	"text":  conformance.WriteText,
	"json":  conformance.WriteJSON,
	"junit": conformance.WriteJUnit,
}

// progress shows the check running on one line of a terminal, and
// nothing elsewhere.
type progress struct {
	w     io.Writer
	width int
}

func newProgress(w io.Writer) *progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &progress{w: w}
	}
	return &progress{}
}

func (p *progress) show(i, total int, c conformance.Check) {
	if p.w == nil {
		return
	}
	line := fmt.Sprintf("[%d/%d] %s", i, total, c.ID)
	fmt.Fprintf(p.w, "\r%-*s", p.width, line)
	p.width = max(p.width, len(line))
}

func (p *progress) clear() {
	if p.w != nil && p.width > 0 {
		fmt.Fprintf(p.w, "\r%*s\r", p.width, "")
	}
}
