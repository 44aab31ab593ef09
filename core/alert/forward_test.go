package alert

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

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/notifier"

	"github.com/vigilmon/vigil/hclconfig"
)

// postedAlerts is what an Alertmanager's POST /api/v2/alerts received,
// with the request's path and user.
type postedAlerts struct {
	path, user            string
	authorization, tenant string // the Authorization and X-Scope-OrgID headers
	alerts                []notifier.Alert
}

func fakeAlertmanager(t *testing.T) (*httptest.Server, chan postedAlerts) {
	t.Helper()
	got := make(chan postedAlerts, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p postedAlerts
		p.path = r.URL.Path
		p.user, _, _ = r.BasicAuth()
		p.authorization, p.tenant = r.Header.Get("Authorization"), r.Header.Get("X-Scope-OrgID")
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&p.alerts) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		got <- p
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// waitForAlertmanagers waits, at most 30s, until f knows n
// Alertmanagers: once its manager has synced its targets.
func waitForAlertmanagers(t *testing.T, f *Forwarder, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(f.Alertmanagers()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("alertmanagers: %v", f.Alertmanagers())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestForwarderPostsToAlertmanagers sends alerts to two external
// Alertmanagers, one with a path prefix and credentials in its URL: each
// gets the alerts on its v2 API with the external labels added.
func TestForwarderPostsToAlertmanagers(t *testing.T) {
	plain, plainGot := fakeAlertmanager(t)
	prefixed, prefixedGot := fakeAlertmanager(t)
	prefixedURL := strings.Replace(prefixed.URL, "http://", "http://ops:secret@", 1) + "/am"
	cfg, diags := hclconfig.Parse("forward.hcl", fmt.Appendf(nil, `
global {
  external_labels = { cluster = "eu1" }
}
alertmanager {
  urls    = [%q, %q]
  timeout = "5s"
}
`, plain.URL, prefixedURL))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	f := NewForwarder(ForwarderOptions{Registerer: prometheus.NewRegistry()})
	defer f.Stop()
	if err := f.ApplyConfig(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	alert := &Alert{
		Labels:       labels.FromStrings("alertname", "Down", "cluster", "mine", "job", "api"),
		Annotations:  labels.FromStrings("summary", "api is down"),
		StartsAt:     start,
		EndsAt:       start.Add(time.Hour),
		GeneratorURL: "http://vigil/graph",
	}
	other := &Alert{Labels: labels.FromStrings("alertname", "Slow"), StartsAt: start}
	waitForAlertmanagers(t, f, 2)
	f.Send([]*Alert{alert, other})

	for name, ch := range map[string]chan postedAlerts{"plain": plainGot, "prefixed": prefixedGot} {
		var p postedAlerts
		select {
		case p = <-ch:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: nothing posted", name)
		}
		wantPath, wantUser := "/api/v2/alerts", ""
		if name == "prefixed" {
			wantPath, wantUser = "/am/api/v2/alerts", "ops"
		}
		if p.path != wantPath || p.user != wantUser || len(p.alerts) != 2 {
			t.Fatalf("%s: posted %+v", name, p)
		}
		got := p.alerts[0]
		// An alert's own cluster label wins over the external label.
		if got.Labels.String() != `{alertname="Down", cluster="mine", job="api"}` || got.Annotations.Get("summary") != "api is down" ||
			!got.StartsAt.Equal(start) || !got.EndsAt.Equal(start.Add(time.Hour)) || got.GeneratorURL != "http://vigil/graph" {
			t.Errorf("%s: first alert %+v", name, got)
		}
		if p.alerts[1].Labels.String() != `{alertname="Slow", cluster="eu1"}` {
			t.Errorf("%s: second alert %+v", name, p.alerts[1])
		}
	}
	for _, u := range f.Alertmanagers() {
		if strings.Contains(u, "secret") {
			t.Errorf("the password shows in %s", u)
		}
	}
}

// TestForwarderUsesTheBlocksClient: an alertmanager block's client
// settings, a bearer token read from a file and a header, reach its
// Alertmanager.
func TestForwarderUsesTheBlocksClient(t *testing.T) {
	am, got := fakeAlertmanager(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "am-token"), []byte("t0ken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags := hclconfig.Parse(filepath.Join(dir, "forward.hcl"), fmt.Appendf(nil, `
alertmanager {
  urls              = [%q]
  bearer_token_file = "am-token"
  headers           = { "X-Scope-OrgID" = "ops" }
}
`, am.URL))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	f := NewForwarder(ForwarderOptions{Registerer: prometheus.NewRegistry()})
	defer f.Stop()
	if err := f.ApplyConfig(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	waitForAlertmanagers(t, f, 1)
	f.Send([]*Alert{{Labels: labels.FromStrings("alertname", "Down"), StartsAt: time.Now()}})
	select {
	case p := <-got:
		if p.authorization != "Bearer t0ken" || p.tenant != "ops" {
			t.Errorf("posted with Authorization %q and X-Scope-OrgID %q", p.authorization, p.tenant)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("nothing posted")
	}
}

// TestForwarderWithoutAlertmanagers drops alerts when no alertmanager
// block is configured, and stops cleanly.
func TestForwarderWithoutAlertmanagers(t *testing.T) {
	f := NewForwarder(ForwarderOptions{Registerer: prometheus.NewRegistry()})
	if err := f.ApplyConfig(t.Context(), &hclconfig.Config{}); err != nil {
		t.Fatal(err)
	}
	f.Send([]*Alert{{Labels: labels.FromStrings("alertname", "Down")}})
	if got := f.Alertmanagers(); len(got) != 0 {
		t.Errorf("alertmanagers %v", got)
	}
	f.Stop()
	f.Stop() // twice is fine
}
