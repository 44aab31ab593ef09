// Package testfixture gives tests a store holding samples and a query
// engine over it, both closed when the test ends, and runs components
// for the length of a test. Start with Store, then AppendEvery to fill
// it; DemoStore holds a dashboard's worth of series; Run runs a
// component.
package testfixture

import (
	"context"
	"sync"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilmon/vigil/core/query"
	"github.com/vigilmon/vigil/core/tsdb"
)

// Store opens an empty store with default options in a directory of its
// own, closed when the test ends.
func Store(t testing.TB) *tsdb.DB {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// AppendEvery appends, in one commit, a float sample of each series at
// every step milliseconds from from to to (both included); value gives
// the sample of the i-th series at ts.
func AppendEvery(t testing.TB, db storage.AppendableV2, from, to, step int64, value func(i int, ts int64) float64, series ...labels.Labels) {
	t.Helper()
	app := db.AppenderV2(context.Background())
	for ts := from; ts <= to; ts += step {
		for i, lset := range series {
			if _, err := app.Append(0, lset, 0, ts, value(i, ts), nil, nil, storage.AppendV2Options{}); err != nil {
				t.Fatalf("cannot append %s at %d: %v", lset, ts, err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
}

// Engine returns a query engine with Vigil's default limits, closed when
// the test ends.
func Engine(t testing.TB) *promql.Engine {
	t.Helper()
	engine, err := query.NewEngine(query.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	return engine
}

// Run runs a component's Run(ctx) until the test ends, and fails the
// test when it returns an error; the function it returns ends it sooner
// and waits for it, as the test's end does.
func Run(t testing.TB, run func(context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
