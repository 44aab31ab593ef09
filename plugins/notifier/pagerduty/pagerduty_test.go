package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/internal/testreceiver"
	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/wasm"
)

// routingKey is the integration key of the tests; no error may show it.
const routingKey = "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY00"

// newReceiver is an Events API v2 endpoint that records the events it
// gets.
func newReceiver(t *testing.T) *testreceiver.Receiver {
	return testreceiver.New(t, http.StatusAccepted, `{"status":"success","message":"Event processed"}`, func(req *http.Request) bool {
		return req.Method == http.MethodPost && req.URL.Path == "/v2/enqueue" &&
			req.Header.Get("Content-Type") == "application/json" && req.Header.Get("User-Agent") == "Vigil"
	})
}

// lastEvent decodes the last event r received.
func lastEvent(t *testing.T, r *testreceiver.Receiver) event {
	return testreceiver.LastJSON[event](t, r)
}

var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const groupKey = `{}:{alertname="InstanceDown"}`

func notification(status string) *sdk.Notification {
	alert := func(instance, status string, starts time.Time) sdk.Alert {
		a := sdk.Alert{
			Status: status, StartsAt: starts, GeneratorURL: "http://vigil:9090/graph", Fingerprint: "f-" + instance,
			Labels:      map[string]string{"alertname": "InstanceDown", "instance": instance, "job": "node"},
			Annotations: map[string]string{"summary": instance + " is down"},
		}
		if status == "resolved" {
			a.EndsAt = starts.Add(time.Minute)
		}
		return a
	}
	return &sdk.Notification{
		Version: "4", GroupKey: groupKey, Status: status, Receiver: "pd",
		GroupLabels:  map[string]string{"alertname": "InstanceDown", "job": "node"},
		CommonLabels: map[string]string{"alertname": "InstanceDown", "job": "node"}, ExternalURL: "http://vigil:9090",
		Alerts: []sdk.Alert{alert("a:9100", status, start.Add(time.Minute)), alert("b:9100", "resolved", start),
			alert("c:9100", status, start.Add(2*time.Minute))},
	}
}

// configure builds the plugin from a config given as JSON.
func configure(config map[string]any) (*pagerDuty, error) {
	raw, _ := json.Marshal(config)
	values, err := pagerdutyPlugin.Schema.Parse(raw)
	if err != nil {
		return nil, err
	}
	return newPagerDuty(values)
}

func mustConfigure(t *testing.T, config map[string]any) *pagerDuty {
	t.Helper()
	p, err := configure(config)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlugin(t *testing.T) {
	if _, err := pagerdutyPlugin.Kind(); err != nil {
		t.Fatal(err)
	}
	if p, ok := wasm.Registered(); !ok || p.Info.Name != "pagerduty" {
		t.Errorf("registered %+v", p)
	}
	if k, _ := pagerdutyPlugin.Schema.Attribute("routing_key"); !k.Required || !k.Sensitive {
		t.Errorf("routing_key %+v", k)
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []struct {
		config map[string]any
		attr   string
	}{
		{map[string]any{}, "routing_key"},
		{map[string]any{"routing_key": " "}, "routing_key"},
		{map[string]any{"routing_key": routingKey + " x"}, "routing_key"},
		{map[string]any{"routing_key": 5}, "routing_key"},
		{map[string]any{"routing_key": routingKey, "url": "events.pagerduty.com/v2/enqueue"}, "url"},
		{map[string]any{"routing_key": routingKey, "url": "ftp://events.pagerduty.com/"}, "url"},
		{map[string]any{"routing_key": routingKey, "severity": "fatal"}, "severity"},
		{map[string]any{"routing_key": routingKey, "source": ""}, "source"},
		{map[string]any{"routing_key": routingKey, "client_url": "vigil"}, "client_url"},
	} {
		_, err := configure(c.config)
		var ae *sdk.AttributeError
		if !errors.As(err, &ae) || ae.Attribute != c.attr || strings.Contains(err.Error(), "R0UT1NG") {
			t.Errorf("%v: %v, want an error naming %q", c.config, err, c.attr)
		}
	}
	p := mustConfigure(t, map[string]any{"routing_key": routingKey})
	if p.url != defaultURL || p.severity != "error" || p.source != "vigil" || p.client != "Vigil" || p.clientURL != "" {
		t.Errorf("defaults %+v", p)
	}
}

func TestEvent(t *testing.T) {
	p := mustConfigure(t, map[string]any{"routing_key": routingKey, "severity": "critical", "source": "prod", "client": "Vigil prod"})
	e := p.event(notification("firing"))
	sum := sha256.Sum256([]byte(groupKey))
	if e.RoutingKey != routingKey || e.EventAction != "trigger" || e.DedupKey != hex.EncodeToString(sum[:]) ||
		e.Client != "Vigil prod" || e.ClientURL != "http://vigil:9090" {
		t.Errorf("event %+v", e)
	}
	pl := e.Payload
	if pl.Summary != "[FIRING:2] InstanceDown node" || pl.Source != "prod" || pl.Severity != "critical" ||
		pl.Timestamp != "2026-01-02T03:05:05Z" {
		t.Errorf("payload %+v", pl)
	}
	d := pl.CustomDetails
	if d.NumFiring != 2 || d.NumResolved != 1 || len(d.Alerts) != 3 || d.Alerts[0].Labels["instance"] != "a:9100" ||
		d.Alerts[0].EndsAt != "" || d.Alerts[1].EndsAt != "2026-01-02T03:05:05Z" || d.GroupLabels["job"] != "node" {
		t.Errorf("details %+v", d)
	}

	n := notification("resolved")
	e = p.event(n)
	if e.EventAction != "resolve" || e.DedupKey != hex.EncodeToString(sum[:]) || e.Payload.Summary != "[RESOLVED] InstanceDown node" {
		t.Errorf("resolved event %+v", e)
	}

	// Without group labels the alerts' names are the summary; a common
	// summary annotation follows; a long summary is cut.
	n = notification("firing")
	n.GroupLabels = nil
	n.CommonAnnotations = map[string]string{"summary": strings.Repeat("x", 2000)}
	n.ExternalURL = ""
	n.Alerts = append(n.Alerts, sdk.Alert{Status: "firing", Labels: map[string]string{"alertname": "DiskFull"}})
	e = p.event(n)
	if s := e.Payload.Summary; !strings.HasPrefix(s, "[FIRING:3] InstanceDown DiskFull: xxx") || len([]rune(s)) != maxSummary || !strings.HasSuffix(s, "…") {
		t.Errorf("summary %q", s)
	}
	if e.ClientURL != "" {
		t.Errorf("client_url %q without an external URL", e.ClientURL)
	}
	b, _ := json.Marshal(e)
	if strings.Contains(string(b), "null") {
		t.Errorf("nulls in %s", b)
	}

	// The details list at most maxDetailAlerts alerts.
	n = notification("firing")
	for i := range 150 {
		n.Alerts = append(n.Alerts, sdk.Alert{Status: "firing", Labels: map[string]string{"alertname": fmt.Sprint("A", i)}})
	}
	n.TruncatedAlerts = 7
	d = p.event(n).Payload.CustomDetails
	if len(d.Alerts) != maxDetailAlerts || d.TruncatedAlerts != 7+153-maxDetailAlerts || d.NumFiring != 152 {
		t.Errorf("%d alerts, %d truncated, %d firing", len(d.Alerts), d.TruncatedAlerts, d.NumFiring)
	}
}

func TestNotify(t *testing.T) {
	r := newReceiver(t)
	p := mustConfigure(t, map[string]any{"routing_key": routingKey, "url": r.URL + "/v2/enqueue", "client_url": "https://vigil.example.com"})
	ctx := context.Background()
	if err := p.Notify(ctx, notification("firing")); err != nil {
		t.Fatal(err)
	}
	if e := lastEvent(t, r); e.RoutingKey != routingKey || e.EventAction != "trigger" || e.ClientURL != "https://vigil.example.com" || e.Payload.Severity != "error" {
		t.Errorf("received %+v", e)
	}
	for status, permanent := range map[int]bool{
		http.StatusBadRequest: true, http.StatusNotFound: true, http.StatusForbidden: true, http.StatusRequestEntityTooLarge: true,
		http.StatusTooManyRequests: false, http.StatusInternalServerError: false, http.StatusServiceUnavailable: false,
	} {
		r.Respond(status, `{"status":"invalid event","message":"Event object is invalid"}`)
		err := p.Notify(ctx, notification("firing"))
		if err == nil || sdk.IsPermanent(err) != permanent || !strings.Contains(err.Error(), "Event object is invalid") || strings.Contains(err.Error(), "R0UT1NG") {
			t.Errorf("%d: %v, permanent %v, want permanent %v", status, err, sdk.IsPermanent(err), permanent)
		}
	}
	r.Respond(http.StatusOK, "")
	if err := p.Notify(ctx, notification("resolved")); err != nil {
		t.Errorf("200: %v", err)
	}
	r.Close()
	if err := p.Notify(ctx, notification("firing")); err == nil || sdk.IsPermanent(err) || strings.Contains(err.Error(), "R0UT1NG") {
		t.Errorf("unreachable: %v", err)
	}
}
