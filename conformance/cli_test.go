package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/internal/testplugins"
)

// vigil runs the vigil command with args and returns its stdout, stderr
// and exit code.
func vigil(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// TestCLI runs `vigil conformance run` as a user does: exit 0 for a
// conforming plugin, 1 for a broken one, 2 for a wrong flag, in each
// format.
func TestCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vigil and plugins")
	}
	bin := testplugins.Build(t, "cmd/vigil")
	webhook := testplugins.Build(t, "plugins/notifier/webhook")
	broken := testplugins.Build(t, "conformance/testdata/counterdown")

	t.Run("text", func(t *testing.T) {
		out, errOut, code := vigil(t, bin, "conformance", "run", webhook)
		if code != 0 || !strings.Contains(out, "PASS  MUST    notifier.v4-payload") || !strings.Contains(out, "the plugin conforms") {
			t.Errorf("exit %d\n%s\n%s", code, out, errOut)
		}
		if errOut != "" {
			t.Errorf("stderr is not a terminal, yet has %q", errOut)
		}
	})
	t.Run("json", func(t *testing.T) {
		out, errOut, code := vigil(t, bin, "conformance", "run", "--format", "json", "--kind", "exporter", broken)
		var rep struct {
			Kind     string `json:"kind"`
			Conforms bool   `json:"conforms"`
			Results  []struct {
				ID, Status, Detail string
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		var failed []string
		for _, r := range rep.Results {
			if r.Status == "fail" {
				failed = append(failed, r.ID)
			}
		}
		if code != 1 || rep.Conforms || rep.Kind != "exporter" || strings.Join(failed, ",") != "exporter.counter-monotonic" {
			t.Errorf("exit %d, conforms %v, kind %q, failed %q", code, rep.Conforms, rep.Kind, failed)
		}
		if !strings.Contains(errOut, "does not conform: 1 MUST check failed") {
			t.Errorf("stderr %q", errOut)
		}
	})
	t.Run("junit", func(t *testing.T) {
		out, _, code := vigil(t, bin, "conformance", "run", "--format", "junit", broken)
		var suite struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		}
		if err := xml.Unmarshal([]byte(out), &suite); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if code != 1 || suite.Failures != 1 || suite.Tests != len(suite.Cases) || suite.Tests < 20 {
			t.Errorf("exit %d, %d tests, %d failures\n%s", code, suite.Tests, suite.Failures, out)
		}
	})
	t.Run("config", func(t *testing.T) {
		// The webhook's url from a config file; the wrong kind asked.
		path := filepath.Join(t.TempDir(), "webhook.hcl")
		if err := os.WriteFile(path, []byte("config {\n  url = \"http://127.0.0.1:1/hook\"\n  timeout = \"2s\"\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _, code := vigil(t, bin, "conformance", "run", "--config", path, "--kind", "discovery", webhook)
		if code != 1 || !strings.Contains(out, "FAIL  MUST    plugin.protocol-version") || !strings.Contains(out, "asked to check a discovery plugin") {
			t.Errorf("exit %d\n%s", code, out)
		}
		// A config that does not fit the schema.
		if err := os.WriteFile(path, []byte("url = 3\nport = 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _, code = vigil(t, bin, "conformance", "run", "--config", path, webhook)
		if code != 1 || !strings.Contains(out, "FAIL  MUST    config.sample") || !strings.Contains(out, `"port"`) {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{"--format", "yaml", webhook}, {"--kind", "scraper", webhook}, {}} {
			if _, errOut, code := vigil(t, bin, append([]string{"conformance", "run"}, args...)...); code != 2 {
				t.Errorf("%q: exit %d, want 2\n%s", args, code, errOut)
			}
		}
	})
}
