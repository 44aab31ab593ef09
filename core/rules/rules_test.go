package rules

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"go.uber.org/goleak"

	"github.com/vigilmon/vigil/core/alert"
	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/testfixture"
)

// TestMain checks that a stopped manager leaves no goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// parseConfig decodes src as the file vigil.hcl in dir.
func parseConfig(t *testing.T, dir, src string) *hclconfig.Config {
	t.Helper()
	cfg, diags := hclconfig.Parse(filepath.Join(dir, "vigil.hcl"), []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return cfg
}

// newManager returns a manager over store, stopped when the test ends
// (before the store closes, whose cleanup came first).
func newManager(t *testing.T, store Storage, engine promql.QueryEngine) *Manager {
	t.Helper()
	m, _ := newNotifyingManager(t, store, engine)
	return m
}

// newNotifyingManager is newManager with a function that returns the
// alerts the rules sent, oldest first.
func newNotifyingManager(t *testing.T, store Storage, engine promql.QueryEngine) (*Manager, func() []*alert.Alert) {
	t.Helper()
	var mu sync.Mutex
	var sent []*alert.Alert
	m := New(Options{Store: store, Engine: engine, ExternalURL: &url.URL{Scheme: "http", Host: "127.0.0.1:9090"},
		Notify: func(alerts []*alert.Alert) {
			mu.Lock()
			sent = append(sent, alerts...)
			mu.Unlock()
		}})
	return m, func() []*alert.Alert {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(sent)
	}
}

// waitFor polls cond every 20ms for at most 15s.
// runManager runs m until the test ends; the function it returns ends it
// sooner and waits for Run to return.
func runManager(t *testing.T, m *Manager) (stop func()) {
	t.Helper()
	return testfixture.Run(t, m.Run)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// instant runs expr at ts and returns its result by the series' labels.
func instant(t *testing.T, engine promql.QueryEngine, store Storage, expr string, ts time.Time) map[string]float64 {
	t.Helper()
	vec, err := rules.EngineQueryFunc(engine, store)(context.Background(), expr, ts)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	out := map[string]float64{}
	for _, s := range vec {
		out[s.Metric.String()] = s.F
	}
	return out
}

// alertingRule returns the alerting rule named name.
func alertingRule(t *testing.T, m *Manager, name string) *rules.AlertingRule {
	t.Helper()
	for _, r := range m.AlertingRules() {
		if r.Name() == name {
			return r
		}
	}
	t.Fatalf("no alerting rule %q", name)
	return nil
}

// TestRecordingRuleWritesItsSeries records a sum with the labels of the
// rule and of its group, the rule's winning.
func TestRecordingRuleWritesItsSeries(t *testing.T) {
	db, engine := testfixture.Store(t), testfixture.Engine(t)
	now := time.Now().UnixMilli()
	testfixture.AppendEvery(t, db, now-time.Minute.Milliseconds(), now, 10_000, func(int, int64) float64 { return 1 },
		labels.FromStrings("__name__", "up", "job", "a", "instance", "1"),
		labels.FromStrings("__name__", "up", "job", "a", "instance", "2"),
		labels.FromStrings("__name__", "up", "job", "b", "instance", "3"))
	m := newManager(t, db, engine)
	cfg := parseConfig(t, t.TempDir(), `
rules "up" {
  interval = "100ms"
  labels   = { team = "infra", source = "group" }
  record "job:up:sum" {
    expr   = "sum by (job) (up)"
    labels = { source = "vigil" }
  }
}`)
	if err := m.ApplyConfig(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	runManager(t, m)
	want := map[string]float64{
		`{__name__="job:up:sum", job="a", source="vigil", team="infra"}`: 2,
		`{__name__="job:up:sum", job="b", source="vigil", team="infra"}`: 1,
	}
	waitFor(t, "the recorded series", func() bool {
		got := instant(t, engine, db, "job:up:sum", time.Now())
		return fmt.Sprint(got) == fmt.Sprint(want)
	})
	g := m.RuleGroups()[0]
	if g.Name() != "up" || g.File() != cfg.File || g.Interval() != 100*time.Millisecond {
		t.Errorf("group %s in %s every %s", g.Name(), g.File(), g.Interval())
	}
	if r := g.Rules()[0]; r.Health() != rules.HealthGood || r.LastError() != nil {
		t.Errorf("rule health %s, error %v", r.Health(), r.LastError())
	}
}

// TestRulesReadQueryable records from Options.Queryable, such as the
// store merged with remote stores, into Store: up is only in the former.
func TestRulesReadQueryable(t *testing.T) {
	db, other, engine := testfixture.Store(t), testfixture.Store(t), testfixture.Engine(t)
	now := time.Now().UnixMilli()
	testfixture.AppendEvery(t, other, now-time.Minute.Milliseconds(), now, 10_000, func(int, int64) float64 { return 1 },
		labels.FromStrings("__name__", "up", "job", "a", "instance", "1"))
	m := New(Options{Store: db, Queryable: other, Engine: engine})
	cfg := parseConfig(t, t.TempDir(), `
rules "up" {
  interval = "100ms"
  record "job:up:sum" { expr = "sum by (job) (up)" }
}`)
	if err := m.ApplyConfig(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	runManager(t, m)
	waitFor(t, "the series recorded from the queryable", func() bool {
		return fmt.Sprint(instant(t, engine, db, "job:up:sum", time.Now())) == fmt.Sprint(map[string]float64{`{__name__="job:up:sum", job="a"}`: 1})
	})
}

// evalGroups loads cfg's groups without running them, so that a test
// evaluates them at the times it chooses. The alerting rules count as
// restored: they write ALERTS from the first evaluation.
func evalGroups(t *testing.T, m *Manager, cfg *hclconfig.Config, start time.Time) []*rules.Group {
	t.Helper()
	m.loader.setConfigGroups(cfg.File, cfg.RuleGroups)
	groups, errs := m.manager.LoadGroups(cfg.Global.EvaluationInterval, labels.EmptyLabels(), m.externalURL, nil, false, cfg.File)
	if errs != nil {
		t.Fatal(errs)
	}
	var out []*rules.Group
	for _, g := range groups {
		g.RestoreForState(start)
		out = append(out, g)
	}
	return out
}

func TestAlertGoesPendingFiresAndResolves(t *testing.T) {
	db, engine := testfixture.Store(t), testfixture.Engine(t)
	base := time.Unix(1_700_000_000, 0).UTC()
	at := func(d time.Duration) time.Time { return base.Add(d) }
	// The load is high from 1m to 6m.
	testfixture.AppendEvery(t, db, base.UnixMilli(), at(20*time.Minute).UnixMilli(), 15_000, func(_ int, ts int64) float64 {
		if ts >= at(time.Minute).UnixMilli() && ts < at(6*time.Minute).UnixMilli() {
			return 1
		}
		return 0
	}, labels.FromStrings("__name__", "vigil_test_load", "instance", "a"))
	m, sentAlerts := newNotifyingManager(t, db, engine)
	cfg := parseConfig(t, t.TempDir(), `
rules "load" {
  interval = "30s"
  alert "HighLoad" {
    expr            = "vigil_test_load > 0.5"
    for             = "2m"
    keep_firing_for = "3m"
    labels          = { severity = "page" }
    annotations     = { summary = "load {{ $value }} on {{ $labels.instance }}" }
  }
}`)
	g := evalGroups(t, m, cfg, base)[0]
	rule := g.Rules()[0].(*rules.AlertingRule)

	type step struct {
		state    rules.AlertState
		activeAt time.Time // of the one alert, when there is one
	}
	want := map[time.Duration]step{
		0:                 {rules.StateInactive, time.Time{}},
		60 * time.Second:  {rules.StatePending, at(time.Minute)},
		150 * time.Second: {rules.StatePending, at(time.Minute)},
		180 * time.Second: {rules.StateFiring, at(time.Minute)},
		360 * time.Second: {rules.StateFiring, at(time.Minute)}, // the load is low: kept firing
		510 * time.Second: {rules.StateFiring, at(time.Minute)},
		540 * time.Second: {rules.StateInactive, time.Time{}}, // resolved after keep_firing_for
		630 * time.Second: {rules.StateInactive, time.Time{}},
	}
	for d := time.Duration(0); d <= 11*time.Minute; d += 30 * time.Second {
		g.Eval(context.Background(), at(d))
		w, check := want[d]
		if !check {
			continue
		}
		var activeAt time.Time
		if alerts := rule.ActiveAlerts(); len(alerts) == 1 {
			activeAt = alerts[0].ActiveAt
		}
		if rule.State() != w.state || !activeAt.Equal(w.activeAt) {
			t.Errorf("at %s: %s active since %v, want %s since %v", d, rule.State(), activeAt, w.state, w.activeAt)
		}
	}
	if rule.Health() != rules.HealthGood {
		t.Errorf("rule health %s: %v", rule.Health(), rule.LastError())
	}

	series := `{__name__="ALERTS", alertname="HighLoad", alertstate="%s", instance="a", severity="page"}`
	if got := instant(t, engine, db, "ALERTS", at(2*time.Minute)); fmt.Sprint(got) != fmt.Sprint(map[string]float64{fmt.Sprintf(series, "pending"): 1}) {
		t.Errorf("ALERTS while pending: %v", got)
	}
	if got := instant(t, engine, db, "ALERTS", at(7*time.Minute)); fmt.Sprint(got) != fmt.Sprint(map[string]float64{fmt.Sprintf(series, "firing"): 1}) {
		t.Errorf("ALERTS while firing: %v", got)
	}
	if got := instant(t, engine, db, "ALERTS", at(10*time.Minute)); len(got) != 0 {
		t.Errorf("ALERTS once resolved: %v", got)
	}
	forState := `{__name__="ALERTS_FOR_STATE", alertname="HighLoad", instance="a", severity="page"}`
	if got := instant(t, engine, db, "ALERTS_FOR_STATE", at(4*time.Minute)); got[forState] != float64(at(time.Minute).Unix()) {
		t.Errorf("ALERTS_FOR_STATE: %v, want the time it went active", got)
	}

	sent := sentAlerts()
	if len(sent) == 0 {
		t.Fatal("no alert was sent")
	}
	first, last := sent[0], sent[len(sent)-1]
	if first.Labels.Get("alertname") != "HighLoad" || !first.StartsAt.Equal(at(3*time.Minute)) || first.Annotations.Get("summary") != "load 1 on a" ||
		!strings.HasPrefix(first.GeneratorURL, "http://127.0.0.1:9090/graph?g0.expr=") {
		t.Errorf("first sent: %v", first)
	}
	if !last.EndsAt.Equal(at(9 * time.Minute)) {
		t.Errorf("last sent ends at %v, want the time it resolved", last.EndsAt)
	}
}

func TestAlertStateRestoredAfterRestart(t *testing.T) {
	dir := t.TempDir()
	engine := testfixture.Engine(t)
	cfg := parseConfig(t, t.TempDir(), `
rules "restore" {
  interval = "100ms"
  alert "Firing" {
    expr = "vector(1)"
    for  = "1s"
  }
  alert "Pending" {
    expr = "vector(1)"
    for  = "1h"
  }
}`)
	open := func() *tsdb.DB {
		db, err := tsdb.Open(dir, tsdb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	activeAt := func(m *Manager, name string) (time.Time, rules.AlertState) {
		alerts := alertingRule(t, m, name).ActiveAlerts()
		if len(alerts) != 1 {
			return time.Time{}, rules.StateInactive
		}
		return alerts[0].ActiveAt, alerts[0].State
	}

	db := open()
	m := New(Options{Store: db, Engine: engine})
	if err := m.ApplyConfig(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	stop := runManager(t, m)
	waitFor(t, "Firing to fire and Pending to be pending 2.5s", func() bool {
		_, firing := activeAt(m, "Firing")
		pendingSince, pending := activeAt(m, "Pending")
		return firing == rules.StateFiring && pending == rules.StatePending && time.Since(pendingSince) > 2500*time.Millisecond
	})
	firedActiveAt, _ := activeAt(m, "Firing")
	stop()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = open()
	defer db.Close()
	restart := time.Now()
	m = New(Options{Store: db, Engine: engine})
	if err := m.ApplyConfig(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	defer runManager(t, m)() // before the store closes
	// The restore comes after the second evaluation; until then the alert
	// counts as new. Its ALERTS_FOR_STATE holds seconds.
	waitFor(t, "Firing firing since before the restart", func() bool {
		since, state := activeAt(m, "Firing")
		return state == rules.StateFiring && since.Unix() == firedActiveAt.Unix()
	})
	// Pending's hold is longer than the grace period: its clock went on
	// from where it was, the downtime added, as Prometheus does; it did not
	// start again at the restart.
	if since, state := activeAt(m, "Pending"); state != rules.StatePending || !since.Before(restart) {
		t.Errorf("Pending: %s since %v, restarted at %v", state, since, restart)
	}
}

func TestPrometheusRuleFileLoads(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("testdata/prometheus-docs.yml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "rules", "docs.yml")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, testfixture.Store(t), testfixture.Engine(t))
	cfg := parseConfig(t, dir, `
global {
  evaluation_interval = "20s"
}

rule_files = ["rules/*.yml"]

rules "hcl" {
  record "job:up:sum" {
    expr = "sum by (job) (up)"
  }
}`)
	if err := m.ApplyConfig(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	runManager(t, m) // the groups wait for Run, and end with it
	var got []string
	for _, g := range m.RuleGroups() {
		var names []string
		for _, r := range g.Rules() {
			names = append(names, r.Name())
		}
		got = append(got, fmt.Sprintf("%s %s %s %v", filepath.Base(g.File()), g.Name(), g.Interval(), names))
	}
	want := []string{
		"docs.yml example 20s [code:prometheus_http_requests_total:sum]",
		"docs.yml latency 20s [HighRequestLatency]",
		"docs.yml templating 20s [InstanceDown APIHighRequestLatency]",
		"vigil.hcl hcl 20s [job:up:sum]",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("groups:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	latency := alertingRule(t, m, "HighRequestLatency")
	if latency.HoldDuration() != 10*time.Minute || latency.KeepFiringFor() != 5*time.Minute ||
		latency.Labels().Get("team") != "myteam" || latency.Labels().Get("severity") != "page" {
		t.Errorf("HighRequestLatency: for %s, keep_firing_for %s, labels %s", latency.HoldDuration(), latency.KeepFiringFor(), latency.Labels())
	}
}

func TestApplyConfigReloadsGroups(t *testing.T) {
	db, engine := testfixture.Store(t), testfixture.Engine(t)
	m := newManager(t, db, engine)
	dir := t.TempDir()
	first := parseConfig(t, dir, `
rules "kept" {
  interval = "100ms"
  alert "Always" {
    expr = "vector(1)"
  }
}

rules "changed" {
  record "one" {
    expr = "vector(1)"
  }
}

rules "removed" {
  record "two" {
    expr = "vector(2)"
  }
}`)
	if err := m.ApplyConfig(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	runManager(t, m)
	waitFor(t, "the alert to fire", func() bool { return alertingRule(t, m, "Always").State() == rules.StateFiring })
	kept := m.RuleGroups()[1]

	second := parseConfig(t, dir, `
rules "kept" {
  interval = "100ms"
  alert "Always" {
    expr = "vector(1)"
  }
}

rules "changed" {
  record "one" {
    expr = "vector(11)"
  }
}

rules "added" {
  record "three" {
    expr = "vector(3)"
  }
}`)
	if err := m.ApplyConfig(t.Context(), second); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range m.RuleGroups() {
		got = append(got, g.Name()+": "+g.Rules()[0].Query().String())
	}
	if want := []string{"added: vector(3)", "changed: vector(11)", "kept: vector(1)"}; !slices.Equal(got, want) {
		t.Fatalf("groups after the reload: %v, want %v", got, want)
	}
	if m.RuleGroups()[2] != kept || alertingRule(t, m, "Always").State() != rules.StateFiring {
		t.Error("an unchanged group did not keep its state")
	}

	// A rule file that went bad after the configuration was checked: the
	// rules in effect stay.
	if err := os.WriteFile(filepath.Join(dir, "bad.yml"), []byte("groups:\n  - name: bad\n    rules:\n      - record: x\n        expr: sum(\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second.RuleFiles = []string{filepath.Join(dir, "*.yml")}
	if err := m.ApplyConfig(t.Context(), second); err == nil || !strings.Contains(err.Error(), "cannot apply the rules") {
		t.Fatalf("a bad rule file was applied: %v", err)
	}
	if len(m.RuleGroups()) != 3 {
		t.Errorf("groups after a refused reload: %d", len(m.RuleGroups()))
	}
}
