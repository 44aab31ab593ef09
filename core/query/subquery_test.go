package query_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"

	"github.com/vigilmon/vigil/core/query"
)

// TestCheckSubqueries checks the bound on the steps of subqueries, which
// the engine would otherwise allocate statistics for, 16 bytes a step,
// before reading anything.
func TestCheckSubqueries(t *testing.T) {
	ng := newTestEngine(t, query.Options{})
	db := openStore(t)
	at := time.Unix(1_700_000_000, 0)
	for name, tc := range map[string]struct {
		expr       string
		rangeStart time.Time // a range query from rangeStart to at, by the minute; zero for an instant query
		refused    bool
	}{
		"no subquery":                     {expr: `rate(x[5m])`},
		"two years without a step":        {expr: `max_over_time(rate(x[5m])[2y:])`},
		"a month by the second":           {expr: `max_over_time(x[30d:1s])`},
		"a year by the millisecond":       {expr: `x[1y:1ms]`, refused: true},
		"nested: the outer range widens":  {expr: `max_over_time(max_over_time(x[1m:1s])[60d:1m])`, refused: true},
		"summed over every subquery":      {expr: `max_over_time(x[40d:1s]) + max_over_time(x[40d:1s])`, refused: true},
		"a range query widens its ranges": {expr: `max_over_time(x[1d:1s])`, rangeStart: at.Add(-60 * 24 * time.Hour), refused: true},
		"a range query by the minute":     {expr: `max_over_time(x[1h:1m])`, rangeStart: at.Add(-7 * 24 * time.Hour)},
	} {
		t.Run(name, func(t *testing.T) {
			var q promql.Query
			var err error
			if tc.rangeStart.IsZero() {
				q, err = ng.NewInstantQuery(context.Background(), db, nil, tc.expr, at)
			} else {
				q, err = ng.NewRangeQuery(context.Background(), db, nil, tc.expr, tc.rangeStart, at, time.Minute)
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.expr, err)
			}
			defer q.Close()
			err = query.CheckSubqueries(q)
			if tc.refused != (err != nil) {
				t.Fatalf("%s: error %v, want refused=%v", tc.expr, err, tc.refused)
			}
			if err != nil && !strings.Contains(err.Error(), "steps, more than the 5000000 allowed") {
				t.Errorf("error %q does not say why", err)
			}
		})
	}
}
