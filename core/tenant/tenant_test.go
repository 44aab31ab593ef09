package tenant

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilmon/vigil/internal/testfixture"
)

// store holds the series of two teams and of no team.
func store(t *testing.T) storage.Queryable {
	t.Helper()
	db := testfixture.Store(t)
	testfixture.AppendEvery(t, db, 0, 600_000, 15_000, func(int, int64) float64 { return 1 },
		labels.FromStrings("__name__", "requests_total", "team", "a", "secret_a", "1"),
		labels.FromStrings("__name__", "requests_total", "team", "b", "secret_b", "1"),
		labels.FromStrings("__name__", "b_only_metric", "team", "b"),
		labels.FromStrings("__name__", "up", "job", "node"),
	)
	return db
}

var teamA = []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "team", "a")}

// TestConfinedQueries: PromQL through a confined store sees only the
// tenant's series, whatever the query's selectors, regular expressions
// and functions try.
func TestConfinedQueries(t *testing.T) {
	q := Queryable(store(t), teamA)
	engine := testfixture.Engine(t)
	for expr, want := range map[string]float64{
		`count(requests_total)`:                                    1,
		`count({__name__=~".+"})`:                                  1,
		`count({team=~".*", __name__=~".+"})`:                      1,
		`count({team="b"})`:                                        0,
		`count({__name__="b_only_metric"})`:                        0,
		`count(requests_total or {__name__=~".+", team!="a"})`:     1,
		`count(label_replace(up, "team", "a", "", ""))`:            0,
		`count({secret_b=~".+"})`:                                  0,
		`count(count_over_time({__name__=~".+", team!~"a"}[10m]))`: 0,
		`absent(up) or vector(0)`:                                  1, // up is not the tenant's: absent says 1
	} {
		qry, err := engine.NewInstantQuery(context.Background(), q, nil, expr, time.UnixMilli(600_000))
		if err != nil {
			t.Fatal(err)
		}
		res := qry.Exec(context.Background())
		if res.Err != nil {
			t.Fatalf("%s: %v", expr, res.Err)
		}
		got := 0.0
		if v, ok := res.Value.(promql.Vector); ok && len(v) > 0 {
			got = v[0].F
		}
		if got != want {
			t.Errorf("%s = %v, want %v", expr, got, want)
		}
		qry.Close()
	}
}

// TestConfinedLabels: label names and values, with or without matchers
// of the request's own, come from the tenant's series only.
func TestConfinedLabels(t *testing.T) {
	qr, err := Queryable(store(t), teamA).Querier(0, 600_000)
	if err != nil {
		t.Fatal(err)
	}
	defer qr.Close()
	ctx := context.Background()
	names, _, err := qr.LabelNames(ctx, nil)
	if err != nil || !slices.Equal(names, []string{"__name__", "secret_a", "team"}) {
		t.Errorf("label names: %v, %v", names, err)
	}
	for name, want := range map[string][]string{"team": {"a"}, "__name__": {"requests_total"}, "secret_b": nil, "job": nil} {
		for _, ms := range [][]*labels.Matcher{nil, {labels.MustNewMatcher(labels.MatchRegexp, "team", ".*")}, {labels.MustNewMatcher(labels.MatchEqual, "team", "b")}} {
			got, _, err := qr.LabelValues(ctx, name, nil, ms...)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) == 1 && ms[0].Value == "b" {
				if len(got) != 0 {
					t.Errorf("label values of %s with team=\"b\": %v, want none", name, got)
				}
				continue
			}
			if !slices.Equal(got, want) {
				t.Errorf("label values of %s with %v: %v, want %v", name, ms, got, want)
			}
		}
	}
	ss := qr.Select(ctx, true, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	var series []string
	for ss.Next() {
		series = append(series, ss.At().Labels().String())
	}
	if len(series) != 1 || series[0] != `{__name__="requests_total", secret_a="1", team="a"}` {
		t.Errorf("series: %v", series)
	}
}

// TestUnconfined: no matchers leave the store as it is.
func TestUnconfined(t *testing.T) {
	s := store(t)
	if Queryable(s, nil) != s {
		t.Error("Queryable with no matchers wraps the store")
	}
	if MatchersOf(WithMatchers(context.Background(), nil)) != nil {
		t.Error("WithMatchers with no matchers confines")
	}
	if got := MatchersOf(WithMatchers(context.Background(), teamA)); len(got) != 1 || got[0] != teamA[0] {
		t.Errorf("MatchersOf: %v", got)
	}
}

// TestSilences: a tenant's silence gets its matchers, so it mutes only
// the tenant's alerts, and a silence without them is not the tenant's.
func TestSilences(t *testing.T) {
	all := []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "alertname", ".+")}
	confined := ConfineSilence(teamA, all)
	if len(confined) != 2 || !OwnsSilence(teamA, confined) || OwnsSilence(teamA, all) {
		t.Fatalf("confined silence: %v", confined)
	}
	if len(all) != 1 {
		t.Error("ConfineSilence changed the silence it was given")
	}
	// Its alerts are those with both matchers.
	if Matches(confined, labels.FromStrings("alertname", "Down", "team", "b")) || !Matches(confined, labels.FromStrings("alertname", "Down", "team", "a")) {
		t.Error("the confined silence mutes another team's alert, or not its own")
	}
	// A silence with the tenant's matcher already is kept as it is.
	if got := ConfineSilence(teamA, confined); len(got) != 2 {
		t.Errorf("confined twice: %v", got)
	}
	// A lookalike matcher is not the tenant's.
	if OwnsSilence(teamA, []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "team", "a")}) {
		t.Error("team=~\"a\" owns as team=\"a\"")
	}
}

// TestByContext: the same store reads everything for a context without
// matchers, and the tenant's series for one with them, in queries and in
// label values alike.
func TestByContext(t *testing.T) {
	q := ByContext(store(t))
	engine := testfixture.Engine(t)
	count := func(ctx context.Context) float64 {
		qry, err := engine.NewInstantQuery(ctx, q, nil, `count({__name__=~".+"})`, time.UnixMilli(600_000))
		if err != nil {
			t.Fatal(err)
		}
		defer qry.Close()
		res := qry.Exec(ctx)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		return res.Value.(promql.Vector)[0].F
	}
	confined := WithMatchers(context.Background(), teamA)
	if got := count(context.Background()); got != 4 {
		t.Errorf("unconfined: %v series, want 4", got)
	}
	if got := count(confined); got != 1 {
		t.Errorf("confined: %v series, want 1", got)
	}
	qr, err := q.Querier(0, 600_000)
	if err != nil {
		t.Fatal(err)
	}
	defer qr.Close()
	if got, _, _ := qr.LabelValues(confined, "team", nil); !slices.Equal(got, []string{"a"}) {
		t.Errorf("confined label values: %v", got)
	}
	if got, _, _ := qr.LabelValues(context.Background(), "team", nil); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("unconfined label values: %v", got)
	}
}
