package tsdb

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// TestConcurrentCommitsKeepEverySample commits from 16 goroutines at once,
// floats and native histograms, some commits creating series and most
// not, while other goroutines query. Commits encode their write-ahead
// records in pooled buffers and keep their pending samples in pooled
// slices, and queriers reuse chunk slices: every sample read, during the
// writes, after them and after a reopen that replays the write-ahead
// records, must be the one its writer appended, bit for bit.
func TestConcurrentCommitsKeepEverySample(t *testing.T) {
	const writers, rounds, floats, hists = 16, 60, 6, 2
	dir := t.TempDir()
	opts := Options{SamplesPerChunk: 16, WALMaxBytes: 64 << 10}
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	seriesOf := func(w, k, round int) labels.Labels {
		// Every tenth round starts new series, so its commit writes
		// series records too and encodes into buffers of its own.
		return labels.FromStrings("__name__", "pool", "w", strconv.Itoa(w), "k", strconv.Itoa(k), "gen", strconv.Itoa(round/10))
	}
	floatOf := func(w, k, round int) float64 { return float64(w*1_000_000+k*1000+round) + 0.25 + float64(k)/3 }
	histOf := func(w, k, round int) *histogram.Histogram {
		return &histogram.Histogram{
			Schema: 1, Count: uint64(3 + 10*round + 2*w + k), Sum: float64(round)/7 + float64(w),
			ZeroCount: 3, ZeroThreshold: 0.001,
			PositiveSpans: []histogram.Span{{Offset: int32(w), Length: 2}}, PositiveBuckets: []int64{int64(5*round + w + k), -int64(k)},
		}
	}
	// want returns what the series of a sample's labels holds at round.
	want := func(lset labels.Labels, round int) string {
		w, _ := strconv.Atoi(lset.Get("w"))
		k, _ := strconv.Atoi(lset.Get("k"))
		if k >= floats {
			return fmt.Sprintf("%d %v", round*1000, *histOf(w, k, round))
		}
		return fmt.Sprintf("%d %v", round*1000, floatOf(w, k, round))
	}

	var wg sync.WaitGroup
	var done atomic.Bool
	var wrong atomic.Int64
	for w := range writers {
		wg.Go(func() {
			for round := range rounds {
				app := db.AppenderV2(context.Background())
				for k := range floats + hists {
					var (
						v float64
						h *histogram.Histogram
					)
					if k < floats {
						v = floatOf(w, k, round)
					} else {
						h = histOf(w, k, round)
					}
					if _, err := app.Append(0, seriesOf(w, k, round), 0, int64(round)*1000, v, h, nil, storage.AppendV2Options{}); err != nil {
						t.Errorf("writer %d round %d: %v", w, round, err)
						return
					}
				}
				if err := app.Commit(); err != nil {
					t.Errorf("writer %d round %d: %v", w, round, err)
					return
				}
			}
		})
	}
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for !done.Load() {
				checkPoolSeries(t, db, want, &wrong)
			}
		})
	}
	wg.Wait()
	done.Store(true)
	readers.Wait()
	if n := wrong.Load(); n > 0 {
		t.Fatalf("queries during the commits read %d samples other than those appended", n)
	}

	check := func(when string) {
		t.Helper()
		got := checkPoolSeries(t, db, want, &wrong)
		if n := wrong.Load(); n > 0 {
			t.Fatalf("%s: %d samples read other than those appended", when, n)
		}
		if want := writers * rounds * (floats + hists); got != want {
			t.Fatalf("%s: %d samples, want %d", when, got, want)
		}
	}
	check("after the commits")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check("after a reopen")
}

// checkPoolSeries reads every series of TestConcurrentCommitsKeepEverySample,
// counts in wrong the samples that differ from want and returns how many
// samples it read.
func checkPoolSeries(t *testing.T, db *DB, want func(labels.Labels, int) string, wrong *atomic.Int64) int {
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer q.Close()
	n := 0
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "pool"))
	var it chunkenc.Iterator
	for ss.Next() {
		lset := ss.At().Labels()
		it = ss.At().Iterator(it)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			var got string
			switch vt {
			case chunkenc.ValFloat:
				ts, v := it.At()
				got = fmt.Sprintf("%d %v", ts, v)
			case chunkenc.ValHistogram:
				ts, h := it.AtHistogram(nil)
				h.CounterResetHint = histogram.UnknownCounterReset
				got = fmt.Sprintf("%d %v", ts, *h)
			default:
				got = fmt.Sprintf("value type %v", vt)
			}
			n++
			if exp := want(lset, int(it.AtT()/1000)); got != exp {
				if wrong.Add(1) <= 3 {
					t.Errorf("%s: read %s, want %s", lset, got, exp)
				}
			}
		}
		if err := it.Err(); err != nil {
			t.Errorf("%s: %v", lset, err)
		}
	}
	if err := ss.Err(); err != nil {
		t.Error(err)
	}
	return n
}
