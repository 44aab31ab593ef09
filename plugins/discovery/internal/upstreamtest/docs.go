package upstreamtest

import (
	"os"
	"strings"
	"testing"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
)

// CheckREADME fails the test when the plugin's README does not name,
// as `name`, each attribute of m's schema but the shared HTTP client
// ones, which the discovery plugins' common page lists.
func CheckREADME(t *testing.T, m upstream.Mechanism, path string) {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := upstream.Schema(m)
	if err != nil {
		t.Fatal(err)
	}
	shared := map[string]bool{}
	for _, a := range upstream.HTTPClientAttributes() {
		shared[a.Name] = true
	}
	for _, a := range schema {
		if !shared[a.Name] && !strings.Contains(string(text), "`"+a.Name+"`") {
			t.Errorf("%s does not document the attribute %q", path, a.Name)
		}
	}
}

// CheckSample loads the sample configuration as the server does, and
// configures m's plugin with each of its config blocks that use it.
func CheckSample(t *testing.T, m upstream.Mechanism, path string) {
	t.Helper()
	cfg, diags := hclconfig.Load(path)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p := upstream.Plugin(m)
	n := 0
	for _, inst := range cfg.Instances() {
		if inst.Plugin.Name != p.Info.Name {
			continue
		}
		n++
		config, diags := hclconfig.DecodePluginConfig(inst, p.Schema)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		values, err := p.Schema.Parse(config)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Discoverer(values); err != nil {
			t.Fatalf("%s %q: %v", inst.Kind, inst.Name, err)
		}
	}
	if n == 0 {
		t.Fatalf("%s does not use the plugin %q", path, p.Info.Name)
	}
}
