package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilmon/vigil/hclconfig"
)

// TestConfine has two tenants read one store: each finds only its own
// series, whatever the query, regular expressions, label_values and
// matchers naming the other tenant included; a caller without matchers
// finds both.
func TestConfine(t *testing.T) {
	st := promqltest.LoadedStorage(t, `
load 1m
  up{job="a", team="a"} 1
  up{job="b", team="b"} 1
  secret_b{team="b", env="prod"} 42
`)
	defer st.Close()
	q := Confine(st)
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1000, Timeout: time.Minute})
	tenant := func(team string) context.Context {
		m := labels.MustNewMatcher(labels.MatchEqual, "team", team)
		return WithIdentity(context.Background(), Identity{Kind: "user", Name: team, Role: Viewer, Matchers: []*labels.Matcher{m}})
	}
	query := func(ctx context.Context, expr string) []string {
		t.Helper()
		qry, err := engine.NewInstantQuery(ctx, q, nil, expr, time.Unix(60, 0))
		if err != nil {
			t.Fatal(err)
		}
		defer qry.Close()
		res := qry.Exec(ctx)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		v, err := res.Vector()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range v {
			out = append(out, s.Metric.String())
		}
		slices.Sort(out)
		return out
	}
	for expr, want := range map[string][]string{
		`up`:               {`{__name__="up", job="a", team="a"}`},
		`up{team=~".+"}`:   {`{__name__="up", job="a", team="a"}`},
		`up{team="b"}`:     nil,
		`{__name__=~".+"}`: {`{__name__="up", job="a", team="a"}`},
		`secret_b`:         nil,
		`count by (team) ({__name__=~".+", team!="a"})`: nil,
		`sum(up) or vector(0)`:                          {`{}`},
		`label_replace(up, "x", "$1", "team", "(.*)")`:  {`{__name__="up", job="a", team="a", x="a"}`},
	} {
		if got := query(tenant("a"), expr); !slices.Equal(got, want) {
			t.Errorf("tenant a, %s = %v, want %v", expr, got, want)
		}
	}
	if got := query(context.Background(), `up`); len(got) != 2 {
		t.Errorf("without a tenant, up = %v", got)
	}
	labelValues := func(ctx context.Context, name string, ms ...*labels.Matcher) []string {
		t.Helper()
		qr, err := q.Querier(0, 120_000)
		if err != nil {
			t.Fatal(err)
		}
		defer qr.Close()
		vals, _, err := qr.LabelValues(ctx, name, nil, ms...)
		if err != nil {
			t.Fatal(err)
		}
		return vals
	}
	if got := labelValues(tenant("b"), "team"); !slices.Equal(got, []string{"b"}) {
		t.Errorf("tenant b, label_values(team) = %v", got)
	}
	if got := labelValues(tenant("a"), "env", labels.MustNewMatcher(labels.MatchRegexp, "team", ".*")); len(got) != 0 {
		t.Errorf("tenant a, label_values({team=~\".*\"}, env) = %v", got)
	}
	if got := labelValues(tenant("a"), "__name__"); !slices.Equal(got, []string{"up"}) {
		t.Errorf("tenant a, the metric names = %v", got)
	}
	qr, err := q.Querier(0, 120_000)
	if err != nil {
		t.Fatal(err)
	}
	defer qr.Close()
	names, _, err := qr.LabelNames(tenant("a"), nil)
	if err != nil || slices.Contains(names, "env") {
		t.Errorf("tenant a, the label names = %v, %v", names, err)
	}
	var found []string
	set := qr.Select(tenant("b"), true, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	for set.Next() {
		found = append(found, set.At().Labels().Get("__name__"))
	}
	if !slices.Equal(found, []string{"secret_b", "up"}) {
		t.Errorf("tenant b's series: %v", found)
	}
	var _ storage.Queryable = q
}

// TestGuardTenant lets a caller bound to a tenant use only the routes
// that confine their answers, carrying its matchers to them.
func TestGuardTenant(t *testing.T) {
	a, err := New(context.Background(), &hclconfig.Auth{Users: []*hclconfig.User{{
		Name: "alice", PasswordHash: hash(t, "alice-pass"), Role: "operator",
		Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "team", "a")},
	}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var seen Identity
	g := &Guard{
		Auth:     func() *Authenticator { return a },
		Route:    func(r *http.Request) (Access, string) { return Read, r.URL.Path },
		Confines: func(route string) bool { return route == "/query" },
	}
	h := g.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = IdentityOf(r.Context()) }))
	for path, want := range map[string]int{"/query": http.StatusOK, "/silences": http.StatusForbidden} {
		r := httptest.NewRequest("GET", path, nil)
		r.SetBasicAuth("alice", "alice-pass")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("%s: %d, want %d", path, w.Code, want)
		}
	}
	if len(seen.Matchers) != 1 || seen.Matchers[0].String() != `team="a"` {
		t.Errorf("the confined route saw %+v", seen)
	}
}
