package tsdb

import (
	"context"
	"strconv"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// BenchmarkIngest commits scrapes of 500 series, reusing the references
// Append returns, as the scraper does. One op is one sample.
func BenchmarkIngest(b *testing.B) {
	db, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const targets, perTarget = 20, 500
	series := make([][]labels.Labels, targets)
	refs := make([][]storage.SeriesRef, targets)
	for i := range series {
		for k := 0; k < perTarget; k++ {
			series[i] = append(series[i], labels.FromStrings("__name__", "metric_"+strconv.Itoa(k%50), "instance", "host-"+strconv.Itoa(i), "k", strconv.Itoa(k)))
		}
		refs[i] = make([]storage.SeriesRef, perTarget)
	}
	b.ResetTimer()
	n := 0
	for ts := int64(1); n < b.N; ts += 15000 {
		for i := 0; i < targets && n < b.N; i++ {
			app := db.AppenderV2(context.Background())
			for k := 0; k < perTarget; k++ {
				ref, err := app.Append(refs[i][k], series[i][k], 0, ts+int64(k%7), float64(ts/1000*int64(k%3)), nil, nil, storage.AppendV2Options{})
				if err != nil {
					b.Fatal(err)
				}
				refs[i][k] = ref
				n++
			}
			if err := app.Commit(); err != nil {
				b.Fatal(err)
			}
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
	refs := make([][]storage.SeriesRef, targets)
	for i := range refs {
		refs[i] = make([]storage.SeriesRef, perTarget)
	}
	end := int64(2 * 3600 * 1000)
	for ts := int64(0); ts < end; ts += 15000 {
		for i := 0; i < targets; i++ {
			app := db.AppenderV2(context.Background())
			for k := 0; k < perTarget; k++ {
				ls := labels.FromStrings("__name__", "metric_"+strconv.Itoa(k%50), "instance", "host-"+strconv.Itoa(i), "k", strconv.Itoa(k))
				ref, err := app.Append(refs[i][k], ls, 0, ts, float64(ts*int64(k%3)), nil, nil, storage.AppendV2Options{})
				if err != nil {
					b.Fatal(err)
				}
				refs[i][k] = ref
			}
			if err := app.Commit(); err != nil {
				b.Fatal(err)
			}
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
