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

// TestInhibitedAlertmanagerRules checks Inhibited with the two rules and
// the two firing source alerts of Alertmanager's TestInhibitRuleMatches,
// and then with its TestInhibitRuleMatchers variant whose first rule has a
// negative target matcher: a target is inhibited by a rule whose target
// matchers it matches, through a source with its equal labels; a target
// that also matches the source matchers is not inhibited by sources that
// match the target matchers too.
func TestInhibitedAlertmanagerRules(t *testing.T) {
	type inhibitCase struct {
		target labels.Labels
		want   bool
	}
	ls := labels.FromStrings
	firing := []labels.Labels{
		ls("s1", "1", "t1", "2", "e", "1"), // the source side of rule 1 only
		ls("s2", "1", "t2", "1", "e", "1"), // both sides of rule 2
	}
	for _, rules := range []struct {
		name, target1 string
		cases         []inhibitCase
	}{
		{"equality targets", `t1=1`, []inhibitCase{
			{ls("t1", "1", "e", "1"), true},
			{ls("t2", "1", "e", "1"), true},
			{ls("t1", "1", "t3", "1", "e", "1"), true},
			{ls("t1", "1", "t2", "1", "e", "1"), true},
			{ls("t1", "0", "e", "1"), false},
			{ls("s1", "1", "t1", "1", "e", "1"), true},
			{ls("s2", "1", "t2", "1", "e", "1"), false},
			{ls("t1", "1", "e", "0"), false},
		}},
		{"negative target of rule 1", `t1!=1`, []inhibitCase{
			{ls("t1", "1", "e", "1"), false},
			{ls("t2", "1", "e", "1"), true},
			{ls("t1", "1", "t3", "1", "e", "1"), false},
			{ls("t1", "1", "t2", "1", "e", "1"), true},
			{ls("t1", "0", "e", "1"), true},
			{ls("s1", "1", "t1", "1", "e", "1"), false},
			{ls("s2", "1", "t2", "1", "e", "1"), true},
			{ls("t1", "1", "e", "0"), false},
		}},
	} {
		cfg := routeConfig(t, `
inhibit {
  source_matchers = ["s1=1"]
  target_matchers = ["`+rules.target1+`"]
  equal           = ["e"]
}
inhibit {
  source_matchers = ["s2=\"1\""]
  target_matchers = ["t2=\"1\""]
  equal           = ["e"]
}
`)
		in := NewInhibitor(cfg.Inhibits)
		for _, tc := range rules.cases {
			if got := in.Inhibited(tc.target, firing); got != tc.want {
				t.Errorf("%s: %s inhibited %v, want %v", rules.name, tc.target, got, tc.want)
			}
		}
	}
}

// TestInhibitedAlertmanagerEqual checks the source alerts that count, as
// Alertmanager's TestInhibitRuleHasEqual and
// TestInhibitRuleTwoSidedDoesNotShadow do: none firing inhibits nothing;
// without equal labels any source will do; the equal labels must have the
// same values, a label missing on both sides counting as equal; with rules
// without source matchers every alert is a source, and when the target
// matches both sides a source matching both is skipped but a later one
// matching only the source side still inhibits, and Source names it.
func TestInhibitedAlertmanagerEqual(t *testing.T) {
	ls := labels.FromStrings
	for _, tc := range []struct {
		name    string
		rule    string
		target  labels.Labels
		firing  []labels.Labels
		want    bool
		wantIdx int
	}{
		{"no source alerts", `source_matchers = ["s=1"]`, ls("a", "b"), nil, false, 0},
		{"no equal labels: any source", `source_matchers = ["s=1"]`, ls("a", "b"),
			[]labels.Labels{ls("s", "1")}, true, 0},
		{"a non-source alert does not count", `source_matchers = ["s=1"]`, ls("a", "b"),
			[]labels.Labels{ls("s", "2")}, false, 0},
		{"equal label matches", `
source_matchers = ["s=1"]
equal = ["a"]`, ls("a", "b"),
			[]labels.Labels{ls("s", "1", "a", "c"), ls("s", "1", "a", "b", "c", "f")}, true, 1},
		{"equal label differs", `
source_matchers = ["s=1"]
equal = ["a"]`, ls("a", "b"),
			[]labels.Labels{ls("s", "1", "a", "c", "c", "d"), ls("s", "1", "a", "c", "c", "f")}, false, 0},
		{"two equal labels, one missing on both", `
source_matchers = ["s=1"]
equal = ["a", "b"]`, ls("a", "x"),
			[]labels.Labels{ls("s", "1", "a", "x")}, true, 0},
		{"two equal labels, one missing on the source", `
source_matchers = ["s=1"]
equal = ["a", "b"]`, ls("a", "x", "b", "y"),
			[]labels.Labels{ls("s", "1", "a", "x")}, false, 0},
		{"regex source matchers", `
source_matchers = ["severity=~\"critical|page\""]
target_matchers = ["severity=~\"warn.*\""]
equal = ["cluster"]`, ls("severity", "warning", "cluster", "c1"),
			[]labels.Labels{ls("severity", "info", "cluster", "c1"), ls("severity", "page", "cluster", "c1")}, true, 1},
		{"source-only alert inhibits after a two-sided one", `
target_matchers = ["t=1"]
equal = ["e"]`, ls("s", "1", "t", "1", "e", "1"),
			[]labels.Labels{ls("s", "1", "t", "1", "e", "1"), ls("s", "1", "e", "1")}, true, 1},
		{"two-sided does not shadow", `
target_matchers = ["severity=warning"]
equal = ["cluster"]`, ls("alertname", "T", "cluster", "c1", "severity", "warning"),
			[]labels.Labels{
				ls("alertname", "S2", "cluster", "c1", "severity", "warning"),
				ls("alertname", "S1", "cluster", "c1", "severity", "critical"),
			}, true, 1},
		{"only two-sided sources", `
target_matchers = ["severity=warning"]
equal = ["cluster"]`, ls("alertname", "T", "cluster", "c1", "severity", "warning"),
			[]labels.Labels{ls("alertname", "S2", "cluster", "c1", "severity", "warning")}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := NewInhibitor(routeConfig(t, "inhibit {\n"+tc.rule+"\n}\n").Inhibits)
			idx, ok := in.Source(tc.target, tc.firing)
			if ok != tc.want || (ok && idx != tc.wantIdx) {
				t.Fatalf("source %d, %v; want %d, %v", idx, ok, tc.wantIdx, tc.want)
			}
			if got := in.Inhibited(tc.target, tc.firing); got != tc.want {
				t.Fatalf("inhibited %v, want %v", got, tc.want)
			}
		})
	}
}
