package main

import (
	"fmt"
	"os"
	"path/filepath"
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
