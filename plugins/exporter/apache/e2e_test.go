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
	"path/filepath"
	"runtime"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/vigilmon/vigil/conformance"
	"github.com/vigilmon/vigil/core/pluginhost"
	"github.com/vigilmon/vigil/internal/anchortest"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/sdk"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// requireEnv names the environment variable that, when set, makes a
// missing Apache or apache_exporter fail the test instead of skipping it.
const requireEnv = "VIGIL_REQUIRE_APACHE"

// apacheConfig is the test's Apache: mod_status with ExtendedStatus on a
// loopback port, and nothing else. Debian's modules are in
// /usr/lib/apache2/modules.
const apacheConfig = `ServerRoot %[1]s
ServerName localhost
Listen %[2]s
PidFile %[1]s/httpd.pid
DefaultRuntimeDir %[1]s
ErrorLog %[1]s/error.log
LogLevel warn
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule status_module /usr/lib/apache2/modules/mod_status.so
%[3]s
DocumentRoot %[1]s/htdocs
ExtendedStatus On
<Location /server-status>
  SetHandler server-status
  Require all granted
</Location>
`

// startApache runs Debian's apache2 in the foreground with the test's
// config until the test ends, and returns the ?auto status page's URL.
func startApache(t *testing.T) string {
	t.Helper()
	bin := anchortest.Need(t, "apache2", "apache2", requireEnv)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "htdocs"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Apache's children, which run as www-data when started as root,
	// walk the document root's path.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	addr := anchortest.FreePort(t)
	user := ""
	if os.Geteuid() == 0 {
		user = "User www-data\nGroup www-data" // Apache's children never run as root
	}
	cfg := filepath.Join(dir, "httpd.conf")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(apacheConfig, dir, addr, user)), 0o644); err != nil {
		t.Fatal(err)
	}
	status := "http://" + addr + "/server-status?auto"
	p := anchortest.Start(t, bin, "-f", cfg, "-DFOREGROUND")
	p.WaitReady(t, func() error {
		resp, err := http.Get(status)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		return nil
	})
	for range 5 {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	return status
}

// collect configures the module with config and collects once; the
// collection must succeed whatever Apache does, reporting a target
// error exactly when apache_up is 0.
func collect(t *testing.T, p *pluginhost.WasmPlugin, config string) []*dto.MetricFamily {
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
	if down := sdk.AsTargetError(err) != nil; down != (value(families, "apache_up") == 0) {
		t.Errorf("collect with %s: target error %v with apache_up %v", config, err, value(families, "apache_up"))
	}
	return families
}

// value returns the value of the series of the family called name whose
// labels have the values, or -1.
func value(families []*dto.MetricFamily, name string, labelValues ...string) float64 {
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.Metric {
			if len(m.Label) != len(labelValues) {
				continue
			}
			for i, l := range m.Label {
				if l.GetValue() != labelValues[i] {
					continue series
				}
			}
			if m.Counter != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// TestApache builds the plugin as a WebAssembly module, runs Apache with
// mod_status, collects it through the module as Vigil loads it and with
// Debian's apache_exporter, and compares the two; then it checks what
// Apache down, slow, refusing or answering garbage gives, and runs the
// conformance suite on the module with a config that reaches Apache.
func TestApache(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module and starts Apache")
	}
	if runtime.GOOS != "linux" {
		t.Skip("runs Debian's Apache")
	}
	anchorBin := anchortest.Need(t, "prometheus-apache-exporter", "prometheus-apache-exporter", requireEnv)
	status := startApache(t)
	module := testplugins.BuildWasm(t, "plugins/exporter/apache")
	cache := testplugins.WasmCache(t, module)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := pluginhost.LoadWasm(ctx, pluginhost.WasmOptions{Path: module, CacheDir: cache, AllowHosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	info, kind, err := p.Info(ctx)
	if err != nil || kind != sdk.KindExporter || info.Name != "apache" || info.Version != version {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	var ae *sdk.AttributeError
	for config, attr := range map[string]string{
		`{"scrape_uri": "ftp://host/"}`:           attrScrapeURI,
		`{"scrape_uri": "/server-status?auto"}`:   attrScrapeURI,
		`{"scrape_uri": "http://u:p@host/?auto"}`: attrScrapeURI,
		`{"timeout": "0s"}`:                       attrTimeout,
	} {
		if err := p.Configure(ctx, []byte(config)); !errors.As(err, &ae) || ae.Attribute != attr {
			t.Errorf("configure %s: %v, want an error naming %q", config, err, attr)
		}
	}

	good := fmt.Sprintf(`{"scrape_uri": %q}`, status)
	got := collect(t, p, good)
	if v := value(got, "apache_up"); v != 1 {
		t.Fatalf("apache_up %v, want 1", v)
	}
	if v := value(got, "apache_accesses_total"); v < 5 {
		t.Errorf("apache_accesses_total %v, want at least the 5 requests sent", v)
	}
	if v := value(got, "apache_info", "", ""); v != -1 {
		t.Errorf("apache_info without labels: %v", v)
	}
	if v := value(got, "apache_workers", "idle"); v <= 0 {
		t.Errorf("apache_workers{state=\"idle\"} %v, want some", v)
	}

	addr := anchortest.FreePort(t)
	anchor := anchortest.Start(t, anchorBin, "--scrape_uri="+status, "--telemetry.address="+addr)
	var anchorFamilies []*dto.MetricFamily
	anchor.WaitReady(t, func() error {
		anchorFamilies, err = anchortest.Scrape("http://" + addr + "/metrics")
		if err == nil && value(anchorFamilies, "apache_up") != 1 {
			err = errors.New("apache_exporter has apache_up 0")
		}
		return err
	})
	report := anchortest.Compare(anchorFamilies, collect(t, p, good), "go_", "process_", "promhttp_")
	t.Logf("apache_exporter: %s", report)
	if report.Coverage() < 0.9 {
		t.Errorf("the plugin has %.1f%% of apache_exporter's families, want at least 90%%", 100*report.Coverage())
	}
	for _, l := range report.Labels {
		t.Errorf("label names differ: %s", l)
	}
	// What does not change between the two collections has
	// apache_exporter's values.
	for _, d := range anchortest.DiffValues(anchorFamilies, got, func(name string) bool {
		return name == "apache_version" || name == "apache_info" || name == "apache_generation"
	}) {
		t.Errorf("value differs: %s", d)
	}

	// Apache down, slow, refusing, answering garbage, or a host the
	// plugin block does not allow: apache_up 0, the collection succeeding.
	slow, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	accepting := make(chan struct{})
	go func() {
		defer close(accepting)
		for {
			conn, err := slow.Accept()
			if err != nil {
				return
			}
			conns = append(conns, conn)
		}
	}()
	defer func() {
		slow.Close()
		<-accepting
		for _, c := range conns {
			c.Close()
		}
	}()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "<html><body>It works!</body></html>\n")
	}))
	defer garbage.Close()
	for name, config := range map[string]string{
		"down":        fmt.Sprintf(`{"scrape_uri": "http://%s/server-status?auto"}`, anchortest.FreePort(t)),
		"slow":        fmt.Sprintf(`{"scrape_uri": "http://%s/server-status?auto", "timeout": "1s"}`, slow.Addr()),
		"not found":   fmt.Sprintf(`{"scrape_uri": "%s/missing"}`, garbage.URL),
		"garbage":     fmt.Sprintf(`{"scrape_uri": "%s/server-status"}`, garbage.URL),
		"not allowed": `{"scrape_uri": "http://localhost:1/server-status?auto"}`,
	} {
		if v := value(collect(t, p, config), "apache_up"); v != 0 {
			t.Errorf("%s: apache_up %v, want 0", name, v)
		}
	}

	t.Run("Conformance", func(t *testing.T) {
		conformance.Exporter(t, conformance.Target{Path: module, WasmCacheDir: cache}, conformance.Options{ConfigJSON: []byte(good)})
	})
}
