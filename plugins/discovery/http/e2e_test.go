package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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
