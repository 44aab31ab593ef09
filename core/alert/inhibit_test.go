package alert

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

func TestInhibited(t *testing.T) {
	cfg := routeConfig(t, `
inhibit {
  source_matchers = ["severity=critical"]
  target_matchers = ["severity=warning"]
  equal           = ["cluster"]
}
inhibit {
  source_matchers = ["alertname=ClusterDown"]
  target_matchers = ["alertname=~\".*\""]
  equal           = ["cluster", "zone"]
}
`)
	in := NewInhibitor(cfg.Inhibits)
	ls := labels.FromStrings
	for _, tc := range []struct {
		name   string
		target labels.Labels
		firing []labels.Labels
		want   bool
	}{
		{"no firing alerts", ls("severity", "warning", "cluster", "a"), nil, false},
		{"source with equal labels", ls("severity", "warning", "cluster", "a"),
			[]labels.Labels{ls("severity", "critical", "cluster", "a")}, true},
		{"equal labels differ", ls("severity", "warning", "cluster", "a"),
			[]labels.Labels{ls("severity", "critical", "cluster", "b")}, false},
		{"missing on both counts as equal", ls("severity", "warning"),
			[]labels.Labels{ls("severity", "critical")}, true},
		{"missing on one side is not equal", ls("severity", "warning", "cluster", "a"),
			[]labels.Labels{ls("severity", "critical")}, false},
		{"target matchers do not match", ls("severity", "info", "cluster", "a"),
			[]labels.Labels{ls("severity", "critical", "cluster", "a")}, false},
		{"source matchers do not match", ls("severity", "warning", "cluster", "a"),
			[]labels.Labels{ls("severity", "warning", "cluster", "a")}, false},
		{"an alert does not inhibit itself", ls("alertname", "ClusterDown", "cluster", "a"),
			[]labels.Labels{ls("alertname", "ClusterDown", "cluster", "a")}, false},
		{"nor a peer matching both sides", ls("alertname", "ClusterDown", "cluster", "a", "zone", "z"),
			[]labels.Labels{ls("alertname", "ClusterDown", "cluster", "a", "zone", "z", "instance", "2")}, false},
		{"the source inhibits other alerts", ls("alertname", "NodeDown", "cluster", "a"),
			[]labels.Labels{ls("alertname", "ClusterDown", "cluster", "a")}, true},
		{"second rule with two equal labels", ls("alertname", "NodeDown", "cluster", "a", "zone", "z1"),
			[]labels.Labels{ls("alertname", "ClusterDown", "cluster", "a", "zone", "z2")}, false},
		{"any firing alert will do", ls("severity", "warning", "cluster", "a"),
			[]labels.Labels{ls("severity", "critical", "cluster", "b"), ls("severity", "critical", "cluster", "a")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := in.Inhibited(tc.target, tc.firing); got != tc.want {
				t.Fatalf("inhibited %v, want %v", got, tc.want)
			}
		})
	}
	if NewInhibitor(nil).Inhibited(ls("a", "b"), []labels.Labels{ls("a", "b")}) {
		t.Fatal("no rules inhibit")
	}
}
