package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/vigilmon/vigil/bench/harness"
)

// seriesPerFamily is the number of series in each metric family a target
// serves; a target's series are families of this many.
const seriesPerFamily = 50

// metricPrefix starts the name of every series the targets serve, so
// that the receiver tells them from the series the agents make of their
// scrapes (up, scrape_*).
const metricPrefix = "bench_"

// targets are the scrape targets both agents scrape: one HTTP server per
// target on 127.0.0.1, so that each has an instance of its own, answering
// GET /metrics/<sender> with the target's series, their values new at
// every scrape. Each sender has a path, whose scrapes are counted apart.
// Until open is called, and again after close, every target answers 503,
// a failed scrape without samples.
type targets struct {
	servers []*harness.Server
	targets []*target
	// lines[i] is series i's exposition line up to its value, with the
	// # HELP and # TYPE lines of its family before the first series of
	// one; the same for every target.
	lines  [][]byte
	open   atomic.Bool
	counts map[string]*servedCounts // by sender; its keys fixed at start
}

// servedCounts are what the targets served to one sender.
type servedCounts struct {
	scrapes atomic.Int64 // answers with the series, written in full
	samples atomic.Int64 // series in those answers
}

// target is one scrape target: how many times it was scraped by each
// sender, which sets its values.
type target struct {
	index   int
	scrapes map[string]*atomic.Int64 // by sender
}

// startTargets serves n targets of perTarget series each to the given
// senders, closed.
func startTargets(n, perTarget int, senders []string) (*targets, error) {
	t := &targets{lines: seriesLines(perTarget), counts: map[string]*servedCounts{}}
	for _, s := range senders {
		t.counts[s] = &servedCounts{}
	}
	for i := range n {
		tg := &target{index: i, scrapes: map[string]*atomic.Int64{}}
		for _, s := range senders {
			tg.scrapes[s] = &atomic.Int64{}
		}
		srv, err := harness.Serve(fmt.Sprintf("target %d", i), t.handler(tg))
		if err != nil {
			t.stop()
			return nil, err
		}
		t.targets = append(t.targets, tg)
		t.servers = append(t.servers, srv)
	}
	return t, nil
}

// seriesLines returns the exposition lines of n series up to their
// values: counter families of seriesPerFamily series, each family led by
// its # HELP and # TYPE lines.
func seriesLines(n int) [][]byte {
	lines := make([][]byte, n)
	for i := range n {
		family := fmt.Sprintf("%sfamily_%03d_total", metricPrefix, i/seriesPerFamily)
		var b strings.Builder
		if i%seriesPerFamily == 0 {
			fmt.Fprintf(&b, "# HELP %s A counter of the benchmark's targets.\n# TYPE %s counter\n", family, family)
		}
		fmt.Fprintf(&b, "%s{series=\"s%04d\",shard=\"%d\"} ", family, i, i%4)
		lines[i] = []byte(b.String())
	}
	return lines
}

// addrs returns the targets' host:port.
func (t *targets) addrs() []string {
	out := make([]string, len(t.servers))
	for i, s := range t.servers {
		out[i] = s.Addr
	}
	return out
}

// setOpen opens the targets (true), or closes them (false).
func (t *targets) setOpen(open bool) { t.open.Store(open) }

// served returns the scrapes answered in full to sender and the samples
// in them.
func (t *targets) served(sender string) (scrapes, samples int64) {
	c := t.counts[sender]
	return c.scrapes.Load(), c.samples.Load()
}

// stop stops every target's server.
func (t *targets) stop() {
	for _, s := range t.servers {
		s.Close()
	}
}

// handler serves tg: GET /metrics/<sender>.
func (t *targets) handler(tg *target) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sender, ok := strings.CutPrefix(r.URL.Path, "/metrics/")
		counts, known := t.counts[sender]
		if !ok || !known {
			http.NotFound(w, r)
			return
		}
		if !t.open.Load() {
			http.Error(w, "the targets are closed", http.StatusServiceUnavailable)
			return
		}
		scrape := tg.scrapes[sender].Add(1)
		body := t.body(tg.index, scrape)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if _, err := w.Write(body); err != nil {
			return // the scraper went away: nothing was served
		}
		counts.scrapes.Add(1)
		counts.samples.Add(int64(len(t.lines)))
	})
}

// body returns the exposition of target index at its scrape-th scrape by
// a sender: series i is a counter that grows by i%13+1 a scrape, from a
// start that depends on the target.
func (t *targets) body(index int, scrape int64) []byte {
	b := make([]byte, 0, len(t.lines)*48)
	for i, line := range t.lines {
		b = append(b, line...)
		b = strconv.AppendInt(b, int64(index)+scrape*int64(i%13+1), 10)
		b = append(b, '\n')
	}
	return b
}
