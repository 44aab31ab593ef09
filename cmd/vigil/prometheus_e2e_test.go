package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilmon/vigil/internal/peers"
)

// prometheusServer is a Prometheus started by a test.
type prometheusServer struct {
	*peerServer
	config string // the path of its configuration file
}

// startPrometheus runs Prometheus with the configuration config gives
// for its address and the flags, keeping its data in a temporary folder,
// until the test ends.
func startPrometheus(t *testing.T, config func(addr string) string, flags ...string) *prometheusServer {
	t.Helper()
	dir := t.TempDir()
	cfg, data := filepath.Join(dir, "prometheus.yml"), filepath.Join(dir, "data")
	s := startPeer(t, peers.Prometheus, "/-/ready", func(addr string) []string {
		if err := os.WriteFile(cfg, []byte(config(addr)), 0o640); err != nil {
			t.Fatal(err)
		}
		return append([]string{"--config.file=" + cfg, "--storage.tsdb.path=" + data, "--web.listen-address=" + addr, "--log.level=warn"}, flags...)
	})
	return &prometheusServer{peerServer: s, config: cfg}
}

// reconfigure writes config to p's configuration file, sends it SIGHUP,
// and waits until its status API shows that it applied it: that it has
// a reload that succeeded after this one began.
func (p *prometheusServer) reconfigure(t *testing.T, config string) {
	t.Helper()
	if err := os.WriteFile(p.config, []byte(config), 0o640); err != nil {
		t.Fatal(err)
	}
	begun := time.Now().Truncate(time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	api := p.api(t)
	waitFor(t, "Prometheus to reload its configuration", func() bool {
		info, err := api.Runtimeinfo(context.Background())
		return err == nil && info.ReloadConfigSuccess && !info.LastConfigTime.Before(begun)
	})
}

// appQueries are the queries the tests with Prometheus ask of both ends,
// besides the raw samples: of the target appTarget serves, a gauge and a
// rate, the sums of the counters of the jobs by name, a count by job,
// and the native histogram's quantile by job and count, instant at at
// and over a range.
func appQueries(at time.Time, jobs string) []peerQuery {
	return instantAndRange(at,
		`app_inflight`,
		`rate(app_requests_total[30s])`,
		`sum by (__name__) (`+jobs[:len(jobs)-1]+`, __name__=~".+_total"})`,
		`count by (job) (`+jobs+`)`,
		`histogram_quantile(0.9, sum by (job) (rate(app_latency_seconds[1m])))`,
		`histogram_count(rate(app_latency_seconds[30s]))`,
	)
}

// exemplarsOf gives the exemplars of series in the five minutes before
// at, as sorted lines.
func exemplarsOf(t *testing.T, e endpoint, series string, at time.Time) []string {
	t.Helper()
	res, err := e.api.QueryExemplars(context.Background(), series, at.Add(-5*time.Minute), at)
	if err != nil {
		t.Fatalf("exemplars of %s on %s: %v", series, e.name, err)
	}
	var out []string
	for _, r := range res {
		for _, x := range r.Exemplars {
			out = append(out, fmt.Sprintf("%s %s %s@%d", r.SeriesLabels, x.Labels, x.Value, x.Timestamp))
		}
	}
	slices.Sort(out)
	return out
}

// TestPrometheusReceivesRemoteWrite runs Prometheus with its remote-write
// receiver and a vigil that scrapes a target (with a native histogram
// and exemplars) and itself and remote-writes to it, by Remote-Write 1.0
// and 2.0. The same PromQL on both ends gives the same answers: the raw
// samples of both jobs, rates, sums and counts by job, and the native
// histogram's quantile, instant and over a range; and, once the target
// has left vigil's configuration, where its series end.
func TestPrometheusReceivesRemoteWrite(t *testing.T) {
	t.Parallel()
	for _, msg := range []string{"prometheus.WriteRequest", "io.prometheus.write.v2.Request"} {
		t.Run(msg, func(t *testing.T) {
			prom := startPrometheus(t, func(string) string { return "global: {}\n" },
				"--web.enable-remote-write-receiver",
				"--web.remote-write-receiver.accepted-protobuf-messages=prometheus.WriteRequest",
				"--web.remote-write-receiver.accepted-protobuf-messages=io.prometheus.write.v2.Request",
				"--enable-feature=exemplar-storage")
			target := appTarget(t)
			dir := t.TempDir()
			addr := freeLoopbackAddr(t)
			config := func(app string) string {
				return selfScrapingConfig(filepath.Join(dir, "data"), addr, app, "", fmt.Sprintf(`
remote_write "prometheus" {
  url                    = "http://%s/api/v1/write"
  protobuf_message       = %q
  send_native_histograms = true
  send_exemplars         = true

  queue {
    batch_send_deadline = "200ms"
  }
}
`, prom.addr, msg))
			}
			cfgPath := writeFile(t, "vigil.hcl", config(target.URL))
			sender := startServer(t, "--listen", addr, "--config", cfgPath)
			defer func() {
				if t.Failed() {
					t.Logf("vigil:\n%s", sender.logText())
				}
			}()
			fromVigil, fromProm := vigilEndpoint(t, "vigil", sender), peerEndpoint(t, prom.peerServer)
			waitScrapes(t, fromVigil, 20, "app", "vigil")
			at := compareAt()
			waitScrapedAfter(t, fromVigil, at, "app", "vigil")
			const jobs = `{job=~"app|vigil"}`
			waitCaughtUp(t, fromVigil, fromProm, jobs, at)
			sameAnswers(t, fromVigil, fromProm, append([]peerQuery{{Expr: jobs + "[10m]", At: at}}, appQueries(at, jobs)...))

			// Upstream's 2.0 sender puts each exemplar in a series of its
			// own, without samples, which Prometheus's receiver refuses
			// (see the README of hclconfig): exemplars reach it by 1.0.
			if msg == "prometheus.WriteRequest" {
				want := exemplarsOf(t, fromVigil, "app_requests_total", at)
				if len(want) < 10 {
					t.Fatalf("vigil has %d exemplars of app_requests_total: %q", len(want), want)
				}
				if got := exemplarsOf(t, fromProm, "app_requests_total", at); !slices.Equal(want, got) {
					t.Errorf("exemplars:\nvigil:\n%s\nprometheus:\n%s", joinLines(want), joinLines(got))
				}
			}

			// The target leaves the configuration: its series end at the
			// same time on both.
			sender.reconfigure(t, cfgPath, config(""))
			end := waitEnded(t, fromVigil, fromProm, `{job="app"}`)
			sameAnswers(t, fromVigil, fromProm, endQueries(end, `app_inflight`, `sum by (job) (up)`, `histogram_count(app_latency_seconds)`))
			sender.stop(t)
		})
	}
}

// TestPrometheusSendsRemoteWrite runs vigil with its remote-write
// receiver and Prometheus, which scrapes a target (with a native
// histogram and exemplars) and itself and remote-writes to vigil, by
// Remote-Write 1.0 and 2.0 (and by 2.0, the target's classic histogram
// as one with custom buckets). The same PromQL on both ends gives the
// same answers, and vigil has the same exemplars; once the target has left
// its job in Prometheus's configuration, its series end at the same time
// on both.
func TestPrometheusSendsRemoteWrite(t *testing.T) {
	t.Parallel()
	for _, msg := range []string{"prometheus.WriteRequest", "io.prometheus.write.v2.Request"} {
		t.Run(msg, func(t *testing.T) {
			receiver := startServer(t, "--config", writeFile(t, "vigil.hcl", fmt.Sprintf(`server {
  data_dir                     = %q
  enable_remote_write_receiver = true
}
`, filepath.Join(t.TempDir(), "data"))))
			defer func() {
				if t.Failed() {
					t.Logf("vigil:\n%s", receiver.logText())
				}
			}()
			target := appTarget(t)
			config := func(addr string, app bool) string {
				cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
remote_write:
  - url: http://%s/api/v1/write
    protobuf_message: %s
    send_exemplars: true
    send_native_histograms: true
    queue_config:
      batch_send_deadline: 200ms
scrape_configs:
  - job_name: prometheus
    scrape_native_histograms: true
    static_configs:
      - targets: [%q]
`, receiver.addr, msg, addr)
				// Remote-Write 1.0 has no native histograms with custom
				// buckets: Prometheus sends them by 2.0 only.
				if msg != "prometheus.WriteRequest" {
					cfg += fmt.Sprintf(`  - job_name: nhcb
    scrape_native_histograms: false
    convert_classic_histograms_to_nhcb: true
    static_configs:
      - targets: [%q]
`, strings.TrimPrefix(target.URL, "http://"))
				}
				// Prometheus writes no staleness markers for a job that
				// leaves its configuration, only for a target that leaves
				// its job: the job stays, without the target.
				targets := ""
				if app {
					targets = fmt.Sprintf("%q", strings.TrimPrefix(target.URL, "http://"))
				}
				return cfg + fmt.Sprintf(`  - job_name: app
    scrape_native_histograms: true
    static_configs:
      - targets: [%s]
`, targets)
			}
			prom := startPrometheus(t, func(addr string) string { return config(addr, true) }, "--enable-feature=exemplar-storage")
			fromProm, fromVigil := peerEndpoint(t, prom.peerServer), vigilEndpoint(t, "vigil", receiver)
			jobNames := []string{"app", "prometheus"}
			if msg != "prometheus.WriteRequest" {
				jobNames = append(jobNames, "nhcb")
			}
			waitScrapes(t, fromProm, 20, jobNames...)
			at := compareAt()
			waitScrapedAfter(t, fromProm, at, jobNames...)
			jobs := `{job=~"` + strings.Join(jobNames, "|") + `"}`
			waitCaughtUp(t, fromProm, fromVigil, jobs, at)
			sameAnswers(t, fromProm, fromVigil, append([]peerQuery{{Expr: jobs + "[10m]", At: at}}, appQueries(at, jobs)...))

			want := exemplarsOf(t, fromProm, "app_requests_total", at)
			if len(want) < 10 {
				t.Fatalf("prometheus has %d exemplars of app_requests_total: %q", len(want), want)
			}
			var got []string
			waitFor(t, "the exemplars to reach vigil", func() bool {
				got = exemplarsOf(t, fromVigil, "app_requests_total", at)
				return len(got) >= len(want)
			})
			if !slices.Equal(want, got) {
				t.Errorf("exemplars:\nprometheus:\n%s\nvigil:\n%s", joinLines(want), joinLines(got))
			}

			// The target leaves its job in Prometheus's configuration: its
			// series end at the same time on both.
			prom.reconfigure(t, config(prom.addr, false))
			end := waitEnded(t, fromProm, fromVigil, `{job="app"}`)
			sameAnswers(t, fromProm, fromVigil, endQueries(end, `app_inflight`, `sum by (job) (up)`, `histogram_count(app_latency_seconds)`))
			receiver.stop(t)
		})
	}
}

// TestPrometheusRemoteReadsVigil runs a vigil that scrapes a target (with
// a native histogram) and itself, and Prometheus, which scrapes nothing
// and reads vigil through remote_read: the same PromQL gives the same
// answers on both, with vigil's external label on Prometheus's series.
// Prometheus asks for streamed chunks, which vigil serves. A Prometheus
// whose external labels are vigil's reads the same, and one with another
// value of them reads nothing. Once the target
// has left vigil's configuration, its series end at the same time on both.
func TestPrometheusRemoteReadsVigil(t *testing.T) {
	t.Parallel()
	target := appTarget(t)
	addr := freeLoopbackAddr(t)
	dir := t.TempDir()
	config := func(app string) string {
		return selfScrapingConfig(filepath.Join(dir, "data"), addr, app, "  external_labels = { site = \"a\" }\n", "")
	}
	cfgPath := writeFile(t, "vigil.hcl", config(target.URL))
	srv := startServer(t, "--listen", addr, "--config", cfgPath)
	defer func() {
		if t.Failed() {
			t.Logf("vigil:\n%s", srv.logText())
		}
	}()
	prom := startPrometheus(t, func(string) string {
		return fmt.Sprintf(`remote_read:
  - url: http://%s/api/v1/read
    read_recent: true
`, addr)
	})
	// Two more have an external label site of their own, which they send
	// as a matcher and take off what they read: the one with vigil's
	// site reads vigil's series, the other none.
	withSite := func(site string) *prometheusServer {
		return startPrometheus(t, func(string) string {
			return fmt.Sprintf(`global:
  external_labels:
    site: %s
remote_read:
  - url: http://%s/api/v1/read
    read_recent: true
`, site, addr)
		})
	}
	sameSite, otherSite := withSite("a"), withSite("b")
	fromVigil, fromProm := vigilEndpoint(t, "vigil", srv), peerEndpoint(t, prom.peerServer)
	fromSameSite := endpoint{name: "prometheus with site=a", api: sameSite.api(t)}
	waitScrapes(t, fromVigil, 20, "app", "vigil")
	at := compareAt()
	waitScrapedAfter(t, fromVigil, at, "app", "vigil")
	const jobs = `{job=~"app|vigil"}`
	queries := append([]peerQuery{{Expr: jobs + "[10m]", At: at}}, appQueries(at, jobs)...)
	sameAnswers(t, fromVigil, fromProm, queries, "site")
	sameAnswers(t, fromVigil, fromSameSite, queries)
	if got := (endpoint{name: "prometheus with site=b", api: otherSite.api(t)}).ask(t, peerQuery{Expr: jobs + "[10m]", At: at}, false); len(got) > 0 {
		t.Errorf("Prometheus with site=b read vigil's series of site=a: %v", got)
	}

	// The series Prometheus read have vigil's external label.
	v, _, _, err := fromProm.api.Query(context.Background(), `count by (site) (`+jobs+`)`, at)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.String(); !strings.HasPrefix(got, `{site="a"} => `) || strings.Contains(got, "\n") {
		t.Errorf("the sites of the series Prometheus read: %s", got)
	}
	if n := metricValue(t, srv, `vigil_http_requests_total{code="200",handler="POST /api/v1/read"}`); n == 0 {
		t.Error("vigil counts no remote read")
	}

	// The target leaves the configuration: its series end at the same
	// time on both.
	srv.reconfigure(t, cfgPath, config(""))
	end := waitEnded(t, fromVigil, fromProm, `{job="app"}`)
	sameAnswers(t, fromVigil, fromProm, endQueries(end, `app_inflight`, `sum by (job) (up)`, `histogram_count(app_latency_seconds)`), "site")
	srv.stop(t)
}

// TestAgentRemoteWritesToPrometheus runs vigil agent, which scrapes a
// target (with a native histogram) and itself and remote-writes to
// Prometheus with its receiver by Remote-Write 1.0 and to a vigil server
// by 2.0: the two central stores hold the same samples, and give the same
// answers to the same PromQL.
func TestAgentRemoteWritesToPrometheus(t *testing.T) {
	t.Parallel()
	prom := startPrometheus(t, func(string) string { return "global: {}\n" }, "--web.enable-remote-write-receiver")
	receiver := startServer(t, "--config", receiverConfig(t, filepath.Join(t.TempDir(), "receiver")))
	target := appTarget(t)
	addr := freeLoopbackAddr(t)
	dir := t.TempDir()
	agent := startVigil(t, "agent", "--listen", addr, "--config", writeFile(t, "agent.hcl", selfScrapingConfig(filepath.Join(dir, "agent"), addr, target.URL, "", fmt.Sprintf(`
remote_write "prometheus" {
  url                    = "http://%s/api/v1/write"
  send_native_histograms = true

  queue {
    batch_send_deadline = "200ms"
  }
}

remote_write "vigil" {
  url                    = "http://%s/api/v1/write"
  protobuf_message       = "io.prometheus.write.v2.Request"
  send_native_histograms = true

  queue {
    batch_send_deadline = "200ms"
  }
}
`, prom.addr, receiver.addr))))
	defer func() {
		if t.Failed() {
			t.Logf("agent:\n%s\nreceiver:\n%s", agent.logText(), receiver.logText())
		}
	}()
	fromProm, fromVigil := peerEndpoint(t, prom.peerServer), vigilEndpoint(t, "vigil", receiver)
	waitScrapes(t, fromProm, 20, "app", "vigil")
	at := compareAt()
	waitScrapedAfter(t, fromProm, at, "app", "vigil")
	waitScrapedAfter(t, fromVigil, at, "app", "vigil")
	const jobs = `{job=~"app|vigil"}`
	waitCaughtUp(t, fromProm, fromVigil, jobs, at)
	waitCaughtUp(t, fromVigil, fromProm, jobs, at)
	sameAnswers(t, fromProm, fromVigil, append([]peerQuery{{Expr: jobs + "[10m]", At: at}}, appQueries(at, jobs)...))
	agent.stop(t)
	receiver.stop(t)
}
