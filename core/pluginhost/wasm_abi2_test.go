package pluginhost

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/sdk"
)

// TestWasmABIVersions loads modules of ABI versions 1 and 2 side by side:
// both collect, and only a version 2 multi-target exporter collects a
// target.
func TestWasmABIVersions(t *testing.T) {
	v1 := loadGuest(t, "v1exporter", WasmOptions{})
	v2 := loadGuest(t, "multitarget", WasmOptions{})
	plain := loadGuest(t, "exporter", WasmOptions{})
	ctx := testContext(t)
	if v1.abi != 1 || v2.abi != 2 || plain.abi != 2 {
		t.Fatalf("ABI versions %d, %d, %d", v1.abi, v2.abi, plain.abi)
	}
	for _, p := range []*WasmPlugin{v1, v2} {
		if err := p.Configure(ctx, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := plain.Configure(ctx, []byte(`{"greeting": "hi"}`)); err != nil {
		t.Fatal(err)
	}

	if fs, err := v1.Collect(ctx); err != nil || len(fs) != 0 {
		t.Errorf("collect of the version 1 exporter: %v, %v", fs, err)
	}
	target := sdk.Target{Address: "http://127.0.0.1:1/x", Module: "http_2xx", Params: map[string]string{"target": "http://127.0.0.1:1/x", "module": "http_2xx", "x": "y"}}
	if _, err := v1.CollectTargetDelimited(ctx, target); err == nil || !strings.Contains(err.Error(), "ABI version 1") {
		t.Errorf("a target collected by a version 1 module: %v", err)
	}
	if _, err := plain.CollectTargetDelimited(ctx, target); err == nil || !strings.Contains(err.Error(), "not a multi-target exporter") {
		t.Errorf("a target collected by an exporter that is not multi-target: %v", err)
	}

	fs, err := v2.Collect(ctx)
	if err != nil || families(fs)["guest_untargeted"] == nil {
		t.Errorf("collect without a target: %v, %v", fs, err)
	}
	b, err := v2.CollectTargetDelimited(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	fs, err = client.DecodeFamilies(b)
	if err != nil {
		t.Fatal(err)
	}
	f := families(fs)["guest_target_info"]
	if f == nil || len(f.Metric) != 1 {
		t.Fatalf("no guest_target_info in %v", fs)
	}
	want := map[string]string{"address": target.Address, "module": "http_2xx", "params": "module=http_2xx,target=http://127.0.0.1:1/x,x=y"}
	if d := cmp.Diff(want, labelsOf(f.Metric[0])); d != "" {
		t.Errorf("the target the module collected (-want +got):\n%s", d)
	}
	if _, err := v2.CollectTargetDelimited(ctx, sdk.Target{}); err == nil || !strings.Contains(err.Error(), "no address") {
		t.Errorf("a target without an address: %v", err)
	}
}

// TestWasmDiscover polls a discovery module of ABI version 2: the first
// update has every group, later ones what changed, and a failed poll
// keeps the groups.
func TestWasmDiscover(t *testing.T) {
	logger, logs := testLogger()
	p := loadGuest(t, "pollsd", WasmOptions{Logger: logger})
	ctx := testContext(t)
	info, kind, err := p.Info(ctx)
	if err != nil || kind != sdk.KindDiscoverer || info.Name != "test-pollsd" {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	configure := func(targets []string, fail bool) {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"targets": targets, "fail": fail, "refresh_interval": "20ms"})
		if err := p.Configure(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	group := func(i, addr string) sdk.TargetGroup {
		return sdk.TargetGroup{Source: "config:" + i, Labels: map[string]string{"origin": "pollsd"}, Targets: []map[string]string{{"__address__": addr}}}
	}

	configure([]string{"a:1", "b:2"}, false)
	updates := make(chan []sdk.TargetGroup, 100)
	dctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- p.Discover(dctx, func(groups []sdk.TargetGroup) error {
			updates <- groups
			return nil
		})
	}()
	next := func() []sdk.TargetGroup {
		t.Helper()
		select {
		case g := <-updates:
			return g
		case <-ctx.Done():
			t.Fatal("no update")
			return nil
		}
	}
	if d := cmp.Diff([]sdk.TargetGroup{group("0", "a:1"), group("1", "b:2")}, next()); d != "" {
		t.Fatalf("first update (-want +got):\n%s", d)
	}
	configure([]string{"a:1"}, false)
	if d := cmp.Diff([]sdk.TargetGroup{{Source: "config:1"}}, next()); d != "" {
		t.Fatalf("update after a group vanished (-want +got):\n%s", d)
	}
	// Failed polls change nothing: the next update is the one of the
	// config after them.
	configure(nil, true)
	for len(logs.lines("discovery poll failed")) == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("no failed poll logged")
		case <-time.After(10 * time.Millisecond):
		}
	}
	configure([]string{"c:3"}, false)
	if d := cmp.Diff([]sdk.TargetGroup{group("0", "c:3")}, next()); d != "" {
		t.Fatalf("update after failed polls (-want +got):\n%s", d)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Discover: %v", err)
	}

	// A first poll that fails sends an empty first update at once.
	dctx, stop = context.WithCancel(ctx)
	defer stop()
	configure(nil, true)
	go func() {
		done <- p.Discover(dctx, func(groups []sdk.TargetGroup) error {
			updates <- groups
			return nil
		})
	}()
	if g := next(); g == nil || len(g) != 0 {
		t.Fatalf("first update after a failed poll: %#v", g)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Discover: %v", err)
	}
}
