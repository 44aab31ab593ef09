package tsdb

import (
	"context"
	"strconv"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
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
