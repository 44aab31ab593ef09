package testfixture

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilmon/vigil/core/tsdb"
)

// Layout says where the samples of a demo store sit when the queries run.
type Layout string

// The layouts of DemoStore.
const (
	// InHead keeps every sample in the open chunks of the head.
	InHead Layout = "head"
	// Sealed seals every sample into chunks in badger.
	Sealed Layout = "sealed"
	// Mixed seals the first half of the samples and keeps the second half
	// in the head, so that queries read both.
	Mixed Layout = "mixed"
)

// Layouts are every Layout, for tests that run on each.
var Layouts = []Layout{InHead, Sealed, Mixed}

// Demo is the time span of the samples of DemoStore and the range queries
// a dashboard would send over it.
type Demo struct {
	Start, End time.Time
	Step       time.Duration
	// Queries are PromQL expressions over the demo series: gauges,
	// counters, classic and native histograms, aggregations, subqueries,
	// and one selecting nothing.
	Queries []string
}

const (
	demoStep    = 15 * time.Second
	demoSpan    = 2 * time.Hour
	demoServers = 3
)

// DemoStore opens a store holding two hours of samples, one every 15
// seconds, of three demo services — the kind a dashboard shows — laid out
// as layout says, and returns it with the queries to run on it. The
// samples are the same for every layout, so every layout gives every
// query the same answer.
func DemoStore(t testing.TB, layout Layout) (*tsdb.DB, Demo) {
	t.Helper()
	// Aligned on the chunk range, so that one chunk of the head can hold
	// the whole span.
	return demoStore(t, layout, time.Unix(1_700_000_000, 0).Truncate(4*time.Hour).UTC())
}

// RecentDemoStore is DemoStore with samples up to now, for what reads
// only recent samples, such as federation. With InHead, the samples
// before a chunk-range boundary that falls in the last two hours are
// sealed.
func RecentDemoStore(t testing.TB, layout Layout) (*tsdb.DB, Demo) {
	t.Helper()
	return demoStore(t, layout, time.Now().Add(-demoSpan).Truncate(demoStep).UTC())
}

func demoStore(t testing.TB, layout Layout, start time.Time) (*tsdb.DB, Demo) {
	t.Helper()
	opts := tsdb.Options{}
	if layout == InHead {
		// Longer chunks than the span, so none is full and sealed.
		opts.SamplesPerChunk = 1000
		opts.ChunkRange = 4 * time.Hour
	}
	db, err := tsdb.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	steps := int(demoSpan / demoStep)
	gen := newDemoGenerator()
	for i := 0; i <= steps; i++ {
		if layout == Mixed && i == steps/2 {
			flush(t, db)
		}
		gen.append(t, db, start.Add(time.Duration(i)*demoStep).UnixMilli())
	}
	if layout == Sealed {
		flush(t, db)
	}
	return db, Demo{
		Start: start.Add(5 * time.Minute),
		End:   start.Add(demoSpan),
		Step:  30 * time.Second,
		Queries: []string{
			`demo_memory_usage_bytes`,
			`demo_memory_usage_bytes - 1.2345`,
			`demo_memory_usage_bytes / 1.2345`,
			`rate(demo_cpu_usage_seconds_total[1m])`,
			`irate(demo_cpu_usage_seconds_total[15m])`,
			`sum by (instance) (rate(demo_cpu_usage_seconds_total[5m]))`,
			`last_over_time(demo_memory_usage_bytes[1m])`,
			`avg_over_time(demo_memory_usage_bytes[10m])`,
			`quantile_over_time(0.9, demo_memory_usage_bytes[10m])`,
			`max_over_time(deriv(demo_memory_usage_bytes[5m])[30m:1m])`,
			`histogram_quantile(0.9, rate(demo_api_request_duration_seconds_bucket[1m]))`,
			`histogram_quantile(0.99, sum by (le) (rate(demo_api_request_duration_seconds_bucket[5m])))`,
			`rate(demo_api_request_duration_seconds_sum[5m]) / rate(demo_api_request_duration_seconds_count[5m])`,
			`demo_request_latency_seconds`,
			`rate(demo_request_latency_seconds[5m])`,
			`histogram_quantile(0.5, sum(rate(demo_request_latency_seconds[5m])))`,
			`histogram_count(increase(demo_request_latency_seconds[10m]))`,
			`topk(2, demo_memory_usage_bytes)`,
			`label_replace(demo_memory_usage_bytes, "host", "$1", "instance", "(.*):.*")`,
			`sum(nonexistent_metric_name)`,
		},
	}
}

func flush(t testing.TB, db *tsdb.DB) {
	t.Helper()
	if err := db.Flush(); err != nil {
		t.Fatalf("cannot flush the head: %v", err)
	}
}

// demoGenerator makes the samples of the demo services, the same sequence
// on every run.
type demoGenerator struct {
	rng     *rand.Rand
	memory  [demoServers]float64
	cpu     [demoServers][4]float64
	buckets [demoServers][]float64 // cumulative counts, by le
	sum     [demoServers]float64
	native  [demoServers][8]uint64 // counts of the native histogram's buckets
	nsum    [demoServers]float64
}

var demoBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, math.Inf(1)}

var demoModes = [4]string{"idle", "user", "system", "iowait"}

func newDemoGenerator() *demoGenerator {
	g := &demoGenerator{rng: rand.New(rand.NewPCG(11, 7))}
	for i := range g.memory {
		g.memory[i] = float64(1_000_000_000 + i*150_000_000)
		g.buckets[i] = make([]float64, len(demoBounds))
	}
	return g
}

// append appends the samples of every demo series at ts in one commit.
func (g *demoGenerator) append(t testing.TB, db storage.AppendableV2, ts int64) {
	t.Helper()
	app := db.AppenderV2(t.Context())
	add := func(lset labels.Labels, v float64, h *histogram.Histogram) {
		if _, err := app.Append(0, lset, 0, ts, v, h, nil, storage.AppendV2Options{}); err != nil {
			t.Fatalf("cannot append %s at %d: %v", lset, ts, err)
		}
	}
	for i := range demoServers {
		instance := fmt.Sprintf("demo-%d:8080", i)
		// An integer gauge that wanders, as memory does.
		g.memory[i] += math.Round(g.rng.NormFloat64() * 4_000_000)
		add(labels.FromStrings("__name__", "demo_memory_usage_bytes", "instance", instance, "job", "demo"), g.memory[i], nil)
		for m, mode := range demoModes {
			g.cpu[i][m] += g.rng.Float64() * 3.7
			add(labels.FromStrings("__name__", "demo_cpu_usage_seconds_total", "instance", instance, "job", "demo", "mode", mode), g.cpu[i][m], nil)
		}
		// Requests observed into the classic histogram.
		n := 20 + g.rng.IntN(40)
		for range n {
			d := g.rng.ExpFloat64() * 0.08
			g.sum[i] += d
			for b, le := range demoBounds {
				if d <= le {
					g.buckets[i][b]++
				}
			}
			// The same request in one of the native histogram's buckets.
			g.native[i][min(g.rng.IntN(4)+g.rng.IntN(5), 7)]++
			g.nsum[i] += d
		}
		for b, le := range demoBounds {
			add(labels.FromStrings("__name__", "demo_api_request_duration_seconds_bucket", "instance", instance, "job", "demo", "le", formatLe(le)), g.buckets[i][b], nil)
		}
		add(labels.FromStrings("__name__", "demo_api_request_duration_seconds_sum", "instance", instance, "job", "demo"), g.sum[i], nil)
		add(labels.FromStrings("__name__", "demo_api_request_duration_seconds_count", "instance", instance, "job", "demo"), g.buckets[i][len(demoBounds)-1], nil)
		add(labels.FromStrings("__name__", "demo_request_latency_seconds", "instance", instance, "job", "demo"), 0, g.nativeHistogram(i))
	}
	if err := app.Commit(); err != nil {
		t.Fatalf("cannot commit the samples at %d: %v", ts, err)
	}
}

// nativeHistogram returns the native histogram of server i as it stands.
func (g *demoGenerator) nativeHistogram(i int) *histogram.Histogram {
	h := &histogram.Histogram{
		Schema:          3,
		ZeroThreshold:   1e-128,
		Sum:             g.nsum[i],
		PositiveSpans:   []histogram.Span{{Offset: -40, Length: uint32(len(g.native[i]))}},
		PositiveBuckets: make([]int64, len(g.native[i])),
	}
	var prev int64
	for b, c := range g.native[i] {
		h.Count += c
		h.PositiveBuckets[b] = int64(c) - prev // delta-encoded
		prev = int64(c)
	}
	return h
}

func formatLe(le float64) string {
	if math.IsInf(le, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(le, 'f', -1, 64)
}
