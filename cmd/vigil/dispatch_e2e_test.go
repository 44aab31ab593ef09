package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/sdk"
)

// TestServerDeliversAlerts runs the server with an always firing rule
// routed to the webhook plugin: the alert reaches the receiver as
// Alertmanager's webhook message, version 4, and the server then stops
// cleanly.
func TestServerDeliversAlerts(t *testing.T) {
	webhook := testplugins.Build(t, "plugins/notifier/webhook")
	got := make(chan sdk.Notification, 100)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg sdk.Notification
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- msg
	}))
	defer receiver.Close()

	dir := t.TempDir()
	config := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`server {
  data_dir = %q
}

plugin "webhook" { source = %q }

notifier "ops" {
  plugin = "webhook"
  config { url = %q }
}

rules "always" {
  interval = "1s"
  alert "AlwaysFiring" {
    expr   = "vector(1)"
    labels = { severity = "page" }
  }
}

route {
  receiver   = "ops"
  group_by   = ["alertname"]
  group_wait = "1s"
}
`, filepath.Join(dir, "data"), webhook, receiver.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--config", config)
	var msg sdk.Notification
	select {
	case msg = <-got:
	case <-time.After(2 * time.Minute):
		t.Fatalf("no notification within 2 minutes:\n%s", srv.logText())
	}
	if msg.Version != "4" || msg.Receiver != "ops" || msg.Status != "firing" || msg.GroupKey != `{}:{alertname="AlwaysFiring"}` ||
		len(msg.Alerts) != 1 || msg.Alerts[0].Labels["alertname"] != "AlwaysFiring" || msg.Alerts[0].Labels["severity"] != "page" ||
		msg.Alerts[0].Fingerprint == "" || msg.ExternalURL != "http://"+srv.addr {
		t.Fatalf("notification %+v", msg)
	}

	// Silences are served by the running server, through the CLI.
	server := "http://" + srv.addr
	if code, stdout, stderr := runCLI("alerts", "list", "--server", server); code != exitOK ||
		!strings.Contains(stdout, "AlwaysFiring") || !strings.Contains(stdout, "active") {
		t.Fatalf("alerts list: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI("silence", "add", "--server", server, "--comment", "maintenance", "alertname=AlwaysFiring"); code != exitOK {
		t.Fatalf("silence add: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI("silence", "list", "--server", server); code != exitOK || !strings.Contains(stdout, "maintenance") {
		t.Fatalf("silence list: exit %d\n%s%s", code, stdout, stderr)
	}
	// The silence applies at once: the alert is shown as suppressed.
	if code, stdout, stderr := runCLI("alerts", "list", "--server", server, "alertname=AlwaysFiring"); code != exitOK ||
		!strings.Contains(stdout, "AlwaysFiring") || !strings.Contains(stdout, "suppressed") {
		t.Fatalf("alerts list after the silence: exit %d\n%s%s", code, stdout, stderr)
	}
	srv.stop(t)
}
