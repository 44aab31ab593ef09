package main

import (
	"bytes"
	"context"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"golang.org/x/mod/modfile"
)

// checkout returns the root of this checkout and its SDK folder.
func checkout(t *testing.T) (root, sdkDir string) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	sdkDir = filepath.Join(root, "sdk")
	if _, err := os.Stat(filepath.Join(sdkDir, "go.mod")); err != nil {
		t.Fatalf("the checkout's SDK: %v", err)
	}
	return root, sdkDir
}

// withVersion sets the version this vigil says it has, for one test.
func withVersion(t *testing.T, v string) {
	old := version
	version = v
	t.Cleanup(func() { version = old })
}

// TestPluginNewUsage checks what vigil plugin new refuses, and with
// which exit code.
func TestPluginNewUsage(t *testing.T) {
	root, sdkDir := checkout(t)
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A build from a checkout knows no release.
	withVersion(t, "v0.0.0-20260101000000-0123456789ab")
	for name, tc := range map[string]struct {
		args     []string
		code     int
		inStderr string
	}{
		"no kind":          {[]string{"demo"}, exitUsage, "--kind is required"},
		"unknown kind":     {[]string{"--kind", "scraper", "demo"}, exitUsage, `--kind must be exporter, discovery or notifier, not "scraper"`},
		"no name":          {[]string{"--kind", "exporter"}, exitUsage, "accepts 1 arg(s)"},
		"uppercase name":   {[]string{"--kind", "exporter", "Demo"}, exitUsage, `plugin name "Demo"`},
		"name with slash":  {[]string{"--kind", "exporter", "a/b"}, exitUsage, `plugin name "a/b"`},
		"name with digit":  {[]string{"--kind", "exporter", "1demo"}, exitUsage, `plugin name "1demo"`},
		"bad module":       {[]string{"--kind", "exporter", "--module", "example.com/a b", "demo"}, exitUsage, `--module "example.com/a b"`},
		"wasm discovery":   {[]string{"--kind", "discovery", "--wasm", "demo"}, exitUsage, "the scaffold of a discovery plugin is a program only"},
		"no release":       {[]string{"--kind", "exporter", "--dir", t.TempDir(), "demo"}, exitUsage, "cannot tell which github.com/vigilmon/vigil/sdk to require: build against a Vigil checkout with --sdk PATH/TO/vigil/sdk"},
		"sdk not a module": {[]string{"--kind", "exporter", "--sdk", t.TempDir(), "demo"}, exitUsage, "must be the sdk folder of a Vigil checkout"},
		"sdk is vigil":     {[]string{"--kind", "exporter", "--sdk", root, "demo"}, exitUsage, `its go.mod is module "github.com/vigilmon/vigil", not github.com/vigilmon/vigil/sdk`},
		"non-empty folder": {[]string{"--kind", "exporter", "--sdk", sdkDir, "--dir", full, "demo"}, exitFailure, "the folder exists and is not empty"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCLI(append([]string{"plugin", "new"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.inStderr) {
				t.Errorf("exit %d, want %d; stderr %q, want it to hold %q", code, tc.code, stderr, tc.inStderr)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(full, "keep.txt")); err != nil || string(b) != "mine" {
		t.Errorf("the non-empty folder was changed: %q, %v", b, err)
	}
	entries, _ := os.ReadDir(full)
	if len(entries) != 1 {
		t.Errorf("the non-empty folder has %d entries, want 1", len(entries))
	}
}

// TestVigilVersion checks which versions name a release of the SDK.
func TestVigilVersion(t *testing.T) {
	for v, want := range map[string]string{
		"1.4.0":                                "v1.4.0",
		"v1.4.0":                               "v1.4.0",
		"v2.0.0-rc.1":                          "v2.0.0-rc.1",
		"v0.0.0-20260101000000-0123456789ab":   "",
		"v1.4.1-0.20260101000000-0123456789ab": "",
		"v1.4.0+dirty":                         "",
		"dev":                                  "",
	} {
		withVersion(t, v)
		if got, known := vigilVersion(); got != want || known != (want != "") {
			t.Errorf("version %q: %q, %v; want %q", v, got, known, want)
		}
	}
}

// TestPluginNewGoVersion keeps a new project's go line at the SDK's, so
// a toolchain that builds the SDK builds the project.
func TestPluginNewGoVersion(t *testing.T) {
	_, sdkDir := checkout(t)
	data, err := os.ReadFile(filepath.Join(sdkDir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Go == nil || f.Go.Version != minGoVersion {
		t.Errorf("the SDK's go.mod says go %v; minGoVersion is %s", f.Go, minGoVersion)
	}
}

// TestPluginNewUnpublished checks that a release of the SDK that cannot
// be downloaded fails with what to do, and leaves nothing behind.
func TestPluginNewUnpublished(t *testing.T) {
	withVersion(t, "v9.9.9")
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOWORK", "off")
	absent := filepath.Join(t.TempDir(), "demo")
	empty := t.TempDir()
	for _, dir := range []string{absent, empty} {
		code, stdout, stderr := runCLI("plugin", "new", "--kind", "exporter", "--dir", dir, "demo")
		for _, want := range []string{"go mod tidy in " + dir, "github.com/vigilmon/vigil/sdk", "if github.com/vigilmon/vigil/sdk v9.9.9 is not published, build against a Vigil checkout: vigil plugin new --sdk PATH/TO/vigil/sdk"} {
			if code != exitFailure || !strings.Contains(stderr, want) {
				t.Errorf("%s: exit %d, stderr %q; want %d and %q", dir, code, stderr, exitFailure, want)
			}
		}
		if strings.Contains(stdout, "Created") {
			t.Errorf("%s: stdout %q", dir, stdout)
		}
	}
	if _, err := os.Stat(absent); !os.IsNotExist(err) {
		t.Errorf("the folder it made is left: %v", err)
	}
	if entries, err := os.ReadDir(empty); err != nil || len(entries) != 0 {
		t.Errorf("the empty folder holds %v, %v", entries, err)
	}
}

// TestPluginNewFiles checks the files of a new project made against this
// checkout's SDK, in an empty folder that exists.
func TestPluginNewFiles(t *testing.T) {
	_, sdkDir := checkout(t)
	withVersion(t, "v0.0.0-20260101000000-0123456789ab") // a build from a checkout
	t.Setenv("GOWORK", "off")
	dir := t.TempDir()
	code, stdout, stderr := runCLI("plugin", "new", "--kind", "exporter", "--sdk", sdkDir, "--dir", dir, "--module", "example.org/team/disk-free", "disk-free")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := `Created exporter plugin "disk-free" in ` + dir + ", built against the SDK in " + sdkDir; !strings.Contains(stdout, want) {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, want := range map[string][]string{
		"go.mod":         {"module example.org/team/disk-free\n", "\tgithub.com/vigilmon/vigil/sdk v0.0.0-00010101000000-000000000000\n", "replace github.com/vigilmon/vigil/sdk => " + sdkDir + "\n"},
		"main.go":        {`Name:        "disk-free"`, "func main() { sdk.Serve(plugin) }", `"disk_free_info"`},
		"plugin_test.go": {"func TestCollect(", `plugintest.Build(t, "bin/vigil-exporter-disk-free")`, `p.ValidateConfig(t, "sample.hcl")`},
		"sample.hcl":     {`plugin "disk-free" {`, `source = "./bin/vigil-exporter-disk-free"`, `exporter "disk-free" {`},
		"README.md":      {"# disk-free", "vigil conformance run bin/vigil-exporter-disk-free", "go get github.com/vigilmon/vigil/sdk@latest", "go mod edit -replace github.com/vigilmon/vigil/sdk=/path/to/vigil/sdk"},
		"go.sum":         {"google.golang.org/grpc v1.84.0 h1:"},
	} {
		got := string(read(name))
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s does not hold %q:\n%s", name, w, got)
			}
		}
		if strings.Contains(got, "<no value>") {
			t.Errorf("%s has a template value missing:\n%s", name, got)
		}
		// Nothing of Vigil's own module: it would bring all its requirements.
		for _, pkg := range []string{`"github.com/vigilmon/vigil/conformance"`, `"github.com/vigilmon/vigil/hclconfig"`, "github.com/vigilmon/vigil v"} {
			if strings.Contains(got, pkg) {
				t.Errorf("%s names %s", name, pkg)
			}
		}
	}
	for _, name := range []string{"main.go", "plugin_test.go"} {
		if src := read(name); !bytes.Equal(must(format.Source(src)), src) {
			t.Errorf("%s is not gofmt'ed", name)
		}
	}
	if src := read("sample.hcl"); !bytes.Equal(hclwrite.Format(src), src) {
		t.Errorf("sample.hcl is not formatted:\n%s", src)
	}
	if code, stdout, stderr := runCLI("fmt", "--check", filepath.Join(dir, "sample.hcl")); code != exitOK {
		t.Errorf("vigil fmt --check sample.hcl: exit %d\n%s%s", code, stdout, stderr)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// goCmd runs the go command in dir and fails the test when it fails.
func goCmd(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOWORK=off"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// runVigil runs the vigil binary and returns its exit code and outputs.
func runVigil(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), stdout.String(), stderr.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

// maxPluginModules bounds `go list -m all` in a new plugin project: the
// SDK's module graph (sdk/deps_test.go bounds it to 65), and the project.
const maxPluginModules = 66

// forbiddenPluginModules are modules a plugin project must not see in its
// module graph: Vigil's own module and what only it needs.
var forbiddenPluginModules = []string{
	"github.com/vigilmon/vigil",
	"github.com/dgraph-io/badger",
	"github.com/prometheus/prometheus",
	"github.com/chromedp",
	"github.com/aws",
	"github.com/Azure",
	"github.com/AzureAD",
	"k8s.io",
}

// TestPluginNewE2E scaffolds a plugin of each kind, and a WebAssembly
// notifier, with the vigil binary and --sdk, in folders outside the
// checkout; builds each; runs the tests it was made with, which test it
// in process and have vigil run the conformance suite and check
// sample.hcl; runs vigil conformance run on what it built; and checks
// that its module graph stays small.
func TestPluginNewE2E(t *testing.T) {
	bin := vigilBinary(t)
	root, sdkDir := checkout(t)
	cases := []struct {
		name, kind string
		wasm       bool
		// test is the project's in-process test.
		test string
		// passes are checks vigil conformance run must pass.
		passes []string
	}{
		{"demo-exporter", "exporter", false, "TestCollect", []string{"exporter.collect", "exporter.counter-monotonic", "lifecycle.shutdown"}},
		{"demo-discovery", "discovery", false, "TestDiscover", []string{"discovery.initial-update", "discovery.stops-on-cancel"}},
		{"demo-notifier", "notifier", false, "TestNotify", []string{"plugin.capabilities", "notifier.failure-reported", "notifier.failure-classified"}},
		{"demo-wasm", "notifier", true, "TestNotify", []string{"plugin.capabilities", "notifier.failure-reported", "notifier.failure-classified"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), tc.name)
			if rel, err := filepath.Rel(root, dir); err == nil && !strings.HasPrefix(rel, "..") {
				t.Fatalf("the project's folder %s is inside the checkout %s", dir, root)
			}
			args := []string{"plugin", "new", "--kind", tc.kind, "--sdk", sdkDir, "--dir", dir, "--module", "example.com/vigiltest/" + tc.name}
			if tc.wasm {
				args = append(args, "--wasm")
			}
			if code, stdout, stderr := runVigil(t, bin, append(args, tc.name)...); code != 0 || !strings.Contains(stdout, "Created "+tc.kind+" plugin") {
				t.Fatalf("vigil plugin new: exit %d\n%s\n%s", code, stdout, stderr)
			}

			// It builds and tests as made, with no other step.
			goCmd(t, dir, nil, "build", "./...")
			var target string
			cmdArgs := []string{"conformance", "run"}
			if tc.wasm {
				target = filepath.Join(dir, "bin", "vigil-"+tc.kind+"-"+tc.name+".wasm")
				goCmd(t, dir, []string{"GOOS=wasip1", "GOARCH=wasm"}, "build", "-buildmode=c-shared", "-o", target, ".")
				cmdArgs = append(cmdArgs, "--wasm-cache", t.TempDir())
			} else {
				target = filepath.Join(dir, "bin", "vigil-"+tc.kind+"-"+tc.name)
				goCmd(t, dir, nil, "build", "-o", target, ".")
			}
			out := goCmd(t, dir, []string{"VIGIL_BINARY=" + bin}, "test", "-count=1", "-v", "./...")
			for _, want := range []string{"--- PASS: " + tc.test + " ", "--- PASS: TestVigil/Conformance ", "--- PASS: TestVigil/Sample "} {
				if !strings.Contains(out, want) {
					t.Errorf("go test of the project did not pass %s:\n%s", strings.TrimPrefix(want, "--- PASS: "), out)
				}
			}

			code, stdout, stderr := runVigil(t, bin, append(cmdArgs, target)...)
			if code != 0 || !strings.Contains(stdout, "the plugin conforms") {
				t.Fatalf("vigil conformance run: exit %d\n%s\n%s", code, stdout, stderr)
			}
			for _, id := range tc.passes {
				if !strings.Contains(stdout, "PASS  MUST    "+id+" ") && !strings.Contains(stdout, "PASS  SHOULD  "+id+" ") {
					t.Errorf("vigil conformance run did not pass %s:\n%s", id, stdout)
				}
			}

			modules := strings.Split(strings.TrimSpace(goCmd(t, dir, nil, "list", "-m", "all")), "\n")
			if len(modules) > maxPluginModules {
				t.Errorf("go list -m all lists %d modules, more than %d", len(modules), maxPluginModules)
			}
			for _, line := range modules {
				path, _, _ := strings.Cut(line, " ")
				for _, f := range forbiddenPluginModules {
					if path != "github.com/vigilmon/vigil/sdk" && (path == f || strings.HasPrefix(path, f+"/")) {
						t.Errorf("the project's module graph holds %s", line)
					}
				}
			}
		})
	}
}
