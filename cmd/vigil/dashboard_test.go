package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDashboardImportAndValidate imports Node Exporter Full, validates the
// block it prints, and validates a dashboard whose query does not parse:
// the diagnostic is at the query's line.
func TestDashboardImportAndValidate(t *testing.T) {
	code, stdout, stderr := runCLI("dashboard", "import", filepath.Join("..", "..", "hclconfig", "grafanaimport", "testdata", "node-exporter-full.json"))
	if code != exitOK || !strings.HasPrefix(stdout, `dashboard "node-exporter-full" {`) {
		t.Fatalf("exit %d, stdout begins %.40q, stderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		`node-exporter-full.json: variable "ds_prometheus": a data source variable is not carried over`,
		`node-exporter-full.json: panel "CPU Basic": stacked as percentages, it is stacked as values`,
		"node-exporter-full.json: 125 of 125 panels carried over\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the report lacks %q:\n%s", want, stderr)
		}
	}
	imported := writeFile(t, "imported.hcl", stdout)
	if code, out, errs := runCLI("config", "validate", imported); code != exitOK || !strings.Contains(out, "0 plugins, 1 dashboards") {
		t.Errorf("validate the imported block: exit %d, %s%s", code, out, errs)
	}

	bad := writeFile(t, "bad.hcl", `dashboard "d" {
  panel "Rate" {
    query {
      expr = "rate(x[5m]"
    }
  }
}
`)
	code, _, stderr = runCLI("config", "validate", bad)
	if want := bad + `:4:14: error: Invalid PromQL expression; The query of panel "Rate" does not parse: 1:11: parse error: unclosed left parenthesis.`; code != exitFailure || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, diagnostics lack %q:\n%s", code, want, stderr)
	}
	if code, _, stderr := runCLI("dashboard", "import", writeFile(t, "x.json", "[1]")); code != exitFailure || !strings.Contains(stderr, "not a Grafana dashboard") {
		t.Errorf("import of a JSON array: exit %d, %s", code, stderr)
	}
}
