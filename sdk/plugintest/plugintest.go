// Package plugintest tests a plugin the way Vigil runs it, from the
// plugin's own go test. Build builds the plugin's program, or its
// WebAssembly module, into a temporary folder; Plugin.Conformance runs
// the vigil binary's conformance suite against it, each check a subtest;
// Plugin.ValidateConfig has vigil check a config file that uses it, such
// as the project's sample.hcl:
//
//	func TestVigil(t *testing.T) {
//		p := plugintest.Build(t, "bin/vigil-exporter-hello")
//		t.Run("Conformance", func(t *testing.T) { p.Conformance(t) })
//		t.Run("Sample", func(t *testing.T) { p.ValidateConfig(t, "sample.hcl") })
//	}
//
// As Terraform's and Packer's acceptance tests run the terraform or
// packer binary, these run vigil: the one VIGIL_BINARY names, or else
// vigil on $PATH. Without one, Build skips the test and says why, so go
// test passes where Vigil is not installed; set VIGIL_BINARY to make the
// tests run, and fail when that file is missing.
//
// The package needs nothing of Vigil's module: the plugin and vigil meet
// only through the built plugin and the vigil command line.
package plugintest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BinaryEnv names the environment variable holding the vigil binary's
// path. When it is empty, vigil is looked up on $PATH.
const BinaryEnv = "VIGIL_BINARY"

// CommandTimeout bounds each go build and vigil command a test runs.
const CommandTimeout = 5 * time.Minute

// Vigil returns the path of the vigil binary: VIGIL_BINARY, or vigil on
// $PATH. It fails the test when VIGIL_BINARY names no file, and skips it
// when the variable is empty and $PATH has no vigil.
func Vigil(t testing.TB) string {
	t.Helper()
	if path := os.Getenv(BinaryEnv); path != "" {
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%s=%s: %v", BinaryEnv, path, err)
		}
		return path
	}
	path, err := exec.LookPath("vigil")
	if err != nil {
		t.Skipf("vigil is not on $PATH and %s is not set: the checks that run vigil are skipped", BinaryEnv)
	}
	return path
}

// Plugin is a plugin built for a test, with the vigil binary that checks
// it.
type Plugin struct {
	// Dir is the temporary folder the plugin was built in, removed when
	// the test ends.
	Dir string
	// Path is the built program or module, inside Dir.
	Path string
	// Vigil is the vigil binary, as Vigil found it.
	Vigil string
}

// Build builds the main package in the test's folder (the plugin's
// project) to the slash-separated path rel inside a new temporary
// folder, the path a config's plugin block names relative to the config
// file, e.g. "bin/vigil-exporter-hello". It builds a WebAssembly module
// (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared) when rel ends in
// ".wasm", and a program otherwise. It first finds vigil with Vigil, so
// it skips the test, without building, when there is none.
func Build(t testing.TB, rel string) *Plugin {
	t.Helper()
	vigil := Vigil(t)
	if rel == "" || filepath.IsAbs(rel) || strings.HasPrefix(filepath.Clean(filepath.FromSlash(rel)), "..") {
		t.Fatalf("plugintest.Build: %q is not a relative path inside the build folder", rel)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, filepath.FromSlash(rel))
	args := []string{"build", "-o", path}
	var env []string
	if strings.HasSuffix(rel, ".wasm") {
		args = append(args, "-buildmode=c-shared")
		env = []string{"GOOS=wasip1", "GOARCH=wasm"}
	}
	if _, stderr, err := run(t, "go", env, append(args, ".")...); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return &Plugin{Dir: dir, Path: path, Vigil: vigil}
}

// result is one check of vigil conformance run's JSON report.
type result struct {
	ID     string `json:"id"`
	Level  string `json:"level"`
	Reason string `json:"reason"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

// Conformance runs the conformance suite on the plugin with vigil
// conformance run, passing args before the plugin's path (for example
// "--config", "testdata/config.hcl", or "--kind", "exporter"), and
// reports each check as a subtest named by its ID: a failed MUST check
// fails it, a failed SHOULD check is logged, and a check that cannot
// apply is skipped and says why.
func (p *Plugin) Conformance(t *testing.T, args ...string) {
	t.Helper()
	cmdArgs := append(append([]string{"conformance", "run", "--format", "json"}, args...), p.Path)
	if strings.HasSuffix(p.Path, ".wasm") {
		// Compile the module once for the suite's every start.
		cmdArgs = append(cmdArgs[:len(cmdArgs)-1], "--wasm-cache", filepath.Join(p.Dir, "wasm-cache"), p.Path)
	}
	stdout, stderr, err := run(t, p.Vigil, nil, cmdArgs...)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("vigil %s: %v\n%s", strings.Join(cmdArgs, " "), err, stderr)
	}
	var report struct {
		Plugin   string   `json:"plugin"`
		Version  string   `json:"version"`
		Kind     string   `json:"kind"`
		Results  []result `json:"results"`
		Conforms bool     `json:"conforms"`
	}
	if jerr := json.Unmarshal(stdout, &report); jerr != nil || len(report.Results) == 0 {
		t.Fatalf("vigil %s gave no report (%v): %s\n%s", strings.Join(cmdArgs, " "), err, stdout, stderr)
	}
	t.Logf("vigil conformance run: %s plugin %q %s", report.Kind, report.Plugin, report.Version)
	for _, res := range report.Results {
		t.Run(res.ID, func(t *testing.T) {
			switch {
			case res.Status == "skip":
				t.Skip(res.Detail)
			case res.Status == "fail" && res.Level == "MUST":
				t.Errorf("MUST: %s\n%s", res.Reason, res.Detail)
			case res.Status == "fail":
				t.Logf("SHOULD (not failing the test): %s\n%s", res.Reason, res.Detail)
			}
		})
	}
	if report.Conforms != (err == nil) {
		t.Errorf("vigil conformance run exited with %v, but its report says conforms=%v\n%s", err, report.Conforms, stderr)
	}
}

// ValidateConfig copies the config file into the plugin's folder, where a
// plugin block's source relative to the file, such as
// "./bin/vigil-exporter-hello", names the built plugin, and checks it
// with vigil config validate, which starts the plugins it uses to check
// each config block against the plugin's schema. Any error fails the
// test, with vigil's diagnostics.
func (p *Plugin) ValidateConfig(t testing.TB, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("cannot read the config to validate: %v", err)
	}
	copied := filepath.Join(p.Dir, filepath.Base(file))
	if err := os.WriteFile(copied, data, 0o644); err != nil {
		t.Fatalf("cannot copy the config beside the plugin: %v", err)
	}
	stdout, stderr, err := run(t, p.Vigil, nil, "config", "validate", copied)
	if err != nil {
		t.Fatalf("vigil config validate %s: %v\n%s%s", file, err, stdout, stderr)
	}
}

// run runs a command with extra environment variables, bounded by
// CommandTimeout, and returns its outputs.
func run(t testing.TB, name string, env []string, args ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w after %v", ctx.Err(), CommandTimeout)
	}
	return out.Bytes(), errOut.Bytes(), err
}
