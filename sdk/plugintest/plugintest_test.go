package plugintest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/sdk/plugintest"
)

// The test binary doubles as a fake vigil: with fakeVigilEnv set it
// answers conformance run with the report in fakeReportEnv, exiting with
// fakeExitEnv, and config validate with a diagnostic for a file holding
// "bad". The tests themselves run the fixtures below in a child test
// process, to see tests fail and skip without failing here.
const (
	fakeVigilEnv  = "PLUGINTEST_FAKE_VIGIL"
	fakeReportEnv = "PLUGINTEST_FAKE_REPORT"
	fakeExitEnv   = "PLUGINTEST_FAKE_EXIT"
	fixtureEnv    = "PLUGINTEST_FIXTURE"
)

func TestMain(m *testing.M) {
	// The child test process runs with fakeVigilEnv too, for its own
	// children, but is given test flags.
	if os.Getenv(fakeVigilEnv) != "" && len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-test.") {
		os.Exit(fakeVigil(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fakeVigil(args []string) int {
	switch {
	case len(args) >= 2 && args[0] == "conformance" && args[1] == "run":
		fmt.Print(os.Getenv(fakeReportEnv))
		code := 0
		fmt.Sscan(os.Getenv(fakeExitEnv), &code)
		if code == 2 {
			fmt.Fprintln(os.Stderr, `Error: --kind must be exporter, discovery or notifier, not "x"`)
		}
		return code
	case len(args) == 3 && args[0] == "config" && args[1] == "validate":
		data, err := os.ReadFile(args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if bytes.Contains(data, []byte("bad")) {
			fmt.Fprintf(os.Stderr, "Error: Unsupported argument\n  on %s line 1\n", args[2])
			return 1
		}
		fmt.Printf("configuration %q is valid\n", args[2])
		return 0
	}
	fmt.Fprintf(os.Stderr, "fake vigil: unexpected arguments %q\n", args)
	return 2
}

// report is a conformance report as vigil conformance run writes it.
func report(conforms bool, results ...map[string]string) string {
	b, _ := json.Marshal(map[string]any{"kind": "exporter", "plugin": "demo", "version": "0.1.0", "results": results, "conforms": conforms})
	return string(b)
}

// fixtures are tests run in a child process, each by name.
var fixtures = map[string]func(t *testing.T){
	"conformance": func(t *testing.T) {
		p := &plugintest.Plugin{Dir: t.TempDir(), Path: "plugin", Vigil: os.Args[0]}
		t.Run("Conformance", func(t *testing.T) { p.Conformance(t) })
	},
	"validate": func(t *testing.T) {
		p := &plugintest.Plugin{Dir: t.TempDir(), Path: "plugin", Vigil: os.Args[0]}
		p.ValidateConfig(t, os.Getenv("PLUGINTEST_CONFIG"))
	},
	"lookup": func(t *testing.T) {
		t.Logf("found %s", plugintest.Vigil(t))
	},
}

// TestFixture runs the fixture fixtureEnv names, in the child process.
func TestFixture(t *testing.T) {
	f, ok := fixtures[os.Getenv(fixtureEnv)]
	if !ok {
		t.Skip("runs only as a child of the other tests")
	}
	f(t)
}

// child runs a fixture in a child test process with env, and returns its
// verbose output and whether it passed.
func child(t *testing.T, fixture string, env ...string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFixture$", "-test.v")
	cmd.Env = append(append(os.Environ(), fixtureEnv+"="+fixture, fakeVigilEnv+"=1"), env...)
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return string(out), err == nil
}

func TestConformance(t *testing.T) {
	mixed := report(false,
		map[string]string{"id": "plugin.info", "level": "MUST", "reason": "Info answers", "status": "pass"},
		map[string]string{"id": "exporter.collect", "level": "MUST", "reason": "Collect answers", "status": "fail", "detail": "collect failed: boom"},
		map[string]string{"id": "plugin.capabilities", "level": "SHOULD", "reason": "capabilities are known", "status": "fail", "detail": "unknown capability \"x\""},
		map[string]string{"id": "discovery.initial-update", "level": "MUST", "reason": "an update comes", "status": "skip", "detail": "the plugin is an exporter"},
	)
	out, passed := child(t, "conformance", fakeReportEnv+"="+mixed, fakeExitEnv+"=1")
	if passed {
		t.Errorf("a failed MUST check passed the test:\n%s", out)
	}
	for _, want := range []string{
		"--- PASS: TestFixture/Conformance/plugin.info ",
		"--- FAIL: TestFixture/Conformance/exporter.collect ",
		"MUST: Collect answers",
		"collect failed: boom",
		"--- PASS: TestFixture/Conformance/plugin.capabilities ",
		"SHOULD (not failing the test): capabilities are known",
		"--- SKIP: TestFixture/Conformance/discovery.initial-update ",
		"the plugin is an exporter",
		`exporter plugin "demo" 0.1.0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not hold %q:\n%s", want, out)
		}
	}

	pass := report(true, map[string]string{"id": "plugin.info", "level": "MUST", "reason": "Info answers", "status": "pass"})
	if out, passed := child(t, "conformance", fakeReportEnv+"="+pass, fakeExitEnv+"=0"); !passed || !strings.Contains(out, "--- PASS: TestFixture/Conformance/plugin.info ") {
		t.Errorf("a conforming plugin did not pass:\n%s", out)
	}

	// A report that contradicts the exit code, and no report at all.
	if out, passed := child(t, "conformance", fakeReportEnv+"="+pass, fakeExitEnv+"=1"); passed || !strings.Contains(out, "conforms=true") {
		t.Errorf("exit 1 with a conforming report passed:\n%s", out)
	}
	if out, passed := child(t, "conformance", fakeReportEnv+"=", fakeExitEnv+"=2"); passed || !strings.Contains(out, "gave no report") || !strings.Contains(out, "--kind must be") {
		t.Errorf("a usage error passed, or its message was lost:\n%s", out)
	}
}

func TestValidateConfig(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.hcl"), filepath.Join(dir, "bad.hcl")
	os.WriteFile(good, []byte("plugin \"demo\" { source = \"./bin/demo\" }\n"), 0o644)
	os.WriteFile(bad, []byte("bad = 1\n"), 0o644)
	if out, passed := child(t, "validate", "PLUGINTEST_CONFIG="+good); !passed {
		t.Errorf("a valid config failed:\n%s", out)
	}
	if out, passed := child(t, "validate", "PLUGINTEST_CONFIG="+bad); passed || !strings.Contains(out, "Unsupported argument") {
		t.Errorf("an invalid config passed, or its diagnostic was lost:\n%s", out)
	}
	if out, passed := child(t, "validate", "PLUGINTEST_CONFIG="+filepath.Join(dir, "missing.hcl")); passed || !strings.Contains(out, "cannot read the config") {
		t.Errorf("a missing config passed:\n%s", out)
	}
}

func TestVigil(t *testing.T) {
	empty := t.TempDir()
	if out, passed := child(t, "lookup", plugintest.BinaryEnv+"=", "PATH="+empty); !passed || !strings.Contains(out, "--- SKIP: TestFixture ") || !strings.Contains(out, "vigil is not on $PATH") {
		t.Errorf("no vigil anywhere did not skip:\n%s", out)
	}
	fake := filepath.Join(empty, "vigil")
	os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755)
	if out, passed := child(t, "lookup", plugintest.BinaryEnv+"=", "PATH="+empty); !passed || !strings.Contains(out, "found "+fake) {
		t.Errorf("vigil on $PATH was not found:\n%s", out)
	}
	if out, passed := child(t, "lookup", plugintest.BinaryEnv+"="+filepath.Join(empty, "missing")); passed || !strings.Contains(out, "missing: ") {
		t.Errorf("a missing %s did not fail:\n%s", plugintest.BinaryEnv, out)
	}
}

// TestBuild builds a program and a WebAssembly module from a project of
// one main package.
func TestBuild(t *testing.T) {
	t.Setenv(plugintest.BinaryEnv, os.Args[0])
	project := t.TempDir()
	os.WriteFile(filepath.Join(project, "go.mod"), []byte("module example.com/demo\n\ngo 1.26\n"), 0o644)
	os.WriteFile(filepath.Join(project, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
	t.Chdir(project)

	p := plugintest.Build(t, "bin/vigil-exporter-demo")
	if p.Path != filepath.Join(p.Dir, "bin", "vigil-exporter-demo") || p.Vigil != os.Args[0] {
		t.Errorf("built %+v", p)
	}
	if fi, err := os.Stat(p.Path); err != nil || fi.Mode()&0o100 == 0 {
		t.Errorf("the program: %v, %v", fi, err)
	}
	w := plugintest.Build(t, "vigil-notifier-demo.wasm")
	if b, err := os.ReadFile(w.Path); err != nil || !bytes.HasPrefix(b, []byte("\x00asm")) {
		t.Errorf("the module is not WebAssembly: %v", err)
	}
	if w.Dir == p.Dir {
		t.Error("two builds share a folder")
	}
}
