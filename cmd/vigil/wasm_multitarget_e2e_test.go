package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilmon/vigil/internal/testplugins"
)

// TestWasmMultiTargetExporter runs the server with one exporter block of
// a multi-target WebAssembly module (Wasm ABI version 2) and three
// targets: each is collected on its own, with its own instance, and the
// one the module fails is down with the module's error, alone.
func TestWasmMultiTargetExporter(t *testing.T) {
	module := testplugins.BuildWasm(t, "core/pluginhost/testdata/wasmguest/multitarget")
	dir := t.TempDir()
	config := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`
plugin "probe" { source = %q }

exporter "probe" {
  plugin   = "probe"
  interval = "1s"
  timeout  = "1s"
  module   = "m1"
  targets  = ["a.test:1", "b.test:2", "fail.test:3"]
}
`, module)), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--config", config, "--data", filepath.Join(dir, "data"))
	prom := srv.api(t)
	for _, instance := range []string{"a.test:1", "b.test:2"} {
		waitFor(t, "guest_target_info of "+instance, func() bool {
			v, ok := queryValue(t, prom, fmt.Sprintf(`guest_target_info{job="probe", instance=%q, address=%q, module="m1"}`, instance, instance))
			return ok && v == 1
		})
	}
	waitFor(t, "up 0 of the target the module fails", func() bool {
		v, ok := queryValue(t, prom, `up{job="probe", instance="fail.test:3"}`)
		return ok && v == 0
	})
	if v, ok := queryValue(t, prom, `count(guest_untargeted)`); ok {
		t.Errorf("a collection without a target: %v", v)
	}

	type target struct {
		Labels    map[string]string `json:"labels"`
		Health    string            `json:"health"`
		LastError string            `json:"lastError"`
	}
	var got map[string]target
	waitFor(t, "each target's own health in /api/v1/targets", func() bool {
		resp, err := http.Get("http://" + srv.addr + "/api/v1/targets")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var body struct {
			Data struct {
				ActiveTargets []target `json:"activeTargets"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return false
		}
		got = map[string]target{}
		for _, tg := range body.Data.ActiveTargets {
			got[tg.Labels["instance"]] = tg
		}
		return len(got) == 3 && got["a.test:1"].Health == "up" && got["b.test:2"].Health == "up" && got["fail.test:3"].Health == "down"
	})
	if e := got["fail.test:3"].LastError; !strings.Contains(e, "told to fail for fail.test:3") {
		t.Errorf("the error of the failed target: %q", e)
	}
}
