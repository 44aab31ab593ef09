package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	promapi "github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/hclconfig"
)

// target serves one gauge of value v.
func target(t *testing.T, name string, v int) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "# TYPE %s gauge\n%s %d\n", name, name, v)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// metric returns the value of a metric without labels on the server's
// /metrics, or "" when it is not there.
func metric(t *testing.T, addr, name string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			return v
		}
	}
	return ""
}

// eventually waits up to 20 seconds for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServerScrapesQueriesAndReloads starts a server in process on a
// loopback port, from a configuration file: it scrapes a target, answers
// queries, takes a changed file on POST /-/reload (a new max_exemplars
// resizes the exemplar storage), refuses a broken one
// keeping the running configuration, says so in its reload metrics, and
// releases its store when it stops.
func TestServerScrapesQueriesAndReloads(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vigil.hcl")
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, b := target(t, "from_a", 7), target(t, "from_b", 8)
	job := func(name, addr string) string {
		return fmt.Sprintf("scrape %q {\n  targets         = [%q]\n  scrape_interval = \"100ms\"\n  scrape_timeout  = \"100ms\"\n}\n", name, addr)
	}
	server := func(extra string) string {
		return fmt.Sprintf("server {\n  listen   = \"127.0.0.1:0\"\n  data_dir = %q\n  enable_lifecycle = true\n%s}\n", filepath.Join(dir, "data"), extra)
	}
	base := server("")
	write(base + job("a", a))

	logs := &syncBuilder{}
	logger := hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Info})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := New(ctx, Options{ConfigFile: file, Version: "1.2.3", Revision: "abc123", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx) }()

	client, err := promapi.NewClient(promapi.Config{Address: "http://" + srv.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	prom := v1.NewAPI(client)
	value := func(expr string) string {
		v, _, _, err := prom.Query(ctx, expr, time.Now())
		if err != nil {
			t.Fatalf("query %s: %v", expr, err)
		}
		if vec, ok := v.(model.Vector); ok && len(vec) == 1 {
			return vec[0].Value.String()
		}
		return ""
	}
	eventually(t, "target a scraped", func() bool { return value(`from_a`) == "7" && value(`up{job="a"}`) == "1" })
	if info, err := prom.Buildinfo(ctx); err != nil || info.Version != "1.2.3" || info.Revision != "abc123" {
		t.Errorf("buildinfo %+v, %v", info, err)
	}
	if info, err := prom.Runtimeinfo(ctx); err != nil || info.StorageRetention != "15d" {
		t.Errorf("runtimeinfo %+v, %v: want the default retention, 15d", info, err)
	}

	reload := func() (int, string) {
		resp, err := http.Post("http://"+srv.Addr()+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if got := metric(t, srv.Addr(), "prometheus_tsdb_exemplar_max_exemplars"); got != "100000" {
		t.Errorf("prometheus_tsdb_exemplar_max_exemplars %q, want Prometheus's default", got)
	}
	dashboards := func() string {
		t.Helper()
		resp, err := http.Get("http://" + srv.Addr() + "/api/v1/dashboards")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Data []struct{ Name string } }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, d := range body.Data {
			names = append(names, d.Name)
		}
		return strings.Join(names, " ")
	}
	if got := dashboards(); got != "node vigil" {
		t.Errorf("dashboards %q, want the built-in node and vigil", got)
	}
	const dashboard = "dashboard \"targets\" {\n  panel \"Up\" {\n    query {\n      expr = \"up\"\n    }\n  }\n}\n"
	write(server("  max_exemplars = 5\n  builtin_dashboards = false\n") + job("a", a) + job("b", b) + dashboard)
	if code, body := reload(); code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, body)
	}
	if got := dashboards(); got != "targets" {
		t.Errorf("dashboards after a reload that adds one and turns the built-in ones off: %q, want targets alone", got)
	}
	eventually(t, "target b scraped after the reload", func() bool { return value(`from_b`) == "8" })
	if got := metric(t, srv.Addr(), "prometheus_tsdb_exemplar_max_exemplars"); got != "5" || srv.Config().Server.MaxExemplars != 5 {
		t.Errorf("after a reload with max_exemplars = 5: the store's capacity %q, the configuration's %d", got, srv.Config().Server.MaxExemplars)
	}
	if strings.Contains(logs.String(), "take effect at the next start") {
		t.Errorf("a reload that changes max_exemplars alone says the server block waits for a restart:\n%s", logs.String())
	}
	if got := metric(t, srv.Addr(), "vigil_config_last_reload_successful"); got != "1" {
		t.Errorf("vigil_config_last_reload_successful %q after a good reload", got)
	}

	write(base + job("a", a) + "scrape \"broken\" {\n  scrape_intervl = \"1s\"\n}\n")
	code, body := reload()
	if code != http.StatusInternalServerError || !strings.Contains(body, `An argument named "scrape_intervl" is not expected here`) {
		t.Errorf("broken reload: %d %s", code, body)
	}
	if got := metric(t, srv.Addr(), "vigil_config_last_reload_successful"); got != "0" {
		t.Errorf("vigil_config_last_reload_successful %q after a refused reload", got)
	}
	if n := len(srv.Config().Scrapes); n != 2 {
		t.Errorf("%d scrape blocks in effect after a refused reload, want the 2 running", n)
	}
	if !strings.Contains(logs.String(), "reload refused") {
		t.Errorf("the refused reload is not logged:\n%s", logs.String())
	}

	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The store is closed: it opens again.
	db, err := tsdb.Open(filepath.Join(dir, "data"), tsdb.Options{})
	if err != nil {
		t.Fatalf("the store is still held after Run returned: %v", err)
	}
	db.Close()
}

// TestNewFailsCleanly starts servers that cannot start: each says why,
// and leaves its data directory free for the next.
func TestNewFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	for name, src := range map[string]string{
		"bad attribute": "scrape \"x\" {\n  bogus = 1\n}\n",
		"missing plugin": `plugin "p" { source = "` + filepath.Join(dir, "no-such-plugin") + `" }
exporter "e" { plugin = "p" }
`,
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, "vigil.hcl")
			if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := New(t.Context(), Options{ConfigFile: file, Listen: "127.0.0.1:0", DataDir: data})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "vigil.hcl:") {
				t.Errorf("the error does not name the place in the file: %v", err)
			}
			db, err := tsdb.Open(data, tsdb.Options{})
			if err != nil {
				t.Fatalf("the store is held after New failed: %v", err)
			}
			db.Close()
		})
	}
}

// TestServerBlockComparedByValue loads the same server block twice: the
// reload check sees no change although the external URLs are two
// pointers, and sees the options' overrides.
func TestServerBlockComparedByValue(t *testing.T) {
	load := func() *hclconfig.Config {
		cfg, diags := hclconfig.Parse("a.hcl", []byte(`server {
  external_url = "https://vigil.example.com/"
}`))
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		return cfg
	}
	a, b := load(), load()
	if !sameServer(a.Server, b.Server) {
		t.Error("the same server block compares different")
	}
	(&Server{opts: Options{DataDir: "/elsewhere"}}).override(b)
	if sameServer(a.Server, b.Server) || b.Server.DataDir != "/elsewhere" {
		t.Errorf("the data directory override is not seen: %+v", b.Server)
	}
}
