package main

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/vigilmon/vigil/bench/harness"
)

// histogramsPerTarget is the number of classic histograms every target
// exposes; histogramBounds are their upper bucket bounds (+Inf is added).
const histogramsPerTarget = 2

var histogramBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// seriesPerHistogram is the number of series one classic histogram makes:
// its buckets, +Inf included, _sum and _count.
var seriesPerHistogram = len(histogramBounds) + 3

// familySize is the number of series in each counter or gauge family.
const familySize = 10

// minSeriesPerTarget is the smallest -series value: the histograms and at
// least one counter and one gauge.
var minSeriesPerTarget = histogramsPerTarget*seriesPerHistogram + 2

// fixtureKind selects how the value of a fixture series moves.
type fixtureKind uint8

const (
	fixtureCounter    fixtureKind = iota // integer increments, now and then none
	fixtureGaugeInt                      // integer random walk, e.g. a queue length
	fixtureGaugeFloat                    // float random walk at full precision, e.g. a temperature
)

// fixtureSeries is one plain (counter or gauge) series of a fixture target.
type fixtureSeries struct {
	prefix []byte // the exposition line up to and including the space before the value
	kind   fixtureKind
	start  float64
}

// fixtureHistogram is one classic histogram of a fixture target: its
// exposition lines and its cumulative state.
type fixtureHistogram struct {
	header       []byte   // # HELP and # TYPE lines
	bucketPrefix [][]byte // one per bound, +Inf last
	sumPrefix    []byte
	countPrefix  []byte
	mean         float64 // mean of the observed values
	buckets      []uint64
	sum          float64
	count        uint64
}

// fixtureTarget serves one exposition whose values change at every scrape.
// The sequence of bodies it serves depends only on its index and the seed,
// so after reset every scraper sees the same bodies in the same order.
type fixtureTarget struct {
	index  int
	seed   uint64
	addr   string
	series []fixtureSeries
	// headers[i] goes before series[i]: the # HELP and # TYPE lines of the
	// family that starts there, nil elsewhere.
	headers [][]byte

	mu       sync.Mutex
	values   []float64
	hists    []fixtureHistogram
	rng      harness.Rand
	buf      []byte
	requests atomic.Int64
}

// newFixtureTarget builds target index with n series: families of
// familySize counters and gauges, half and half, then the classic
// histograms.
func newFixtureTarget(index, n int, seed uint64) *fixtureTarget {
	t := &fixtureTarget{index: index, seed: seed}
	plain := n - histogramsPerTarget*seriesPerHistogram
	counters := plain / 2
	for i := 0; i < plain; i++ {
		var (
			family, member int
			name, labels   string
			header         []byte
			kind           fixtureKind
			start          float64
		)
		h := harness.Mix(seed, uint64(index), uint64(i))
		if i < counters {
			family, member = i/familySize, i%familySize
			name = fmt.Sprintf("bench_requests_%03d_total", family)
			method := []string{"GET", "POST"}[member%2]
			labels = fmt.Sprintf(`{method=%q,path="/api/v1/resource/%d"}`, method, member)
			kind = fixtureCounter
			start = float64(h % 1e6)
			if member == 0 {
				header = []byte(fmt.Sprintf("# HELP %s Requests handled, counter family %d of the fixture.\n# TYPE %s counter\n", name, family, name))
			}
		} else {
			j := i - counters
			family, member = j/familySize, j%familySize
			name = fmt.Sprintf("bench_queue_%03d", family)
			kind = fixtureGaugeInt
			start = float64(h % 100)
			if family%2 == 1 {
				name = fmt.Sprintf("bench_temperature_%03d_celsius", family)
				kind = fixtureGaugeFloat
				start = 20 + float64(h%2000)/100
			}
			labels = fmt.Sprintf(`{sensor="s%d",zone="zone-%c"}`, member, 'a'+rune(member%3))
			if member == 0 {
				header = []byte(fmt.Sprintf("# HELP %s Current value, gauge family %d of the fixture.\n# TYPE %s gauge\n", name, family, name))
			}
		}
		t.series = append(t.series, fixtureSeries{prefix: []byte(name + labels + " "), kind: kind, start: start})
		t.headers = append(t.headers, header)
	}
	for k := 0; k < histogramsPerTarget; k++ {
		name := fmt.Sprintf("bench_request_duration_%d_seconds", k)
		fh := fixtureHistogram{
			header:      []byte(fmt.Sprintf("# HELP %s Request latency, classic histogram %d of the fixture.\n# TYPE %s histogram\n", name, k, name)),
			sumPrefix:   []byte(name + "_sum "),
			countPrefix: []byte(name + "_count "),
			mean:        0.05 * float64(k+1),
		}
		for _, b := range histogramBounds {
			fh.bucketPrefix = append(fh.bucketPrefix, []byte(fmt.Sprintf(`%s_bucket{le="%s"} `, name, strconv.FormatFloat(b, 'g', -1, 64))))
		}
		fh.bucketPrefix = append(fh.bucketPrefix, []byte(name+`_bucket{le="+Inf"} `))
		t.hists = append(t.hists, fh)
	}
	t.reset()
	return t
}

// reset puts the target back to its first scrape.
func (t *fixtureTarget) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rng = harness.Rand(harness.Mix(t.seed, uint64(t.index), 0x5eed))
	t.values = make([]float64, len(t.series))
	for i, s := range t.series {
		t.values[i] = s.start
	}
	for k := range t.hists {
		h := &t.hists[k]
		h.buckets = make([]uint64, len(h.bucketPrefix))
		h.sum, h.count = 0, 0
	}
	t.requests.Store(0)
}

// advance moves every value by one scrape: counters grow by uneven integer
// increments (a tenth of them stay put), gauges take a random step and each
// histogram observes a few dozen exponentially distributed values.
func (t *fixtureTarget) advance() {
	for i := range t.series {
		switch t.series[i].kind {
		case fixtureCounter:
			t.values[i] += t.rng.CounterStep()
		case fixtureGaugeInt:
			t.values[i] = t.rng.IntWalk(t.values[i])
		case fixtureGaugeFloat:
			t.values[i] = t.rng.FloatWalk(t.values[i])
		}
	}
	for k := range t.hists {
		h := &t.hists[k]
		n := 20 + int(t.rng.Float64()*30)
		for range n {
			x := -math.Log(1-t.rng.Float64()) * h.mean
			b := 0
			for b < len(histogramBounds) && x > histogramBounds[b] {
				b++
			}
			h.buckets[b]++ // per-bucket counts; cumulated when rendered
			h.sum += x
			h.count++
		}
	}
}

// render appends the exposition of the current values to dst.
func (t *fixtureTarget) render(dst []byte) []byte {
	for i, s := range t.series {
		dst = append(dst, t.headers[i]...)
		dst = append(dst, s.prefix...)
		dst = strconv.AppendFloat(dst, t.values[i], 'g', -1, 64)
		dst = append(dst, '\n')
	}
	for k := range t.hists {
		h := &t.hists[k]
		dst = append(dst, h.header...)
		var cum uint64
		for b, prefix := range h.bucketPrefix {
			cum += h.buckets[b]
			dst = append(dst, prefix...)
			dst = strconv.AppendUint(dst, cum, 10)
			dst = append(dst, '\n')
		}
		dst = append(dst, h.sumPrefix...)
		dst = strconv.AppendFloat(dst, h.sum, 'g', -1, 64)
		dst = append(dst, '\n')
		dst = append(dst, h.countPrefix...)
		dst = strconv.AppendUint(dst, h.count, 10)
		dst = append(dst, '\n')
	}
	return dst
}

// ServeHTTP answers a scrape with the next exposition of the target, in
// the Prometheus text format, uncompressed.
func (t *fixtureTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/metrics" {
		http.NotFound(w, r)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.advance()
	t.buf = t.render(t.buf[:0])
	t.requests.Add(1)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(t.buf)))
	_, _ = w.Write(t.buf)
}

// fixture is the set of targets, each served by its own HTTP server on a
// loopback port.
type fixture struct {
	targets []*fixtureTarget
	servers []*harness.Server
}

// startFixture starts n targets of seriesPerTarget series each on
// 127.0.0.1, on ports the kernel picks.
func startFixture(n, seriesPerTarget int, seed uint64) (*fixture, error) {
	f := &fixture{}
	for i := 0; i < n; i++ {
		t := newFixtureTarget(i, seriesPerTarget, seed)
		srv, err := harness.Serve(fmt.Sprintf("fixture target %d", i), t)
		if err != nil {
			f.stop()
			return nil, err
		}
		t.addr = srv.Addr
		f.targets = append(f.targets, t)
		f.servers = append(f.servers, srv)
	}
	return f, nil
}

// addrs returns the host:port of every target.
func (f *fixture) addrs() []string {
	out := make([]string, len(f.targets))
	for i, t := range f.targets {
		out[i] = t.addr
	}
	return out
}

// reset puts every target back to its first scrape, so the next scraper
// gets the same bodies as the previous one.
func (f *fixture) reset() {
	for _, t := range f.targets {
		t.reset()
	}
}

// requests returns the number of scrapes served since the last reset.
func (f *fixture) requests() int64 {
	var n int64
	for _, t := range f.targets {
		n += t.requests.Load()
	}
	return n
}

// bodyBytes returns the size of the first body of target 0, for the notes.
func (f *fixture) bodyBytes() int {
	if len(f.targets) == 0 {
		return 0
	}
	t := newFixtureTarget(0, len(f.targets[0].series)+histogramsPerTarget*seriesPerHistogram, f.targets[0].seed)
	t.advance()
	return len(t.render(nil))
}

// stop shuts every server down and waits for them.
func (f *fixture) stop() {
	for _, srv := range f.servers {
		srv.Close()
	}
}
