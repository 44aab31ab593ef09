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
// through the host, against a local Events API receiver that
// allow_hosts lets the module reach.
func TestModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module")
	}
	module := testplugins.BuildWasm(t, "plugins/notifier/pagerduty")
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
	if err != nil || kind != sdk.KindNotifier || info.Name != "pagerduty" || info.Version == "" {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	schema, err := p.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := schema.Attribute("routing_key")
	u, _ := schema.Attribute("url")
	severity, _ := schema.Attribute("severity")
	if !key.Required || !key.Sensitive || u.Default != defaultURL || severity.Default != "error" {
		t.Errorf("schema %+v", schema)
	}
	var ae *sdk.AttributeError
	if err := p.Configure(ctx, []byte(`{"routing_key": "`+routingKey+`", "severity": "fatal"}`)); !errors.As(err, &ae) || ae.Attribute != "severity" {
		t.Errorf("a bad severity: %v", err)
	}

	config, _ := json.Marshal(map[string]any{"routing_key": routingKey, "url": r.URL + "/v2/enqueue", "severity": "warning"})
	if err := p.Configure(ctx, config); err != nil {
		t.Fatal(err)
	}
	if err := p.Notify(ctx, notification("firing")); err != nil {
		t.Fatal(err)
	}
	e := lastEvent(t, r)
	if e.RoutingKey != routingKey || e.EventAction != "trigger" || e.DedupKey != dedupKey(notification("firing")) ||
		e.Payload == nil || e.Payload.Summary != "[FIRING:2] InstanceDown node" || e.Payload.Severity != "warning" ||
		e.Payload.Source != "vigil" || len(e.Payload.CustomDetails.Alerts) != 3 {
		t.Errorf("received %+v", e)
	}
	if err := p.Notify(ctx, notification("resolved")); err != nil {
		t.Fatal(err)
	}
	if e := lastEvent(t, r); e.EventAction != "resolve" || e.DedupKey != dedupKey(notification("firing")) {
		t.Errorf("resolved: %+v", e)
	}

	for status, permanent := range map[int]bool{http.StatusBadRequest: true, http.StatusTooManyRequests: false, http.StatusInternalServerError: false} {
		r.Respond(status, "Event object is invalid")
		err := p.Notify(ctx, notification("firing"))
		if err == nil || sdk.IsPermanent(err) != permanent || !strings.Contains(err.Error(), "Event object is invalid") || strings.Contains(err.Error(), "R0UT1NG") {
			t.Errorf("%d: %v, want permanent %v", status, err, permanent)
		}
	}

	// Without the receiver in allow_hosts, the host refuses the request,
	// and retrying would not help.
	host, _ := url.Parse(r.URL)
	p = load("events.pagerduty.com", "127.0.0.1:1")
	if err := p.Configure(ctx, config); err != nil {
		t.Fatal(err)
	}
	err = p.Notify(ctx, notification("firing"))
	if err == nil || !sdk.IsPermanent(err) || !strings.Contains(err.Error(), fmt.Sprintf("%q is not in the plugin's allow_hosts", host.Host)) {
		t.Errorf("a host not allowed: %v", err)
	}
}
