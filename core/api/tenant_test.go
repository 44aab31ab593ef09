package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	amalert "github.com/vigilmon/vigil/core/alert"
	"github.com/vigilmon/vigil/core/tenant"
	"github.com/vigilmon/vigil/internal/testfixture"
)

// newTenantServer serves the API over the series, silences and alerts of
// two teams. A request with the header X-Team is confined to
// {team="<value>"}, as the authentication confines a user bound to a
// tenant; one without is not confined.
func newTenantServer(t *testing.T) (*httptest.Server, *fakeAlerts) {
	t.Helper()
	db := testfixture.Store(t)
	now := time.Now().UnixMilli()
	testfixture.AppendEvery(t, db, now-600_000, now, 15_000, func(int, int64) float64 { return 1 },
		labels.FromStrings("__name__", "requests_total", "team", "a"),
		labels.FromStrings("__name__", "requests_total", "team", "b"),
		labels.FromStrings("__name__", "b_secret_total", "team", "b"))
	st, err := amalert.OpenStore(amalert.StoreOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	alerts := &fakeAlerts{alerts: []amalert.AlertStatus{
		{Alert: amalert.Alert{Labels: labels.FromStrings("alertname", "Down", "team", "a")}},
		{Alert: amalert.Alert{Labels: labels.FromStrings("alertname", "Down", "team", "b")}},
	}}
	mux := http.NewServeMux()
	New(Sources{
		Engine: testfixture.Engine(t), Store: tenant.ByContext(db), Exemplars: tenant.ExemplarsByContext(db), Stats: db.Stats,
		Silences: st.Silences(), Alerts: alerts, Version: "test",
	}).Register(mux)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if team := r.Header.Get("X-Team"); team != "" {
			r = r.WithContext(tenant.WithMatchers(r.Context(), []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "team", team)}))
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, alerts
}

// as sends a request for team ("" for none) and returns the status and
// body.
func as(t *testing.T, team, method, u, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if team != "" {
		req.Header.Set("X-Team", team)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestTenantsReadTheirOwnSeries: each team sees its own series in queries,
// series, label names and values and federation, whatever the request's
// matchers; the store's statistics, of every series, are refused.
func TestTenantsReadTheirOwnSeries(t *testing.T) {
	srv, _ := newTenantServer(t)
	v := url.Values{}
	for _, tc := range []struct {
		team, path, params, want, not string
	}{
		{"a", "/api/v1/query", "query=count({__name__=~\".%2B\"})", `"1"`, `"3"`},
		{"b", "/api/v1/query", "query=count({__name__=~\".%2B\"})", `"2"`, `"3"`},
		{"", "/api/v1/query", "query=count({__name__=~\".%2B\"})", `"3"`, `"1"`},
		{"a", "/api/v1/query", "query=count({team=\"b\"})", `"result":[]`, `"value"`},
		{"a", "/api/v1/label/team/values", "", `["a"]`, `"b"`},
		{"a", "/api/v1/label/__name__/values", "match[]={team=~\".%2B\"}", `["requests_total"]`, "b_secret"},
		{"a", "/api/v1/labels", "", `"team"`, "b_secret"},
		{"a", "/api/v1/series", "match[]={team=\"b\"}", `"data":[]`, "b_secret"},
		{"a", "/api/v1/series", "match[]={__name__=~\"b_.%2B\"}", `"data":[]`, "b_secret"},
		{"a", "/federate", "match[]={__name__=~\".%2B\"}", `team="a"`, `team="b"`},
		{"a", "/api/v1/status/tsdb", "", `"errorType":"forbidden"`, "b_secret"},
	} {
		code, body := as(t, tc.team, http.MethodGet, srv.URL+tc.path+"?"+tc.params+v.Encode(), "")
		if !strings.Contains(body, tc.want) || (tc.not != "" && strings.Contains(body, tc.not)) {
			t.Errorf("team %q %s?%s: %d %s\nwant %s, not %s", tc.team, tc.path, tc.params, code, body, tc.want, tc.not)
		}
	}
	if code, _ := as(t, "a", http.MethodGet, srv.URL+"/api/v1/status/tsdb", ""); code != http.StatusForbidden {
		t.Errorf("status/tsdb for a tenant: %d, want 403", code)
	}
}

// TestTenantsSilencesAndAlerts: a team's silence mutes its own alerts
// only, and the other team can neither see nor expire it; alerts are
// listed by team, and a team cannot post another's.
func TestTenantsSilencesAndAlerts(t *testing.T) {
	srv, alerts := newTenantServer(t)
	now := time.Now()
	code, body := as(t, "a", http.MethodPost, srv.URL+"/api/v2/silences",
		silenceBody(`[{"name":"alertname","value":".+","isRegex":true}]`, now, now.Add(time.Hour), ""))
	if code != http.StatusOK {
		t.Fatalf("team a's silence: %d %s", code, body)
	}
	var created struct{ SilenceID string }
	json.Unmarshal([]byte(body), &created)
	id := created.SilenceID

	_, body = as(t, "a", http.MethodGet, srv.URL+"/api/v2/silence/"+id, "")
	if !strings.Contains(body, `{"name":"team","value":"a","isRegex":false,"isEqual":true}`) {
		t.Errorf("team a's silence lacks team=\"a\": %s", body)
	}
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/api/v2/silence/" + id},
		{http.MethodDelete, "/api/v2/silence/" + id},
	} {
		if code, body := as(t, "b", tc.method, srv.URL+tc.path, ""); code != http.StatusNotFound {
			t.Errorf("team b %s %s: %d %s, want 404", tc.method, tc.path, code, body)
		}
	}
	// Team b cannot take the silence over by posting it with its ID.
	code, body = as(t, "b", http.MethodPost, srv.URL+"/api/v2/silences",
		silenceBody(`[{"name":"alertname","value":"x","isRegex":false}]`, now, now.Add(time.Hour), `,"id":"`+id+`"`))
	if code != http.StatusNotFound {
		t.Errorf("team b updating team a's silence: %d %s, want 404", code, body)
	}
	if _, body := as(t, "b", http.MethodGet, srv.URL+"/api/v2/silences", ""); strings.Contains(body, id) {
		t.Errorf("team b lists team a's silence: %s", body)
	}
	if _, body := as(t, "", http.MethodGet, srv.URL+"/api/v2/silences", ""); !strings.Contains(body, id) {
		t.Errorf("an unconfined user does not list the silence: %s", body)
	}
	if code, body := as(t, "a", http.MethodDelete, srv.URL+"/api/v2/silence/"+id, ""); code != http.StatusOK {
		t.Errorf("team a expiring its silence: %d %s", code, body)
	}

	if _, body := as(t, "a", http.MethodGet, srv.URL+"/api/v2/alerts", ""); !strings.Contains(body, `"team":"a"`) || strings.Contains(body, `"team":"b"`) {
		t.Errorf("team a's alerts: %s", body)
	}
	post := `[{"labels":{"alertname":"Fake","team":"b"}}]`
	if code, body := as(t, "a", http.MethodPost, srv.URL+"/api/v2/alerts", post); code != http.StatusForbidden {
		t.Errorf("team a posting team b's alert: %d %s, want 403", code, body)
	}
	if len(alerts.received) != 0 {
		t.Errorf("an alert was taken: %v", alerts.received)
	}
	if code, body := as(t, "b", http.MethodPost, srv.URL+"/api/v2/alerts", post); code != http.StatusOK || len(alerts.received) != 1 {
		t.Errorf("team b posting its alert: %d %s", code, body)
	}
}
