package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/vigilmon/vigil/conformance"
	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/internal/anchortest"
	"github.com/vigilmon/vigil/sdk"
)

// requireEnv names the environment variable that, when set, makes a
// missing HAProxy or haproxy_exporter fail the test instead of skipping
// it.
const requireEnv = "VIGIL_REQUIRE_HAPROXY"

// The credentials of the statistics page the test's HAProxy has.
const (
	statsUser     = "admin"
	statsPassword = "stats-secret"
)

// haproxyConfig is the test's HAProxy: a frontend, a backend of two
// servers (one answers, the other is down), statistics over HTTP with
// basic authentication, and a stats socket.
const haproxyConfig = `global
  stats socket %[1]s mode 600 level admin

defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s

frontend web
  bind %[2]s
  default_backend app

backend app
  balance roundrobin
  server s1 %[3]s check inter 500ms
  server s2 %[4]s check inter 500ms

listen stats
  bind %[5]s
  stats enable
  stats uri /stats
  stats auth %[6]s:%[7]s
`

// haproxyRun is an HAProxy a test started.
type haproxyRun struct {
	statsURL string // the CSV, without credentials
	socket   string
	frontend string
}

// startHAProxy runs Debian's haproxy with the test's config until the
// test ends, and sends a few requests through its frontend.
func startHAProxy(t *testing.T) haproxyRun {
	t.Helper()
	bin := anchortest.Need(t, "haproxy", "haproxy", requireEnv)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello\n") }))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	h := haproxyRun{socket: filepath.Join(dir, "admin.sock"), frontend: anchortest.FreePort(t)}
	stats := anchortest.FreePort(t)
	h.statsURL = "http://" + stats + "/stats;csv"
	cfg := filepath.Join(dir, "haproxy.cfg")
	src := fmt.Sprintf(haproxyConfig, h.socket, h.frontend, up.Listener.Addr(), anchortest.FreePort(t), stats, statsUser, statsPassword)
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	// -db: in the foreground; -W would fork a worker.
	p := anchortest.Start(t, bin, "-db", "-f", cfg)
	p.WaitReady(t, func() error {
		req, _ := http.NewRequest(http.MethodGet, h.statsURL, nil)
		req.SetBasicAuth(statsUser, statsPassword)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		return nil
	})
	for range 6 {
		resp, err := http.Get("http://" + h.frontend + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	return h
}

// startPlugin builds the plugin and starts it as Vigil does.
func startPlugin(t *testing.T) (*client.Plugin, string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vigil-exporter-haproxy")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	p, err := client.Start(client.Options{Path: bin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p, bin
}

// collect configures the plugin with config and collects once; the
// collection must succeed whatever HAProxy does.
func collect(t *testing.T, p *client.Plugin, config string) []*dto.MetricFamily {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Configure(ctx, []byte(config)); err != nil {
		t.Fatalf("configure %s: %v", config, err)
	}
	families, err := p.Collect(ctx)
	if err != nil && sdk.AsTargetError(err) == nil {
		t.Fatalf("collect with %s: %v", config, err)
	}
	// The target error says what haproxy_up says.
	if down := sdk.AsTargetError(err) != nil; down != (haproxyUp(families) == 0) {
		t.Errorf("collect with %s: target error %v with haproxy_up %v", config, err, haproxyUp(families))
	}
	return families
}

// family returns the family called name, or nil.
func family(families []*dto.MetricFamily, name string) *dto.MetricFamily {
	for _, f := range families {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}

// haproxyUp returns haproxy_up, or -1 without it.
func haproxyUp(families []*dto.MetricFamily) float64 {
	f := family(families, "haproxy_up")
	if f == nil || len(f.Metric) != 1 {
		return -1
	}
	return f.Metric[0].GetGauge().GetValue()
}

// TestHAProxy runs HAProxy, collects its statistics with the plugin over
// HTTP and from the stats socket, and with Debian's haproxy_exporter the
// same ways, and compares them; then it checks what HAProxy down, slow,
// refusing the login or answering garbage gives, and runs the
// conformance suite with a config that reaches HAProxy.
func TestHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts HAProxy")
	}
	if runtime.GOOS != "linux" {
		t.Skip("runs Debian's HAProxy")
	}
	anchorBin := anchortest.Need(t, "prometheus-haproxy-exporter", "prometheus-haproxy-exporter", requireEnv)
	h := startHAProxy(t)
	p, bin := startPlugin(t)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	info, kind, err := p.Info(ctx)
	if err != nil || kind != sdk.KindExporter || info.Name != "haproxy" || info.Version != version {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	var ae *sdk.AttributeError
	for config, attr := range map[string]string{
		`{"scrape_uri": "ftp://host/"}`:          attrScrapeURI,
		`{"scrape_uri": "http://u:p@host/;csv"}`: attrScrapeURI,
		`{"scrape_uri": "unix:"}`:                attrScrapeURI,
		`{"server_metric_fields": "2,x"}`:        attrServerMetricFields,
		`{"server_metric_fields": "2,11"}`:       attrServerMetricFields,
		`{"password": "p"}`:                      attrUsername,
		`{"timeout": "0s"}`:                      attrTimeout,
	} {
		if err := p.Configure(ctx, []byte(config)); !errors.As(err, &ae) || ae.Attribute != attr {
			t.Errorf("configure %s: %v, want an error naming %q", config, err, attr)
		}
	}

	overHTTP := fmt.Sprintf(`{"scrape_uri": %q, "username": %q, "password": %q}`, h.statsURL, statsUser, statsPassword)
	fromSocket := fmt.Sprintf(`{"scrape_uri": %q}`, "unix:"+h.socket)
	anchorHTTP := fmt.Sprintf("http://%s:%s@%s", statsUser, statsPassword, h.statsURL[len("http://"):])
	for _, c := range []struct {
		name, config, anchorURI string
	}{
		{"HTTP", overHTTP, anchorHTTP},
		{"socket", fromSocket, "unix:" + h.socket},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := collect(t, p, c.config)
			if v := haproxyUp(got); v != 1 {
				t.Fatalf("haproxy_up %v, want 1", v)
			}
			servers := map[string]float64{}
			for _, m := range family(got, "haproxy_server_up").GetMetric() {
				servers[m.Label[1].GetValue()] = m.GetGauge().GetValue()
			}
			if servers["s1"] != 1 {
				t.Errorf("haproxy_server_up %v, want s1 up", servers)
			}
			requests := -1.0
			for _, m := range family(got, "haproxy_frontend_http_requests_total").GetMetric() {
				if m.Label[0].GetValue() == "web" {
					requests = m.GetCounter().GetValue()
				}
			}
			if requests < 6 {
				t.Errorf("haproxy_frontend_http_requests_total{frontend=\"web\"} %v, want at least the 6 requests sent", requests)
			}

			addr := anchortest.FreePort(t)
			anchor := anchortest.Start(t, anchorBin, "--haproxy.scrape-uri="+c.anchorURI, "--web.listen-address="+addr)
			var anchorFamilies []*dto.MetricFamily
			anchor.WaitReady(t, func() error {
				anchorFamilies, err = anchortest.Scrape("http://" + addr + "/metrics")
				if err == nil && family(anchorFamilies, "haproxy_up").GetMetric()[0].GetGauge().GetValue() != 1 {
					err = errors.New("haproxy_exporter has haproxy_up 0")
				}
				return err
			})
			report := anchortest.Compare(anchorFamilies, collect(t, p, c.config), "go_", "process_", "promhttp_")
			t.Logf("haproxy_exporter (%s): %s", c.name, report)
			if report.Coverage() < 0.9 {
				t.Errorf("the plugin has %.1f%% of haproxy_exporter's families, want at least 90%%", 100*report.Coverage())
			}
			for _, l := range report.Labels {
				t.Errorf("label names differ: %s", l)
			}
			// The configured limits and weights have haproxy_exporter's
			// values.
			for _, d := range anchortest.DiffValues(anchorFamilies, got, func(name string) bool {
				return strings.HasSuffix(name, "_limit_sessions") || name == "haproxy_server_weight"
			}) {
				t.Errorf("value differs: %s", d)
			}
		})
	}

	// HAProxy down, slow, refusing the login or answering garbage:
	// haproxy_up 0, within the timeout, the collection succeeding.
	slow, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	go func() {
		for {
			conn, err := slow.Accept()
			if err != nil {
				return
			}
			defer conn.Close() // never answered
		}
	}()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<html><body>not the statistics</body></html>\n")
	}))
	defer garbage.Close()
	for name, config := range map[string]string{
		"down":           fmt.Sprintf(`{"scrape_uri": "http://%s/;csv"}`, anchortest.FreePort(t)),
		"socket missing": fmt.Sprintf(`{"scrape_uri": "unix:%s"}`, filepath.Join(t.TempDir(), "none.sock")),
		"slow":           fmt.Sprintf(`{"scrape_uri": "http://%s/;csv", "timeout": "1s"}`, slow.Addr()),
		"slow socket":    fmt.Sprintf(`{"scrape_uri": "tcp://%s", "timeout": "1s"}`, slow.Addr()),
		"wrong password": fmt.Sprintf(`{"scrape_uri": %q, "username": %q, "password": "wrong"}`, h.statsURL, statsUser),
		"garbage":        fmt.Sprintf(`{"scrape_uri": %q}`, garbage.URL+"/;csv"),
	} {
		if v := haproxyUp(collect(t, p, config)); v != 0 {
			t.Errorf("%s: haproxy_up %v, want 0", name, v)
		}
	}

	t.Run("Conformance", func(t *testing.T) {
		conformance.Exporter(t, conformance.Program(bin), conformance.Options{ConfigJSON: []byte(overHTTP)})
	})
}
