package tsdb_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/internal/concurrencytest"
	"github.com/vigilmon/vigil/internal/testfixture"
)

// TestConcurrentQueriesAnswerAsAlone runs the range queries of a dashboard
// from 16 goroutines at once against one store, with its samples in the
// head, sealed in badger, and both, and requires every answer to equal,
// bit for bit, the answer of the same query run alone. The engine reuses
// the memory of closed queries, and the store reuses iterators and
// buffers: an answer read after its memory went to another query shows
// here as a difference. The layout "evicted" has every series of the
// sealed layout evicted from memory, so that the queries read their
// postings and labels from badger.
func TestConcurrentQueriesAnswerAsAlone(t *testing.T) {
	engine := testfixture.Engine(t)
	for _, layout := range append(slices.Clone(testfixture.Layouts), "evicted") {
		t.Run(string(layout), func(t *testing.T) {
			var db *tsdb.DB
			var demo testfixture.Demo
			if layout == "evicted" {
				db, demo = testfixture.DemoStore(t, testfixture.Sealed)
				if err := tsdb.EvictAll(db); err != nil {
					t.Fatal(err)
				}
				if st, err := db.Stats(1); err != nil || st.NumSeries != 0 {
					t.Fatalf("series in memory after the eviction: %+v, %v", st, err)
				}
			} else {
				db, demo = testfixture.DemoStore(t, layout)
			}
			calls := map[string]concurrencytest.Call{}
			for _, expr := range demo.Queries {
				calls[expr] = func() ([]byte, error) {
					q, err := engine.NewRangeQuery(t.Context(), db, nil, expr, demo.Start, demo.End, demo.Step)
					if err != nil {
						return nil, err
					}
					defer q.Close()
					res := q.Exec(t.Context())
					if res.Err != nil {
						return nil, res.Err
					}
					// JSON keeps every float exactly: the shortest text
					// that parses back to the same bits.
					b, err := json.Marshal(res.Value)
					if err != nil {
						return nil, fmt.Errorf("cannot encode the answer: %w", err)
					}
					return b, nil
				}
			}
			concurrencytest.Compare(t, 16, 8, calls)
		})
	}
}
