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
// Opsgenie API.
func TestModule(t *testing.T) {
	amnotifytest.Module{
		Package: "plugins/notifier/opsgenie", Plugin: opsgeniePlugin, SecretAttribute: "api_key",
		Config: func(base string) map[string]any {
			return map[string]any{"api_key": amnotifytest.Secret, "api_url": base, "responders": []string{"teams:ops,db", "user:jane@example.com"}}
		},
		Bad: map[string]any{"priority": "urgent"}, BadAttribute: "priority",
		Check: func(t *testing.T, r testreceiver.Request) {
			var m createMessage
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatal(err)
			}
			if r.Path != "/v2/alerts" || r.Header.Get("Authorization") != "GenieKey "+amnotifytest.Secret ||
				m.Message != "[FIRING:1] InstanceDown (host:9100 node critical)" || len(m.Alias) != 64 ||
				!strings.Contains(m.Description, "host:9100 is down") || m.Details["job"] != "node" ||
				len(m.Responders) != 3 || m.Responders[1] != (responder{Name: "db", Type: "team"}) || m.Responders[2].Username != "jane@example.com" {
				t.Errorf("%s %s\n%s", r.Method, r.Path, r.Body)
			}
		},
	}.Run(t)
}

// TestSample configures the plugin with sample.hcl.
func TestSample(t *testing.T) {
	amnotifytest.Sample(t, opsgeniePlugin, "api.opsgenie.com", map[string]string{"OPSGENIE_API_KEY": "k"})
}

// TestRequests checks the calls of a resolved notification and of
// update_alerts, and a long message cut to Opsgenie's limit.
func TestRequests(t *testing.T) {
	values, err := opsgeniePlugin.Schema.Values(map[string]any{"api_key": "k", "api_url": "https://eu.example.com/api", "update_alerts": true, "message": "{{ range .Alerts }}{{ .Annotations.description }}{{ .Annotations.description }}{{ .Annotations.description }}{{ .Annotations.description }}{{ end }}"})
	if err != nil {
		t.Fatal(err)
	}
	o, err := newOpsgenie(values)
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := o.requests(amnotifytest.Notification("firing"))
	if err != nil || len(reqs) != 3 || reqs[0].url != "https://eu.example.com/api/v2/alerts" ||
		!strings.HasSuffix(reqs[1].url, "/message?identifierType=alias") || reqs[2].method != "PUT" {
		t.Fatalf("%+v %v", reqs, err)
	}
	if m := reqs[0].body.(createMessage).Message; len([]rune(m)) != maxMessage || !strings.HasSuffix(m, "…") {
		t.Errorf("message %q", m)
	}
	reqs, err = o.requests(amnotifytest.Notification("resolved"))
	if err != nil || len(reqs) != 1 || !strings.HasPrefix(reqs[0].url, "https://eu.example.com/api/v2/alerts/") ||
		!strings.HasSuffix(reqs[0].url, "/close?identifierType=alias") || reqs[0].body.(closeMessage).Source == "" {
		t.Fatalf("%+v %v", reqs, err)
	}
}
