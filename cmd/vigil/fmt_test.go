package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const unformatted = `server {
listen = "127.0.0.1:9090"
  data_dir   =   "./data"
}
`

const formatted = `server {
  listen   = "127.0.0.1:9090"
  data_dir = "./data"
}
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFmtRewritesFiles(t *testing.T) {
	messy := writeFile(t, "messy.hcl", unformatted)
	tidy := writeFile(t, "tidy.hcl", formatted)
	code, stdout, stderr := runCLI("fmt", messy, tidy)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := readFile(t, messy); got != formatted {
		t.Errorf("formatted file:\n%s", got)
	}
	if strings.TrimSpace(stdout) != messy {
		t.Errorf("listed %q, want only the changed file %q", stdout, messy)
	}
	if fi, _ := os.Stat(messy); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode changed to %v", fi.Mode().Perm())
	}
}

func TestFmtCheck(t *testing.T) {
	messy := writeFile(t, "messy.hcl", unformatted)
	tidy := writeFile(t, "tidy.hcl", formatted)
	if code, _, _ := runCLI("fmt", "--check", tidy); code != exitOK {
		t.Errorf("--check of a formatted file: exit %d", code)
	}
	code, stdout, stderr := runCLI("fmt", "--check", tidy, messy)
	if code != exitFailure || strings.TrimSpace(stdout) != messy || !strings.Contains(stderr, "1 of 2 files are not formatted") {
		t.Errorf("--check with an unformatted file: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if got := readFile(t, messy); got != unformatted {
		t.Errorf("--check changed the file")
	}
}

func TestFmtReportsSyntaxErrors(t *testing.T) {
	broken := writeFile(t, "broken.hcl", "server {\n  listen = \n}\n")
	code, _, stderr := runCLI("fmt", broken)
	if code != exitFailure || !strings.Contains(stderr, broken+":2:") {
		t.Fatalf("exit %d, stderr %q: want exit 1 and a file:line:col diagnostic", code, stderr)
	}
	if got := readFile(t, broken); !strings.Contains(got, "listen = \n") {
		t.Errorf("a broken file was rewritten: %q", got)
	}
	if code, _, stderr := runCLI("fmt", filepath.Join(t.TempDir(), "missing.hcl")); code != exitFailure || !strings.Contains(stderr, "missing.hcl") {
		t.Errorf("missing file: exit %d, stderr %q", code, stderr)
	}
	if code, _, _ := runCLI("fmt", "--check"); code != exitUsage {
		t.Errorf("--check without files: exit %d, want %d", code, exitUsage)
	}
}

func TestFmtStdin(t *testing.T) {
	root := newRootCommand(nil, nil)
	var out strings.Builder
	root.SetIn(strings.NewReader(unformatted))
	root.SetOut(&out)
	root.SetArgs([]string{"fmt"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if out.String() != formatted {
		t.Fatalf("stdout:\n%s", out.String())
	}
}

func TestConfigValidate(t *testing.T) {
	good := writeFile(t, "good.hcl", `scrape "self" {
  targets = ["127.0.0.1:9090"]
}
`)
	code, stdout, stderr := runCLI("config", "validate", good)
	if code != exitOK || !strings.Contains(stdout, "is valid: 1 scrape and exporter blocks, 0 plugins") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	bad := writeFile(t, "bad.hcl", `scrape "self" {
  targets        = ["127.0.0.1:9090"]
  scrape_intervl = "10s"
}
`)
	code, _, stderr = runCLI("config", "validate", bad)
	for _, want := range []string{bad + `:3:3: error: Unsupported argument`, `Did you mean "scrape_interval"?`, `    3 |   scrape_intervl = "10s"`, "      |   ^^^^^^^^^^^^^^\n"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, stderr)
		}
	}
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	// The registry block is checked with the rest, though only the
	// plugin commands use it.
	registry := writeFile(t, "registry.hcl", "registry \"x\" {\n  url   = 42\n  bogus = true\n}\n")
	code, _, stderr = runCLI("config", "validate", registry)
	for _, want := range []string{registry + `:2:11: error: Invalid registry url`, registry + `:3:3: error: Unsupported argument; An argument named "bogus"`} {
		if code != exitFailure || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, diagnostics lack %q:\n%s", code, want, stderr)
		}
	}
	if code, _, _ := runCLI("config", "validate"); code != exitUsage {
		t.Errorf("validate without a file: exit %d, want %d", code, exitUsage)
	}
}
