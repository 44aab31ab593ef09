package tsdb

import (
	"context"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// TestIsolation races commits of many series against queries: every query
// must see each commit whole or not at all. Each writer commits, step after
// step, one sample of value step to each of its series (and, out of order,
// a second sample behind the previous step's), so a query that sees part of a
// commit finds series of one writer with different sample counts or last
// values. Small chunks and flushes put samples in badger while queries run.
func TestIsolation(t *testing.T) {
	for _, tc := range []struct {
		name       string
		outOfOrder bool
	}{{"in order", false}, {"out of order", true}} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{SamplesPerChunk: 8, WALMaxBytes: 64 << 10}
			if tc.outOfOrder {
				opts.OutOfOrderWindow = time.Hour
			}
			db := openTestDB(t, opts)
			const writers, series, steps = 3, 200, 150
			perStep := 1
			if tc.outOfOrder {
				perStep = 2
			}
			var (
				wg        sync.WaitGroup
				stop      = make(chan struct{})
				partial   atomic.Int64
				nonEmpty  atomic.Int64
				queries   atomic.Int64
				firstFail sync.Once
			)
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for step := 1; step <= steps; step++ {
						app := db.AppenderV2(context.Background())
						for k := range series {
							ls := labels.FromStrings("__name__", "iso", "w", strconv.Itoa(w), "k", strconv.Itoa(k))
							ts := int64(step) * 1000
							if tc.outOfOrder && step > 1 {
								// Behind the previous step's sample: out of order.
								if _, err := app.Append(0, ls, 0, ts-1200, float64(step), nil, nil, storage.AppendV2Options{}); err != nil {
									t.Error(err)
									return
								}
							}
							if _, err := app.Append(0, ls, 0, ts, float64(step), nil, nil, storage.AppendV2Options{}); err != nil {
								t.Error(err)
								return
							}
						}
						if err := app.Commit(); err != nil {
							t.Error(err)
							return
						}
						if step%40 == 0 && w == 0 {
							if err := db.Flush(); err != nil {
								t.Error(err)
							}
						}
					}
				}()
			}
			var readers sync.WaitGroup
			for range 2 {
				readers.Add(1)
				go func() {
					defer readers.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						for w := range writers {
							counts, last := queryWriter(t, db, w)
							queries.Add(1)
							if len(counts) > 0 {
								nonEmpty.Add(1)
							}
							if msg := checkWhole(counts, last, series, perStep); msg != "" {
								partial.Add(1)
								firstFail.Do(func() { t.Errorf("writer %d: a query saw part of a commit: %s", w, msg) })
							}
						}
					}
				}()
			}
			wg.Wait()
			close(stop)
			readers.Wait()
			if partial.Load() > 0 {
				t.Fatalf("%d of %d queries saw part of a commit", partial.Load(), queries.Load())
			}
			if nonEmpty.Load() == 0 {
				t.Fatal("no query saw any sample: the test checked nothing")
			}
			for w := range writers {
				counts, last := queryWriter(t, db, w)
				if msg := checkWhole(counts, last, series, perStep); msg != "" || last[0] != steps {
					t.Fatalf("writer %d after the last commit: %s, last value %v", w, msg, last)
				}
			}
		})
	}
}

// queryWriter returns, for each series of writer w, its number of samples
// and its last value.
func queryWriter(t *testing.T, db *DB, w int) (counts []int, last []float64) {
	q, err := db.Querier(0, math.MaxInt64)
	if err != nil {
		t.Error(err)
		return nil, nil
	}
	defer q.Close()
	ss := q.Select(context.Background(), false, nil,
		labels.MustNewMatcher(labels.MatchEqual, "__name__", "iso"),
		labels.MustNewMatcher(labels.MatchEqual, "w", strconv.Itoa(w)))
	var it chunkenc.Iterator
	for ss.Next() {
		it = ss.At().Iterator(it)
		n, v := 0, math.NaN()
		for it.Next() != chunkenc.ValNone {
			n++
			_, v = it.At()
		}
		counts = append(counts, n)
		last = append(last, v)
	}
	if err := ss.Err(); err != nil {
		t.Error(err)
	}
	return counts, last
}

// checkWhole describes how the answer of one writer's series shows part of
// a commit, or returns "" when it shows whole commits only.
func checkWhole(counts []int, last []float64, series, perStep int) string {
	if len(counts) == 0 {
		return ""
	}
	if len(counts) != series {
		return strconv.Itoa(len(counts)) + " series of " + strconv.Itoa(series)
	}
	for i := range counts {
		if counts[i] != counts[0] || (counts[i] > 0 && last[i] != last[0]) {
			return "series with " + strconv.Itoa(counts[i]) + " samples up to value " + strconv.FormatFloat(last[i], 'g', -1, 64) +
				" beside one with " + strconv.Itoa(counts[0]) + " up to " + strconv.FormatFloat(last[0], 'g', -1, 64)
		}
	}
	// Step n adds perStep samples, but the first adds one.
	if counts[0] != perStep*int(last[0])-(perStep-1) {
		return "series with " + strconv.Itoa(counts[0]) + " samples up to value " + strconv.FormatFloat(last[0], 'g', -1, 64)
	}
	return ""
}
