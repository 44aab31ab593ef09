package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/internal/testreceiver"
	"github.com/vigilmon/vigil/sdk"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// newReceiver is a webhook endpoint that records requests and answers
// with the status and body the test sets.
func newReceiver(t *testing.T) *testreceiver.Receiver {
	return testreceiver.New(t, http.StatusOK, "", nil)
}

func configure(t *testing.T, values map[string]any) *webhook {
	t.Helper()
	cfg, err := webhookPlugin.Schema.Values(values)
	if err != nil {
		t.Fatal(err)
	}
	w, err := newWebhook(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.client.CloseIdleConnections)
	return w
}

var start = time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC)

func notification() *sdk.Notification {
	return &sdk.Notification{
		Version:           "4",
		GroupKey:          `{}:{alertname="Down"}`,
		Status:            "firing",
		Receiver:          "team",
		GroupLabels:       map[string]string{"alertname": "Down"},
		CommonLabels:      map[string]string{"alertname": "Down"},
		CommonAnnotations: map[string]string{},
		ExternalURL:       "http://127.0.0.1:9090",
		Alerts: []sdk.Alert{
			{Status: "firing", Labels: map[string]string{"alertname": "Down", "instance": "a", "env": "prod"},
				Annotations: map[string]string{"summary": "a is down"}, StartsAt: start,
				GeneratorURL: "http://127.0.0.1:9090/graph", Fingerprint: "aaaa"},
			{Status: "resolved", Labels: map[string]string{"alertname": "Down", "instance": "b", "env": "prod"},
				Annotations: map[string]string{"summary": "b is down"}, StartsAt: start, EndsAt: start.Add(time.Minute),
				Fingerprint: "bbbb"},
			{Status: "firing", Labels: map[string]string{"alertname": "Down", "instance": "c"}, StartsAt: start, Fingerprint: "cccc"},
		},
	}
}

// want is the exact body Alertmanager's webhook would carry for
// notification(), in the field order of sdk.Notification.
const want = `{
	"version": "4",
	"groupKey": "{}:{alertname=\"Down\"}",
	"truncatedAlerts": 0,
	"status": "firing",
	"receiver": "team",
	"groupLabels": {"alertname": "Down"},
	"commonLabels": {"alertname": "Down"},
	"commonAnnotations": {},
	"externalURL": "http://127.0.0.1:9090",
	"alerts": [
		{"status": "firing", "labels": {"alertname": "Down", "env": "prod", "instance": "a"},
		 "annotations": {"summary": "a is down"}, "startsAt": "2026-01-02T03:04:05.6Z", "endsAt": "0001-01-01T00:00:00Z",
		 "generatorURL": "http://127.0.0.1:9090/graph", "fingerprint": "aaaa"},
		{"status": "resolved", "labels": {"alertname": "Down", "env": "prod", "instance": "b"},
		 "annotations": {"summary": "b is down"}, "startsAt": "2026-01-02T03:04:05.6Z", "endsAt": "2026-01-02T03:05:05.6Z",
		 "generatorURL": "", "fingerprint": "bbbb"},
		{"status": "firing", "labels": {"alertname": "Down", "instance": "c"},
		 "annotations": {}, "startsAt": "2026-01-02T03:04:05.6Z", "endsAt": "0001-01-01T00:00:00Z",
		 "generatorURL": "", "fingerprint": "cccc"}
	]
}`

func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		values map[string]any
		attr   string
	}{
		"no url":            {map[string]any{}, "url"},
		"other scheme":      {map[string]any{"url": "ftp://127.0.0.1/hook"}, "url"},
		"no host":           {map[string]any{"url": "https:///hook"}, "url"},
		"negative max":      {map[string]any{"url": "http://127.0.0.1", "max_alerts": -1}, "max_alerts"},
		"fractional max":    {map[string]any{"url": "http://127.0.0.1", "max_alerts": 1.5}, "max_alerts"},
		"zero timeout":      {map[string]any{"url": "http://127.0.0.1", "timeout": "0s"}, "timeout"},
		"header name":       {map[string]any{"url": "http://127.0.0.1", "headers": map[string]string{"X Team": "a"}}, "headers"},
		"reserved header":   {map[string]any{"url": "http://127.0.0.1", "headers": map[string]string{"authorization": "a"}}, "headers"},
		"header line break": {map[string]any{"url": "http://127.0.0.1", "headers": map[string]string{"X-Team": "a\r\nX-Evil: b"}}, "headers"},
		"password alone":    {map[string]any{"url": "http://127.0.0.1", "basic_auth_password": "p"}, "basic_auth_password"},
		"bearer and basic":  {map[string]any{"url": "http://127.0.0.1", "bearer_token": "t", "basic_auth_username": "u"}, "bearer_token"},
	} {
		cfg, err := webhookPlugin.Schema.Values(tc.values)
		if err == nil {
			_, err = newWebhook(cfg)
		}
		var ae *sdk.AttributeError
		if !errors.As(err, &ae) || ae.Attribute != tc.attr {
			t.Errorf("%s: %v, want an error about %q", name, err, tc.attr)
		}
	}
	w := configure(t, map[string]any{"url": "http://127.0.0.1/hook"})
	if w.timeout != 10*time.Second || w.maxAlerts != 0 {
		t.Errorf("defaults: timeout %s, max_alerts %d", w.timeout, w.maxAlerts)
	}
}

func TestNotify(t *testing.T) {
	r := newReceiver(t)
	w := configure(t, map[string]any{
		"url": r.URL + "/hook", "bearer_token": "s3cret",
		"headers": map[string]string{"x-team": "ops", "X-Trace": "1"},
	})
	n := notification()
	if err := w.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	got := r.Last(t)
	if got.Method != http.MethodPost || got.Path != "/hook" {
		t.Errorf("%s %s", got.Method, got.Path)
	}
	if string(got.Body) != compact(t, want) {
		t.Errorf("body\n got %s\nwant %s", got.Body, compact(t, want))
	}
	for name, value := range map[string]string{
		"Content-Type":  "application/json",
		"User-Agent":    "Vigil",
		"Authorization": "Bearer s3cret",
		"X-Team":        "ops",
		"X-Trace":       "1",
	} {
		if v := got.Header.Get(name); v != value {
			t.Errorf("header %s: %q, want %q", name, v, value)
		}
	}
	if d := cmp.Diff(notification(), n); d != "" {
		t.Errorf("Notify changed the notification (-before +after):\n%s", d)
	}
}

func TestBasicAuth(t *testing.T) {
	r := newReceiver(t)
	w := configure(t, map[string]any{"url": r.URL, "basic_auth_username": "user", "basic_auth_password": "pass"})
	if err := w.Notify(context.Background(), notification()); err != nil {
		t.Fatal(err)
	}
	req := &http.Request{Header: r.Last(t).Header}
	if user, pass, ok := req.BasicAuth(); !ok || user != "user" || pass != "pass" {
		t.Errorf("basic auth %q %q %v", user, pass, ok)
	}
}

func TestEmptyParts(t *testing.T) {
	r := newReceiver(t)
	w := configure(t, map[string]any{"url": r.URL})
	n := &sdk.Notification{Status: "resolved", Receiver: "team", Alerts: []sdk.Alert{{Status: "resolved", StartsAt: start, EndsAt: start}}}
	if err := w.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	wantBody := `{"version":"4","groupKey":"","truncatedAlerts":0,"status":"resolved","receiver":"team",` +
		`"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"",` +
		`"alerts":[{"status":"resolved","labels":{},"annotations":{},"startsAt":"2026-01-02T03:04:05.6Z",` +
		`"endsAt":"2026-01-02T03:04:05.6Z","generatorURL":"","fingerprint":""}]}`
	if got := string(r.Last(t).Body); got != wantBody {
		t.Errorf("body\n got %s\nwant %s", got, wantBody)
	}
	n.Alerts = nil
	if err := w.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if got := string(r.Last(t).Body); !strings.HasSuffix(got, `"alerts":[]}`) {
		t.Errorf("no alerts: %s", got)
	}
}

func TestTruncation(t *testing.T) {
	r := newReceiver(t)
	for _, tc := range []struct {
		max       int
		truncated uint64
		status    string
		labels    map[string]string
		alerts    []string
	}{
		{0, 0, "firing", map[string]string{"alertname": "Down"}, []string{"aaaa", "bbbb", "cccc"}},
		{3, 0, "firing", map[string]string{"alertname": "Down"}, []string{"aaaa", "bbbb", "cccc"}},
		{2, 1, "firing", map[string]string{"alertname": "Down", "env": "prod"}, []string{"aaaa", "bbbb"}},
		{1, 2, "firing", map[string]string{"alertname": "Down", "env": "prod", "instance": "a"}, []string{"aaaa"}},
	} {
		w := configure(t, map[string]any{"url": r.URL, "max_alerts": tc.max})
		if err := w.Notify(context.Background(), notification()); err != nil {
			t.Fatal(err)
		}
		var got sdk.Notification
		if err := json.Unmarshal(r.Last(t).Body, &got); err != nil {
			t.Fatal(err)
		}
		var fingerprints []string
		for _, a := range got.Alerts {
			fingerprints = append(fingerprints, a.Fingerprint)
		}
		if got.TruncatedAlerts != tc.truncated || got.Status != tc.status || !cmp.Equal(got.CommonLabels, tc.labels) || !cmp.Equal(fingerprints, tc.alerts) {
			t.Errorf("max_alerts %d: truncatedAlerts %d, status %s, commonLabels %v, alerts %v", tc.max, got.TruncatedAlerts, got.Status, got.CommonLabels, fingerprints)
		}
	}

	// Truncation adds to what was truncated before; the status is that
	// of the alerts kept.
	n := notification()
	n.TruncatedAlerts = 5
	n.Alerts = n.Alerts[1:]
	w := configure(t, map[string]any{"url": r.URL, "max_alerts": 1})
	if err := w.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	var got sdk.Notification
	if err := json.Unmarshal(r.Last(t).Body, &got); err != nil {
		t.Fatal(err)
	}
	if got.TruncatedAlerts != 6 || got.Status != "resolved" || got.CommonAnnotations["summary"] != "b is down" {
		t.Errorf("truncatedAlerts %d, status %s, commonAnnotations %v", got.TruncatedAlerts, got.Status, got.CommonAnnotations)
	}
}

func TestErrors(t *testing.T) {
	r := newReceiver(t)
	w := configure(t, map[string]any{"url": r.URL, "bearer_token": "s3cret"})
	for _, tc := range []struct {
		status    int
		body      string
		ok        bool
		permanent bool
	}{
		{http.StatusOK, "", true, false},
		{http.StatusAccepted, "queued", true, false},
		{http.StatusNoContent, "", true, false},
		{http.StatusBadRequest, "invalid payload\n", false, true},
		{http.StatusUnauthorized, "who are you?", false, true},
		{http.StatusNotFound, "", false, true},
		{http.StatusRequestEntityTooLarge, "too big", false, true},
		{http.StatusNotModified, "", false, true},
		{http.StatusTooManyRequests, "slow down", false, false},
		{http.StatusInternalServerError, "oops", false, false},
		{http.StatusBadGateway, "", false, false},
		{http.StatusServiceUnavailable, "maintenance", false, false},
	} {
		r.Respond(tc.status, tc.body)
		err := w.Notify(context.Background(), notification())
		switch {
		case tc.ok && err != nil:
			t.Errorf("%d: %v", tc.status, err)
		case tc.ok:
		case err == nil:
			t.Errorf("%d: no error", tc.status)
		case sdk.IsPermanent(err) != tc.permanent:
			t.Errorf("%d: %v, permanent %v, want %v", tc.status, err, sdk.IsPermanent(err), tc.permanent)
		case !strings.Contains(err.Error(), http.StatusText(tc.status)) || !strings.Contains(err.Error(), strings.TrimSpace(tc.body)):
			t.Errorf("%d: %v does not name the status and the body", tc.status, err)
		case strings.Contains(err.Error(), "s3cret"):
			t.Errorf("%d: %v shows the token", tc.status, err)
		}
	}

	r.Respond(http.StatusBadRequest, strings.Repeat("x", 10_000))
	if err := w.Notify(context.Background(), notification()); err == nil || len(err.Error()) > 512+200 {
		t.Errorf("a long body is quoted whole: %d bytes", len(err.Error()))
	}
}

func TestUnreachable(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	w := configure(t, map[string]any{"url": dead.URL + "/hook/T0KEN"})
	err := w.Notify(context.Background(), notification())
	if err == nil || sdk.IsPermanent(err) {
		t.Errorf("a refused connection: %v, want a retryable error", err)
	}
	if err != nil && strings.Contains(err.Error(), "T0KEN") {
		t.Errorf("the error shows the URL: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	w := configure(t, map[string]any{"url": srv.URL, "timeout": "100ms"})
	began := time.Now()
	err := w.Notify(context.Background(), notification())
	if err == nil || sdk.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a hanging receiver: %v, want a retryable deadline error", err)
	}
	if elapsed := time.Since(began); elapsed > 5*time.Second {
		t.Errorf("Notify took %s with a timeout of 100ms", elapsed)
	}
}

// TestURLIsSecret renders a configuration with a webhook notifier as
// /api/v1/status/config shows it: the URL, which often holds a token, is
// hidden, as Alertmanager hides a webhook's URL; nor does an error about
// a bad URL repeat it.
func TestURLIsSecret(t *testing.T) {
	cfg, diags := hclconfig.Parse("vigil.hcl", []byte(`plugin "webhook" { source = "vigil-notifier-webhook" }
notifier "team" {
  plugin = "webhook"
  config {
    url     = "https://hooks.example.com/services/T0KEN"
    headers = { "X-Api-Key" = "K3Y" }
  }
}
`))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	inst := cfg.Notifiers[0]
	out, diags := hclconfig.DecodePluginConfig(inst, webhookPlugin.Schema)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	values, err := webhookPlugin.Schema.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	inst.Values = &values
	if text := string(cfg.HCL()); strings.Contains(text, "T0KEN") || strings.Contains(text, "K3Y") || !regexp.MustCompile(`url += "<secret>"`).MatchString(text) {
		t.Errorf("the rendered configuration shows the URL or a header:\n%s", text)
	}

	bad, err := webhookPlugin.Schema.Values(map[string]any{"url": "https://hooks.example.com/T0KEN\x7f"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newWebhook(bad); err == nil || strings.Contains(err.Error(), "T0KEN") {
		t.Errorf("the error of a bad URL: %v", err)
	}
}
