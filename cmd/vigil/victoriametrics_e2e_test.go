package main

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/vigilmon/vigil/internal/peers"
)

// TestVictoriaMetricsReceivesRemoteWrite runs VictoriaMetrics and a vigil
// that scrapes a target and itself and remote-writes to it, and asks both
// the same PromQL: the raw samples of both jobs, gauges, sums and counts
// by job, instant and over a range, agree exactly. MetricsQL's rate does
// not extrapolate as PromQL's does, so rates are left out; the raw
// samples they are made of are compared. Native histograms are not
// scraped: VictoriaMetrics keeps classic ones only. Its answers leave out
// NaN samples, and have floats to 12 significant digits.
func TestVictoriaMetricsReceivesRemoteWrite(t *testing.T) {
	t.Parallel()
	vm := startPeer(t, peers.VictoriaMetrics, "/health", func(addr string) []string {
		// Answers include the newest samples, and nothing is cached
		// between the polls of the test.
		return []string{"-httpListenAddr=" + addr, "-storageDataPath=" + t.TempDir(),
			"-search.latencyOffset=0", "-search.disableCache", "-loggerLevel=ERROR"}
	})
	target := appTarget(t)
	dir := t.TempDir()
	addr := freeLoopbackAddr(t)
	config := func(app string) string {
		return selfScrapingConfig(filepath.Join(dir, "data"), addr, app, `  scrape_protocols = ["PrometheusText0.0.4"]
`, fmt.Sprintf(`
remote_write "vm" {
  url = "http://%s/api/v1/write"

  queue {
    batch_send_deadline = "200ms"
  }
}
`, vm.addr))
	}
	cfgPath := writeFile(t, "vigil.hcl", config(target.URL))
	sender := startServer(t, "--listen", addr, "--config", cfgPath)
	defer func() {
		if t.Failed() {
			t.Logf("vigil:\n%s", sender.logText())
		}
	}()
	fromVigil, fromVM := vigilEndpoint(t, "vigil", sender), peerEndpoint(t, vm)
	// VictoriaMetrics takes a NaN for no sample, and keeps a float as a
	// decimal of 12 significant digits (its lib/decimal).
	fromVM.nanIsGap, fromVM.precision = true, 1e-11
	waitScrapes(t, fromVigil, 20, "app", "vigil")
	at := compareAt()
	waitScrapedAfter(t, fromVigil, at, "app", "vigil")
	const jobs = `{job=~"app|vigil"}`
	waitCaughtUp(t, fromVigil, fromVM, jobs, at)

	// MetricsQL keeps the name of a series through max_over_time, which
	// PromQL drops, and counts no series whose sample is NaN: an
	// aggregation takes the names off, and a comparison the NaNs.
	queries := []peerQuery{{Expr: jobs + "[10m]", At: at}}
	queries = append(queries, instantAndRange(at,
		`app_inflight`,
		`max by (instance) (max_over_time(app_inflight[20s]))`,
		`sum by (job) (up)`,
		`count by (job) (`+jobs+` >= -Inf)`,
		`sum by (le) (app_latency_seconds_bucket)`,
	)...)
	sameAnswers(t, fromVigil, fromVM, queries)

	// The target leaves the configuration: its series end at the same
	// time on both.
	sender.reconfigure(t, cfgPath, config(""))
	end := waitEnded(t, fromVigil, fromVM, `{job="app"}`)
	sameAnswers(t, fromVigil, fromVM, endQueries(end, `app_inflight`, `sum by (job) (up)`))
	sender.stop(t)
}
