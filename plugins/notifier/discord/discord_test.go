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

// TestModule drives the module through the host against a local Discord
// webhook.
func TestModule(t *testing.T) {
	amnotifytest.Module{
		Package: "plugins/notifier/discord", Plugin: discordPlugin, SecretAttribute: "webhook_url",
		Config: func(base string) map[string]any {
			return map[string]any{"webhook_url": base + "/api/webhooks/1/" + amnotifytest.Secret, "username": "Vigil"}
		},
		Bad: map[string]any{"avatar_url": "avatar.png"}, BadAttribute: "avatar_url",
		Check: func(t *testing.T, r testreceiver.Request) {
			var m message
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatal(err)
			}
			if r.Path != "/api/webhooks/1/"+amnotifytest.Secret || m.Username != "Vigil" || len(m.Embeds) != 1 || m.Embeds[0].Color != colorFiring ||
				m.Embeds[0].Title != "[FIRING:1] InstanceDown (host:9100 node critical)" || !strings.Contains(m.Embeds[0].Description, "host:9100 is down") {
				t.Errorf("%s %s\n%s", r.Method, r.Path, r.Body)
			}
		},
	}.Run(t)
}

// TestSample configures the plugin with sample.hcl.
func TestSample(t *testing.T) {
	amnotifytest.Sample(t, discordPlugin, "discord.com", map[string]string{"DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/1/x"})
}
