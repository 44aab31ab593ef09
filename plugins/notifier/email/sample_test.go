package main

import (
	"testing"

	"github.com/vigilmon/vigil/hclconfig"
)

// TestSample loads sample.hcl as the server does and configures the
// plugin with its config block.
func TestSample(t *testing.T) {
	t.Setenv("SMTP_PASSWORD", "password")
	cfg, diags := hclconfig.Load("sample.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	n := 0
	for _, inst := range cfg.Instances() {
		if inst.Plugin.Name != emailPlugin.Info.Name {
			continue
		}
		n++
		config, diags := hclconfig.DecodePluginConfig(inst, emailPlugin.Schema)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		values, err := emailPlugin.Schema.Parse(config)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := newEmail(values); err != nil {
			t.Fatalf("%s %q: %v", inst.Kind, inst.Name, err)
		}
	}
	if n == 0 {
		t.Fatal("sample.hcl does not use the plugin")
	}
}
