package main

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"go/format"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/vigilmon/vigil/sdk"
)

// pluginTemplates are the files of a new plugin project; each NAME.tmpl
// becomes NAME, rendered with a pluginProject.
//
//go:embed pluginnew_templates/*.tmpl
var pluginTemplates embed.FS

// vigilModule is the module a plugin project requires.
const vigilModule = "github.com/vigilmon/vigil"

// placeholderVersion is the version of vigilModule a project requires
// when this binary does not know its own.
const placeholderVersion = "v0.0.0"

var (
	newPluginNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	modulePathRE    = regexp.MustCompile(`^[A-Za-z0-9._~-]+(/[A-Za-z0-9._~+-]+)*$`)
	goVersionRE     = regexp.MustCompile(`^go(\d+\.\d+(\.\d+)?)$`)
)

// pluginProject is what the templates are rendered with.
type pluginProject struct {
	// Name is the plugin's name, Module its Go module path.
	Name, Module string
	// Kind is "exporter", "discovery" or "notifier", the name of the
	// kind's config block.
	Kind string
	// Wasm is set for a WebAssembly module.
	Wasm bool
	// Binary is the file go build writes, as the sample config uses it.
	Binary string
	// Metric is the prefix of an exporter's metric names.
	Metric string
	// VigilVersion is the version of vigilModule required; Placeholder
	// says it is placeholderVersion.
	VigilVersion string
	Placeholder  bool
	// GoVersion is the go line of go.mod.
	GoVersion string
}

func newPluginNewCommand() *cobra.Command {
	var kind, dir, module string
	var wasm bool
	cmd := &cobra.Command{
		Use:   "new --kind exporter|discovery|notifier [--wasm] [--dir DIR] [--module PATH] NAME",
		Short: "Create a plugin project to start from",
		Long: `Create a new plugin project in the folder NAME (or --dir): go.mod, main.go
built on the plugin SDK, sample.hcl with the blocks that run it, README.md,
and plugin_test.go, which runs the conformance suite and passes as created.

--kind is exporter, discovery or notifier, as the config block that runs
the plugin is named. --wasm makes a WebAssembly module (sdk/wasm) instead
of a program speaking gRPC; a discovery plugin cannot be one. --module is the Go module path (default example.com/NAME). NAME is
the plugin's name: a lowercase letter, then lowercase letters, digits, '-'
and '_'. The folder must not exist or be empty.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := newPluginProject(args[0], kind, module, wasm, cmd.ErrOrStderr())
			if err != nil {
				return usageError{err}
			}
			if dir == "" {
				dir = p.Name
			}
			if err := writePluginProject(dir, p); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Created %s plugin %q in %s.\n\nNext:\n  cd %s\n  go mod tidy\n  go test ./...\n", p.Kind, p.Name, dir, dir)
			if p.Placeholder {
				fmt.Fprintf(out, "\nThis vigil does not know its version: go.mod requires %s %s; set the version you build against (go get %s@latest) before go mod tidy.\n", vigilModule, placeholderVersion, vigilModule)
			}
			return nil
		},
	}
	addKindFlag(cmd, &kind, "the kind of plugin: "+kindList()+" (required)")
	cmd.Flags().BoolVar(&wasm, "wasm", false, "make a WebAssembly module (exporter or notifier) instead of a gRPC program")
	cmd.Flags().StringVar(&dir, "dir", "", "the folder to create the project in (default: NAME)")
	cmd.Flags().StringVar(&module, "module", "", "the Go module path (default: example.com/NAME)")
	return cmd
}

// newPluginProject checks the command's arguments and says what to write;
// note gets what the user should know but need not act on.
func newPluginProject(name, kind, module string, wasm bool, note io.Writer) (pluginProject, error) {
	p := pluginProject{Name: name, Module: module, Wasm: wasm}
	if !newPluginNameRE.MatchString(name) {
		return p, fmt.Errorf("plugin name %q: must be a lowercase letter, then at most 62 lowercase letters, digits, '-' and '_'", name)
	}
	if kind == "" {
		return p, errors.New("--kind is required: " + kindList())
	}
	k, err := parseKind(kind, note)
	if err != nil {
		return p, err
	}
	p.Kind = k.String()
	if wasm && k == sdk.KindDiscoverer {
		return p, errors.New("--wasm: a discovery plugin cannot be a WebAssembly module (Wasm ABI version 1 has no streaming call); leave out --wasm")
	}
	if p.Module == "" {
		p.Module = "example.com/" + name
	}
	if !modulePathRE.MatchString(p.Module) || strings.Contains(p.Module, "..") {
		return p, fmt.Errorf("--module %q is not a Go module path such as example.com/%s", p.Module, name)
	}
	p.Binary = "vigil-" + p.Kind + "-" + name
	if wasm {
		p.Binary += ".wasm"
	}
	p.Metric = strings.ReplaceAll(name, "-", "_")
	p.VigilVersion, p.Placeholder = vigilVersion()
	p.GoVersion = "1.26"
	if m := goVersionRE.FindStringSubmatch(runtime.Version()); m != nil {
		p.GoVersion = m[1]
	}
	return p, nil
}

// vigilVersion is the version of vigilModule this binary was built
// from, or placeholderVersion and true when it does not know.
func vigilVersion() (string, bool) {
	v := version
	if v == "" {
		if info, ok := debug.ReadBuildInfo(); ok {
			v = info.Main.Version
		}
	}
	if v != "" && !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	if v == "" || v == "v(devel)" || !regexp.MustCompile(`^v\d+\.\d+\.\d+`).MatchString(v) {
		return placeholderVersion, true
	}
	return v, false
}

// writePluginProject renders every template into dir, which must not
// exist or be empty.
func writePluginProject(dir string, p pluginProject) error {
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return fmt.Errorf("cannot create the plugin in %s: the folder exists and is not empty", dir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot create the plugin in %s: %w", dir, err)
	}
	files, err := renderPluginProject(p)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the plugin's folder: %w", err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			return fmt.Errorf("cannot write the plugin's %s: %w", name, err)
		}
	}
	return nil
}

// renderPluginProject renders every template, by the name of the file
// it becomes; Go files are gofmt'ed.
func renderPluginProject(p pluginProject) (map[string][]byte, error) {
	tmpl, err := template.ParseFS(pluginTemplates, "pluginnew_templates/*.tmpl")
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, t := range tmpl.Templates() {
		name := strings.TrimSuffix(t.Name(), ".tmpl")
		var b bytes.Buffer
		if err := t.Execute(&b, p); err != nil {
			return nil, fmt.Errorf("template %s: %w", t.Name(), err)
		}
		out := b.Bytes()
		if strings.HasSuffix(name, ".go") {
			if out, err = format.Source(out); err != nil {
				return nil, fmt.Errorf("template %s makes Go that does not parse: %w", t.Name(), err)
			}
		}
		files[name] = out
	}
	return files, nil
}
