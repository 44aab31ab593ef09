package main

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/vigilmon/vigil/internal/peers"
)

// This file holds what the end-to-end tests against existing stores
// (Prometheus, VictoriaMetrics) share: a peer server run beside vigil,
// and the same PromQL asked of both and compared series by series.

// peerServer is a peer server process started by a test.
type peerServer struct {
	name string
	addr string
	logs *lockedBuffer
	cmd  *exec.Cmd
}

// startPeer runs the peer binary p on a free loopback port, with the
// arguments args gives for that address, until the test ends, and waits
// until GET ready answers 200. It skips t when p was not built (see
// internal/peers).
func startPeer(t *testing.T, p peers.Peer, ready string, args func(addr string) []string) *peerServer {
	t.Helper()
	path := peers.Path(t, p)
	addr := freeLoopbackAddr(t)
	s := &peerServer{name: p.Name, addr: addr, logs: &lockedBuffer{}}
	cmd := exec.Command(path, args(addr)...)
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	s.cmd = cmd
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("%s:\n%s", p.Name, s.logs.String())
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get("http://" + addr + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("%s exited before it was ready: %v", p.Name, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within a minute", p.Name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// api is a client of the peer's Prometheus HTTP API.
func (s *peerServer) api(t *testing.T) v1.API {
	t.Helper()
	client, err := api.NewClient(api.Config{Address: "http://" + s.addr})
	if err != nil {
		t.Fatal(err)
	}
	return v1.NewAPI(client)
}

// endpoint is a server answering the Prometheus HTTP API, named for the
// messages of a comparison.
type endpoint struct {
	name string
	api  v1.API
	// nanIsGap is set for a store that takes a NaN sample for no sample,
	// as VictoriaMetrics does: the NaN samples of the other end are left
	// out of a comparison with it.
	nanIsGap bool
	// precision is the relative error of the floats the store gives
	// back, 0 for none: VictoriaMetrics keeps a float as a decimal of
	// about 12 significant digits.
	precision float64
}

// peerQuery is a PromQL query: an instant one at At, or a range one from
// Start to At when Step is set.
type peerQuery struct {
	Expr  string
	At    time.Time
	Start time.Time
	Step  time.Duration
}

func (q peerQuery) String() string {
	if q.Step == 0 {
		return fmt.Sprintf("%s at %d", q.Expr, q.At.UnixMilli())
	}
	return fmt.Sprintf("%s from %d to %d by %s", q.Expr, q.Start.UnixMilli(), q.At.UnixMilli(), q.Step)
}

// answerSeries is one series of an answer, as the comparisons see it.
type answerSeries struct {
	Metric string
	Points []answerPoint
}

// answerPoint is a sample of a series: a float, or a native histogram
// written as text.
type answerPoint struct {
	T int64
	V float64
	H string
}

// ask runs q on e and gives its answer by series, sorted by their
// labels, without the labels in drop, and without NaN samples when
// withoutNaN is set.
func (e endpoint) ask(t *testing.T, q peerQuery, withoutNaN bool, drop ...model.LabelName) []answerSeries {
	t.Helper()
	var (
		v   model.Value
		err error
	)
	if q.Step == 0 {
		v, _, _, err = e.api.Query(context.Background(), q.Expr, q.At)
	} else {
		v, _, _, err = e.api.QueryRange(context.Background(), q.Expr, v1.Range{Start: q.Start, End: q.At, Step: q.Step})
	}
	if err != nil {
		t.Fatalf("%s on %s: %v", q, e.name, err)
	}
	if withoutNaN {
		v = dropNaN(v)
	}
	return answerOf(t, v, drop...)
}

// answerOf gives a vector's or a matrix's series, sorted by their labels,
// without the labels in drop.
func answerOf(t *testing.T, v model.Value, drop ...model.LabelName) []answerSeries {
	t.Helper()
	var out []answerSeries
	name := func(m model.Metric) string {
		m = m.Clone()
		for _, l := range drop {
			delete(m, l)
		}
		return m.String()
	}
	switch v := v.(type) {
	case model.Matrix:
		for _, s := range v {
			a := answerSeries{Metric: name(s.Metric)}
			for _, p := range s.Values {
				a.Points = append(a.Points, answerPoint{T: int64(p.Timestamp), V: float64(p.Value)})
			}
			for _, p := range s.Histograms {
				a.Points = append(a.Points, answerPoint{T: int64(p.Timestamp), H: p.Histogram.String()})
			}
			slices.SortStableFunc(a.Points, func(x, y answerPoint) int { return cmp.Compare(x.T, y.T) })
			out = append(out, a)
		}
	case model.Vector:
		for _, s := range v {
			p := answerPoint{T: int64(s.Timestamp), V: float64(s.Value)}
			if s.Histogram != nil {
				p = answerPoint{T: int64(s.Timestamp), H: s.Histogram.String()}
			}
			out = append(out, answerSeries{Metric: name(s.Metric), Points: []answerPoint{p}})
		}
	case nil:
	default:
		t.Fatalf("an answer of type %s, not a vector or a matrix: %s", v.Type(), v)
	}
	slices.SortFunc(out, func(x, y answerSeries) int { return strings.Compare(x.Metric, y.Metric) })
	return out
}

// dropNaN gives v without its NaN float samples, and without the series
// left with none.
func dropNaN(v model.Value) model.Value {
	switch v := v.(type) {
	case model.Matrix:
		var out model.Matrix
		for _, s := range v {
			c := *s
			c.Values = slices.DeleteFunc(slices.Clone(s.Values), func(p model.SamplePair) bool { return math.IsNaN(float64(p.Value)) })
			if len(c.Values) > 0 || len(c.Histograms) > 0 {
				out = append(out, &c)
			}
		}
		return out
	case model.Vector:
		return slices.DeleteFunc(slices.Clone(v), func(s *model.Sample) bool { return s.Histogram == nil && math.IsNaN(float64(s.Value)) })
	default:
		return v
	}
}

// sameAnswers asks each query of a and of b, and fails t, with the
// difference series by series, for each query they answer differently,
// or that a answers with no series. The labels in drop are left out of
// b's answers (external labels b's series have and a's do not).
func sameAnswers(t *testing.T, a, b endpoint, queries []peerQuery, drop ...model.LabelName) {
	t.Helper()
	opts := []gocmp.Option{cmpopts.EquateNaNs()}
	if p := max(a.precision, b.precision); p > 0 {
		opts = append(opts, cmpopts.EquateApprox(p, 0))
	}
	for _, q := range queries {
		withoutNaN := a.nanIsGap || b.nanIsGap
		want, got := a.ask(t, q, withoutNaN), b.ask(t, q, withoutNaN, drop...)
		if len(want) == 0 {
			t.Errorf("%s: no series on %s", q, a.name)
			continue
		}
		if diff := gocmp.Diff(want, got, opts...); diff != "" {
			t.Errorf("%s: %s and %s differ (-%s +%s):\n%s", q, a.name, b.name, a.name, b.name, diff)
		}
	}
}

// newestSamples gives the newest sample timestamp, at or before at, of
// each series selector matches within the ten minutes before at, by its
// labels without drop; without NaN samples when withoutNaN is set.
func newestSamples(t *testing.T, e endpoint, selector string, at time.Time, withoutNaN bool, drop ...model.LabelName) map[string]model.Time {
	t.Helper()
	v, _, _, err := e.api.Query(context.Background(), selector+"[10m]", at)
	if err != nil {
		t.Fatalf("%s[10m] on %s: %v", selector, e.name, err)
	}
	if withoutNaN {
		v = dropNaN(v)
	}
	return lastTimestamps(v, drop...)
}

// waitCaughtUp waits until to holds, for each series of selector that
// from holds at at, a sample as new as from's newest at or before at:
// from's samples up to at have all reached to.
func waitCaughtUp(t *testing.T, from, to endpoint, selector string, at time.Time, drop ...model.LabelName) {
	t.Helper()
	withoutNaN := from.nanIsGap || to.nanIsGap
	want := newestSamples(t, from, selector, at, withoutNaN)
	if len(want) == 0 {
		t.Fatalf("%s has no series of %s", from.name, selector)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got := newestSamples(t, to, selector, at, withoutNaN, drop...)
		var missing []string
		for s, ts := range want {
			if got[s] < ts {
				missing = append(missing, fmt.Sprintf("%s: newest %d on %s, %d on %s", s, ts, from.name, got[s], to.name))
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			slices.Sort(missing)
			t.Fatalf("%s lacks samples %s has of %d series of %s up to %d:\n%s", to.name, from.name, len(missing), selector, at.UnixMilli(), joinLines(missing))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitScrapedAfter waits until each of jobs was scraped after at, so that
// the samples of their scrapes up to at are all committed: a scrape's
// samples are stamped when it starts, and stored when it ends.
func waitScrapedAfter(t *testing.T, e endpoint, at time.Time, jobs ...string) {
	t.Helper()
	for _, job := range jobs {
		waitFor(t, fmt.Sprintf("a scrape of %s after %d on %s", job, at.UnixMilli(), e.name), func() bool {
			v, _, _, err := e.api.Query(context.Background(), fmt.Sprintf(`timestamp(up{job=%q})`, job), time.Now())
			vec, ok := v.(model.Vector)
			if err != nil || !ok || len(vec) == 0 {
				return false
			}
			for _, s := range vec {
				if float64(s.Value) <= float64(at.UnixMilli())/1000 {
					return false
				}
			}
			return true
		})
	}
}

// waitScrapes waits until e holds n scrapes of each of jobs.
func waitScrapes(t *testing.T, e endpoint, n int, jobs ...string) {
	t.Helper()
	for _, job := range jobs {
		waitFor(t, fmt.Sprintf("%d scrapes of %s on %s", n, job, e.name), func() bool {
			v, _, _, err := e.api.Query(context.Background(), fmt.Sprintf(`count_over_time(up{job=%q}[10m])`, job), time.Now())
			vec, ok := v.(model.Vector)
			return err == nil && ok && len(vec) > 0 && vec[0].Value >= model.SampleValue(n)
		})
	}
}

// waitEnded waits until the series of selector have ended on a, as when
// their target is no longer scraped, and then on b, and gives the time
// at which they were gone from both: the staleness markers that end
// them on a reached b.
func waitEnded(t *testing.T, a, b endpoint, selector string) time.Time {
	t.Helper()
	var at time.Time
	waitFor(t, selector+" to end on "+a.name, func() bool {
		at = compareAt()
		return len(a.ask(t, peerQuery{Expr: selector, At: at}, false)) == 0
	})
	waitFor(t, fmt.Sprintf("%s to end on %s at %d, as on %s", selector, b.name, at.UnixMilli(), a.name), func() bool {
		return len(b.ask(t, peerQuery{Expr: selector, At: at}, false)) == 0
	})
	return at
}

// endQueries are range queries over the two minutes before at, by steps
// of 1s, of each expression: where the series end is the same on both
// ends of a comparison.
func endQueries(at time.Time, exprs ...string) []peerQuery {
	var qs []peerQuery
	for _, e := range exprs {
		qs = append(qs, peerQuery{Expr: e, At: at, Start: at.Add(-2 * time.Minute), Step: time.Second})
	}
	return qs
}

// instantAndRange gives each expression as an instant query at at and
// as a range query over the two minutes before at, by steps of 5s.
func instantAndRange(at time.Time, exprs ...string) []peerQuery {
	var qs []peerQuery
	for _, e := range exprs {
		qs = append(qs, peerQuery{Expr: e, At: at}, peerQuery{Expr: e, At: at, Start: at.Add(-2 * time.Minute), Step: 5 * time.Second})
	}
	return qs
}

// compareAt is a time a little before now, a multiple of 5s (as a range
// query's steps are, so that no store moves them): the time the
// comparisons are made at.
func compareAt() time.Time {
	return time.Now().Add(-time.Second).Truncate(5 * time.Second)
}

// selfScrapingConfig is the configuration of a vigil that keeps its data
// in dir and scrapes itself at addr and, unless app is empty, the target
// app, every second, with more global attributes and more blocks.
func selfScrapingConfig(dir, addr, app, global, more string) string {
	cfg := fmt.Sprintf(`server {
  data_dir         = %q
  enable_lifecycle = true
}

global {
  scrape_interval = "1s"
  scrape_timeout  = "1s"
%s}

scrape "vigil" {
  targets = [%q]
}
`, dir, global, addr)
	if app != "" {
		cfg += fmt.Sprintf("\nscrape \"app\" {\n  targets = [%q]\n}\n", strings.TrimPrefix(app, "http://"))
	}
	return cfg + more
}

// reconfigure writes cfg to the configuration file path of s, and has s
// reload it.
func (s *runningServer) reconfigure(t *testing.T, path, cfg string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(cfg), 0o640); err != nil {
		t.Fatal(err)
	}
	if code, body := s.reload(t); code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, body)
	}
}

// vigilEndpoint names a vigil server's API for a comparison.
func vigilEndpoint(t *testing.T, name string, s *runningServer) endpoint {
	return endpoint{name: name, api: s.api(t)}
}

// peerEndpoint names a peer's API for a comparison.
func peerEndpoint(t *testing.T, s *peerServer) endpoint {
	return endpoint{name: s.name, api: s.api(t)}
}

// joinLines is lines as one text, for messages.
func joinLines(lines []string) string { return strings.Join(lines, "\n") }
