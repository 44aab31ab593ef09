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

// TestModule drives the module through the host against a local Webex
// API.
func TestModule(t *testing.T) {
	amnotifytest.Module{
		Package: "plugins/notifier/webex", Plugin: webexPlugin, SecretAttribute: "bot_token",
		Config: func(base string) map[string]any {
			return map[string]any{"bot_token": amnotifytest.Secret, "room_id": "room-{{ .CommonLabels.job }}", "api_url": base + "/v1/messages"}
		},
		Bad: map[string]any{"room_id": " "}, BadAttribute: "room_id",
		Check: func(t *testing.T, r testreceiver.Request) {
			var m message
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatal(err)
			}
			if r.Path != "/v1/messages" || r.Header.Get("Authorization") != "Bearer "+amnotifytest.Secret || m.RoomID != "room-node" ||
				!strings.Contains(m.Markdown, "InstanceDown") {
				t.Errorf("%s %s\n%s", r.Method, r.Path, r.Body)
			}
		},
	}.Run(t)
}

// TestSample configures the plugin with sample.hcl.
func TestSample(t *testing.T) {
	amnotifytest.Sample(t, webexPlugin, "webexapis.com", map[string]string{"WEBEX_BOT_TOKEN": "t"})
}
