package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/core/pluginhost"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/sdk"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// TestModule builds the plugin as a WebAssembly module and drives it
// through the host, against a local Slack receiver that allow_hosts
// lets the module reach.
func TestModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module")
	}
	module := testplugins.BuildWasm(t, "plugins/notifier/slack")
	cache := testplugins.WasmCache(t, module)
	r := newReceiver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	load := func(allow ...string) *pluginhost.WasmPlugin {
		p, err := pluginhost.LoadWasm(ctx, pluginhost.WasmOptions{Path: module, CacheDir: cache, AllowHosts: allow})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	p := load("127.0.0.1")

	info, kind, err := p.Info(ctx)
	if err != nil || kind != sdk.KindNotifier || info.Name != "slack" || info.Version == "" {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	schema, err := p.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := schema.Attribute("webhook_url"); !u.Required || !u.Sensitive {
		t.Errorf("schema %+v", schema)
	}
	var ae *sdk.AttributeError
	if err := p.Configure(ctx, []byte(`{"webhook_url": "https://hooks.slack.com/x", "icon_emoji": "bell"}`)); !errors.As(err, &ae) || ae.Attribute != "icon_emoji" {
		t.Errorf("a bad icon_emoji: %v", err)
	}

	hook := r.URL + "/services/T0/B0/secret"
	config, _ := json.Marshal(map[string]any{"webhook_url": hook, "channel": "#ops", "icon_emoji": ":bell:"})
	if err := p.Configure(ctx, config); err != nil {
		t.Fatal(err)
	}
	if err := p.Notify(ctx, notification("firing")); err != nil {
		t.Fatal(err)
	}
	m := lastMessage(t, r)
	if m.Text != "[FIRING:1] InstanceDown node" || m.Channel != "#ops" || m.IconEmoji != ":bell:" ||
		len(m.Attachments) != 1 || m.Attachments[0].Color != "danger" || !strings.Contains(m.Attachments[0].Text, "a:9100 is down") {
		t.Errorf("received %+v", m)
	}
	if err := p.Notify(ctx, notification("resolved")); err != nil {
		t.Fatal(err)
	}
	if m := lastMessage(t, r); m.Attachments[0].Color != "good" {
		t.Errorf("resolved: %+v", m)
	}

	for status, permanent := range map[int]bool{http.StatusNotFound: true, http.StatusInternalServerError: false} {
		r.Respond(status, "no_service")
		err := p.Notify(ctx, notification("firing"))
		if err == nil || sdk.IsPermanent(err) != permanent || !strings.Contains(err.Error(), "no_service") || strings.Contains(err.Error(), "secret") {
			t.Errorf("%d: %v, want permanent %v", status, err, permanent)
		}
	}

	// Without the receiver in allow_hosts, the host refuses the request,
	// and retrying would not help.
	u, _ := url.Parse(r.URL)
	p = load("hooks.slack.com", "127.0.0.1:1")
	if err := p.Configure(ctx, config); err != nil {
		t.Fatal(err)
	}
	err = p.Notify(ctx, notification("firing"))
	if err == nil || !sdk.IsPermanent(err) || !strings.Contains(err.Error(), fmt.Sprintf("%q is not in the plugin's allow_hosts", u.Host)) || strings.Contains(err.Error(), "secret") {
		t.Errorf("a host not allowed: %v", err)
	}
}
