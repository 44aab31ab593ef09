package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPluginNewUsage checks what vigil plugin new refuses, and with
// which exit code.
func TestPluginNewUsage(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
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
		"wasm discovery":   {[]string{"--kind", "discovery", "--wasm", "demo"}, exitUsage, "a discovery plugin cannot be a WebAssembly module"},
		"non-empty folder": {[]string{"--kind", "exporter", "--dir", full, "demo"}, exitFailure, "the folder exists and is not empty"},
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

// TestPluginNewFiles checks the files of a new project, for an empty
// folder that exists.
func TestPluginNewFiles(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCLI("plugin", "new", "--kind", "exporter", "--dir", dir, "--module", "example.org/team/disk-free", "disk-free")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, `Created exporter plugin "disk-free" in `+dir) {
		t.Errorf("stdout %q", stdout)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for name, want := range map[string][]string{
		"go.mod":         {"module example.org/team/disk-free\n", "require github.com/vigilmon/vigil v"},
		"main.go":        {`Name:        "disk-free"`, "func main() { sdk.Serve(plugin) }", `"disk_free_info"`},
		"plugin_test.go": {"conformance.Exporter(t, conformance.InProcess(&plugin))", "conformance.Exporter(t, conformance.Program(bin))"},
		"sample.hcl":     {`plugin "disk-free" {`, `source = "./bin/vigil-exporter-disk-free"`, `exporter "disk-free" {`},
		"README.md":      {"# disk-free", "vigil conformance run bin/vigil-exporter-disk-free"},
	} {
		got := read(name)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s does not hold %q:\n%s", name, w, got)
			}
		}
		if strings.Contains(got, "<no value>") {
			t.Errorf("%s has a template value missing:\n%s", name, got)
		}
	}
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
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), stdout.String(), stderr.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

// TestPluginNewE2E scaffolds a plugin of each kind, and a WebAssembly
// notifier, with the vigil binary; builds each against this checkout;
// runs the tests it was made with, which run the conformance suite; and
// runs vigil conformance run on what it built.
func TestPluginNewE2E(t *testing.T) {
	bin := vigilBinary(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the checkout's root: %v", err)
	}
	cases := []struct {
		name, kind string
		wasm       bool
		// passes are checks vigil conformance run must pass.
		passes []string
	}{
		{"demo-exporter", "exporter", false, []string{"exporter.collect", "exporter.counter-monotonic", "lifecycle.shutdown"}},
		{"demo-discovery", "discovery", false, []string{"discovery.initial-update", "discovery.stops-on-cancel"}},
		{"demo-notifier", "notifier", false, []string{"plugin.capabilities", "notifier.failure-reported", "notifier.failure-classified"}},
		{"demo-wasm", "notifier", true, []string{"plugin.capabilities", "notifier.failure-reported", "notifier.failure-classified"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), tc.name)
			args := []string{"plugin", "new", "--kind", tc.kind, "--dir", dir, "--module", "example.com/vigiltest/" + tc.name}
			if tc.wasm {
				args = append(args, "--wasm")
			}
			if code, stdout, stderr := runVigil(t, bin, append(args, tc.name)...); code != 0 || !strings.Contains(stdout, "Created "+tc.kind+" plugin") {
				t.Fatalf("vigil plugin new: exit %d\n%s\n%s", code, stdout, stderr)
			}
			goCmd(t, dir, nil, "mod", "edit", "-replace", "github.com/vigilmon/vigil="+root)
			goCmd(t, dir, nil, "mod", "tidy")
			goCmd(t, dir, nil, "vet", "./...")

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

			// The tests the project was made with pass as made.
			out := goCmd(t, dir, nil, "test", "-count=1", "-v", "./...")
			if !strings.Contains(out, "--- PASS: TestConformance ") || !strings.Contains(out, "--- PASS: TestSample ") {
				t.Errorf("go test of the project did not pass the conformance suite and TestSample:\n%s", out)
			}
			if !tc.wasm && !strings.Contains(out, "--- PASS: TestConformanceProgram ") {
				t.Errorf("go test of the project did not pass TestConformanceProgram:\n%s", out)
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
		})
	}
}
