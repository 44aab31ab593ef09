package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/internal/testplugins"
)

// TestWasmNotifiersValidateAndStartTimes checks and times `vigil config
// validate` and `vigil server` with a configuration of a webhook
// notifier, with and without two Wasm notifiers (Slack and PagerDuty):
// both commands must succeed and load the modules. The times are logged
// (go test -v -run TestWasmNotifiersValidateAndStartTimes), never
// compared: a loaded machine makes them what it will. The server starts
// with the modules in its compilation cache, as it does after its first
// start.
func TestWasmNotifiersValidateAndStartTimes(t *testing.T) {
	bin := vigilBinary(t)
	webhook := testplugins.Build(t, "plugins/notifier/webhook")
	slack := testplugins.BuildWasm(t, "plugins/notifier/slack")
	pagerduty := testplugins.BuildWasm(t, "plugins/notifier/pagerduty")
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")

	base := fmt.Sprintf(`server {
  data_dir = %q
}

plugin "webhook" { source = %q }

notifier "hook" {
  plugin = "webhook"
  config { url = "http://127.0.0.1:9/hook" }
}

route {
  receiver = "hook"
}
`, dataDir, webhook)
	// A loaded machine may take a while to start a module instance.
	withWasm := func(severity string) string {
		return base + fmt.Sprintf(`
plugin "slack" {
  source       = %q
  allow_hosts  = ["127.0.0.1"]
  call_timeout = "2m"
}

notifier "slack" {
  plugin = "slack"
  config { webhook_url = "http://127.0.0.1:9/slack" }
}

plugin "pagerduty" {
  source       = %q
  allow_hosts  = ["127.0.0.1"]
  call_timeout = "2m"
}

notifier "pagerduty" {
  plugin = "pagerduty"
  config {
    routing_key = "0123456789abcdef0123456789abcdef"
    url         = "http://127.0.0.1:9/pagerduty"
    severity    = %q
  }
}
`, slack, pagerduty, severity)
	}
	write := func(name, text string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	plain := write("plain.hcl", base)
	wasm := write("wasm.hcl", withWasm("critical"))
	badSeverity := write("bad.hcl", withWasm("fatal"))

	// validate runs vigil config validate on file and returns its output
	// and how long it took.
	validate := func(file string) (string, time.Duration, error) {
		start := time.Now()
		out, err := exec.Command(bin, "config", "validate", file).CombinedOutput()
		return string(out), time.Since(start), err
	}
	var took [2]time.Duration
	for range 2 { // alternately, so that a busy moment weighs on both
		for i, c := range []struct {
			file, want string
		}{{plain, "1 plugins"}, {wasm, "3 plugins"}} {
			out, d, err := validate(c.file)
			if err != nil || !strings.Contains(out, "is valid") || !strings.Contains(out, c.want) {
				t.Fatalf("validate %s: %v\n%s", filepath.Base(c.file), err, out)
			}
			took[i] = minNonZero(took[i], d)
		}
	}
	t.Logf("config validate, best of 2: %s without the Wasm notifiers, %s with them (+%s)",
		took[0].Round(time.Millisecond), took[1].Round(time.Millisecond), (took[1] - took[0]).Round(time.Millisecond))
	// The PagerDuty module itself refuses a severity it does not know:
	// validate ran it.
	if out, _, err := validate(badSeverity); err == nil || !strings.Contains(out, "severity") {
		t.Fatalf("validate with a severity the PagerDuty module refuses: %v\n%s", err, out)
	}

	// The server compiles its modules before it listens: compile them
	// into its cache first, as a first start would.
	precompile := exec.Command("go", "run", "../../core/pluginhost/testdata/wasmprecompile", "-cache", filepath.Join(dataDir, "wasm-cache"), slack, pagerduty)
	if out, err := precompile.CombinedOutput(); err != nil {
		t.Fatalf("cannot compile the modules: %v\n%s", err, out)
	}
	for _, c := range []struct {
		file      string
		notifiers []string
	}{{plain, []string{"hook"}}, {wasm, []string{"hook", "slack", "pagerduty"}}} {
		start := time.Now()
		srv := startServer(t, "--config", c.file)
		listening := time.Since(start)
		waitFor(t, "the server to be ready and its notifiers up", func() bool {
			return ready(srv.addr) && notifiersUp(srv.addr, c.notifiers)
		})
		t.Logf("server start with %s: listening after %s, ready with its %d notifiers up after %s",
			filepath.Base(c.file), listening.Round(time.Millisecond), len(c.notifiers), time.Since(start).Round(time.Millisecond))
		srv.stop(t)
	}

	// Once the server compiled the modules into its cache, validate
	// reads them back from there instead of interpreting them.
	var again time.Duration
	for range 2 {
		out, d, err := validate(wasm)
		if err != nil || !strings.Contains(out, "is valid") || !strings.Contains(out, "3 plugins") {
			t.Fatalf("validate %s after the server ran: %v\n%s", filepath.Base(wasm), err, out)
		}
		again = minNonZero(again, d)
	}
	if out, _, err := validate(badSeverity); err == nil || !strings.Contains(out, "severity") {
		t.Fatalf("validate with a severity the PagerDuty module refuses, from the cache: %v\n%s", err, out)
	}
	t.Logf("config validate with the Wasm notifiers, once the server compiled them, best of 2: %s (+%s over the plain one)",
		again.Round(time.Millisecond), (again - took[0]).Round(time.Millisecond))
}

// minNonZero returns the smaller of a and b, the other when one is zero.
func minNonZero(a, b time.Duration) time.Duration {
	if a == 0 {
		return b
	}
	return min(a, b)
}

// ready says whether the server at addr answers /-/ready with 200.
func ready(addr string) bool {
	resp, err := http.Get("http://" + addr + "/-/ready")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// notifiersUp says whether the server at addr reports the notifier
// plugin instances names up on /metrics.
func notifiersUp(addr string, names []string) bool {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return false
	}
	up := map[string]bool{}
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "vigil_plugin_up{") && strings.HasSuffix(line, " 1") {
			up[line] = true
		}
	}
	for _, name := range names {
		found := false
		for line := range up {
			found = found || strings.Contains(line, fmt.Sprintf(`instance=%q,kind="notifier"`, name))
		}
		if !found {
			return false
		}
	}
	return true
}
