package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilmon/vigil/internal/testplugins"
)

// firstPartyPlugins are the plugins make plugins builds, by package, and
// whether each is a Wasm module.
var firstPartyPlugins = map[string]bool{
	"plugins/exporter/node":        false,
	"plugins/exporter/blackbox":    false,
	"plugins/exporter/mysql":       false,
	"plugins/exporter/haproxy":     false,
	"plugins/exporter/apache":      true,
	"plugins/discovery/file":       false,
	"plugins/discovery/http":       true, // and the program, built from the same package
	"plugins/notifier/webhook":     false,
	"plugins/notifier/email":       false,
	"plugins/notifier/slack":       true,
	"plugins/notifier/pagerduty":   true,
	"plugins/notifier/opsgenie":    true,
	"plugins/notifier/msteams":     true,
	"plugins/notifier/msteamsv2":   true,
	"plugins/notifier/telegram":    true,
	"plugins/notifier/discord":     true,
	"plugins/notifier/pushover":    true,
	"plugins/notifier/victorops":   true,
	"plugins/notifier/webex":       true,
	"plugins/notifier/sns":         true,
	"plugins/notifier/jira":        true,
	"plugins/notifier/rocketchat":  true,
	"plugins/notifier/incidentio":  true,
	"plugins/discovery/dns":        false,
	"plugins/discovery/kubernetes": false,
	"plugins/discovery/consul":     false,
	"plugins/discovery/ec2":        false,
	"plugins/discovery/azure":      false,
	"plugins/discovery/gce":        false,
	"plugins/discovery/openstack":  false,
	"plugins/discovery/docker":     false,
	"plugins/discovery/nomad":      false,
	"plugins/discovery/eureka":     false,
}

// TestSamplesValidateWhereTheySit runs `vigil config validate` on every
// plugin's sample.hcl in its own folder, from another working directory:
// their sources are bare file names, found on PATH here, and each config
// block passes its plugin's schema.
func TestSamplesValidateWhereTheySit(t *testing.T) {
	vigil := vigilBinary(t)
	var dir string
	for pkg, wasm := range firstPartyPlugins {
		path := testplugins.Build(t, pkg)
		if wasm {
			path = testplugins.BuildWasm(t, pkg)
		}
		dir = filepath.Dir(path)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for pkg := range firstPartyPlugins {
		t.Run(pkg, func(t *testing.T) {
			cmd := exec.Command(vigil, "config", "validate", filepath.Join(root, pkg, "sample.hcl"))
			cmd.Dir = t.TempDir()
			// With the secrets the samples read with env().
			cmd.Env = append(append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH")), sampleSecrets...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

// TestPluginFoundBesideVigil validates a configuration naming the node
// exporter by its bare file name, with a vigil program that has the
// plugin beside it, as make puts both in bin/, and not on PATH.
func TestPluginFoundBesideVigil(t *testing.T) {
	bin := t.TempDir()
	copyFile(t, vigilBinary(t), filepath.Join(bin, "vigil"))
	copyFile(t, testplugins.Build(t, "plugins/exporter/node"), filepath.Join(bin, "vigil-exporter-node"))
	config := filepath.Join(t.TempDir(), "vigil.hcl")
	if err := os.WriteFile(config, []byte("plugin \"node\" {\n  source = \"vigil-exporter-node\"\n}\n\nexporter \"node\" {\n  plugin = \"node\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "vigil"), "config", "validate", config)
	cmd.Env = append(os.Environ(), "PATH=/nonexistent")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("beside vigil: %v\n%s", err, out)
	}
	// Elsewhere the name is found nowhere, and the error says where it
	// was looked for.
	cmd = exec.Command(vigilBinary(t), "config", "validate", config)
	cmd.Env = append(os.Environ(), "PATH=/nonexistent")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `"vigil-exporter-node" is not in the configuration's folder, beside vigil, nor on PATH`) {
		t.Fatalf("not found: %v\n%s", err, out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
