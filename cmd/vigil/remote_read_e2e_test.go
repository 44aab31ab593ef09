package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
)

// ownTarget serves own_metric 42, the data of a server of its own.
func ownTarget(t *testing.T) *httptest.Server {
	t.Helper()
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "own_metric", Help: "A metric of the reading server."})
	g.Set(42)
	reg.MustRegister(g)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	return srv
}

// metricValue sums the samples on s's /metrics of the lines that start
// with prefix.
func metricValue(t *testing.T, s *runningServer, prefix string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + s.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// scrapingConfig is the configuration of a server that keeps its data in
// dataDir, has the external label site="a" and scrapes target as job, and
// has remote_read "a" with the attributes of block, none for no
// remote_read block.
func scrapingConfig(dataDir, job, target, block string) string {
	cfg := fmt.Sprintf(`server {
  data_dir         = %q
  enable_lifecycle = true
}

global {
  scrape_interval = "1s"
  scrape_timeout  = "1s"
  external_labels = { site = "a" }
}

scrape %q {
  targets = [%q]
}
`, dataDir, job, strings.TrimPrefix(target, "http://"))
	if block != "" {
		cfg += "\nremote_read \"a\" {\n" + block + "\n}\n"
	}
	return cfg
}

// TestRemoteReadEndToEnd runs two vigil binaries: A scrapes a target, and
// B, which scrapes a target of its own, reads A through a remote_read
// block. PromQL, series, label values and federation on B see A's series
// as A does, beside B's own; B's remote-read endpoint serves its own
// store only; required_matchers keep a query without them from reaching
// A; reloads add and remove the block; with A down, B answers its own
// series with a warning; and the status API hides the block's secret.
func TestRemoteReadEndToEnd(t *testing.T) {
	target, own := appTarget(t), ownTarget(t)
	dir := t.TempDir()
	a := startServer(t, "--config", writeFile(t, "a.hcl", scrapingConfig(filepath.Join(dir, "a"), "app", target.URL, "")))
	readA := fmt.Sprintf(`  url          = "http://%s/api/v1/read"
  read_recent  = true
  bearer_token = "s3cr3t-token"`, a.addr)
	bConfig := writeFile(t, "b.hcl", scrapingConfig(filepath.Join(dir, "b"), "own", own.URL, readA))
	b := startServer(t, "--config", bConfig)
	defer func() {
		if t.Failed() {
			t.Logf("A:\n%s\nB:\n%s", a.logText(), b.logText())
		}
	}()
	reconfigure := func(block string) {
		t.Helper()
		if err := os.WriteFile(bConfig, []byte(scrapingConfig(filepath.Join(dir, "b"), "own", own.URL, block)), 0o640); err != nil {
			t.Fatal(err)
		}
		if code, body := b.reload(t); code != http.StatusOK {
			t.Fatalf("reload: %d %s", code, body)
		}
	}
	ctx := context.Background()
	fromA, fromB := a.api(t), b.api(t)
	waitFor(t, "five scrapes on A and one of its own on B", func() bool {
		v, _, _, err := fromA.Query(ctx, `count_over_time(app_requests_total{job="app"}[5m])`, time.Now())
		vec, ok := v.(model.Vector)
		_, bOwn := queryValue(t, fromB, `own_metric`)
		return err == nil && ok && len(vec) == 1 && vec[0].Value >= 5 && bOwn
	})

	// The same queries answer the same on both, A's external label
	// matched and taken off by B. A sample scraped just before at may be
	// committed between the two queries: ask until A answers the same
	// twice around B's answer.
	at := time.Now()
	queries := []string{`{job="app"}[5m]`, `sum(rate(app_requests_total[1m]))`, `histogram_quantile(0.9, sum(rate(app_latency_seconds[1m])))`}
	for _, q := range queries {
		var onA, onB, again model.Value
		waitFor(t, "the same answer to "+q+" on A and on B", func() bool {
			var errA, errB, errAgain error
			onA, _, _, errA = fromA.Query(ctx, q, at)
			onB, _, _, errB = fromB.Query(ctx, q, at)
			again, _, _, errAgain = fromA.Query(ctx, q, at)
			if errA != nil || errB != nil || errAgain != nil {
				t.Fatal(errA, errB, errAgain)
			}
			return onA.String() == again.String() && onA.String() == onB.String()
		})
		if onA.String() == "" || onA.String() == "{} => NaN @[0]" {
			t.Errorf("%s is empty on A: %s", q, onA)
		}
	}
	sent, _, _, err := fromA.Query(ctx, `{job="app"}[5m]`, at)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(matrixText(sent)); n < 7 {
		t.Fatalf("A has %d series of the job: %s", n, sent)
	}

	// B merges its own series with A's.
	v, warnings, _, err := fromB.Query(ctx, `count by (job) ({__name__=~"app_requests_total|own_metric"})`, time.Now())
	if err != nil || len(warnings) > 0 {
		t.Fatal(err, warnings)
	}
	if got := v.String(); !strings.Contains(got, `{job="app"} => 1`) || !strings.Contains(got, `{job="own"} => 1`) {
		t.Errorf("B's merged answer: %s", got)
	}
	series, _, _, err := fromB.Series(ctx, []string{`{job="app"}`}, time.Now().Add(-5*time.Minute), time.Now())
	if err != nil || !slices.ContainsFunc(series, func(s model.LabelSet) bool { return s["__name__"] == "app_requests_total" }) {
		t.Errorf("B's series of the job app: %v, %v", series, err)
	}
	// The remote-read protocol has no label queries: label names and
	// values come from B's store, with a warning, as in Prometheus.
	jobs, warnings, _, err := fromB.LabelValues(ctx, "job", nil, time.Now().Add(-5*time.Minute), time.Now())
	if err != nil || !slices.Contains(jobs, "own") || len(warnings) == 0 {
		t.Errorf("B's jobs: %v, warnings %q, %v", jobs, warnings, err)
	}
	resp, err := http.Get("http://" + b.addr + "/federate?match[]=" + url.QueryEscape(`{job="app"}`))
	if err != nil {
		t.Fatal(err)
	}
	federated, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(federated), `app_requests_total{instance=`) {
		t.Errorf("B's federation lacks A's series:\n%s", federated)
	}
	if n := metricValue(t, b, `prometheus_remote_read_client_queries_total{code="200",remote_name="a"`); n == 0 {
		t.Error("B's /metrics count no remote read of A")
	}
	// B's remote-read endpoint serves B's store only, as Prometheus's.
	job := labels.MustNewMatcher(labels.MatchRegexp, "job", "app|own")
	if got := readRemote(t, b.addr, prompb.ReadRequest_STREAMED_XOR_CHUNKS, 0, time.Now().UnixMilli(), job); len(got) == 0 || slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, `job="app"`) }) {
		t.Errorf("B's remote read of the jobs app and own:\n%s", strings.Join(got, "\n"))
	}

	// The status API shows the block, without its secret.
	status, err := fromB.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status.YAML, `remote_read "a"`) || strings.Contains(status.YAML, "s3cr3t") || !strings.Contains(status.YAML, `bearer_token           = "<secret>"`) {
		t.Errorf("B's configuration in the status API:\n%s", status.YAML)
	}

	// With required_matchers, a query without job="app" does not reach A:
	// A serves no remote read for it.
	reconfigure(readA + "\n  required_matchers = { job = \"app\" }")
	const reads = `vigil_http_requests_total{code="200",handler="POST /api/v1/read"}`
	before := metricValue(t, a, reads)
	if _, ok := queryValue(t, fromB, `app_requests_total`); ok {
		t.Error("a query without the required matcher read A")
	}
	if n := metricValue(t, a, reads); n != before {
		t.Errorf("a query without the required matcher reached A: %g remote reads, %g before", n, before)
	}
	if _, ok := queryValue(t, fromB, `app_requests_total{job="app"}`); !ok {
		t.Error("a query with the required matcher did not read A")
	}
	if n := metricValue(t, a, reads); n <= before {
		t.Errorf("a query with the required matcher did not reach A: %g remote reads, %g before", n, before)
	}

	// A reload without the block: B answers its own series only; with it
	// again, A's too.
	reconfigure("")
	if _, ok := queryValue(t, fromB, `app_requests_total{job="app"}`); ok {
		t.Error("B reads A without a remote_read block")
	}
	reconfigure(readA)
	if _, ok := queryValue(t, fromB, `app_requests_total{job="app"}`); !ok {
		t.Error("B does not read A after the remote_read block came back")
	}

	// With A down, B answers its own series, with a warning naming A.
	a.stop(t)
	v, warnings, _, err = fromB.Query(ctx, `{__name__=~"app_requests_total|own_metric"}`, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := v.String(); !strings.Contains(got, `own_metric{instance=`) || strings.Contains(got, "app_requests_total") {
		t.Errorf("B's answer with A down: %s", got)
	}
	if !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, a.addr) }) {
		t.Errorf("B's warnings with A down: %q, want one naming %s", warnings, a.addr)
	}
	b.stop(t)
}
