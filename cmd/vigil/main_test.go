package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/internal/testplugins"
)

// TestMain removes the binaries the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	testplugins.Remove()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// runCLI runs the command line and returns the exit code and both outputs.
func runCLI(args ...string) (int, string, string) {
	var stdout, stderr strings.Builder
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestExitCodes(t *testing.T) {
	for name, tc := range map[string]struct {
		args     []string
		code     int
		inStderr string
	}{
		"version":                 {[]string{"version"}, exitOK, ""},
		"no command prints help":  {nil, exitOK, ""},
		"unknown command":         {[]string{"serve-me"}, exitUsage, `unknown command "serve-me"`},
		"unknown flag":            {[]string{"version", "--bogus"}, exitUsage, "unknown flag: --bogus"},
		"extra argument":          {[]string{"version", "now"}, exitUsage, "accepts 0 arg(s)"},
		"analyze without --data":  {[]string{"tsdb", "analyze"}, exitUsage, "--data is required"},
		"analyze with bad limit":  {[]string{"tsdb", "analyze", "--data", ".", "--limit", "0"}, exitUsage, "--limit must be positive"},
		"analyze a missing dir":   {[]string{"tsdb", "analyze", "--data", "/nonexistent/vigil-data"}, exitFailure, `"/nonexistent/vigil-data"`},
		"completion for bash":     {[]string{"completion", "bash"}, exitOK, ""},
		"help of a subcommand":    {[]string{"tsdb", "analyze", "--help"}, exitOK, ""},
		"help of the tsdb family": {[]string{"tsdb"}, exitOK, ""},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d (stderr: %s)", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.inStderr) {
				t.Fatalf("stderr %q does not contain %q", stderr, tc.inStderr)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runCLI("version")
	if code != exitOK || !strings.HasPrefix(stdout, "vigil version ") {
		t.Fatalf("exit %d, output %q", code, stdout)
	}
}

func TestTSDBAnalyze(t *testing.T) {
	dir := t.TempDir()
	db, err := tsdb.Open(dir, tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	app := db.AppenderV2(context.Background())
	for i := 0; i < 5; i++ {
		ls := labels.FromStrings("__name__", "http_requests_total", "instance", "host-"+strconv.Itoa(i))
		if _, err := app.Append(0, ls, 0, 1_700_000_000_000, 1, nil, nil, storage.AppendV2Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := app.Append(0, labels.FromStrings("__name__", "up", "instance", "host-0"), 0, 1_700_000_060_000, 1, nil, nil, storage.AppendV2Options{}); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI("tsdb", "analyze", "--data", dir, "--limit", "5")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"Series: 6",
		"Time range: 2023-11-14T22:13:20Z to 2023-11-14T22:14:20Z (1m0s)",
		"5  http_requests_total",
		"5  instance",
		"5  __name__=http_requests_total",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

// TestBinary runs the real vigil binary, as a user would.
func TestBinary(t *testing.T) {
	bin := vigilBinary(t)
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "vigil version ") {
		t.Fatalf("vigil version: %v, %q", err, out)
	}
	err = exec.Command(bin, "no-such-command").Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != exitUsage {
		t.Fatalf("unknown command: %v, want exit code %d", err, exitUsage)
	}
}
