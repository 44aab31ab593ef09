package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigilmon/vigil/internal/testplugins"
)

// TestPythonExporter runs the conformance suite on the exporter written in
// Python (examples/python-exporter), and has a vigil server scrape it: its
// series are answered by the query API.
func TestPythonExporter(t *testing.T) {
	testplugins.RequirePythonGRPC(t)
	plugin, err := filepath.Abs("../../examples/python-exporter/plugin.py")
	if err != nil {
		t.Fatal(err)
	}

	code, rep, stderr := runConformance(t, nil, plugin)
	if code != 0 || !rep.Conforms || rep.Plugin != "pydirsize" || rep.Kind != "exporter" {
		t.Fatalf("exit %d, conforms %v, plugin %q (%s), failed %q\n%s", code, rep.Conforms, rep.Plugin, rep.Kind, rep.mustFailures(), stderr)
	}
	for _, id := range []string{"plugin.handshake", "config.wrong-type", "exporter.collect", "call.deadline", "lifecycle.shutdown"} {
		if status, detail := rep.status(id); status != "pass" {
			t.Errorf("%s: %s %s", id, status, detail)
		}
	}

	dir := t.TempDir()
	measured := filepath.Join(dir, "measured")
	if err := os.MkdirAll(filepath.Join(measured, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(measured, "a"), make([]byte, 1000), 0o644)
	os.WriteFile(filepath.Join(measured, "sub", "b"), make([]byte, 234), 0o644)
	config := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`
plugin "pydirsize" { source = %q }

exporter "pydirsize" {
  plugin   = "pydirsize"
  interval = "1s"
  timeout  = "1s"
  config {
    paths = [%q]
  }
}
`, plugin, measured)), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--config", config, "--data", filepath.Join(dir, "data"))
	prom := srv.api(t)
	waitFor(t, "the Python exporter's series", func() bool {
		v, ok := queryValue(t, prom, fmt.Sprintf(`dirsize_bytes{job="pydirsize", path=%q}`, measured))
		return ok && v == 1234
	})
	if v, ok := queryValue(t, prom, fmt.Sprintf(`dirsize_files{job="pydirsize", path=%q}`, measured)); !ok || v != 2 {
		t.Errorf("dirsize_files = %v (present %v), want 2", v, ok)
	}
	// A file written later is counted at a later scrape.
	os.WriteFile(filepath.Join(measured, "c"), make([]byte, 1), 0o644)
	waitFor(t, "the new file counted", func() bool {
		v, ok := queryValue(t, prom, fmt.Sprintf(`dirsize_bytes{job="pydirsize", path=%q}`, measured))
		return ok && v == 1235
	})
	children := childPIDs(t, srv.cmd.Process.Pid)
	srv.stop(t)
	for child, cmdline := range children {
		if processRuns(child) {
			t.Errorf("plugin %d (%s) outlived the server", child, cmdline)
		}
	}
}

// TestRustNotifier runs the conformance suite on the notifier written in
// Rust (examples/rust-notifier), built with rustc into a WebAssembly
// module, and has a vigil server deliver an alert of its rules through it.
func TestRustNotifier(t *testing.T) {
	module := testplugins.BuildRustWasm(t, "examples/rust-notifier/notifier.rs")
	code, rep, stderr := runConformance(t, nil, module)
	if code != 0 || !rep.Conforms || rep.Plugin != "rswebhook" || rep.Kind != "notifier" {
		t.Fatalf("exit %d, conforms %v, plugin %q (%s), failed %q\n%s", code, rep.Conforms, rep.Plugin, rep.Kind, rep.mustFailures(), stderr)
	}
	for _, id := range []string{"plugin.handshake", "config.wrong-type", "notifier.v4-payload", "notifier.failure-reported", "notifier.failure-classified", "plugin.sensitive-redacted"} {
		if status, detail := rep.status(id); status != "pass" {
			t.Errorf("%s: %s %s", id, status, detail)
		}
	}

	receiver := newWebhookReceiver(t, nil)
	dir := t.TempDir()
	config := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`
server {
  data_dir = %q
}

plugin "rswebhook" {
  source      = %q
  allow_hosts = [%q]
}

notifier "ops" {
  plugin = "rswebhook"
  config {
    url = "%s/hook"
  }
}

%s
%s`, filepath.Join(dir, "data"), module, strings.TrimPrefix(receiver.URL, "http://"), receiver.URL, fastRoute, alwaysFiringRule)), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--config", config)
	msg := receiver.next(t, srv).msg
	if msg.Version != "4" || msg.Status != "firing" || msg.Receiver != "ops" || msg.GroupKey != `{}:{alertname="AlwaysFiring"}` ||
		!slices.Equal(alertsOf(msg), want(`firing {alertname="AlwaysFiring", severity="page"}`)) || msg.Alerts[0].StartsAt.IsZero() {
		t.Fatalf("notification %+v", msg)
	}
	srv.stop(t)
}
