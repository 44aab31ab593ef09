package hclconfig

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestAlertmanagerYAML checks the Alertmanager configuration rendered
// for amtool: every route, matcher, inhibit rule and time interval in
// Alertmanager's shape, a child route writing only what it does not
// inherit, and a receiver for each notifier block.
func TestAlertmanagerYAML(t *testing.T) {
	for name, tc := range map[string]struct {
		src, want string
	}{
		"alerting": {`
plugin "p" { source = "p" }
notifier "team" { plugin = "p" }
notifier "oncall" { plugin = "p" }
notifier "db" { plugin = "p" }
global { resolve_timeout = "10m" }
time_interval "offhours" {
  times {
    start_time = "17:00"
    end_time   = "24:00"
  }
  weekdays = ["monday:friday", "sunday"]
  location = "Europe/Berlin"
}
time_interval "holidays" {
  days_of_month = ["1:5", "-1"]
  months        = ["january:march", "12"]
  years         = ["2026:2027"]
}
time_interval "always" {}
route {
  receiver       = "team"
  group_by       = ["alertname", "job"]
  group_interval = "10m"
  route {
    receiver            = "oncall"
    matchers            = ["severity=\"page\""]
    group_wait          = "0s"
    continue            = true
    mute_time_intervals = ["holidays"]
    route {
      matchers              = ["{service=~\"db.*\", team=storage}"]
      receiver              = "db"
      group_by              = ["..."]
      active_time_intervals = ["offhours", "always"]
    }
  }
  route {
    matchers        = ["env!=dev"]
    group_by        = ["alertname", "job"]
    repeat_interval = "1h"
  }
}
inhibit {
  source_matchers = ["severity=\"critical\""]
  target_matchers = ["severity=~\"warning|info\""]
  equal           = ["alertname"]
}
`, `global:
  resolve_timeout: 10m
route:
  receiver: team
  group_by: [alertname, job]
  group_wait: 30s
  group_interval: 10m
  repeat_interval: 4h
  routes:
    - receiver: oncall
      matchers:
        - severity="page"
      continue: true
      mute_time_intervals:
        - holidays
      group_wait: 0s
      routes:
        - receiver: db
          group_by: ['...']
          matchers:
            - service=~"db.*"
            - team="storage"
          active_time_intervals:
            - offhours
            - always
    - matchers:
        - env!="dev"
      repeat_interval: 1h
inhibit_rules:
  - source_matchers:
      - severity="critical"
    target_matchers:
      - severity=~"warning|info"
    equal:
      - alertname
receivers:
  - name: team
  - name: oncall
  - name: db
time_intervals:
  - name: offhours
    time_intervals:
      - times:
          - start_time: "17:00"
            end_time: "24:00"
        weekdays: ['monday:friday', sunday]
        location: Europe/Berlin
  - name: holidays
    time_intervals:
      - days_of_month: ["1:5", "-1"]
        months: ['january:march', december]
        years: ['2026:2027']
  - name: always
    time_intervals:
      - {}
`},
		"no route": {`
plugin "p" { source = "p" }
notifier "team" { plugin = "p" }
`, `global:
  resolve_timeout: 5m
receivers:
  - name: team
`},
		"nothing": {``, `global:
  resolve_timeout: 5m
receivers: []
`},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, diags := Parse("alerting.hcl", []byte(tc.src))
			if diags.HasErrors() {
				t.Fatal(diagText(diags))
			}
			got, err := cfg.AlertmanagerYAML()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("Alertmanager YAML (-want +got):\n%s", diff)
			}
		})
	}
}
