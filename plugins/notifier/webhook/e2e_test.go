package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/sdk"
)

// TestPluginBinary drives the built binary through the host's client.
func TestPluginBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin")
	}
	r := newReceiver(t)
	p, err := client.Start(client.Options{Path: testplugins.Build(t, "plugins/notifier/webhook")})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	info, kind, err := p.Info(ctx)
	if err != nil || kind != sdk.KindNotifier || info.Name != "webhook" || info.Version == "" {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	schema, err := p.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := schema.Attribute("url")
	token, _ := schema.Attribute("bearer_token")
	password, _ := schema.Attribute("basic_auth_password")
	maxAlerts, _ := schema.Attribute("max_alerts")
	timeout, _ := schema.Attribute("timeout")
	headers, _ := schema.Attribute("headers")
	if !u.Required || !token.Sensitive || !password.Sensitive || maxAlerts.Default != float64(0) ||
		timeout.Default != "10s" || headers.Type != sdk.TypeStringMap || !headers.Sensitive {
		t.Errorf("schema %+v", schema)
	}

	for config, attr := range map[string]string{
		`{}`:                              "url",
		`{"url": "mailto:ops@localhost"}`: "url",
		`{"url": "http://127.0.0.1", "max_alerts": -1}`:                        "max_alerts",
		`{"url": "http://127.0.0.1", "headers": {"Authorization": "Basic x"}}`: "headers",
		`{"url": "http://127.0.0.1", "timeout": "soon"}`:                       "timeout",
		`{"url": "http://127.0.0.1", "retries": 3}`:                            "retries",
	} {
		var ae *sdk.AttributeError
		if err := p.Configure(ctx, []byte(config)); !errors.As(err, &ae) || ae.Attribute != attr {
			t.Errorf("configure %s: %v, want an error naming %q", config, err, attr)
		}
	}
	if err := p.Configure(ctx, []byte(`{"url": "http://127.0.0.1", "bearer_token": 12345}`)); err == nil || strings.Contains(err.Error(), "12345") {
		t.Errorf("a sensitive value of the wrong type: %v", err)
	}

	config, _ := json.Marshal(map[string]any{"url": r.URL + "/hook", "bearer_token": "t", "max_alerts": 2, "headers": map[string]string{"X-Team": "ops"}})
	if err := p.Configure(ctx, config); err != nil {
		t.Fatal(err)
	}
	if err := p.Notify(ctx, notification()); err != nil {
		t.Fatal(err)
	}
	got := r.Last(t)
	var msg sdk.Notification
	if err := json.Unmarshal(got.Body, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Version != "4" || msg.Receiver != "team" || len(msg.Alerts) != 2 || msg.TruncatedAlerts != 1 ||
		!msg.Alerts[0].StartsAt.Equal(start) || msg.Alerts[0].Labels["instance"] != "a" {
		t.Errorf("message %s", got.Body)
	}
	if got.Header.Get("Authorization") != "Bearer t" || got.Header.Get("X-Team") != "ops" || got.Header.Get("User-Agent") != "Vigil" {
		t.Errorf("headers %v", got.Header)
	}

	for status, permanent := range map[int]bool{http.StatusBadRequest: true, http.StatusServiceUnavailable: false, http.StatusTooManyRequests: false} {
		r.Respond(status, "no")
		err := p.Notify(ctx, notification())
		if err == nil || sdk.IsPermanent(err) != permanent || !strings.Contains(err.Error(), http.StatusText(status)) {
			t.Errorf("%d: %v (permanent %v), want permanent %v", status, err, sdk.IsPermanent(err), permanent)
		}
	}
}
