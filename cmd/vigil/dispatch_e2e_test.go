package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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
	receiver := newWebhookReceiver(t, nil)
	config := writeAlertingConfig(t, t.TempDir(), map[string]string{"ops": receiver.URL}, `rules "always" {
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
`)
	srv := startServer(t, "--config", config)
	msg := receiver.next(t, srv).msg
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

// delivery is a request the webhook receiver of a test took: the message,
// when it came and the status code it was answered with.
type delivery struct {
	msg    sdk.Notification
	at     time.Time
	status int
}

// webhookReceiver takes the webhook plugin's messages for a test. It
// answers each request with the status answer gives for the request's
// number, from 1, or 200 without answer; the messages answered 2xx go to
// delivered, and every request is kept, in order, for requests.
type webhookReceiver struct {
	URL       string // of the httptest server, on 127.0.0.1; empty with newWebhookHandler
	answer    func(n int) int
	delivered chan delivery

	mu  sync.Mutex
	all []delivery
}

// newWebhookReceiver starts a receiver on a loopback port, closed when
// the test ends.
func newWebhookReceiver(t *testing.T, answer func(n int) int) *webhookReceiver {
	t.Helper()
	r := newWebhookHandler(answer)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// newWebhookHandler returns a receiver that the test serves itself.
func newWebhookHandler(answer func(n int) int) *webhookReceiver {
	return &webhookReceiver{answer: answer, delivered: make(chan delivery, 100)}
}

func (r *webhookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var msg sdk.Notification
	if err := json.NewDecoder(req.Body).Decode(&msg); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	status := http.StatusOK
	if r.answer != nil {
		status = r.answer(len(r.all) + 1)
	}
	d := delivery{msg: msg, at: time.Now(), status: status}
	r.all = append(r.all, d)
	r.mu.Unlock()
	if status/100 == 2 {
		r.delivered <- d
	}
	w.WriteHeader(status)
}

// requests returns every request taken so far, in order.
func (r *webhookReceiver) requests() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.all)
}

// next returns the next delivered message, failing the test when none
// comes within a minute.
func (r *webhookReceiver) next(t *testing.T, srv *runningServer) delivery {
	t.Helper()
	select {
	case d := <-r.delivered:
		return d
	case <-time.After(time.Minute):
		t.Fatalf("no notification within a minute:\n%s", srv.logText())
		return delivery{}
	}
}

// none fails the test when a message is delivered within d.
func (r *webhookReceiver) none(t *testing.T, d time.Duration, why string) {
	t.Helper()
	select {
	case got := <-r.delivered:
		t.Fatalf("%s: got a notification: %+v", why, got.msg)
	case <-time.After(d):
	}
}

// writeAlertingConfig writes, in dir, a configuration with the data
// directory dir/data, the webhook plugin, a webhook notifier block for
// each receiver (name to URL) and then rest; it returns its path.
func writeAlertingConfig(t *testing.T, dir string, receivers map[string]string, rest string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "server {\n  data_dir = %q\n}\n\nplugin \"webhook\" { source = %q }\n", filepath.Join(dir, "data"),
		testplugins.Build(t, "plugins/notifier/webhook"))
	for _, name := range slices.Sorted(maps.Keys(receivers)) {
		fmt.Fprintf(&b, "\nnotifier %q {\n  plugin = \"webhook\"\n  config { url = %q }\n}\n", name, receivers[name])
	}
	b.WriteString("\n" + rest)
	path := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
