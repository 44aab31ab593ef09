package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/core/tenant"
	"github.com/vigilmon/vigil/hclconfig"
)

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
	var (
		seen     Identity
		confined []*labels.Matcher
	)
	g := &Guard{
		Auth:     func() *Authenticator { return a },
		Route:    func(r *http.Request) (Access, string) { return Read, r.URL.Path },
		Confines: func(route string) bool { return route == "/query" },
	}
	h := g.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		seen, confined = IdentityOf(r.Context()), tenant.MatchersOf(r.Context())
	}))
	for path, want := range map[string]int{"/query": http.StatusOK, "/silences": http.StatusForbidden} {
		r := httptest.NewRequest("GET", path, nil)
		r.SetBasicAuth("alice", "alice-pass")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("%s: %d, want %d", path, w.Code, want)
		}
	}
	if len(seen.Matchers) != 1 || seen.Matchers[0].String() != `team="a"` || len(confined) != 1 || confined[0] != seen.Matchers[0] {
		t.Errorf("the confined route saw %+v, confined to %v", seen, confined)
	}
}
