package query_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/vigilmon/vigil/core/query"
	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/internal/testfixture"
)

// openStore returns a store holding a counter that grows by 60 a minute,
// sampled every 15s for an hour from t=0.
func openStore(t *testing.T) *tsdb.DB {
	t.Helper()
	db := testfixture.Store(t)
	testfixture.AppendEvery(t, db, 0, time.Hour.Milliseconds(), 15000, func(_ int, ts int64) float64 { return float64(ts / 1000) },
		labels.FromStrings("__name__", "requests_total", "job", "api"), labels.FromStrings("__name__", "requests_total", "job", "db"))
	return db
}

func newTestEngine(t *testing.T, opts query.Options) *promql.Engine {
	t.Helper()
	ng, err := query.NewEngine(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ng.Close() })
	return ng
}

func TestInstantAndRangeQueries(t *testing.T) {
	db := openStore(t)
	ng := newTestEngine(t, query.Options{})
	ctx := context.Background()
	at := time.UnixMilli(30 * time.Minute.Milliseconds())

	q, err := ng.NewInstantQuery(ctx, db, nil, `sum by (job) (rate(requests_total[5m]))`, at)
	if err != nil {
		t.Fatal(err)
	}
	res := q.Exec(ctx)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	vec, err := res.Vector()
	if err != nil {
		t.Fatal(err)
	}
	if len(vec) != 2 || math.Abs(vec[0].F-1) > 1e-9 || math.Abs(vec[1].F-1) > 1e-9 {
		t.Fatalf("rate of a counter growing 1/s: %v", vec)
	}
	q.Close()

	q, err = ng.NewRangeQuery(ctx, db, nil, `requests_total{job="api"} @ 600`, time.UnixMilli(0), time.UnixMilli(3*60000), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	res = q.Exec(ctx)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	m, err := res.Matrix()
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || len(m[0].Floats) != 4 || m[0].Floats[3].F != 600 {
		t.Fatalf("@ modifier: %v", m)
	}
	q.Close()
}

func TestLookbackDelta(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	after := time.UnixMilli(time.Hour.Milliseconds() + 2*time.Minute.Milliseconds())
	for name, tc := range map[string]struct {
		lookback time.Duration
		want     int
	}{
		"default 5m sees a sample 2m old": {0, 2},
		"1m does not":                     {time.Minute, 0},
	} {
		t.Run(name, func(t *testing.T) {
			ng := newTestEngine(t, query.Options{LookbackDelta: tc.lookback})
			q, err := ng.NewInstantQuery(ctx, db, nil, `requests_total`, after)
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			vec, err := q.Exec(ctx).Vector()
			if err != nil {
				t.Fatal(err)
			}
			if len(vec) != tc.want {
				t.Fatalf("%d series, want %d", len(vec), tc.want)
			}
		})
	}
}

func TestMaxSamples(t *testing.T) {
	db := openStore(t)
	ng := newTestEngine(t, query.Options{MaxSamples: 10})
	ctx := context.Background()
	q, err := ng.NewInstantQuery(ctx, db, nil, `requests_total[1h]`, time.UnixMilli(time.Hour.Milliseconds()))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var tooMany promql.ErrTooManySamples
	if err := q.Exec(ctx).Err; !errors.As(err, &tooMany) {
		t.Fatalf("got %v, want ErrTooManySamples", err)
	}
}

func TestCancelledQuery(t *testing.T) {
	db := openStore(t)
	ng := newTestEngine(t, query.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q, err := ng.NewInstantQuery(ctx, db, nil, `requests_total`, time.UnixMilli(0))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var cancelled promql.ErrQueryCanceled
	if err := q.Exec(ctx).Err; !errors.As(err, &cancelled) {
		t.Fatalf("got %v, want ErrQueryCanceled", err)
	}
}

func TestInvalidOptions(t *testing.T) {
	for name, opts := range map[string]query.Options{
		"MaxSamples=-1":     {MaxSamples: -1},
		"Timeout=-1s":       {Timeout: -time.Second},
		"LookbackDelta=-1m": {LookbackDelta: -time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := query.NewEngine(opts)
			if err == nil || !strings.Contains(err.Error(), strings.Split(name, "=")[0]) {
				t.Fatalf("got %v, want an error naming the option", err)
			}
		})
	}
}
