package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// appTarget serves a counter with an exemplar, a gauge and a histogram
// with native buckets, which change at each scrape, in every format
// client_golang speaks (protobuf first, so the native histogram is
// scraped).
func appTarget(t *testing.T) *httptest.Server {
	t.Helper()
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounter(prometheus.CounterOpts{Name: "app_requests_total", Help: "Requests."})
	inflight := prometheus.NewGauge(prometheus.GaugeOpts{Name: "app_inflight", Help: "Requests in flight."})
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "app_latency_seconds", Help: "Latency.", Buckets: prometheus.DefBuckets, NativeHistogramBucketFactor: 1.1,
	})
	reg.MustRegister(requests, inflight, latency)
	var mu sync.Mutex
	n := 0
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		requests.(prometheus.ExemplarAdder).AddWithExemplar(3, prometheus.Labels{"trace_id": fmt.Sprint(n)})
		inflight.Set(float64(n % 7))
		latency.Observe(float64(n%10) / 20)
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// matrixText writes a range query's answer as sorted lines, without the
// labels in drop.
func matrixText(v model.Value, drop ...model.LabelName) []string {
	m, _ := v.(model.Matrix)
	var out []string
	for _, s := range m {
		metric := s.Metric.Clone()
		for _, name := range drop {
			delete(metric, name)
		}
		var b strings.Builder
		b.WriteString(metric.String() + ":")
		for _, p := range s.Values {
			fmt.Fprintf(&b, " %s@%d", p.Value, p.Timestamp)
		}
		for _, p := range s.Histograms {
			fmt.Fprintf(&b, " %s@%d", p.Histogram, p.Timestamp)
		}
		out = append(out, b.String())
	}
	slices.Sort(out)
	return out
}

// lastTimestamps gives the newest timestamp of each series of a range
// query's answer, by its labels without drop.
func lastTimestamps(v model.Value, drop ...model.LabelName) map[string]model.Time {
	m, _ := v.(model.Matrix)
	out := map[string]model.Time{}
	for _, s := range m {
		metric := s.Metric.Clone()
		for _, name := range drop {
			delete(metric, name)
		}
		last := model.Time(math.MinInt64)
		if len(s.Values) > 0 {
			last = s.Values[len(s.Values)-1].Timestamp
		}
		if len(s.Histograms) > 0 {
			last = max(last, s.Histograms[len(s.Histograms)-1].Timestamp)
		}
		out[metric.String()] = last
	}
	return out
}

// TestRemoteWriteEndToEnd runs one vigil that scrapes a target and
// remote-writes to a second one with the receiver enabled, by Remote-Write
// 1.0 and 2.0, and checks that the same PromQL on both ends gives the
// same answer for the forwarded series, native histograms included, once
// the receiver has caught up to a time in the past, and the same
// exemplars. Upstream's
// remote-read client then reads the same floats from the receiver,
// sampled and streamed.
func TestRemoteWriteEndToEnd(t *testing.T) {
	for _, msg := range []string{"prometheus.WriteRequest", "io.prometheus.write.v2.Request"} {
		t.Run(msg, func(t *testing.T) {
			target := appTarget(t)
			dir := t.TempDir()
			receiver := startServer(t, "--config", writeFile(t, "receiver.hcl", fmt.Sprintf(`server {
  data_dir                     = %q
  enable_remote_write_receiver = true
}
`, filepath.Join(dir, "receiver"))))
			sender := startServer(t, "--config", writeFile(t, "sender.hcl", fmt.Sprintf(`server {
  data_dir = %q
}

global {
  scrape_interval = "1s"
  scrape_timeout  = "1s"
  external_labels = { replica = "a" }
}

scrape "app" {
  targets = [%q]
}

remote_write "receiver" {
  url                    = "http://%s/api/v1/write"
  protobuf_message       = %q
  send_native_histograms = true
  send_exemplars         = true

  queue {
    batch_send_deadline = "200ms"
  }
}
`, filepath.Join(dir, "sender"), strings.TrimPrefix(target.URL, "http://"), receiver.addr, msg)))
			ctx := context.Background()
			fromSender, fromReceiver := sender.api(t), receiver.api(t)
			defer func() {
				if t.Failed() {
					t.Logf("sender:\n%s\nreceiver:\n%s", sender.logText(), receiver.logText())
				}
			}()
			waitFor(t, "five scrapes forwarded", func() bool {
				v, _, _, err := fromReceiver.Query(ctx, `count_over_time(app_requests_total{job="app"}[5m])`, time.Now())
				vec, ok := v.(model.Vector)
				return err == nil && ok && len(vec) == 1 && vec[0].Value >= 5
			})

			// A time in the past: what the sender holds up to it no longer
			// changes; wait until the receiver has the newest sample of
			// every series up to it.
			at := time.Now()
			const query = `{job="app"}[5m]`
			sent, _, _, err := fromSender.Query(ctx, query, at)
			if err != nil {
				t.Fatal(err)
			}
			if len(sent.(model.Matrix)) < 7 {
				t.Fatalf("the sender has %d series of the job: %s", len(sent.(model.Matrix)), sent)
			}
			if !slices.ContainsFunc(sent.(model.Matrix), func(s *model.SampleStream) bool { return len(s.Histograms) > 0 }) {
				t.Fatalf("the sender has no native histogram: %s", sent)
			}
			want := lastTimestamps(sent)
			var received model.Value
			waitFor(t, "the receiver to catch up", func() bool {
				received, _, _, err = fromReceiver.Query(ctx, query, at)
				if err != nil {
					return false
				}
				got := lastTimestamps(received, "replica")
				for s, ts := range want {
					if got[s] < ts {
						return false
					}
				}
				return true
			})
			if got := matrixText(received, "replica"); !slices.Equal(matrixText(sent), got) {
				t.Errorf("%s at %s:\nsender:\n%s\nreceiver:\n%s", query, at, strings.Join(matrixText(sent), "\n"), strings.Join(got, "\n"))
			}
			for _, s := range received.(model.Matrix) {
				if s.Metric["replica"] != "a" {
					t.Errorf("a forwarded series lacks the external label: %s", s.Metric)
				}
			}
			for _, q := range []string{`sum(rate(app_requests_total[1m]))`, `histogram_quantile(0.9, sum(rate(app_latency_seconds[1m])))`, `max without (replica) (max_over_time(app_inflight[5m]))`} {
				a, _, _, err := fromSender.Query(ctx, q, at)
				if err != nil {
					t.Fatal(err)
				}
				b, _, _, err := fromReceiver.Query(ctx, q, at)
				if err != nil {
					t.Fatal(err)
				}
				if a.String() != b.String() {
					t.Errorf("%s: sender %s, receiver %s", q, a, b)
				}
			}
			// The exemplars too.
			exemplarsOf := func(api v1.API) []string {
				res, err := api.QueryExemplars(ctx, `app_requests_total`, at.Add(-5*time.Minute), at)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, r := range res {
					delete(r.SeriesLabels, "replica")
					for _, e := range r.Exemplars {
						out = append(out, fmt.Sprintf("%s %s %s@%s", r.SeriesLabels, e.Labels, e.Value, e.Timestamp))
					}
				}
				slices.Sort(out)
				return out
			}
			var sentExemplars []string
			waitFor(t, "the exemplars to arrive", func() bool {
				sentExemplars = exemplarsOf(fromSender)
				return len(sentExemplars) >= 5 && slices.Equal(sentExemplars, exemplarsOf(fromReceiver))
			})

			// Upstream's metrics of the queue are on /metrics.
			checkMetric(t, sender, `prometheus_remote_storage_samples_total{remote_name="receiver"`)

			// The sender serves remote read of what it stores, with its
			// external labels, sampled and streamed alike.
			start := at.Add(-5 * time.Minute).UnixMilli()
			floats, _, _, err := fromSender.Query(ctx, `{job="app", __name__=~"app_requests_total|app_inflight"}[5m]`, at)
			if err != nil {
				t.Fatal(err)
			}
			for _, typ := range []prompb.ReadRequest_ResponseType{prompb.ReadRequest_SAMPLES, prompb.ReadRequest_STREAMED_XOR_CHUNKS} {
				got := readRemote(t, sender.addr, typ, start+1, at.UnixMilli(),
					labels.MustNewMatcher(labels.MatchEqual, "job", "app"), labels.MustNewMatcher(labels.MatchRegexp, "__name__", "app_requests_total|app_inflight"))
				var want []string
				for _, line := range matrixText(floats) {
					want = append(want, strings.Replace(line, "}:", `, replica="a"}:`, 1))
				}
				if !slices.Equal(want, got) {
					t.Errorf("remote read, %s:\nPromQL:\n%s\nremote read:\n%s", typ, strings.Join(want, "\n"), strings.Join(got, "\n"))
				}
			}

			// The sender has no receiver enabled.
			resp, err := http.Post("http://"+sender.addr+"/api/v1/write", "application/x-protobuf", strings.NewReader(""))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("POST /api/v1/write without the receiver: %d, want 404", resp.StatusCode)
			}
			sender.stop(t)
			receiver.stop(t)
		})
	}
}

// checkMetric fails the test unless the server's /metrics has a line
// starting with prefix.
func checkMetric(t *testing.T, s *runningServer, prefix string) {
	t.Helper()
	resp, err := http.Get("http://" + s.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, prefix) {
			return
		}
	}
	t.Errorf("/metrics has no %s", prefix)
}

// readRemote reads [mint, maxt] of the series matching ms from the server
// at addr with upstream's remote-read client, asking for one response
// type, and writes the floats as matrixText does.
func readRemote(t *testing.T, addr string, typ prompb.ReadRequest_ResponseType, mint, maxt int64, ms ...*labels.Matcher) []string {
	t.Helper()
	u, err := url.Parse("http://" + addr + "/api/v1/read")
	if err != nil {
		t.Fatal(err)
	}
	c, err := remote.NewReadClient("e2e", &remote.ClientConfig{
		URL: &commoncfg.URL{URL: u}, Timeout: model.Duration(30 * time.Second), ChunkedReadLimit: 50 << 20,
		AcceptedResponseTypes: []prompb.ReadRequest_ResponseType{typ},
	})
	if err != nil {
		t.Fatal(err)
	}
	q, err := remote.ToQuery(mint, maxt, ms, nil)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := c.Read(context.Background(), q, true)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for ss.Next() {
		s := ss.At()
		metric := model.Metric{}
		s.Labels().Range(func(l labels.Label) { metric[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
		var b strings.Builder
		b.WriteString(metric.String() + ":")
		it := s.Iterator(nil)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			if vt == chunkenc.ValFloat {
				ts, v := it.At()
				fmt.Fprintf(&b, " %s@%d", model.SampleValue(v), model.Time(ts))
			}
		}
		out = append(out, b.String())
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}
