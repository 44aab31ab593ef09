package main

import (
	"encoding/json"
	"testing"

	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/internal/testreceiver"
	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify/amnotifytest"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// TestModule drives the module through the host against a local
// Rocket.Chat server.
func TestModule(t *testing.T) {
	amnotifytest.Module{
		Package: "plugins/notifier/rocketchat", Plugin: rocketchatPlugin, SecretAttribute: "token",
		Config: func(base string) map[string]any {
			return map[string]any{"token": amnotifytest.Secret, "token_id": "user-1", "api_url": base, "channel": "#alerts"}
		},
		Bad: map[string]any{"token_id": ""}, BadAttribute: "token_id",
		Answer: `{"success": true}`,
		Check: func(t *testing.T, r testreceiver.Request) {
			var m message
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatal(err)
			}
			if r.Path != "/api/v1/chat.postMessage" || r.Header.Get("X-Auth-Token") != amnotifytest.Secret || r.Header.Get("X-User-Id") != "user-1" ||
				m.Channel != "#alerts" || len(m.Attachments) != 1 || m.Attachments[0].Color != "red" ||
				m.Attachments[0].Title != "[FIRING:1] InstanceDown (host:9100 node critical)" ||
				m.Attachments[0].TitleLink != "http://vigil.example.com:9090/#/alerts?receiver=ops" {
				t.Errorf("%s %s\n%s", r.Method, r.Path, r.Body)
			}
		},
	}.Run(t)
}

// TestSample configures the plugin with sample.hcl.
func TestSample(t *testing.T) {
	amnotifytest.Sample(t, rocketchatPlugin, "chat.example.com", map[string]string{"ROCKETCHAT_TOKEN": "t"})
}
