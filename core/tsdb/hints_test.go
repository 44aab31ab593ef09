package tsdb

import (
	"context"
	"fmt"
	"github.com/prometheus/common/model"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	upstream "github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/teststorage"
)

// The tests in this file check that the counter-reset hints of native
// histograms read back from Vigil match those the upstream TSDB returns for
// the same samples, reading from the head and from badger.

const hintStep = 15 * int64(time.Second/time.Millisecond)

// hintSample is one appended sample: a float when h and fh are nil.
type hintSample struct {
	t  int64
	f  float64
	h  *histogram.Histogram
	fh *histogram.FloatHistogram
}

// buckets maps bucket indexes to absolute bucket counts.
type buckets map[int32]uint64

// mkHist builds an integer histogram from absolute bucket counts. Indexes
// that are not consecutive start a new span.
func mkHist(schema int32, zero uint64, pos, neg buckets, hint histogram.CounterResetHint) *histogram.Histogram {
	h := &histogram.Histogram{
		Schema:           schema,
		ZeroCount:        zero,
		ZeroThreshold:    0.001,
		CounterResetHint: hint,
	}
	var count uint64
	h.PositiveSpans, h.PositiveBuckets, count = spansAndDeltas(pos)
	h.Count = zero + count
	h.NegativeSpans, h.NegativeBuckets, count = spansAndDeltas(neg)
	h.Count += count
	h.Sum = 1.5 * float64(h.Count)
	return h
}

// mkCustomHist builds a histogram with custom bucket bounds (NHCB).
func mkCustomHist(bounds []float64, counts []uint64, hint histogram.CounterResetHint) *histogram.Histogram {
	pos := buckets{}
	for i, c := range counts {
		pos[int32(i)] = c
	}
	h := &histogram.Histogram{Schema: histogram.CustomBucketsSchema, CustomValues: bounds, CounterResetHint: hint}
	h.PositiveSpans, h.PositiveBuckets, h.Count = spansAndDeltas(pos)
	h.Sum = 2.5 * float64(h.Count)
	return h
}

func spansAndDeltas(b buckets) ([]histogram.Span, []int64, uint64) {
	idx := make([]int32, 0, len(b))
	for i := range b {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	var (
		spans  []histogram.Span
		deltas []int64
		total  uint64
		prev   int64
		next   int32 // index following the last bucket of the last span
	)
	for n, i := range idx {
		if n == 0 || i != next {
			off := i
			if n > 0 {
				off = i - next
			}
			spans = append(spans, histogram.Span{Offset: off, Length: 0})
		}
		spans[len(spans)-1].Length++
		next = i + 1
		deltas = append(deltas, int64(b[i])-prev)
		prev = int64(b[i])
		total += b[i]
	}
	return spans, deltas, total
}

// growing returns n buckets from index first on, with counts c*(k+1).
func growing(first int32, n int, c uint64) buckets {
	b := buckets{}
	for k := range n {
		b[first+int32(k)] = c * uint64(k+1)
	}
	return b
}

func staleHist() *histogram.Histogram {
	return &histogram.Histogram{Sum: math.Float64frombits(value.StaleNaN)}
}

// histSamples makes n samples every hintStep from start, with gen giving
// either a histogram or (when it returns nil) the float sample i.
func histSamples(start int64, n int, gen func(i int) *histogram.Histogram) []hintSample {
	out := make([]hintSample, n)
	for i := range out {
		out[i] = hintSample{t: start + int64(i)*hintStep, h: gen(i), f: float64(10 * i)}
	}
	return out
}

// toFloatHistograms turns the integer histograms of samples into float
// histograms with non-integer counts, keeping their hints.
func toFloatHistograms(samples []hintSample) []hintSample {
	out := make([]hintSample, len(samples))
	for i, s := range samples {
		out[i] = s
		if s.h == nil {
			continue
		}
		fh := s.h.ToFloat(nil)
		if !value.IsStaleNaN(fh.Sum) {
			fh.Mul(1.25)
		}
		out[i].h, out[i].fh = nil, fh
	}
	return out
}

type hintScenario struct {
	samples []hintSample
	batch   int // samples per commit; 1 when 0
	// expect holds hints that upstream returns for some samples, by index,
	// so that the case is known to test what it is meant to. On read, the
	// first sample of a chunk has an unknown hint (unless it is a gauge),
	// whatever the chunk header says, and the others NotCounterReset.
	expect map[int]histogram.CounterResetHint
}

// histogramCases are the scenarios run both with integer and with float
// histograms.
func histogramCases() map[string]hintScenario {
	type tc = hintScenario
	unknown, reset, notReset, gauge := histogram.UnknownCounterReset, histogram.CounterReset, histogram.NotCounterReset, histogram.GaugeType
	type hints = map[int]histogram.CounterResetHint
	return map[string]tc{
		"steady counter": {
			samples: histSamples(0, 60, func(i int) *histogram.Histogram {
				return mkHist(1, uint64(i), growing(0, 8, uint64(i)), growing(0, 3, uint64(i)), unknown)
			}),
			expect: hints{0: unknown, 1: notReset, 10: notReset},
		},
		"counter resets": {
			samples: histSamples(0, 75, func(i int) *histogram.Histogram {
				v := uint64(i%25 + 1) // resets at 25 and 50
				return mkHist(1, v, growing(0, 8, v), growing(0, 3, v), unknown)
			}),
			batch:  7,
			expect: hints{0: unknown, 24: notReset, 25: unknown, 26: notReset, 50: unknown},
		},
		"schema change": {
			samples: histSamples(0, 80, func(i int) *histogram.Histogram {
				v := uint64(i + 1)
				switch {
				case i < 20:
					return mkHist(2, v, growing(0, 8, v), nil, unknown)
				case i < 40: // lower resolution, counts keep growing
					return mkHist(1, v, growing(0, 4, 2*v), nil, unknown)
				case i < 60: // higher resolution again
					return mkHist(3, v, growing(0, 16, v), nil, unknown)
				default: // lower resolution and a reset
					return mkHist(0, v-60, growing(0, 2, v-60), nil, unknown)
				}
			}),
			expect: hints{19: notReset, 20: unknown, 40: unknown, 60: unknown, 61: notReset},
		},
		"bucket layout changes": {
			samples: histSamples(0, 100, func(i int) *histogram.Histogram {
				v := uint64(i + 1)
				pos := growing(0, 4, v)
				switch {
				case i < 20:
				case i < 40: // new buckets in a new span
					pos[6], pos[7] = v, v
				case i < 60: // the gap filled and buckets on the left
					pos[-2], pos[-1], pos[4], pos[5], pos[6], pos[7] = v, v, v, v, v, v
				case i < 80: // bucket 6 disappears: a reset
					pos[-2], pos[-1], pos[4], pos[5], pos[7] = v, v, v, v, v
				default: // and comes back
					pos[-2], pos[-1], pos[4], pos[5], pos[6], pos[7] = v, v, v, v, v, v
				}
				var neg buckets
				if i >= 30 { // negative buckets appear
					neg = growing(2, 2, v)
				}
				return mkHist(1, v, pos, neg, unknown)
			}),
			expect: hints{20: notReset, 40: notReset, 60: unknown, 80: notReset},
		},
		"gauge histograms": {
			samples: histSamples(0, 80, func(i int) *histogram.Histogram {
				v := uint64(50 + 40*math.Sin(float64(i)/5))
				schema := int32(1)
				if i >= 50 {
					schema = 0
				}
				pos := growing(0, 4, v)
				if i%10 < 5 {
					pos[7] = v / 2
				}
				return mkHist(schema, v, pos, nil, gauge)
			}),
			expect: hints{0: gauge, 50: gauge, 79: gauge},
		},
		"gauge then counter then gauge": {
			samples: histSamples(0, 60, func(i int) *histogram.Histogram {
				v := uint64(i + 1)
				hint := unknown
				if i < 20 || i >= 40 {
					hint = gauge
				}
				return mkHist(1, v, growing(0, 4, v), nil, hint)
			}),
			batch:  5,
			expect: hints{19: gauge, 20: unknown, 21: notReset, 40: gauge},
		},
		"explicit hints": {
			samples: histSamples(0, 70, func(i int) *histogram.Histogram {
				v := uint64(i + 1)
				if i >= 30 {
					v = uint64(i - 29)
				}
				hint := unknown
				switch i {
				case 0, 15: // a reset although the counts grow
					hint = reset
				case 30: // not a reset although the counts drop
					hint = notReset
				case 45, 46:
					hint = notReset
				case 50, 51, 52: // a gauge in the middle of a counter
					hint = gauge
				case 60:
					hint = reset
				}
				return mkHist(1, v, growing(0, 6, v), nil, hint)
			}),
			expect: hints{0: unknown, 15: unknown, 30: unknown, 45: notReset, 50: gauge, 52: gauge, 53: unknown, 60: unknown},
		},
		"stale markers": {
			samples: histSamples(0, 60, func(i int) *histogram.Histogram {
				if i == 20 || i == 21 || i == 40 {
					return staleHist()
				}
				v := uint64(i + 1)
				return mkHist(1, v, growing(0, 6, v), nil, unknown)
			}),
			expect: hints{22: unknown, 41: unknown},
		},
		"custom buckets": {
			samples: histSamples(0, 60, func(i int) *histogram.Histogram {
				v := uint64(i + 1)
				if i < 30 {
					return mkCustomHist([]float64{1, 2, 5, 10}, []uint64{v, 2 * v, 3 * v, v, v}, unknown)
				}
				// Other bounds: a reset.
				return mkCustomHist([]float64{1, 2, 5, 10, 20}, []uint64{v, 2 * v, 3 * v, v, v, v}, unknown)
			}),
			expect: hints{29: notReset, 30: unknown, 31: notReset},
		},
		"many chunks": {
			// 400 samples from 1h on cross the chunk range boundary at
			// 2h, and the histograms are large enough to be cut by size.
			samples: histSamples(int64(time.Hour/time.Millisecond), 400, func(i int) *histogram.Histogram {
				v := uint64(i*i + 3*i + 1)
				if i >= 250 {
					v = uint64((i-250)*7 + 1)
				}
				return mkHist(2, v, growing(-5, 24, v), growing(0, 12, v), unknown)
			}),
			batch:  13,
			expect: hints{0: unknown, 249: notReset, 250: unknown, 251: notReset},
		},
		"floats then histograms": {
			samples: histSamples(0, 110, func(i int) *histogram.Histogram {
				v := uint64(i + 1)
				switch {
				case i < 30, i >= 70 && i < 90:
					return nil // a float sample
				case i >= 90:
					v = uint64(i - 89) // lower than before the floats
				}
				return mkHist(1, v, growing(0, 6, v), nil, unknown)
			}),
			expect: hints{30: unknown, 31: notReset, 90: unknown},
		},
	}
}

func hintScenarios() map[string]hintScenario {
	scenarios := map[string]hintScenario{}
	for name, c := range histogramCases() {
		scenarios["int/"+name] = c
		c.samples = toFloatHistograms(c.samples)
		scenarios["float/"+name] = c
	}
	// Integer and float histograms alternating in one series.
	ints := histSamples(0, 90, func(i int) *histogram.Histogram {
		v := uint64(i + 1)
		return mkHist(1, v, growing(0, 6, v), nil, histogram.UnknownCounterReset)
	})
	floats := toFloatHistograms(ints)
	mixed := append(append(slices.Clone(ints[:30]), floats[30:60]...), ints[60:]...)
	scenarios["int then float histograms"] = hintScenario{
		samples: mixed,
		expect: map[int]histogram.CounterResetHint{
			29: histogram.NotCounterReset, 30: histogram.UnknownCounterReset, 31: histogram.NotCounterReset,
			60: histogram.UnknownCounterReset, 61: histogram.NotCounterReset,
		},
	}
	return scenarios
}

// readSample is a sample read back, with the value type Next returned.
// For ValHistogram, fh is what AtFloatHistogram returned, as the engine
// reads it; h is what AtHistogram returned.
type readSample struct {
	t  int64
	vt chunkenc.ValueType
	f  float64
	h  *histogram.Histogram
	fh *histogram.FloatHistogram
}

func (s readSample) String() string {
	switch s.vt {
	case chunkenc.ValFloat:
		return fmt.Sprintf("t=%d float %g", s.t, s.f)
	case chunkenc.ValHistogram:
		return fmt.Sprintf("t=%d histogram hint=%s (as float: %s) %s", s.t, hintName(s.h.CounterResetHint), hintName(s.fh.CounterResetHint), s.h)
	default:
		return fmt.Sprintf("t=%d float histogram hint=%s %s", s.t, hintName(s.fh.CounterResetHint), s.fh)
	}
}

func hintName(h histogram.CounterResetHint) string {
	switch h {
	case histogram.UnknownCounterReset:
		return "Unknown"
	case histogram.CounterReset:
		return "CounterReset"
	case histogram.NotCounterReset:
		return "NotCounterReset"
	case histogram.GaugeType:
		return "Gauge"
	}
	return fmt.Sprintf("hint(%d)", h)
}

func sameReadSample(a, b readSample) bool {
	if a.t != b.t || a.vt != b.vt {
		return false
	}
	switch a.vt {
	case chunkenc.ValFloat:
		return math.Float64bits(a.f) == math.Float64bits(b.f)
	case chunkenc.ValHistogram:
		return sameHistogram(a.h, b.h) && a.h.CounterResetHint == b.h.CounterResetHint &&
			sameFloatHistogram(a.fh, b.fh) && a.fh.CounterResetHint == b.fh.CounterResetHint
	default:
		return sameFloatHistogram(a.fh, b.fh) && a.fh.CounterResetHint == b.fh.CounterResetHint
	}
}

// sameHistogram compares the values of histograms regardless of empty
// buckets: a chunk recoded for a new bucket gives its earlier samples that
// bucket, empty, so the layout depends on where chunks were cut.
func sameHistogram(a, b *histogram.Histogram) bool {
	return a.Copy().Compact(0).Equals(b.Copy().Compact(0))
}

func sameFloatHistogram(a, b *histogram.FloatHistogram) bool {
	return a.Copy().Compact(0).Equals(b.Copy().Compact(0))
}

func readIterator(t *testing.T, it chunkenc.Iterator, out []readSample) []readSample {
	t.Helper()
	for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
		s := readSample{vt: vt}
		switch vt {
		case chunkenc.ValFloat:
			s.t, s.f = it.At()
		case chunkenc.ValHistogram:
			s.t, s.h = it.AtHistogram(nil)
			_, s.fh = it.AtFloatHistogram(nil)
		case chunkenc.ValFloatHistogram:
			s.t, s.fh = it.AtFloatHistogram(nil)
		default:
			t.Fatalf("unexpected value type %s", vt)
		}
		out = append(out, s)
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iterate: %v", err)
	}
	return out
}

var allSeries = labels.MustNewMatcher(labels.MatchRegexp, model.MetricNameLabel, ".+")

// selectSamples reads every series through Querier.Select, keyed by labels.
func selectSamples(t *testing.T, st storage.Queryable) map[string][]readSample {
	t.Helper()
	q, err := st.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatalf("querier: %v", err)
	}
	defer q.Close()
	out := map[string][]readSample{}
	ss := q.Select(context.Background(), true, nil, allSeries)
	var it chunkenc.Iterator
	for ss.Next() {
		s := ss.At()
		it = s.Iterator(it)
		out[s.Labels().String()] = readIterator(t, it, nil)
	}
	if err := ss.Err(); err != nil {
		t.Fatalf("select: %v", err)
	}
	return out
}

// chunkSamples reads every series through ChunkQuerier.Select and the
// iterators of its chunks, keyed by labels. It checks the chunk encodings.
func chunkSamples(t *testing.T, st storage.ChunkQueryable) (map[string][]readSample, int) {
	t.Helper()
	q, err := st.ChunkQuerier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatalf("chunk querier: %v", err)
	}
	defer q.Close()
	out := map[string][]readSample{}
	nChunks := 0
	ss := q.Select(context.Background(), true, nil, allSeries)
	for ss.Next() {
		s := ss.At()
		var samples []readSample
		cit := s.Iterator(nil)
		for cit.Next() {
			m := cit.At()
			nChunks++
			switch enc := m.Chunk.Encoding(); enc {
			case floatEncoding, histogramEncoding, floatHistogramEncoding:
			default:
				t.Errorf("series %s: chunk [%d, %d] has encoding %s", s.Labels(), m.MinTime, m.MaxTime, enc)
			}
			samples = readIterator(t, m.Chunk.Iterator(nil), samples)
		}
		if err := cit.Err(); err != nil {
			t.Fatalf("iterate chunks: %v", err)
		}
		out[s.Labels().String()] = samples
	}
	if err := ss.Err(); err != nil {
		t.Fatalf("select chunks: %v", err)
	}
	return out, nChunks
}

// compareRead reports the differences between Vigil's and upstream's samples.
func compareRead(t *testing.T, what string, got, want map[string][]readSample) {
	t.Helper()
	for ls := range want {
		if _, ok := got[ls]; !ok {
			t.Errorf("%s: series %s missing", what, ls)
		}
	}
	for ls, g := range got {
		w, ok := want[ls]
		if !ok {
			t.Errorf("%s: unexpected series %s", what, ls)
			continue
		}
		if len(g) != len(w) {
			t.Errorf("%s: series %s has %d samples, upstream %d", what, ls, len(g), len(w))
		}
		var diffs []string
		for i := range min(len(g), len(w)) {
			if !sameReadSample(g[i], w[i]) {
				diffs = append(diffs, fmt.Sprintf("  sample %d:\n    vigil:    %s\n    upstream: %s", i, g[i], w[i]))
			}
		}
		if n := len(diffs); n > 0 {
			const show = 8
			more := ""
			if n > show {
				more = fmt.Sprintf("\n  ... and %d more", n-show)
				diffs = diffs[:show]
			}
			t.Errorf("%s: series %s: %d samples differ from upstream:\n%s%s", what, ls, n, strings.Join(diffs, "\n"), more)
		}
	}
}

func appendHintSamples(t *testing.T, st storage.Storage, lset labels.Labels, samples []hintSample, batch int) {
	t.Helper()
	if batch <= 0 {
		batch = 1
	}
	for start := 0; start < len(samples); start += batch {
		app := st.AppenderV2(context.Background())
		for _, s := range samples[start:min(start+batch, len(samples))] {
			var (
				h  *histogram.Histogram
				fh *histogram.FloatHistogram
			)
			if s.h != nil {
				h = s.h.Copy()
			}
			if s.fh != nil {
				fh = s.fh.Copy()
			}
			if _, err := app.Append(0, lset, 0, s.t, s.f, h, fh, storage.AppendV2Options{}); err != nil {
				t.Fatalf("append at %d: %v", s.t, err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
}

// openUpstream opens an upstream TSDB that cuts chunks like Vigil: the same
// chunk range (2h) and the same encodings.
func openUpstream(t *testing.T) *teststorage.TestStorage {
	t.Helper()
	st := teststorage.New(t, func(o *upstream.Options) {
		o.MinBlockDuration = int64(2 * time.Hour / time.Millisecond)
		o.MaxBlockDuration = o.MinBlockDuration
		o.EnableSTStorage = true
		o.FloatChunkEncoding = chunkenc.EncXOR2
		o.EnableHistogramSTEncoding = true
	})
	st.DisableCompactions()
	return st
}

func TestCounterResetHints(t *testing.T) {
	for name, sc := range hintScenarios() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			lset := labels.FromStrings(model.MetricNameLabel, "hints", "case", name)
			up := openUpstream(t)
			db := openTestDB(t, Options{})
			appendHintSamples(t, up, lset, sc.samples, sc.batch)
			appendHintSamples(t, db, lset, sc.samples, sc.batch)

			want := selectSamples(t, up)
			wantChunks, nUpChunks := chunkSamples(t, up)
			if got := want[lset.String()]; len(got) != len(sc.samples) {
				t.Fatalf("upstream returned %d samples, appended %d", len(got), len(sc.samples))
			}
			for i, h := range sc.expect {
				s := want[lset.String()][i]
				got := s.fh.CounterResetHint
				if s.vt == chunkenc.ValHistogram {
					got = s.h.CounterResetHint
				}
				if got != h {
					t.Errorf("upstream returned hint %s for sample %d, the case expects %s", hintName(got), i, hintName(h))
				}
			}
			// The chunk iterators see the hints the sample iterators see.
			compareRead(t, "upstream chunk querier vs querier", wantChunks, want)

			compareRead(t, "head querier", selectSamples(t, db), want)
			gotChunks, nHeadChunks := chunkSamples(t, db)
			compareRead(t, "head chunk querier", gotChunks, wantChunks)

			if err := db.Flush(); err != nil {
				t.Fatalf("flush: %v", err)
			}
			compareRead(t, "flushed querier", selectSamples(t, db), want)
			gotChunks, nFlushedChunks := chunkSamples(t, db)
			compareRead(t, "flushed chunk querier", gotChunks, wantChunks)
			t.Logf("chunks: upstream %d, vigil head %d, vigil flushed %d", nUpChunks, nHeadChunks, nFlushedChunks)
		})
	}
}
