package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// ruleNames returns the rules the server evaluates, as file:group/rule.
func ruleNames(t *testing.T, prom v1.API) []string {
	t.Helper()
	res, err := prom.Rules(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range res.Groups {
		for _, r := range g.Rules {
			name := ""
			switch r := r.(type) {
			case v1.AlertingRule:
				name = r.Name
			case v1.RecordingRule:
				name = r.Name
			}
			out = append(out, filepath.Base(g.File)+":"+g.Name+"/"+name)
		}
	}
	return out
}

func TestServerEvaluatesRules(t *testing.T) {
	fixture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintln(w, "fixture_value 1")
	}))
	defer fixture.Close()

	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A Prometheus rule file, as it is.
	if err := os.WriteFile(filepath.Join(dir, "rules", "fixture.yml"), []byte(`groups:
  - name: fixture
    rules:
      - alert: FixtureDown
        expr: up{job="fixture"} == 0
        for: 1m
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "vigil.hcl")
	writeConfig := func(alerts string) {
		cfg := fmt.Sprintf(`server {
  data_dir = %q
}

global {
  evaluation_interval = "1s"
}

rule_files = ["rules/*.yml"]

scrape "fixture" {
  targets         = [%q]
  scrape_interval = "1s"
  scrape_timeout  = "1s"
}

rules "vigil" {
  record "job:up:sum" {
    expr = "sum by (job) (up)"
  }
%s}
`, filepath.Join(dir, "data"), strings.TrimPrefix(fixture.URL, "http://"), alerts)
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig(`
  alert "AlwaysFiring" {
    expr        = "vector(1)"
    for         = "0s"
    labels      = { severity = "none" }
    annotations = { summary = "It always fires." }
  }
`)
	srv := startServer(t, "--config", cfgPath)
	prom := srv.api(t)
	ctx := context.Background()

	waitFor(t, "AlwaysFiring in /api/v1/alerts", func() bool {
		alerts, err := prom.Alerts(ctx)
		return err == nil && len(alerts.Alerts) == 1 && alerts.Alerts[0].Labels["alertname"] == "AlwaysFiring" &&
			alerts.Alerts[0].State == v1.AlertStateFiring && alerts.Alerts[0].Annotations["summary"] == "It always fires."
	})
	waitFor(t, "the recorded job:up:sum", func() bool {
		v, ok := queryValue(t, prom, `job:up:sum{job="fixture"}`)
		return ok && v == 1
	})
	// ALERTS are written once the state of alerts has been restored, after
	// the second evaluation, as Prometheus does.
	waitFor(t, "ALERTS of AlwaysFiring", func() bool {
		v, ok := queryValue(t, prom, `ALERTS{alertname="AlwaysFiring", alertstate="firing"}`)
		return ok && v == 1
	})
	if got, want := strings.Join(ruleNames(t, prom), " "), "fixture.yml:fixture/FixtureDown vigil.hcl:vigil/job:up:sum vigil.hcl:vigil/AlwaysFiring"; got != want {
		t.Errorf("rules: %s, want %s", got, want)
	}
	res, err := prom.Rules(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range res.Groups {
		if g.Interval != 1 {
			t.Errorf("group %s: interval %v, want the global evaluation_interval", g.Name, g.Interval)
		}
		for _, r := range g.Rules {
			if ar, ok := r.(v1.AlertingRule); ok && ar.Name == "AlwaysFiring" && (ar.State != "firing" || ar.Health != v1.RuleHealthGood) {
				t.Errorf("AlwaysFiring: %+v", ar)
			}
		}
	}
	if cfg, err := prom.Config(ctx); err != nil || !strings.Contains(cfg.YAML, `alert "AlwaysFiring"`) {
		t.Errorf("status/config lacks the rules: %v", err)
	}

	// A reload without the alert drops it.
	writeConfig("")
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rules of the new configuration", func() bool {
		return strings.Join(ruleNames(t, prom), " ") == "fixture.yml:fixture/FixtureDown vigil.hcl:vigil/job:up:sum"
	})
	if alerts, err := prom.Alerts(ctx); err != nil || len(alerts.Alerts) != 0 {
		t.Errorf("alerts after the reload: %+v, %v", alerts, err)
	}

	srv.stop(t)
}
