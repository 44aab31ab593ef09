package main

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"go/format"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"text/template"

	"github.com/spf13/cobra"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/vigilmon/vigil/sdk"
)

// pluginTemplates are the files of a new plugin project; each NAME.tmpl
// becomes NAME, rendered with a pluginProject.
//
//go:embed pluginnew_templates/*.tmpl
var pluginTemplates embed.FS

// sdkModule is the module a plugin project requires: the SDK, a module
// of its own so that a plugin does not inherit Vigil's requirements.
const sdkModule = "github.com/vigilmon/vigil/sdk"

// localSDKVersion is the version of sdkModule a project built against a
// checkout's SDK requires, when this vigil does not know its own: the
// replace directive decides what is built, so it names no release.
const localSDKVersion = "v0.0.0-00010101000000-000000000000"

// minGoVersion is the go line of a new project's go.mod: the SDK's, so
// that any Go toolchain able to build the SDK builds the project without
// fetching a newer one. go mod tidy raises it if a requirement needs it.
const minGoVersion = "1.26.0"

var (
	newPluginNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	modulePathRE    = regexp.MustCompile(`^[A-Za-z0-9._~-]+(/[A-Za-z0-9._~+-]+)*$`)
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
	// SDKModule is sdkModule, and SDKVersion the version required.
	SDKModule, SDKVersion string
	// SDKDir is the SDK folder of a Vigil checkout that go.mod replaces
	// the SDK with; empty to build against the published SDKVersion.
	SDKDir string
	// GoVersion is the go line of go.mod.
	GoVersion string
}

func newPluginNewCommand() *cobra.Command {
	var kind, dir, module, sdkDir string
	var wasm bool
	cmd := &cobra.Command{
		Use:   "new --kind exporter|discovery|notifier [--wasm] [--sdk DIR] [--dir DIR] [--module PATH] NAME",
		Short: "Create a plugin project to start from",
		Long: `Create a new plugin project in the folder NAME (or --dir): go.mod, main.go
built on the plugin SDK, sample.hcl with the blocks that run it, README.md,
and plugin_test.go, whose tests pass as created; then run go mod tidy in
it, so go build and go test work at once.

The project requires the SDK module, github.com/vigilmon/vigil/sdk, at
this vigil's version. --sdk DIR builds it against the SDK of a Vigil
checkout instead (DIR is the checkout's sdk folder): go.mod gets a replace
directive naming it. A vigil built from a checkout knows no release, so
it needs --sdk.

--kind is exporter, discovery or notifier, as the config block that runs
the plugin is named. --wasm makes a WebAssembly module (sdk/wasm) instead
of a program speaking gRPC; a discovery plugin cannot be one. --module is
the Go module path (default example.com/NAME). NAME is the plugin's name:
a lowercase letter, then lowercase letters, digits, '-' and '_'. The
folder must not exist or be empty.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := newPluginProject(args[0], kind, module, wasm, cmd.ErrOrStderr())
			if err != nil {
				return usageError{err}
			}
			if err := p.useSDK(sdkDir); err != nil {
				return usageError{err}
			}
			if dir == "" {
				dir = p.Name
			}
			created, err := writePluginProject(dir, p)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			tidied, err := tidyPluginProject(cmd.Context(), dir, cmd.ErrOrStderr())
			if err != nil {
				if rmErr := removePluginProject(dir, created); rmErr != nil {
					err = errors.Join(err, rmErr)
				}
				if p.SDKDir == "" {
					err = fmt.Errorf("%w; if %s %s is not published, build against a Vigil checkout: vigil plugin new --sdk PATH/TO/vigil/sdk NAME", err, sdkModule, p.SDKVersion)
				}
				return err
			}
			against := fmt.Sprintf("%s %s", sdkModule, p.SDKVersion)
			if p.SDKDir != "" {
				against = "the SDK in " + p.SDKDir
			}
			fmt.Fprintf(out, "Created %s plugin %q in %s, built against %s.\n\nNext:\n  cd %s\n", p.Kind, p.Name, dir, against, dir)
			if !tidied {
				fmt.Fprintf(out, "  go mod tidy    # go is not on $PATH: the SDK's requirements are not resolved yet\n")
			}
			build := "go build -o bin/" + p.Binary + " ."
			if p.Wasm {
				build = "GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/" + p.Binary + " ."
			}
			fmt.Fprintf(out, "  go test ./...\n  %s\n", build)
			if _, err := exec.LookPath("vigil"); err != nil {
				if self, err := os.Executable(); err == nil {
					fmt.Fprintf(out, "\nvigil is not on $PATH, so go test skips the checks that run it; to run them:\n  VIGIL_BINARY=%s go test ./...\n", self)
				}
			}
			return nil
		},
	}
	addKindFlag(cmd, &kind, "the kind of plugin: "+kindList()+" (required)")
	cmd.Flags().BoolVar(&wasm, "wasm", false, "make a WebAssembly module (exporter or notifier) instead of a gRPC program")
	cmd.Flags().StringVar(&sdkDir, "sdk", "", "build against the SDK in this folder of a Vigil checkout (its sdk folder) instead of a published release")
	cmd.Flags().StringVar(&dir, "dir", "", "the folder to create the project in (default: NAME)")
	cmd.Flags().StringVar(&module, "module", "", "the Go module path (default: example.com/NAME)")
	_ = cmd.MarkFlagDirname("sdk")
	_ = cmd.MarkFlagDirname("dir")
	return cmd
}

// newPluginProject checks the command's arguments and says what to write;
// note gets what the user should know but need not act on.
func newPluginProject(name, kind, module string, wasm bool, note io.Writer) (pluginProject, error) {
	p := pluginProject{Name: name, Module: module, Wasm: wasm, SDKModule: sdkModule, GoVersion: minGoVersion}
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
		return p, errors.New("--wasm: the scaffold of a discovery plugin is a program only (a WebAssembly discoverer also implements sdk.PollingDiscoverer, which the host polls: see package sdk/wasm); leave out --wasm")
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
	return p, nil
}

// useSDK sets the SDK the project builds against: the folder dir of a
// checkout, or, when dir is empty, the release of this vigil's version.
func (p *pluginProject) useSDK(dir string) error {
	version, known := vigilVersion()
	if dir == "" {
		if !known {
			return fmt.Errorf("this vigil was built without a release version, so it cannot tell which %s to require: build against a Vigil checkout with --sdk PATH/TO/vigil/sdk", sdkModule)
		}
		p.SDKVersion = version
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("--sdk %s: %w", dir, err)
	}
	data, err := os.ReadFile(filepath.Join(abs, "go.mod"))
	if err != nil {
		return fmt.Errorf("--sdk %s must be the sdk folder of a Vigil checkout: %w", dir, err)
	}
	if got := modfile.ModulePath(data); got != sdkModule {
		return fmt.Errorf("--sdk %s must be the sdk folder of a Vigil checkout: its go.mod is module %q, not %s", dir, got, sdkModule)
	}
	p.SDKDir = abs
	p.SDKVersion = localSDKVersion
	if known {
		p.SDKVersion = version
	}
	return nil
}

// vigilVersion is the release this binary was built as, and whether it
// knows one. Vigil and its SDK are released together, as vX.Y.Z and
// sdk/vX.Y.Z. A build from a checkout without -ldflags "-X main.version"
// knows none: its version is "(devel)" or a pseudo-version of a commit,
// which names no release of the SDK.
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
	if !semver.IsValid(v) || semver.Build(v) != "" || module.IsPseudoVersion(v) {
		return "", false
	}
	return v, true
}

// writePluginProject renders every template into dir, which must not
// exist or be empty, and says whether it created dir.
func writePluginProject(dir string, p pluginProject) (created bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return false, fmt.Errorf("cannot create the plugin in %s: the folder exists and is not empty", dir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("cannot create the plugin in %s: %w", dir, err)
	}
	created = err != nil
	files, err := renderPluginProject(p)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("cannot create the plugin's folder: %w", err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			return created, errors.Join(fmt.Errorf("cannot write the plugin's %s: %w", name, err), removePluginProject(dir, created))
		}
	}
	return created, nil
}

// removePluginProject undoes writePluginProject: dir was empty or absent
// before, so everything in it is the project's.
func removePluginProject(dir string, created bool) error {
	if created {
		return os.RemoveAll(dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
	}
	return errors.Join(errs...)
}

// tidyPluginProject runs go mod tidy in dir, saying so on progress, so
// the project's go.mod and go.sum list what the SDK requires. It returns
// false, doing nothing, when go is not on $PATH.
func tidyPluginProject(ctx context.Context, dir string, progress io.Writer) (bool, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return false, nil
	}
	fmt.Fprintf(progress, "Running go mod tidy in %s...\n", dir)
	cmd := exec.CommandContext(ctx, goBin, "mod", "tidy")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return true, fmt.Errorf("cannot resolve the plugin's requirements, so its files were removed: go mod tidy in %s: %w\n%s", dir, err, strings.TrimSpace(string(out)))
	}
	return true, nil
}

// renderPluginProject renders every template, by the name of the file
// it becomes; Go files are gofmt'ed and HCL files formatted as vigil fmt
// does.
func renderPluginProject(p pluginProject) (map[string][]byte, error) {
	tmpl, err := template.New("").Funcs(template.FuncMap{"modquote": modfile.AutoQuote}).ParseFS(pluginTemplates, "pluginnew_templates/*.tmpl")
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, t := range tmpl.Templates() {
		if t.Name() == "" {
			continue
		}
		name := strings.TrimSuffix(t.Name(), ".tmpl")
		var b bytes.Buffer
		if err := t.Execute(&b, p); err != nil {
			return nil, fmt.Errorf("template %s: %w", t.Name(), err)
		}
		out := b.Bytes()
		switch filepath.Ext(name) {
		case ".go":
			if out, err = format.Source(out); err != nil {
				return nil, fmt.Errorf("template %s makes Go that does not parse: %w", t.Name(), err)
			}
		case ".hcl":
			if out, err = formatSource(name, out); err != nil {
				return nil, fmt.Errorf("template %s makes HCL that does not parse: %w", t.Name(), err)
			}
		}
		files[name] = out
	}
	return files, nil
}
