package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/internal/testreceiver"
	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/wasm"
)

// newReceiver is a Slack incoming webhook that records what it gets.
func newReceiver(t *testing.T) *testreceiver.Receiver {
	return testreceiver.New(t, http.StatusOK, "ok", func(req *http.Request) bool {
		return req.Method == http.MethodPost && req.Header.Get("Content-Type") == "application/json" && req.Header.Get("User-Agent") == "Vigil"
	})
}

// lastMessage decodes the last message r received.
func lastMessage(t *testing.T, r *testreceiver.Receiver) message {
	return testreceiver.LastJSON[message](t, r)
}

var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func notification(status string) *sdk.Notification {
	alert := func(instance, status string) sdk.Alert {
		return sdk.Alert{
			Status: status, StartsAt: start, GeneratorURL: "http://vigil:9090/graph",
			Labels:      map[string]string{"alertname": "InstanceDown", "instance": instance, "job": "node", "severity": "critical"},
			Annotations: map[string]string{"summary": instance + " is down"},
		}
	}
	return &sdk.Notification{
		Version: "4", GroupKey: `{}:{alertname="InstanceDown"}`, Status: status, Receiver: "slack",
		GroupLabels:  map[string]string{"alertname": "InstanceDown", "job": "node"},
		CommonLabels: map[string]string{"alertname": "InstanceDown", "job": "node"}, ExternalURL: "http://vigil:9090",
		Alerts: []sdk.Alert{alert("a:9100", status), alert("b:9100", "resolved")},
	}
}

// configure builds the plugin from a config given as JSON.
func configure(config map[string]any) (*slack, error) {
	raw, _ := json.Marshal(config)
	values, err := slackPlugin.Schema.Parse(raw)
	if err != nil {
		return nil, err
	}
	return newSlack(values)
}

func TestPlugin(t *testing.T) {
	if _, err := slackPlugin.Kind(); err != nil {
		t.Fatal(err)
	}
	if p, ok := wasm.Registered(); !ok || p.Info.Name != "slack" {
		t.Errorf("registered %+v", p)
	}
	u, _ := slackPlugin.Schema.Attribute("webhook_url")
	if !u.Required || !u.Sensitive {
		t.Errorf("webhook_url %+v", u)
	}
}

func TestConfigErrors(t *testing.T) {
	secret := "https://hooks.slack.com/services/T0/B0/secret"
	for _, c := range []struct {
		config map[string]any
		attr   string
	}{
		{map[string]any{}, "webhook_url"},
		{map[string]any{"webhook_url": "ftp://hooks.slack.com/secret"}, "webhook_url"},
		{map[string]any{"webhook_url": "hooks.slack.com/secret"}, "webhook_url"},
		{map[string]any{"webhook_url": secret, "icon_emoji": "bell"}, "icon_emoji"},
		{map[string]any{"webhook_url": secret, "title": "{{ .Status"}, "title"},
		{map[string]any{"webhook_url": secret, "text": "{{ .NoSuchField }}"}, "text"},
		{map[string]any{"webhook_url": secret, "text": "{{ nosuchfunc }}"}, "text"},
		{map[string]any{"webhook_url": secret, "channel": 5}, "channel"},
	} {
		_, err := configure(c.config)
		var ae *sdk.AttributeError
		if !errors.As(err, &ae) || ae.Attribute != c.attr || strings.Contains(err.Error(), "secret") {
			t.Errorf("%v: %v, want an error naming %q", c.config, err, c.attr)
		}
	}
}

func TestMessage(t *testing.T) {
	s, err := configure(map[string]any{"webhook_url": "https://hooks.slack.com/x", "channel": "#ops", "username": "Vigil", "icon_emoji": ":bell:"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.message(notification("firing"))
	if err != nil {
		t.Fatal(err)
	}
	want := "• a:9100 is down (critical) <http://vigil:9090/graph|source>\n• b:9100 is down (critical) <http://vigil:9090/graph|source>"
	if m.Text != "[FIRING:1] InstanceDown node" || m.Channel != "#ops" || m.Username != "Vigil" || m.IconEmoji != ":bell:" ||
		len(m.Attachments) != 1 || m.Attachments[0].Color != "danger" || m.Attachments[0].Text != want ||
		m.Attachments[0].Fallback != m.Text || m.Attachments[0].Footer != "Vigil http://vigil:9090" {
		t.Errorf("message %+v", m)
	}
	m, _ = s.message(notification("resolved"))
	if m.Text != "[RESOLVED] InstanceDown node" || m.Attachments[0].Color != "good" {
		t.Errorf("resolved message %+v", m)
	}

	s, err = configure(map[string]any{"webhook_url": "https://hooks.slack.com/x", "title": "{{ .Receiver }}: {{ len (resolved .Alerts) }} resolved",
		"text": "{{ join \", \" (sortedPairs .CommonLabels) }} {{ .CommonAnnotations.missing }}" + strings.Repeat("x", 9000)})
	if err != nil {
		t.Fatal(err)
	}
	m, _ = s.message(notification("firing"))
	text := m.Attachments[0].Text
	if m.Text != "slack: 1 resolved" || !strings.HasPrefix(text, "alertname=InstanceDown, job=node xxx") ||
		len([]rune(text)) != maxText || !strings.HasSuffix(text, "…") {
		t.Errorf("message %q, %q", m.Text, text[:40])
	}
	b, _ := json.Marshal(m)
	if strings.Contains(string(b), `"channel"`) || strings.Contains(string(b), `"username"`) {
		t.Errorf("unset fields are sent: %s", b)
	}
}

func TestNotify(t *testing.T) {
	r := newReceiver(t)
	s, err := configure(map[string]any{"webhook_url": r.URL + "/services/T0/B0/secret"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Notify(ctx, notification("firing")); err != nil {
		t.Fatal(err)
	}
	if m := lastMessage(t, r); m.Text != "[FIRING:1] InstanceDown node" {
		t.Errorf("received %+v", m)
	}
	for status, permanent := range map[int]bool{
		http.StatusBadRequest: true, http.StatusNotFound: true, http.StatusForbidden: true,
		http.StatusTooManyRequests: false, http.StatusInternalServerError: false, http.StatusServiceUnavailable: false,
	} {
		r.Respond(status, "invalid_payload")
		err := s.Notify(ctx, notification("firing"))
		if err == nil || sdk.IsPermanent(err) != permanent || !strings.Contains(err.Error(), "invalid_payload") || strings.Contains(err.Error(), "secret") {
			t.Errorf("%d: %v, permanent %v, want permanent %v", status, err, sdk.IsPermanent(err), permanent)
		}
	}
	r.Close()
	err = s.Notify(ctx, notification("firing"))
	if err == nil || sdk.IsPermanent(err) || strings.Contains(err.Error(), "secret") {
		t.Errorf("unreachable: %v", err)
	}
}
