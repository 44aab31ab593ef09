package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/internal/testreceiver"
	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify/amnotifytest"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// TestModule drives the module through the host against a local
// workflow trigger.
func TestModule(t *testing.T) {
	amnotifytest.Module{
		Package: "plugins/notifier/msteamsv2", Plugin: msteamsv2Plugin, SecretAttribute: "webhook_url",
		Config: func(base string) map[string]any {
			return map[string]any{"webhook_url": base + "/workflows/x?sig=" + amnotifytest.Secret}
		},
		Bad: map[string]any{"text": "{{ .Status"}, BadAttribute: "text",
		Check: func(t *testing.T, r testreceiver.Request) {
			var m message
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatal(err)
			}
			if r.Path != "/workflows/x" || m.Type != "message" || len(m.Attachments) != 1 {
				t.Fatalf("%s %s\n%s", r.Method, r.Path, r.Body)
			}
			c := m.Attachments[0].Content
			if c.Type != "AdaptiveCard" || len(c.Body) != 2 || c.Body[0].Color != colorFiring ||
				c.Body[0].Text != "[FIRING:1] InstanceDown (host:9100 node critical)" || !strings.Contains(c.Body[1].Text, "# Alerts Firing:") {
				t.Errorf("%s", r.Body)
			}
		},
	}.Run(t)
}

// TestSample configures the plugin with sample.hcl.
func TestSample(t *testing.T) {
	amnotifytest.Sample(t, msteamsv2Plugin, "prod-00.westeurope.logic.azure.com", map[string]string{"MSTEAMS_WORKFLOW_URL": "https://prod-00.westeurope.logic.azure.com/workflows/x"})
}
