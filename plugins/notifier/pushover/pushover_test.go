package main

import (
	"net/url"
	"testing"

	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/internal/testreceiver"
	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify/amnotifytest"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// TestModule drives the module through the host against a local
// Pushover API.
func TestModule(t *testing.T) {
	var query url.Values
	amnotifytest.Module{
		Package: "plugins/notifier/pushover", Plugin: pushoverPlugin, SecretAttribute: "token",
		Config: func(base string) map[string]any {
			return map[string]any{"user_key": "user-1", "token": amnotifytest.Secret, "api_url": base + "/1/messages.json", "ttl": "2h"}
		},
		Bad: map[string]any{"retry": "10s"}, BadAttribute: "retry",
		Answer: `{"status": 1, "request": "0"}`,
		Check: func(t *testing.T, r testreceiver.Request) {
			// The receiver records the path only: the parameters are
			// checked through parameters below.
			if r.Path != "/1/messages.json" || len(r.Body) != 0 {
				t.Errorf("%s %s\n%s", r.Method, r.Path, r.Body)
			}
		},
	}.Run(t)
	values, err := pushoverPlugin.Schema.Values(map[string]any{"user_key": "user-1", "token": "app-1", "ttl": "2h", "html": true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := newPushover(values)
	if err != nil {
		t.Fatal(err)
	}
	if query, err = p.parameters(amnotifytest.Notification("firing")); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"token": "app-1", "user": "user-1", "title": "[FIRING:1] InstanceDown (host:9100 node critical)",
		"priority": "2", "retry": "60", "expire": "3600", "ttl": "7200", "html": "1", "url": "http://vigil.example.com:9090/#/alerts?receiver=ops"}
	for k, v := range want {
		if query.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, query.Get(k), v)
		}
	}
	if query, _ = p.parameters(amnotifytest.Notification("resolved")); query.Get("priority") != "0" {
		t.Errorf("resolved: priority %q", query.Get("priority"))
	}
}

// TestSample configures the plugin with sample.hcl.
func TestSample(t *testing.T) {
	amnotifytest.Sample(t, pushoverPlugin, "api.pushover.net", map[string]string{"PUSHOVER_USER_KEY": "u", "PUSHOVER_TOKEN": "a"})
}
