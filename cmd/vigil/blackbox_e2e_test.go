package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilmon/vigil/internal/testplugins"
)

// TestBlackboxProbesEachTarget runs the server with one exporter block
// of the blackbox plugin that probes three targets: a web server that
// answers, a port that refuses, and a target relabeled to a module the
// plugin does not have. Each is a target of its own in /api/v1/targets
// with its own health, and probe_success is queryable per instance.
func TestBlackboxProbesEachTarget(t *testing.T) {
	blackbox := testplugins.Build(t, "plugins/exporter/blackbox")
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") }))
	defer web.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()
	good, down := web.URL+"/health", "http://"+refused+"/"

	dir := t.TempDir()
	config := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`
plugin "blackbox" { source = %q }

exporter "web" {
  plugin   = "blackbox"
  interval = "1s"
  timeout  = "1s"
  module   = "http_2xx"
  targets  = [%q, %q, "unknown-module.test"]
  relabel {
    source_labels = ["__address__"]
    regex         = "unknown-module.*"
    target_label  = "__param_module"
    replacement   = "nope"
  }
  config {
    modules = <<-EOT
      modules:
        http_2xx:
          prober: http
          http:
            preferred_ip_protocol: ip4
    EOT
  }
}
`, blackbox, good, down)), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--config", config, "--data", filepath.Join(dir, "data"))
	prom := srv.api(t)
	for instance, want := range map[string]float64{good: 1, down: 0} {
		waitFor(t, "probe_success of "+instance, func() bool {
			v, ok := queryValue(t, prom, fmt.Sprintf(`probe_success{job="web", instance=%q}`, instance))
			return ok && v == want
		})
	}
	waitFor(t, "up of the target with an unknown module", func() bool {
		v, ok := queryValue(t, prom, `up{job="web", instance="unknown-module.test"}`)
		return ok && v == 0
	})

	type target struct {
		Labels    map[string]string `json:"labels"`
		ScrapeURL string            `json:"scrapeUrl"`
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
		return len(got) == 3 && got[good].Health == "up" && got[down].Health == "up" && got["unknown-module.test"].Health == "down"
	})
	if e := got["unknown-module.test"].LastError; !strings.Contains(e, `unknown module "nope"`) {
		t.Errorf("the error of the target with an unknown module: %q", e)
	}
	if u := got[good].ScrapeURL; !strings.HasPrefix(u, "plugin://web?") || !strings.Contains(u, "module=http_2xx") {
		t.Errorf("scrapeUrl of a probed target: %q", u)
	}
	if v, ok := queryValue(t, prom, `count(probe_http_status_code{job="web"} == 200)`); !ok || v != 1 {
		t.Errorf("targets answering 200: %v %v", v, ok)
	}
}
