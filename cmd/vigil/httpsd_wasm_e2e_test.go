package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vigilmon/vigil/internal/testplugins"
)

// TestHTTPDiscoveryModule runs the server with the HTTP discovery
// plugin built as a WebAssembly module, polling a local HTTP SD endpoint
// through the host's http_request: the targets the endpoint lists appear
// in /api/v1/targets and are scraped, and change when its answer does.
func TestHTTPDiscoveryModule(t *testing.T) {
	module := testplugins.BuildWasm(t, "plugins/discovery/http")
	metrics := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "# TYPE sd_test_target gauge\nsd_test_target{name=%q} 1\n", name)
		}))
		t.Cleanup(s.Close)
		return s
	}
	a, b := metrics("a"), metrics("b")
	addr := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }

	var (
		mu     sync.Mutex
		answer string
	)
	setAnswer := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		answer = s
	}
	setAnswer(fmt.Sprintf(`[{"targets": [%q, %q], "labels": {"env": "test"}}]`, addr(a), addr(b)))
	sd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, answer)
	}))
	defer sd.Close()

	dir := t.TempDir()
	config := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`
plugin "http" {
  source      = %q
  allow_hosts = ["127.0.0.1"]
}

discovery "inventory" {
  plugin = "http"
  config {
    url              = %q
    refresh_interval = "200ms"
  }
}

scrape "inventory" {
  discovery = ["inventory"]
  scrape_interval = "1s"
}
`, module, sd.URL+"/sd")), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--config", config, "--data", filepath.Join(dir, "data"))

	type target struct {
		Labels           map[string]string `json:"labels"`
		DiscoveredLabels map[string]string `json:"discoveredLabels"`
		Health           string            `json:"health"`
	}
	// targets returns the active targets by instance, once all are up.
	targets := func() map[string]target {
		resp, err := http.Get("http://" + srv.addr + "/api/v1/targets")
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var body struct {
			Data struct {
				ActiveTargets []target `json:"activeTargets"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return nil
		}
		out := map[string]target{}
		for _, tg := range body.Data.ActiveTargets {
			if tg.Health != "up" {
				return nil
			}
			out[tg.Labels["instance"]] = tg
		}
		return out
	}
	instances := func(m map[string]target) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	want := []string{addr(a), addr(b)}
	slices.Sort(want)
	var got map[string]target
	waitFor(t, "the endpoint's two targets, up, in /api/v1/targets", func() bool {
		got = targets()
		return slices.Equal(instances(got), want)
	})
	tg := got[addr(a)]
	if tg.Labels["job"] != "inventory" || tg.Labels["env"] != "test" || tg.DiscoveredLabels["__meta_url"] != sd.URL+"/sd" {
		t.Errorf("labels of a discovered target: %v, discovered %v", tg.Labels, tg.DiscoveredLabels)
	}
	prom := srv.api(t)
	waitFor(t, "both targets scraped", func() bool {
		v, ok := queryValue(t, prom, `count(sd_test_target{job="inventory"})`)
		return ok && v == 2
	})

	// The endpoint drops a and relabels b: the next poll changes the
	// targets.
	setAnswer(fmt.Sprintf(`[{"targets": [%q], "labels": {"env": "prod"}}]`, addr(b)))
	waitFor(t, "only b, with its new label, in /api/v1/targets", func() bool {
		got = targets()
		return slices.Equal(instances(got), []string{addr(b)}) && got[addr(b)].Labels["env"] == "prod"
	})
}
