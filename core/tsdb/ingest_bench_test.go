package tsdb

import (
	"context"
	"math"
	"strconv"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// scrapeTargets are targets of 500 series each, with the references the
// store returned for them, as a scraper keeps them.
type scrapeTargets struct {
	series [][]labels.Labels
	refs   [][]storage.SeriesRef
}

func newScrapeTargets(targets int) *scrapeTargets {
	const perTarget = 500
	st := &scrapeTargets{series: make([][]labels.Labels, targets), refs: make([][]storage.SeriesRef, targets)}
	for i := range st.series {
		for k := 0; k < perTarget; k++ {
			st.series[i] = append(st.series[i], labels.FromStrings("__name__", "metric_"+strconv.Itoa(k%50), "instance", "host-"+strconv.Itoa(i), "k", strconv.Itoa(k)))
		}
		st.refs[i] = make([]storage.SeriesRef, perTarget)
	}
	return st
}

// scrape commits one scrape of target i at ts and returns its samples.
func (st *scrapeTargets) scrape(tb testing.TB, db *DB, i int, ts int64) int {
	app := db.AppenderV2(context.Background())
	for k, ls := range st.series[i] {
		ref, err := app.Append(st.refs[i][k], ls, 0, ts+int64(k%7), float64(ts/1000*int64(k%3)), nil, nil, storage.AppendV2Options{})
		if err != nil {
			tb.Fatal(err)
		}
		st.refs[i][k] = ref
	}
	if err := app.Commit(); err != nil {
		tb.Fatal(err)
	}
	return len(st.series[i])
}

// BenchmarkIngest commits scrapes of 500 series, reusing the references
// Append returns, as the scraper does. One op is one sample.
func BenchmarkIngest(b *testing.B) {
	db, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st := newScrapeTargets(20)
	b.ResetTimer()
	n := 0
	for ts := int64(1); n < b.N; ts += 15000 {
		for i := 0; i < len(st.series) && n < b.N; i++ {
			n += st.scrape(b, db, i, ts)
		}
	}
}

// BenchmarkSelectAll reads every sample of 20k sealed series over 2h.
// One op is one full read.
func BenchmarkSelectAll(b *testing.B) {
	db, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const targets, perTarget = 40, 500
	st := newScrapeTargets(targets)
	end := int64(2 * 3600 * 1000)
	for ts := int64(0); ts < end; ts += 15000 {
		for i := range st.series {
			st.scrape(b, db, i, ts)
		}
	}
	if err := db.Compact(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		q, err := db.Querier(0, end)
		if err != nil {
			b.Fatal(err)
		}
		ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", "metric_.*"))
		n := 0
		for ss.Next() {
			it := ss.At().Iterator(nil)
			for it.Next() != chunkenc.ValNone {
				n++
			}
		}
		if err := ss.Err(); err != nil {
			b.Fatal(err)
		}
		q.Close()
		if n != targets*perTarget*int(end/15000) {
			b.Fatalf("read %d samples", n)
		}
	}
}

// BenchmarkSelectEvicted selects one metric name (200 of 10,000 series)
// over the last hour of two hours of samples: with every series in
// memory; with the half of the series that stopped after the first hour
// evicted, which the query's range does not reach; and over both hours,
// reaching the evicted ones in badger's index.
func BenchmarkSelectEvicted(b *testing.B) {
	minute := int64(60_000)
	db := openTestDB(b, Options{})
	st := newScrapeTargets(20)
	for ts := int64(0); ts < 120*minute; ts += minute {
		for i := range st.series {
			if i%2 == 0 || ts < 60*minute {
				st.scrape(b, db, i, ts)
			}
		}
	}
	if err := db.Flush(); err != nil {
		b.Fatal(err)
	}
	m := labels.MustNewMatcher(labels.MatchEqual, "__name__", "metric_7")
	run := func(b *testing.B, mint int64, want int) {
		for b.Loop() {
			q, err := db.Querier(mint, 120*minute)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			ss := q.Select(context.Background(), false, nil, m)
			for ss.Next() {
				it := ss.At().Iterator(nil)
				for it.Next() != chunkenc.ValNone {
				}
				n++
			}
			if err := ss.Err(); err != nil {
				b.Fatal(err)
			}
			q.Close()
			if n != want {
				b.Fatalf("%d series, want %d", n, want)
			}
		}
	}
	b.Run("in memory", func(b *testing.B) { run(b, 61*minute, 100) })
	evictBefore(b, db, 61*minute)
	if n := db.series.count(); n != 5000 {
		b.Fatalf("%d series in memory after the eviction, want 5000", n)
	}
	b.Run("evicted, after their samples", func(b *testing.B) { run(b, 61*minute, 100) })
	b.Run("evicted, reaching back", func(b *testing.B) { run(b, 0, 200) })
}

// BenchmarkCreateSeries commits one sample of a new series per op: in a
// store that evicted nothing, and in one that
// evicted 10,000 series, where a new series is first looked up among the
// evicted ones in badger's index.
func BenchmarkCreateSeries(b *testing.B) {
	for _, evicted := range []bool{false, true} {
		b.Run(map[bool]string{false: "nothing evicted", true: "after evictions"}[evicted], func(b *testing.B) {
			db := openTestDB(b, Options{})
			if evicted {
				st := newScrapeTargets(20)
				for i := range st.series {
					st.scrape(b, db, i, 0)
				}
				evictBefore(b, db, math.MaxInt64)
			}
			n := 0
			for b.Loop() {
				app := db.AppenderV2(context.Background())
				ls := labels.FromStrings("__name__", "new_series", "n", strconv.Itoa(n))
				if _, err := app.Append(0, ls, 0, 1000, 1, nil, nil, storage.AppendV2Options{}); err != nil {
					b.Fatal(err)
				}
				if err := app.Commit(); err != nil {
					b.Fatal(err)
				}
				n++
			}
		})
	}
}
