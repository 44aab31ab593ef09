package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilmon/vigil/internal/testplugins"
)

// samples are Prometheus configurations and the HCL they convert to.
const samples = "../../hclconfig/promimport/testdata"

func TestConfigImport(t *testing.T) {
	golden := readFile(t, filepath.Join(samples, "prometheus.hcl"))

	t.Run("everything converted", func(t *testing.T) {
		code, stdout, stderr := runCLI("config", "import", filepath.Join(samples, "prometheus.yml"))
		if code != exitOK || stderr != "" {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		if stdout != golden {
			t.Fatalf("HCL:\n%s\nwant:\n%s", stdout, golden)
		}
	})

	t.Run("something not converted", func(t *testing.T) {
		file := filepath.Join(samples, "prometheus-kubernetes.yml")
		code, stdout, stderr := runCLI("config", "import", file)
		if code != exitFailure {
			t.Fatalf("exit %d, want %d", code, exitFailure)
		}
		if !strings.Contains(stdout, `scrape "kubernetes-pods" {`) {
			t.Errorf("the HCL is not written:\n%s", stdout)
		}
		if !strings.Contains(stdout, `discovery "kubernetes-pods-kubernetes" {`) {
			t.Errorf("the kubernetes discovery block is not written:\n%s", stdout)
		}
		want := file + ":14: keep_dropped_targets is not converted: Vigil has no limit on the dropped targets it keeps\n"
		want += `vigil: 1 settings of "` + file + `" are not converted; the HCL leaves them out` + "\n"
		if stderr != want {
			t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
		}
	})

	t.Run("to a file", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "vigil.hcl")
		code, stdout, stderr := runCLI("config", "import", "-o", out, filepath.Join(samples, "prometheus.yml"))
		if code != exitOK || stdout != "" || stderr != "" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		if got := readFile(t, out); got != golden {
			t.Fatalf("written:\n%s", got)
		}
		if code, stdout, stderr := runCLI("fmt", "--check", out); code != exitOK {
			t.Fatalf("vigil fmt --check: exit %d: %s%s", code, stdout, stderr)
		}
	})

	t.Run("not a Prometheus configuration", func(t *testing.T) {
		bad := writeFile(t, "bad.yml", "scrape_configs:\n  - job_name: a\n    scrape_intervl: 1m\n")
		out := filepath.Join(filepath.Dir(bad), "vigil.hcl")
		code, stdout, stderr := runCLI("config", "import", "-o", out, bad)
		if code != exitFailure || stdout != "" {
			t.Fatalf("exit %d, stdout %q", code, stdout)
		}
		if !strings.Contains(stderr, "not a valid Prometheus configuration") || !strings.Contains(stderr, "line 3: field scrape_intervl not found") {
			t.Errorf("stderr: %s", stderr)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("an output file was written: %v", err)
		}
	})

	t.Run("usage", func(t *testing.T) {
		if code, _, stderr := runCLI("config", "import"); code != exitUsage {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
}

// TestConfigImportValidates converts a configuration that uses both
// discovery plugins and checks the result with vigil config validate,
// which starts the plugins the HCL names and checks their config blocks.
func TestConfigImportValidates(t *testing.T) {
	file := testplugins.Build(t, "plugins/discovery/file")
	http := testplugins.Build(t, "plugins/discovery/http")
	if filepath.Dir(file) != filepath.Dir(http) {
		t.Fatalf("the plugins are built in two folders: %s, %s", file, http)
	}
	out := filepath.Join(t.TempDir(), "vigil.hcl")
	code, _, stderr := runCLI("config", "import", "--plugin-dir", filepath.Dir(file), "-o", out, filepath.Join(samples, "migrate.yml"))
	if code != exitOK {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCLI("config", "validate", out)
	if code != exitOK {
		t.Fatalf("validate: exit %d: %s\n%s", code, stderr, readFile(t, out))
	}
	if !strings.Contains(stdout, "3 scrape and exporter blocks, 2 plugins") {
		t.Errorf("validate: %s", stdout)
	}

	// Prometheus's own example for Kubernetes: seven kubernetes discovery
	// blocks, each configuring the plugin.
	kubernetes := testplugins.Build(t, "plugins/discovery/kubernetes")
	if filepath.Dir(kubernetes) != filepath.Dir(file) {
		t.Fatalf("the plugins are built in two folders: %s, %s", file, kubernetes)
	}
	code, _, stderr = runCLI("config", "import", "--plugin-dir", filepath.Dir(file), "-o", out, filepath.Join(samples, "prometheus-kubernetes.yml"))
	if code != exitFailure || !strings.Contains(stderr, "keep_dropped_targets is not converted") {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	code, stdout, stderr = runCLI("config", "validate", out)
	if code != exitOK {
		t.Fatalf("validate: exit %d: %s\n%s", code, stderr, readFile(t, out))
	}
	if !strings.Contains(stdout, "7 scrape and exporter blocks, 1 plugins") {
		t.Errorf("validate: %s", stdout)
	}
}
