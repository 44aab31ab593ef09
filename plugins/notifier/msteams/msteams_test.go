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
// incoming webhook.
func TestModule(t *testing.T) {
	amnotifytest.Module{
		Package: "plugins/notifier/msteams", Plugin: msteamsPlugin, SecretAttribute: "webhook_url",
		Config: func(base string) map[string]any {
			return map[string]any{"webhook_url": base + "/webhookb2/" + amnotifytest.Secret}
		},
		Bad: map[string]any{"title": "{{ .Status"}, BadAttribute: "title",
		Check: func(t *testing.T, r testreceiver.Request) {
			var c card
			if err := json.Unmarshal(r.Body, &c); err != nil {
				t.Fatal(err)
			}
			if r.Path != "/webhookb2/"+amnotifytest.Secret || c.Type != "MessageCard" || c.ThemeColor != colorFiring ||
				c.Title != "[FIRING:1] InstanceDown (host:9100 node critical)" || c.Summary != c.Title || !strings.Contains(c.Text, "# Alerts Firing:") {
				t.Errorf("%s %s\n%s", r.Method, r.Path, r.Body)
			}
		},
	}.Run(t)
}

// TestSample configures the plugin with sample.hcl.
func TestSample(t *testing.T) {
	amnotifytest.Sample(t, msteamsPlugin, "example.webhook.office.com", map[string]string{"MSTEAMS_WEBHOOK_URL": "https://example.webhook.office.com/webhookb2/x"})
}
