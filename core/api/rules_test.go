package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/vigilmon/vigil/core/rules"
	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/testfixture"
)

// newRulesServer serves the API over a rules manager evaluating two
// groups every 100ms, once both were evaluated and the alerts fire and
// pend.
func newRulesServer(t *testing.T) *httptest.Server {
	t.Helper()
	db, engine := testfixture.Store(t), testfixture.Engine(t)
	cfg, diags := hclconfig.Parse("vigil.hcl", []byte(`
rules "alerts" {
  interval = "100ms"
  limit    = 10
  alert "AlwaysFiring" {
    expr            = "vector(1)"
    keep_firing_for = "1m"
    labels          = { severity = "page" }
    annotations     = { summary = "value {{ $value }}" }
  }
  alert "AlwaysPending" {
    expr = "vector(2)"
    for  = "1h"
  }
}

rules "records" {
  interval = "100ms"
  record "vigil:one" {
    expr   = "vector(1)"
    labels = { source = "vigil" }
  }
}`))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	m := rules.New(rules.Options{Store: db, Engine: engine})
	if err := m.ApplyConfig(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	testfixture.Run(t, m.Run) // ends before the store closes
	ready := func() bool {
		for _, g := range m.RuleGroups() {
			if g.GetLastEvaluation().IsZero() {
				return false
			}
		}
		ar := m.AlertingRules()
		return len(ar) == 2 && ar[0].State() != ar[1].State()
	}
	for deadline := time.Now().Add(15 * time.Second); !ready(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the groups were not evaluated, or the alerts did not fire and pend")
		}
	}
	mux := http.NewServeMux()
	New(Sources{Engine: engine, Store: db, Rules: m}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestRulesAndAlertsWithClientGolang(t *testing.T) {
	srv := newRulesServer(t)
	client, err := promapi.NewClient(promapi.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	prom := v1.NewAPI(client)
	ctx := context.Background()

	res, err := prom.Rules(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Groups) != 2 || res.Groups[0].Name != "alerts" || res.Groups[0].File != "vigil.hcl" || res.Groups[0].Interval != 0.1 {
		t.Fatalf("groups: %+v", res.Groups)
	}
	alerting := map[string]v1.AlertingRule{}
	for _, r := range res.Groups[0].Rules {
		ar, ok := r.(v1.AlertingRule)
		if !ok {
			t.Fatalf("a rule of group alerts is a %T", r)
		}
		alerting[ar.Name] = ar
	}
	firing, pending := alerting["AlwaysFiring"], alerting["AlwaysPending"]
	if firing.State != "firing" || firing.Query != "vector(1)" || firing.Health != v1.RuleHealthGood || firing.Labels["severity"] != "page" ||
		len(firing.Alerts) != 1 || firing.Alerts[0].Value != "1e+00" || firing.Alerts[0].Annotations["summary"] != "value 1" || firing.LastEvaluation.IsZero() {
		t.Errorf("AlwaysFiring: %+v", firing)
	}
	if pending.State != "pending" || pending.Duration != 3600 || len(pending.Alerts) != 1 || pending.Alerts[0].State != v1.AlertStatePending {
		t.Errorf("AlwaysPending: %+v", pending)
	}
	rec, ok := res.Groups[1].Rules[0].(v1.RecordingRule)
	if !ok || rec.Name != "vigil:one" || rec.Labels["source"] != "vigil" || rec.Health != v1.RuleHealthGood {
		t.Errorf("recording rule: %+v", res.Groups[1].Rules[0])
	}

	matched, err := prom.Rules(ctx, []string{`{severity="page"}`})
	if err != nil || len(matched.Groups) != 1 || len(matched.Groups[0].Rules) != 1 {
		t.Errorf("rules matching severity=page: %+v, %v", matched, err)
	}

	alerts, err := prom.Alerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	states := map[model.LabelValue]v1.AlertState{}
	for _, a := range alerts.Alerts {
		states[a.Labels["alertname"]] = a.State
		if a.ActiveAt.IsZero() {
			t.Errorf("alert %s has no activeAt", a.Labels)
		}
	}
	if len(states) != 2 || states["AlwaysFiring"] != v1.AlertStateFiring || states["AlwaysPending"] != v1.AlertStatePending {
		t.Errorf("alerts: %+v", alerts.Alerts)
	}
}

func TestRulesFiltersAndShapes(t *testing.T) {
	srv := newRulesServer(t)
	type group struct {
		Name           string            `json:"name"`
		File           string            `json:"file"`
		Interval       float64           `json:"interval"`
		Limit          int               `json:"limit"`
		EvaluationTime *float64          `json:"evaluationTime"`
		LastEvaluation *time.Time        `json:"lastEvaluation"`
		Rules          []json.RawMessage `json:"rules"`
	}
	rulesOf := func(params url.Values) []group {
		t.Helper()
		status, r := get(t, srv, "/api/v1/rules", params)
		if status != http.StatusOK {
			t.Fatalf("%v: %d %s", params, status, r.Error)
		}
		var data struct {
			Groups []group `json:"groups"`
		}
		if err := json.Unmarshal(r.Data, &data); err != nil {
			t.Fatal(err)
		}
		return data.Groups
	}
	names := func(groups []group) string {
		var out []string
		for _, g := range groups {
			for _, r := range g.Rules {
				var rule struct{ Name string }
				json.Unmarshal(r, &rule)
				out = append(out, g.Name+"/"+rule.Name)
			}
		}
		return strings.Join(out, " ")
	}
	for params, want := range map[string]string{
		"":            "alerts/AlwaysFiring alerts/AlwaysPending records/vigil:one",
		"type=alert":  "alerts/AlwaysFiring alerts/AlwaysPending",
		"type=record": "records/vigil:one",
		"rule_name[]=AlwaysPending&rule_name[]=vigil:one": "alerts/AlwaysPending records/vigil:one",
		"rule_group[]=records":                            "records/vigil:one",
		"file[]=vigil.hcl":                                "alerts/AlwaysFiring alerts/AlwaysPending records/vigil:one",
		"file[]=other.yml":                                "",
		`match[]={severity="page"}`:                       "alerts/AlwaysFiring",
		"type=record&rule_group[]=alerts":                 "",
	} {
		q, _ := url.ParseQuery(params)
		if got := names(rulesOf(q)); got != want {
			t.Errorf("%s: %q, want %q", params, got, want)
		}
	}

	groups := rulesOf(url.Values{"rule_name[]": {"AlwaysFiring"}})
	g := groups[0]
	if g.File != "vigil.hcl" || g.Interval != 0.1 || g.Limit != 10 || g.EvaluationTime == nil || g.LastEvaluation == nil {
		t.Errorf("group: %+v", g)
	}
	var rule map[string]any
	if err := json.Unmarshal(g.Rules[0], &rule); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"state", "name", "query", "duration", "keepFiringFor", "labels", "annotations", "alerts", "health", "evaluationTime", "lastEvaluation", "type"} {
		if _, ok := rule[field]; !ok {
			t.Errorf("alerting rule lacks %q: %v", field, rule)
		}
	}
	if rule["type"] != "alerting" || rule["keepFiringFor"] != 60.0 {
		t.Errorf("alerting rule: %v", rule)
	}
	alert := rule["alerts"].([]any)[0].(map[string]any)
	for _, field := range []string{"labels", "annotations", "state", "activeAt", "value"} {
		if _, ok := alert[field]; !ok {
			t.Errorf("alert lacks %q: %v", field, alert)
		}
	}
	if _, ok := alert["keepFiringSince"]; ok {
		t.Errorf("an alert that still fires has keepFiringSince: %v", alert)
	}

	if err := json.Unmarshal(rulesOf(url.Values{"rule_name[]": {"AlwaysFiring"}, "exclude_alerts": {"true"}})[0].Rules[0], &rule); err != nil {
		t.Fatal(err)
	}
	if rule["alerts"] != nil {
		t.Errorf("exclude_alerts=true still lists alerts: %v", rule["alerts"])
	}

	for _, params := range []url.Values{{"type": {"alerts"}}, {"exclude_alerts": {"maybe"}}, {"match[]": {"{"}}} {
		if status, r := get(t, srv, "/api/v1/rules", params); status != http.StatusBadRequest || r.ErrorType != "bad_data" {
			t.Errorf("%v: %d %s", params, status, r.ErrorType)
		}
	}
}

// TestRulesPagination pages through the rule groups with group_limit and
// group_next_token, as Prometheus does, and refuses bad parameters.
func TestRulesPagination(t *testing.T) {
	srv := newRulesServer(t)
	page := func(params url.Values) (names []string, token string) {
		t.Helper()
		status, r := get(t, srv, "/api/v1/rules", params)
		if status != http.StatusOK {
			t.Fatalf("%v: %d %s", params, status, r.Error)
		}
		var data struct {
			Groups []struct {
				Name string `json:"name"`
			} `json:"groups"`
			GroupNextToken string `json:"groupNextToken"`
		}
		if err := json.Unmarshal(r.Data, &data); err != nil {
			t.Fatal(err)
		}
		for _, g := range data.Groups {
			names = append(names, g.Name)
		}
		return names, data.GroupNextToken
	}
	first, token := page(url.Values{"group_limit": {"1"}})
	if !slices.Equal(first, []string{"alerts"}) || token == "" {
		t.Fatalf("first page %v, token %q", first, token)
	}
	second, last := page(url.Values{"group_limit": {"1"}, "group_next_token": {token}})
	if !slices.Equal(second, []string{"records"}) || last != "" {
		t.Fatalf("second page %v, token %q", second, last)
	}
	if all, token := page(url.Values{"group_limit": {"5"}}); len(all) != 2 || token != "" {
		t.Fatalf("one page of all: %v, token %q", all, token)
	}
	for _, params := range []url.Values{
		{"group_limit": {"0"}}, {"group_limit": {"x"}}, {"group_next_token": {token}},
		{"group_limit": {"1"}, "group_next_token": {"not-a-group"}},
	} {
		if status, r := get(t, srv, "/api/v1/rules", params); status != http.StatusBadRequest || r.ErrorType != "bad_data" {
			t.Errorf("%v: %d %s", params, status, r.ErrorType)
		}
	}
}

func TestRulesAndAlertsWithoutRules(t *testing.T) {
	srv := newTestServer(t)
	for path, want := range map[string]string{"/api/v1/rules": `{"groups":[]}`, "/api/v1/alerts": `{"alerts":[]}`} {
		if status, r := get(t, srv, path, nil); status != http.StatusOK || string(r.Data) != want {
			t.Errorf("%s: %d %s", path, status, r.Data)
		}
	}
}

// TestAlertmanagersWithClientGolang lists the external Alertmanagers
// through client_golang's AlertManagers call; without any the lists are
// empty, not null.
func TestAlertmanagersWithClientGolang(t *testing.T) {
	for _, urls := range [][]string{nil, {"http://127.0.0.1:9093/api/v2/alerts", "https://am.example.com/am/api/v2/alerts"}} {
		mux := http.NewServeMux()
		src := Sources{}
		if urls != nil {
			src.Alertmanagers = func() []string { return urls }
		}
		New(src).Register(mux)
		srv := httptest.NewServer(mux)
		client, err := promapi.NewClient(promapi.Config{Address: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		res, err := v1.NewAPI(client).AlertManagers(context.Background())
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, am := range res.Active {
			got = append(got, am.URL)
		}
		if !slices.Equal(got, urls) || res.Dropped == nil || len(res.Dropped) != 0 {
			t.Errorf("alertmanagers %+v, want %v", res, urls)
		}
	}
}
