package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/core/pluginhost"
	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/discovery/discoverytest"
)

// TestPluginBinary drives the built binary through the host's client.
func TestPluginBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin")
	}
	srv := newSDServer(t, false)
	srv.answer(http.StatusOK, "application/json", `[{"targets": ["127.0.0.1:9100"], "labels": {"env": "test"}}]`)

	p, err := client.Start(client.Options{Path: testplugins.Build(t, "plugins/discovery/http")})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	info, kind, err := p.Info(ctx)
	if err != nil || kind != sdk.KindDiscoverer || info.Name != "http" || info.Version == "" {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	schema, err := p.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := schema.Attribute("url")
	token, _ := schema.Attribute("bearer_token")
	password, _ := schema.Attribute("basic_auth_password")
	refresh, _ := schema.Attribute("refresh_interval")
	if !u.Required || !token.Sensitive || !password.Sensitive || refresh.Default != "60s" {
		t.Errorf("schema %+v", schema)
	}

	for config, attr := range map[string]string{
		`{}`:                             "url",
		`{"url": "file:///etc/sd.json"}`: "url",
		`{"url": "http://127.0.0.1", "timeout": "soon"}`:          "timeout",
		`{"url": "http://127.0.0.1", "bearer_token": 5}`:          "bearer_token",
		`{"url": "http://127.0.0.1", "basic_auth_password": "p"}`: "basic_auth_password",
	} {
		var ae *sdk.AttributeError
		if err := p.Configure(ctx, []byte(config)); !errors.As(err, &ae) || ae.Attribute != attr {
			t.Errorf("configure %s: %v, want an error naming %q", config, err, attr)
		}
	}

	url := srv.URL + "/sd"
	config, _ := json.Marshal(map[string]any{"url": url, "refresh_interval": "100ms", "bearer_token": "t"})
	if err := p.Configure(ctx, config); err != nil {
		t.Fatal(err)
	}
	updates := make(chan []sdk.TargetGroup, 10)
	dctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- p.Discover(dctx, func(groups []sdk.TargetGroup) error {
			select {
			case updates <- groups:
			case <-dctx.Done():
			}
			return nil
		})
	}()
	want := []sdk.TargetGroup{group(url, 0, map[string]string{"env": "test"}, "127.0.0.1:9100")}
	if d := cmp.Diff(want, discoverytest.Next(t, updates)); d != "" {
		t.Fatalf("first update (-want +got):\n%s", d)
	}
	if got := srv.lastHeader().Get("Authorization"); got != "Bearer t" {
		t.Errorf("Authorization %q", got)
	}
	srv.answer(http.StatusOK, "application/json", `[]`)
	if d := cmp.Diff([]sdk.TargetGroup{{Source: url + ":0"}}, discoverytest.Next(t, updates)); d != "" {
		t.Fatalf("update after the group vanished (-want +got):\n%s", d)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Discover: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Discover did not return after cancel")
	}
}

// TestModule drives the WebAssembly build of the plugin through the
// host: the host polls it through vigil_discover, and its requests go
// through the host's http_request, to the hosts allow_hosts lists only.
func TestModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module")
	}
	srv := newSDServer(t, false)
	srv.answer(http.StatusOK, "application/json", `[{"targets": ["127.0.0.1:9100"], "labels": {"env": "test"}}, {"targets": ["127.0.0.1:9200"]}]`)
	module := testplugins.BuildWasm(t, "plugins/discovery/http")
	logs := &discoverytest.LogBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := pluginhost.LoadWasm(ctx, pluginhost.WasmOptions{
		Path:       module,
		CacheDir:   testplugins.WasmCache(t, module),
		AllowHosts: []string{"127.0.0.1"},
		Logger:     hclog.New(&hclog.LoggerOptions{Output: logs, JSONFormat: true}),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	info, kind, err := p.Info(ctx)
	if err != nil || kind != sdk.KindDiscoverer || info.Name != "http" || !info.HasCapability(sdk.CapabilityPollsURL) {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	var ae *sdk.AttributeError
	if err := p.Configure(ctx, []byte(`{"url": "https://127.0.0.1/", "tls_insecure_skip_verify": true}`)); !errors.As(err, &ae) || ae.Attribute != "tls_insecure_skip_verify" {
		t.Errorf("tls_insecure_skip_verify in the module: %v", err)
	}

	url := srv.URL + "/sd"
	config, _ := json.Marshal(map[string]any{"url": url, "refresh_interval": "100ms", "bearer_token": "t"})
	if err := p.Configure(ctx, config); err != nil {
		t.Fatal(err)
	}
	updates := make(chan []sdk.TargetGroup, 100)
	dctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- p.Discover(dctx, func(groups []sdk.TargetGroup) error {
			select {
			case updates <- groups:
			case <-dctx.Done():
			}
			return nil
		})
	}()
	want := []sdk.TargetGroup{
		group(url, 0, map[string]string{"env": "test"}, "127.0.0.1:9100"),
		group(url, 1, nil, "127.0.0.1:9200"),
	}
	if d := cmp.Diff(want, discoverytest.Next(t, updates)); d != "" {
		t.Fatalf("first update (-want +got):\n%s", d)
	}
	if got := srv.lastHeader().Get("Authorization"); got != "Bearer t" {
		t.Errorf("Authorization %q", got)
	}
	if got := srv.lastHeader().Get("X-Prometheus-Refresh-Interval-Seconds"); got != "0.1" {
		t.Errorf("X-Prometheus-Refresh-Interval-Seconds %q", got)
	}
	// The second group goes, the first changes: one update says both.
	srv.answer(http.StatusOK, "application/json", `[{"targets": ["127.0.0.1:9101"], "labels": {"env": "test"}}]`)
	want = []sdk.TargetGroup{group(url, 0, map[string]string{"env": "test"}, "127.0.0.1:9101"), {Source: url + ":1"}}
	if d := cmp.Diff(want, discoverytest.Next(t, updates)); d != "" {
		t.Fatalf("update after the endpoint changed (-want +got):\n%s", d)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Discover: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Discover did not return after cancel")
	}

	// A host allow_hosts does not list is never reached: the poll
	// fails, saying so, and the first update is empty.
	if err := p.Configure(ctx, []byte(`{"url": "http://localhost:1/sd"}`)); err != nil {
		t.Fatal(err)
	}
	dctx, stop = context.WithCancel(ctx)
	defer stop()
	go func() {
		done <- p.Discover(dctx, func(groups []sdk.TargetGroup) error {
			select {
			case updates <- groups:
			case <-dctx.Done():
			}
			return nil
		})
	}()
	if g := discoverytest.Next(t, updates); len(g) != 0 {
		t.Errorf("first update of a poll that failed: %v", g)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if l := logs.String(); !strings.Contains(l, "discovery poll failed") || !strings.Contains(l, "allow_hosts") {
		t.Errorf("no failed poll naming allow_hosts in the log:\n%s", l)
	}
}
