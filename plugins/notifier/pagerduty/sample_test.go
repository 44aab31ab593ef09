package main

import (
	"testing"

	"github.com/vigilmon/vigil/hclconfig"
)

// TestSample loads sample.hcl as the server does and configures the
// plugin with its config block.
func TestSample(t *testing.T) {
	t.Setenv("PAGERDUTY_ROUTING_KEY", routingKey)
	cfg, diags := hclconfig.Load("sample.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	n := 0
	for _, inst := range cfg.Instances() {
		if inst.Plugin.Name != pagerdutyPlugin.Info.Name {
			continue
		}
		n++
		if !inst.Plugin.IsWasm() || len(inst.Plugin.AllowHosts) != 1 || inst.Plugin.AllowHosts[0] != "events.pagerduty.com" {
			t.Errorf("plugin block %+v", inst.Plugin)
		}
		config, diags := hclconfig.DecodePluginConfig(inst, pagerdutyPlugin.Schema)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		values, err := pagerdutyPlugin.Schema.Parse(config)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := newPagerDuty(values); err != nil {
			t.Fatalf("%s %q: %v", inst.Kind, inst.Name, err)
		}
	}
	if n == 0 {
		t.Fatal("sample.hcl does not use the plugin")
	}
}
