package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
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
	p, err := client.Start(client.Options{Path: testplugins.Build(t, "plugins/discovery/file")})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	info, kind, err := p.Info(ctx)
	if err != nil || kind != sdk.KindDiscoverer || info.Name != "file" || info.Version == "" {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	schema, err := p.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := schema.Attribute("files")
	refresh, _ := schema.Attribute("refresh_interval")
	if !files.Required || files.Type != sdk.TypeStringList || refresh.Default != "5m" || refresh.Type != sdk.TypeDuration {
		t.Errorf("schema %+v", schema)
	}

	for config, attr := range map[string]string{
		`{}`:                   "files",
		`{"files": ["t.txt"]}`: "files",
		`{"files": "t.json"}`:  "files",
		`{"files": ["t.json"], "refresh_interval": "soon"}`: "refresh_interval",
		`{"files": ["t.json"], "path": "t.json"}`:           "path",
	} {
		var ae *sdk.AttributeError
		if err := p.Configure(ctx, []byte(config)); !errors.As(err, &ae) || ae.Attribute != attr {
			t.Errorf("configure %s: %v, want an error naming %q", config, err, attr)
		}
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "targets.json")
	write(t, path, `[{"targets": ["127.0.0.1:9100"], "labels": {"env": "test"}}]`)
	config := `{"files": [` + quote(filepath.Join(dir, "*.json")) + `], "refresh_interval": "1h"}`
	if err := p.Configure(ctx, []byte(config)); err != nil {
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
	want := []sdk.TargetGroup{group(path, 0, map[string]string{"env": "test"}, "127.0.0.1:9100")}
	if d := cmp.Diff(want, discoverytest.Next(t, updates)); d != "" {
		t.Fatalf("first update (-want +got):\n%s", d)
	}
	write(t, path, `[]`)
	if d := cmp.Diff([]sdk.TargetGroup{{Source: path + ":0"}}, discoverytest.Next(t, updates)); d != "" {
		t.Fatalf("update after emptying the file (-want +got):\n%s", d)
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

// quote writes s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
