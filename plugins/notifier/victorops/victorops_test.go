package main

import (
	"encoding/json"
	"testing"

	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/internal/testreceiver"
	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify"
	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify/amnotifytest"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// TestModule drives the module through the host against a local REST
// integration.
func TestModule(t *testing.T) {
	amnotifytest.Module{
		Package: "plugins/notifier/victorops", Plugin: victoropsPlugin, SecretAttribute: "api_key",
		Config: func(base string) map[string]any {
			return map[string]any{"api_key": amnotifytest.Secret, "routing_key": "{{ .CommonLabels.job }}", "api_url": base + "/alert", "message_type": "WARNING"}
		},
		Bad: map[string]any{"custom_fields": map[string]string{"entity_id": "x"}}, BadAttribute: "custom_fields",
		Check: func(t *testing.T, r testreceiver.Request) {
			var m map[string]string
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatal(err)
			}
			n := amnotifytest.Notification("firing")
			if r.Path != "/alert/"+amnotifytest.Secret+"/node" || m["message_type"] != "WARNING" || m["entity_id"] != amnotify.Hash(n.GroupKey) ||
				m["entity_display_name"] != "[FIRING:1] InstanceDown (host:9100 node critical)" || m["monitoring_tool"] == "" || m["state_message"] == "" {
				t.Errorf("%s %s\n%s", r.Method, r.Path, r.Body)
			}
		},
	}.Run(t)
}

// TestSample configures the plugin with sample.hcl.
func TestSample(t *testing.T) {
	amnotifytest.Sample(t, victoropsPlugin, "alert.victorops.com", map[string]string{"VICTOROPS_API_KEY": "k"})
}

// TestMessageType resolves with RECOVERY, and turns an unknown type into
// CRITICAL.
func TestMessageType(t *testing.T) {
	values, err := victoropsPlugin.Schema.Values(map[string]any{"api_key": "k", "routing_key": "ops", "message_type": "PAGE"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := newVictorOps(values)
	if err != nil {
		t.Fatal(err)
	}
	for status, want := range map[string]string{"firing": "CRITICAL", "resolved": "RECOVERY"} {
		u, m, err := v.incident(amnotifytest.Notification(status))
		if err != nil || m["message_type"] != want || u != defaultURL+"k/ops" {
			t.Errorf("%s: %s %v %v", status, u, m, err)
		}
	}
}
