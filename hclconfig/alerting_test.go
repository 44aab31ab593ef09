package hclconfig

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/internal/amatcher"
)

func TestAlertingConfig(t *testing.T) {
	cfg, diags := Load("testdata/alerting.good.hcl")
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	root := cfg.Route
	if root == nil || root.Receiver != "team" || !slices.Equal(root.GroupBy, []string{"alertname", "job"}) ||
		root.GroupWait != DefaultGroupWait || root.GroupInterval != 10*time.Minute || root.RepeatInterval != DefaultRepeatInterval {
		t.Fatalf("root route: %+v", root)
	}
	if len(root.Routes) != 2 {
		t.Fatalf("children: %d", len(root.Routes))
	}
	page, other := root.Routes[0], root.Routes[1]
	if page.Receiver != "oncall" || page.GroupWait != 0 || page.GroupInterval != 10*time.Minute || !page.Continue ||
		!slices.Equal(page.GroupBy, []string{"alertname", "job"}) || amatcher.FormatList(page.Matchers) != `{severity="page"}` ||
		!slices.Equal(page.MuteTimeIntervals, []string{"holidays"}) {
		t.Errorf("page route inherits and overrides: %+v", page)
	}
	db := page.Routes[0]
	if db.Receiver != "db" || !db.GroupByAll || db.GroupBy != nil || db.GroupWait != 0 || db.MuteTimeIntervals != nil ||
		amatcher.FormatList(db.Matchers) != `{service=~"db.*","k8s.io/team"="storage"}` {
		t.Errorf("db route: %+v", db)
	}
	if other.Receiver != "team" || other.RepeatInterval != time.Hour || other.GroupWait != DefaultGroupWait ||
		amatcher.FormatList(other.Matchers) != `{env!="dev",team!~"a|b"}` {
		t.Errorf("other route: %+v", other)
	}
	if len(cfg.Inhibits) != 2 || amatcher.FormatList(cfg.Inhibits[0].SourceMatchers) != `{severity="critical"}` ||
		amatcher.FormatList(cfg.Inhibits[0].TargetMatchers) != `{severity=~"warning|info"}` ||
		!slices.Equal(cfg.Inhibits[0].Equal, []string{"alertname", "cluster"}) {
		t.Errorf("inhibits: %+v", cfg.Inhibits)
	}
	if len(cfg.TimeIntervals) != 3 {
		t.Fatalf("time intervals: %+v", cfg.TimeIntervals)
	}
	off, hol := cfg.TimeIntervals[0], cfg.TimeIntervals[1]
	if off.Name != "offhours" || !slices.Equal(off.Times, []TimeRange{{0, 9 * 60}, {17 * 60, 24 * 60}}) ||
		!slices.Equal(off.Weekdays, []InclusiveRange{{1, 5}}) || off.Location.String() != "Europe/Berlin" {
		t.Errorf("offhours: %+v", off)
	}
	if !slices.Equal(hol.DaysOfMonth, []InclusiveRange{{1, 5}, {-1, -1}}) || !slices.Equal(hol.Months, []InclusiveRange{{1, 3}, {12, 12}}) ||
		!slices.Equal(hol.Years, []InclusiveRange{{2026, 2027}}) || hol.Location != nil {
		t.Errorf("holidays: %+v", hol)
	}
	// The routes are under the path of external_url, as in Prometheus.
	if cfg.Server.RoutePrefix != "/prefix" {
		t.Errorf("route_prefix %q, want the path of external_url, /prefix", cfg.Server.RoutePrefix)
	}
	if cfg.Server.ExternalURL.String() != "https://vigil.example.com/prefix" || cfg.Global.ResolveTimeout != 10*time.Minute || cfg.Global.MaxAlerts != 5000 {
		t.Errorf("external_url %v, resolve_timeout %v", cfg.Server.ExternalURL, cfg.Global.ResolveTimeout)
	}
	if !cfg.Notifiers[0].SendResolved || cfg.Notifiers[2].Name != "db" || cfg.Notifiers[2].SendResolved ||
		cfg.Notifiers[0].Timeout != DefaultNotifyTimeout || cfg.Notifiers[2].Timeout != 30*time.Second {
		t.Errorf("send_resolved defaults to true and is false for db, timeout defaults to 10s: %+v %+v %+v", cfg.Notifiers[0], cfg.Notifiers[1], cfg.Notifiers[2])
	}
	if len(cfg.Alertmanagers) != 2 || len(cfg.Alertmanagers[0].URLs) != 2 || cfg.Alertmanagers[0].Timeout != 5*time.Second ||
		cfg.Alertmanagers[0].URLs[1].Host != "am.example.com" || cfg.Alertmanagers[1].Timeout != DefaultAlertmanagerTimeout {
		t.Errorf("alertmanagers: %+v", cfg.Alertmanagers)
	}
}

func TestAlertingRendersBack(t *testing.T) {
	cfg, diags := Load("testdata/alerting.good.hcl")
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	text := cfg.HCL()
	for _, want := range []string{`route {`, `group_by              = ["..."]`, `matchers              = ["service=~\"db.*\"", "\"k8s.io/team\"=\"storage\""]`,
		`inhibit {`, `time_interval "offhours" {`, `start_time = "17:00"`, `weekdays = ["monday:friday"]`, `days_of_month = ["1:5", "-1"]`,
		`months        = ["january:march", "december"]`, `location = "Europe/Berlin"`, `send_resolved = false`,
		`external_url                   = "https://vigil.example.com/prefix"`, `resolve_timeout     = "10m"`,
		`urls             = ["http://127.0.0.1:9093", "https://user:xxxxx@am.example.com/am"]`} {
		if !strings.Contains(string(text), want) {
			t.Errorf("rendered config lacks %s:\n%s", want, text)
		}
	}
	again, diags := Parse("rendered.hcl", text)
	if diags.HasErrors() {
		t.Fatalf("the rendered config does not load:\n%s\n%s", diagText(diags), text)
	}
	if got := string(again.HCL()); got != string(text) {
		t.Fatalf("render is not stable:\n%s\nvs\n%s", got, text)
	}
}
