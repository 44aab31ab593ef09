package main

import (
	"encoding/json"
	"testing"

	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/internal/testreceiver"
	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify/amnotifytest"
	"github.com/vigilmon/vigil/sdk"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// TestModule drives the module through the host against a local alert
// source.
func TestModule(t *testing.T) {
	amnotifytest.Module{
		Package: "plugins/notifier/incidentio", Plugin: incidentioPlugin, SecretAttribute: "alert_source_token",
		Config: func(base string) map[string]any {
			return map[string]any{"url": base + "/v2/alert_events/http/source-1", "alert_source_token": amnotifytest.Secret}
		},
		Bad: map[string]any{"max_alerts": -1}, BadAttribute: "max_alerts",
		Check: func(t *testing.T, r testreceiver.Request) {
			var m map[string]any
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatal(err)
			}
			alerts, _ := m["alerts"].([]any)
			if r.Path != "/v2/alert_events/http/source-1" || r.Header.Get("Authorization") != "Bearer "+amnotifytest.Secret ||
				m["version"] != "1" || m["groupKey"] != `{}:{alertname="InstanceDown"}` || m["status"] != "firing" || len(alerts) != 1 ||
				m["notification_reason"] != "unknown" || m["receiver"] != "ops" {
				t.Errorf("%s %s\n%s", r.Method, r.Path, r.Body)
			}
		},
	}.Run(t)
}

// TestSample configures the plugin with sample.hcl.
func TestSample(t *testing.T) {
	amnotifytest.Sample(t, incidentioPlugin, "api.incident.io", map[string]string{"INCIDENTIO_TOKEN": "t"})
}

// TestMaxAlerts lists at most max_alerts alerts and counts the others.
func TestMaxAlerts(t *testing.T) {
	values, err := incidentioPlugin.Schema.Values(map[string]any{"url": "https://api.incident.io/x", "alert_source_token": "t", "max_alerts": 1})
	if err != nil {
		t.Fatal(err)
	}
	i, err := newIncidentio(values)
	if err != nil {
		t.Fatal(err)
	}
	n := amnotifytest.Notification("firing")
	n.Alerts = append(n.Alerts, n.Alerts[0], n.Alerts[0])
	n.TruncatedAlerts = 1
	b, err := i.body(n)
	var m struct {
		Alerts          []sdk.Alert `json:"alerts"`
		TruncatedAlerts uint64      `json:"truncatedAlerts"`
	}
	if err != nil || json.Unmarshal(b, &m) != nil || len(m.Alerts) != 1 || m.TruncatedAlerts != 3 {
		t.Errorf("%s %v", b, err)
	}
}
