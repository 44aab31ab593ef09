package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilmon/vigil/hclconfig"
)

// TestSample loads sample.hcl as the server does and configures the
// plugin with its config block.
func TestSample(t *testing.T) {
	t.Setenv("INVENTORY_TOKEN", "token")
	cfg, diags := hclconfig.Load("sample.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	n := 0
	for _, inst := range cfg.Instances() {
		// The program and the module, vigil-discovery-http and
		// vigil-discovery-http.wasm.
		if !strings.HasPrefix(filepath.Base(inst.Plugin.Source), "vigil-discovery-http") {
			continue
		}
		n++
		config, diags := hclconfig.DecodePluginConfig(inst, httpPlugin.Schema)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		values, err := httpPlugin.Schema.Parse(config)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := newHTTPDiscoverer(values); err != nil {
			t.Fatalf("%s %q: %v", inst.Kind, inst.Name, err)
		}
	}
	if n != 2 {
		t.Fatalf("sample.hcl uses the plugin %d times, want the program and the module", n)
	}
}
