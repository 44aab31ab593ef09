package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
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
	var kind, configFile, block, format, wasmCache, module string
	var targets []string
	cmd := &cobra.Command{
		Use:   "run [--kind K] [--config FILE [--block NAME]] [--target T... [--module M]] [--format text|json|junit] PLUGIN",
		Short: "Run the conformance suite against a plugin program or .wasm module",
		Long: `Run every check of the conformance suite (see conformance/CHECKS.md)
against PLUGIN, a plugin program or a WebAssembly module (a path ending in
.wasm), and report each check as pass, fail or skip, with why. Exit 1 when
a MUST check fails.

--kind is the kind the plugin must be: exporter, discovery or notifier; by
default the kind it says it is.

--config is a Vigil configuration file, such as a plugin's sample.hcl: the
suite takes the config {} block of the exporter, discovery or notifier
block that uses PLUGIN, the one whose plugin block's source is PLUGIN or
a file of the same name (a bare name such as "vigil-notifier-email"
matches bin/vigil-notifier-email), or else whose plugin block has the
plugin's name. When several blocks use it, --block NAME says which. A
file holding only the plugin's config attributes, bare or inside one
config {} block, works too. env() and file() work; the config is decoded
against the plugin's schema as vigil server decodes it.

Without --config the suite builds a config from the plugin's schema. In
either case the attributes that the capabilities the plugin claims drive
point at the suite's loopback receivers on 127.0.0.1, an HTTP one for URL
attributes and an SMTP one for smarthost, whatever the file says. A
progress line is shown on stderr when it is a terminal.

A multi-target exporter (one that claims multi-target) is collected on
targets: each --target, with the module --module names (the plugin's
default without it), or else the suite's loopback HTTP receiver.`,
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
			if block != "" && configFile == "" {
				return usageError{errors.New("--block names a block of the --config file; give --config")}
			}
			if _, err := os.Stat(args[0]); err != nil {
				return fmt.Errorf("cannot run the suite: %w", err)
			}
			// A bare name is the file here, not a program on $PATH.
			path, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			if configFile != "" {
				decode, err := pluginConfigDecoder(cmd.ErrOrStderr(), configFile, path, block)
				if err != nil {
					return err
				}
				opts.DecodeConfig = decode
			}
			if module != "" && len(targets) == 0 {
				return usageError{errors.New("--module is the module of the --target targets; give --target")}
			}
			for _, t := range targets {
				if t == "" {
					return usageError{errors.New("--target must not be empty")}
				}
				opts.Targets = append(opts.Targets, sdk.Target{Address: t, Module: module})
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
	cmd.Flags().StringVar(&configFile, "config", "", "a Vigil configuration file, such as a plugin's sample.hcl, whose block that uses the plugin gives its config (default: built from the plugin's schema)")
	cmd.Flags().StringVar(&block, "block", "", "the name of the exporter, discovery or notifier block of --config to take, when several use the plugin")
	cmd.Flags().StringArrayVar(&targets, "target", nil, "for a multi-target exporter: a target to collect; repeat for more (default: the suite's loopback HTTP receiver)")
	cmd.Flags().StringVar(&module, "module", "", "for a multi-target exporter: the module of the --target targets (default: the plugin's default)")
	cmd.Flags().StringVar(&format, "format", "text", "the report's format: text, json or junit")
	cmd.Flags().StringVar(&wasmCache, "wasm-cache", "", "a directory to keep a compiled .wasm module in across runs")
	return cmd
}

// pluginConfigDecoder reads the --config file and returns the function
// that gives the suite the config of the plugin at path, once the
// plugin has said its name and kind: the config block of the block that
// uses it (block, when set), decoded against its schema. A file that
// cannot be read, or block when the file has no block of that name, is
// an error at once, its diagnostics written to stderr.
func pluginConfigDecoder(stderr io.Writer, configFile, path, block string) (func(sdk.Info, sdk.Kind, sdk.Schema) ([]byte, error), error) {
	f, diags := hclconfig.LoadPluginConfigFile(configFile)
	if diags.HasErrors() {
		hclconfig.WriteDiagnostics(stderr, diags)
		return nil, fmt.Errorf("cannot read the config file %s", configFile)
	}
	if block != "" {
		if f.Config == nil {
			return nil, usageError{fmt.Errorf("--block names a block of a Vigil configuration; %s holds one plugin's config attributes", configFile)}
		}
		if !slices.ContainsFunc(f.Config.Instances(), func(inst *hclconfig.PluginInstance) bool { return inst.Name == block }) {
			return nil, fmt.Errorf("%s has no exporter, discovery or notifier block named %q", configFile, block)
		}
	}
	return func(info sdk.Info, kind sdk.Kind, schema sdk.Schema) ([]byte, error) {
		inst, err := f.Instance(hclconfig.PluginQuery{Path: path, Name: info.Name, Kind: kind, Block: block})
		if err != nil {
			return nil, err
		}
		out, diags := hclconfig.DecodePluginConfig(inst, schema)
		if diags.HasErrors() {
			return nil, errors.New(strings.TrimSpace(diags.Error()))
		}
		return out, nil
	}, nil
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
