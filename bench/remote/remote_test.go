package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"

	"github.com/vigilmon/vigil/bench/harness"
)

// post sends wr to the receiver as sender, as a Remote-Write 1.0 request,
// and returns the status code.
func post(t *testing.T, r *receiver, sender string, wr *prompb.WriteRequest) int {
	t.Helper()
	raw, err := wr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, r.url+"/"+sender, bytes.NewReader(snappy.Encode(nil, raw)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// series returns a time series of the metric name with a series label,
// and samples at the given timestamps of value 1, or of a stale marker
// where the timestamp is negative (its opposite).
func series(name, id string, timestamps ...int64) prompb.TimeSeries {
	ts := prompb.TimeSeries{Labels: []prompb.Label{{Name: "__name__", Value: name}, {Name: "series", Value: id}}}
	for _, t := range timestamps {
		v := 1.0
		if t < 0 {
			t, v = -t, math.Float64frombits(value.StaleNaN)
		}
		ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: t, Value: v})
	}
	return ts
}

// TestReceiverCounts posts requests to a receiver on 127.0.0.1 and checks
// what it counts per sender: samples of the targets' series once,
// duplicates and samples out of order apart, stale markers and the
// agent's own series apart, the sum of scrape_samples_scraped, and bad
// requests.
func TestReceiverCounts(t *testing.T) {
	r := newReceiver([]string{"a", "b"})
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
	defer r.stop()

	first := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series(metricPrefix+"x_total", "1", 1000, 2000, 3000),
		series(metricPrefix+"x_total", "2", 1000),
		series("up", "", 1000, 2000),
		{Labels: []prompb.Label{{Name: "__name__", Value: "scrape_samples_scraped"}}, Samples: []prompb.Sample{{Timestamp: 1000, Value: 1000}, {Timestamp: 2000, Value: 500}}},
	}}
	again := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series(metricPrefix+"x_total", "1", 2000, 4000, -5000), // 2000 again, then a new one and a stale marker
		series(metricPrefix+"x_total", "2", 500),               // out of order
	}}
	for _, wr := range []*prompb.WriteRequest{first, again} {
		if code := post(t, r, "a", wr); code != http.StatusNoContent {
			t.Fatalf("post: %d", code)
		}
	}
	if code := post(t, r, "b", first); code != http.StatusNoContent {
		t.Fatalf("post: %d", code)
	}
	req, _ := http.NewRequest(http.MethodPost, r.url+"/b", strings.NewReader("not snappy"))
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a body that is not snappy: %d, want 400", resp.StatusCode)
	}
	if code := post(t, r, "c", first); code != http.StatusNotFound {
		t.Errorf("an unknown sender: %d, want 404", code)
	}

	a := r.stats("a")
	if a.requests != 2 || a.samples != 5 || a.duplicates != 2 || a.stale != 1 || a.own != 4 || a.scraped != 1500 || a.series != 2 || a.bad != 0 {
		t.Errorf("sender a: %+v, want 2 requests, 5 samples, 2 duplicates, 1 stale marker, 4 own samples, 1500 scraped, 2 series", a)
	}
	b := r.stats("b")
	if b.requests != 2 || b.samples != 4 || b.duplicates != 0 || b.bad != 1 || b.lastBad == "" {
		t.Errorf("sender b: %+v, want 2 requests, 4 samples, no duplicates, 1 bad", b)
	}
}

// TestReceiverConcurrent posts many requests of disjoint series at once
// from two senders and checks that every sample is counted once.
func TestReceiverConcurrent(t *testing.T) {
	r := newReceiver([]string{"a", "b"})
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
	defer r.stop()
	const requests, perRequest = 40, 50
	var wg sync.WaitGroup
	for _, sender := range []string{"a", "b"} {
		for i := range requests {
			wg.Go(func() {
				wr := &prompb.WriteRequest{}
				for j := range perRequest {
					wr.Timeseries = append(wr.Timeseries, series(metricPrefix+"y", fmt.Sprintf("%d-%d", i, j), 1000, 2000))
				}
				if code := post(t, r, sender, wr); code != http.StatusNoContent {
					t.Errorf("post: %d", code)
				}
			})
		}
	}
	wg.Wait()
	for _, sender := range []string{"a", "b"} {
		s := r.stats(sender)
		if s.samples != requests*perRequest*2 || s.duplicates != 0 || s.series != requests*perRequest {
			t.Errorf("sender %s: %+v, want %d samples of %d series", sender, s, requests*perRequest*2, requests*perRequest)
		}
	}
}

// TestTargets scrapes the targets on 127.0.0.1 and checks that they
// answer 503 while closed, a valid exposition of the right number of
// series whose values change at every scrape while open, and count what
// they served per sender.
func TestTargets(t *testing.T) {
	tg, err := startTargets(2, 120, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.stop()
	client := &http.Client{Timeout: 10 * time.Second}
	url := "http://" + tg.addrs()[1] + "/metrics/a"
	if _, err := harness.Get(context.Background(), client, url); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("closed targets answered %v, want 503", err)
	}
	tg.setOpen(true)
	var bodies []map[string]float64
	for range 2 {
		body, err := harness.Get(context.Background(), client, url)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, parseExposition(t, body))
	}
	if len(bodies[0]) != 120 || len(bodies[1]) != 120 {
		t.Fatalf("the scrapes have %d and %d series, want 120", len(bodies[0]), len(bodies[1]))
	}
	for s, v := range bodies[0] {
		if bodies[1][s] <= v {
			t.Errorf("series %s went from %g to %g, want it to grow", s, v, bodies[1][s])
		}
	}
	if scrapes, samples := tg.served("a"); scrapes != 2 || samples != 240 {
		t.Errorf("served a: %d scrapes, %d samples, want 2 and 240", scrapes, samples)
	}
	if scrapes, samples := tg.served("b"); scrapes != 0 || samples != 0 {
		t.Errorf("served b: %d scrapes, %d samples, want none", scrapes, samples)
	}
	tg.setOpen(false)
	if _, err := harness.Get(context.Background(), client, url); err == nil {
		t.Error("the targets answered after they closed")
	}
}

// parseExposition parses a text exposition with upstream's parser and
// returns its samples by series.
func parseExposition(t *testing.T, body string) map[string]float64 {
	t.Helper()
	p, err := textparse.New([]byte(body), "text/plain; version=0.0.4", labels.NewSymbolTable(), textparse.ParserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for {
		e, err := p.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("parse the exposition: %v", err)
		}
		if e != textparse.EntrySeries {
			continue
		}
		s, _, v := p.Series()
		if _, dup := out[string(s)]; dup {
			t.Fatalf("series %s twice", s)
		}
		out[string(s)] = v
	}
}

// TestSumMetric reads the sum of a metric's series from an exposition.
func TestSumMetric(t *testing.T) {
	exposition := `# HELP x_total X.
x_total{a="1"} 2
x_total{a="2",b="}"} 3.5
x_total_other 100
y 7
`
	if got, err := sumMetric(exposition, "x_total"); err != nil || got != 5.5 {
		t.Errorf("sumMetric x_total = %g, %v; want 5.5", got, err)
	}
	if got, err := sumMetric(exposition, "y"); err != nil || got != 7 {
		t.Errorf("sumMetric y = %g, %v; want 7", got, err)
	}
	if _, err := sumMetric(exposition, "z"); err == nil {
		t.Error("sumMetric of a missing metric: no error")
	}
}

// TestExactlyOnce says which runs delivered every sample once.
func TestExactlyOnce(t *testing.T) {
	for name, tc := range map[string]struct {
		served, samples, duplicates int64
		want                        string
	}{
		"every sample once": {served: 10, samples: 10, want: "every sample served arrived exactly once"},
		"missing":           {served: 10, samples: 8, want: "NOT exactly once: 2 samples missing, 0 duplicates"},
		"duplicates":        {served: 10, samples: 10, duplicates: 3, want: "NOT exactly once: 0 samples missing, 3 duplicates"},
	} {
		r := &agentResult{served: tc.served, recv: receiverStats{samples: tc.samples, duplicates: tc.duplicates}}
		if got := r.exactlyOnce(); got != tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
}
