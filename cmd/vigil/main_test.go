package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/spf13/cobra"

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
		"unknown log level":       {[]string{"server", "--log.level", "loud"}, exitUsage, `invalid --log.level "loud": want debug, info, warn or error`},
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

// TestVersion checks that vigil --version and vigil version print the
// same line.
func TestVersion(t *testing.T) {
	code, stdout, _ := runCLI("version")
	if code != exitOK || !strings.HasPrefix(stdout, "vigil version ") {
		t.Fatalf("exit %d, output %q", code, stdout)
	}
	code, flag, stderr := runCLI("--version")
	if code != exitOK || flag != stdout {
		t.Fatalf("vigil --version: exit %d, output %q (stderr %q), want %q", code, flag, stderr, stdout)
	}
}

// TestMakefileStampsVersion checks that make build and make run build
// bin/vigil with the version of VERSION and the revision of REVISION, by
// default git describe's and the commit's.
func TestMakefileStampsVersion(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("needs make")
	}
	root := filepath.Join("..", "..")
	stamps := func(version, revision string, args ...string) {
		t.Helper()
		out, err := exec.Command("make", append([]string{"-n", "-C", root}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("make -n %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		want := `build -ldflags "-X main.version=` + version + ` -X main.revision=` + revision + `" -o bin/vigil ./cmd/vigil`
		if n := strings.Count(string(out), want); n != 2 {
			t.Errorf("make -n %s has %d lines with %q, want 2 (build and run):\n%s", strings.Join(args, " "), n, want, out)
		}
	}
	stamps("v9.9.9-test", "abc123", "build", "run", "VERSION=v9.9.9-test", "REVISION=abc123")
	described, err := exec.Command("git", "-C", root, "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		t.Logf("no git describe (%v): the default is not checked", err)
		return
	}
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git describe works but git rev-parse HEAD does not: %v", err)
	}
	stamps(strings.TrimSpace(string(described)), strings.TrimSpace(string(head)), "build", "run")
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

// TestBinary runs the real vigil binary, as a user would: version and
// --version print the version stamped at build time.
func TestBinary(t *testing.T) {
	bin := vigilBinary(t)
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "vigil version "+e2eVersion+" (revision "+e2eRevision+", ") {
		t.Fatalf("vigil version: %v, %q", err, out)
	}
	flag, err := exec.Command(bin, "--version").Output()
	if err != nil || string(flag) != string(out) {
		t.Fatalf("vigil --version: %v, %q, want %q", err, flag, out)
	}
	err = exec.Command(bin, "no-such-command").Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != exitUsage {
		t.Fatalf("unknown command: %v, want exit code %d", err, exitUsage)
	}
}

// TestServerFromEnvironment runs every command that takes --server:
// without the flag it talks to the server VIGIL_SERVER names, with it to
// the flag's, and its help says so.
func TestServerFromEnvironment(t *testing.T) {
	argsOf := map[string][]string{
		"vigil query":          {"up"},
		"vigil alerts list":    nil,
		"vigil silence add":    {"alertname=Test"},
		"vigil silence list":   nil,
		"vigil silence expire": {"5f3c1b9e-8d2a-4c1e-9b7f-2a6d0e4c8b1a"},
	}
	// recorder is a server that counts the requests it gets and answers
	// each with an error: the test asks only where a command went.
	recorder := func() (*httptest.Server, *atomic.Int32) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			hits.Add(1)
			http.Error(w, "recorded", http.StatusTeapot)
		}))
		t.Cleanup(srv.Close)
		return srv, &hits
	}
	var found []string
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		for _, c := range cmd.Commands() {
			walk(c)
		}
		flag := cmd.Flags().Lookup("server")
		if flag == nil {
			return
		}
		path := cmd.CommandPath()
		found = append(found, path)
		t.Run(path, func(t *testing.T) {
			args, ok := argsOf[path]
			if !ok {
				t.Fatalf("%s takes --server, but this test does not know its arguments", path)
			}
			if !strings.Contains(flag.Usage, "$"+serverEnv) {
				t.Errorf("--help of %s does not name %s: %q", path, serverEnv, flag.Usage)
			}
			words := append(strings.Fields(path)[1:], args...)
			fromEnv, envHits := recorder()
			t.Setenv(serverEnv, fromEnv.URL)
			runCLI(words...)
			if envHits.Load() == 0 {
				t.Fatalf("%s without --server did not ask the server of %s", path, serverEnv)
			}
			fromFlag, flagHits := recorder()
			before := envHits.Load()
			runCLI(append(words, "--server", fromFlag.URL)...)
			if flagHits.Load() == 0 || envHits.Load() != before {
				t.Fatalf("%s --server asked the flag's server %d times and that of %s %d times, want the flag's only", path, flagHits.Load(), serverEnv, envHits.Load()-before)
			}
		})
	}
	walk(newRootCommand(io.Discard, io.Discard))
	if len(found) != len(argsOf) {
		t.Errorf("commands with --server: %v, want those of %v", found, argsOf)
	}
}

// TestPluginKeygenMakesFolder runs vigil plugin keygen keys/acme where
// there is no keys folder yet: it makes it and writes both files there.
func TestPluginKeygenMakesFolder(t *testing.T) {
	t.Chdir(t.TempDir())
	code, stdout, stderr := runCLI("plugin", "keygen", "keys/acme")
	if code != exitOK || !strings.Contains(stdout, "wrote keys/acme and keys/acme.pub") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, f := range []string{"keys/acme", "keys/acme.pub"} {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestGitignore checks that git ignores what building and running Vigil
// in the checkout writes: bin/, the default data directory data/, and the
// plugins vigil plugin install unpacks under .vigil/ beside a
// configuration.
func TestGitignore(t *testing.T) {
	if err := exec.Command("git", "-C", repoRoot, "rev-parse", "--git-dir").Run(); err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	for _, path := range []string{"bin/vigil", "data/wal/00000000", ".vigil/plugins/x", "examples/.vigil/plugins/x"} {
		if err := exec.Command("git", "-C", repoRoot, "check-ignore", "-q", "--no-index", path).Run(); err != nil {
			t.Errorf("git does not ignore %s: %v", path, err)
		}
	}
	for _, path := range []string{"README.md", "cmd/vigil/main.go", "core/tsdb/db.go"} {
		if err := exec.Command("git", "-C", repoRoot, "check-ignore", "-q", "--no-index", path).Run(); err == nil {
			t.Errorf("git ignores %s", path)
		}
	}
}
