package alert

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/hclconfig"
)

// routeConfig loads a configuration with the notifiers a, b, c, d and the
// given route, inhibit and time_interval blocks.
func routeConfig(t *testing.T, blocks string) *hclconfig.Config {
	t.Helper()
	cfg, diags := hclconfig.Parse("alert.hcl", []byte(`plugin "p" { source = "p" }
notifier "a" { plugin = "p" }
notifier "b" { plugin = "p" }
notifier "c" { plugin = "p" }
notifier "d" { plugin = "p" }
`+blocks))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return cfg
}

func routeTree(t *testing.T, blocks string) *Route {
	t.Helper()
	r, err := NewRoute(routeConfig(t, blocks))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const routeTreeConfig = `
route {
  receiver = "a"
  group_by = ["alertname"]

  route {
    matchers = ["owner=team-A"]
    receiver = "b"
    group_by = ["alertname", "job"]

    route {
      matchers = ["env=\"prod\""]
      receiver = "c"
      group_wait = "1m"
    }
  }

  route {
    matchers = ["owner=team-B"]
    receiver = "d"
    continue = true
  }

  route {
    matchers = ["{owner=~\"team-.*\", severity=page}"]
    receiver = "c"
    group_by = ["..."]
  }

  route {
    matchers = ["owner=team-A"]
    receiver = "d"
  }
}
`

func TestRouteMatch(t *testing.T) {
	root := routeTree(t, routeTreeConfig)
	for _, tc := range []struct {
		name string
		lset labels.Labels
		want []string // IDs
	}{
		{"no child matches: the root", labels.FromStrings("owner", "nobody"),
			[]string{`{}`}},
		{"first match wins", labels.FromStrings("owner", "team-A"),
			[]string{`{}/{owner="team-A"}/0`}},
		{"depth first", labels.FromStrings("owner", "team-A", "env", "prod"),
			[]string{`{}/{owner="team-A"}/0/{env="prod"}/0`}},
		{"continue goes on to the next match", labels.FromStrings("owner", "team-B", "severity", "page"),
			[]string{`{}/{owner="team-B"}/1`, `{}/{owner=~"team-.*",severity="page"}/2`}},
		{"continue with no later match", labels.FromStrings("owner", "team-B"),
			[]string{`{}/{owner="team-B"}/1`}},
		{"a match without continue stops before later siblings", labels.FromStrings("owner", "team-A", "severity", "page"),
			[]string{`{}/{owner="team-A"}/0`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range root.Match(tc.lset) {
				got = append(got, r.ID())
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRouteInheritsAndKeys(t *testing.T) {
	root := routeTree(t, routeTreeConfig)
	prod := root.Routes[0].Routes[0]
	if prod.Receiver != "c" || !slices.Equal(prod.GroupBy, []string{"alertname", "job"}) || prod.GroupWait != time.Minute ||
		prod.GroupInterval != hclconfig.DefaultGroupInterval || prod.RepeatInterval != hclconfig.DefaultRepeatInterval {
		t.Fatalf("inherited options: %+v", prod)
	}
	if got := prod.Key(); got != `{}/{owner="team-A"}/{env="prod"}` {
		t.Errorf("key %s", got)
	}
	// Siblings with the same matchers share a key, not an ID.
	if a, b := root.Routes[0], root.Routes[3]; a.Key() != b.Key() || a.ID() == b.ID() {
		t.Errorf("keys %s %s, IDs %s %s", a.Key(), b.Key(), a.ID(), b.ID())
	}
	if root.Key() != "{}" || root.ID() != "{}" {
		t.Errorf("root key %s, ID %s", root.Key(), root.ID())
	}
	var ids []string
	root.Walk(func(r *Route) { ids = append(ids, r.ID()) })
	if len(ids) != 6 || ids[2] != `{}/{owner="team-A"}/0/{env="prod"}/0` {
		t.Errorf("walk: %q", ids)
	}
}

func TestRouteGroupLabels(t *testing.T) {
	root := routeTree(t, routeTreeConfig)
	lset := labels.FromStrings("alertname", "DiskFull", "job", "node", "owner", "team-A", "instance", "h1")
	for _, tc := range []struct {
		route *Route
		want  string
	}{
		{root, `{alertname="DiskFull"}`},
		{root.Routes[0], `{alertname="DiskFull", job="node"}`},
		{root.Routes[2], `{alertname="DiskFull", instance="h1", job="node", owner="team-A"}`},
	} {
		if got := tc.route.GroupLabels(lset).String(); got != tc.want {
			t.Errorf("%s: group labels %s, want %s", tc.route.ID(), got, tc.want)
		}
	}
	if got := root.Routes[0].GroupKey(lset); got != `{}/{owner="team-A"}:{alertname="DiskFull", job="node"}` {
		t.Errorf("group key %s", got)
	}
	// A missing group_by label is left out.
	if got := root.Routes[0].GroupLabels(labels.FromStrings("job", "x")).String(); got != `{job="x"}` {
		t.Errorf("missing label: %s", got)
	}
	if none, err := NewRoute(routeConfig(t, "")); none != nil || err != nil {
		t.Errorf("no route block: %v, %v", none, err)
	}
}

func TestRouteMuted(t *testing.T) {
	root := routeTree(t, `
time_interval "night" {
  times {
    start_time = "00:00"
    end_time   = "06:00"
  }
}
time_interval "weekdays" {
  weekdays = ["monday:friday"]
}
time_interval "weekends" {
  weekdays = ["saturday", "sunday"]
}
route {
  receiver = "a"
  route {
    matchers            = ["x=1"]
    mute_time_intervals = ["night"]
  }
  route {
    matchers              = ["x=2"]
    active_time_intervals = ["weekends"]
  }
  route {
    matchers              = ["x=3"]
    mute_time_intervals   = ["night"]
    active_time_intervals = ["weekdays"]
  }
}`)
	monNight := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC) // a Monday
	monDay := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	satDay := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		route *Route
		t     time.Time
		want  bool
	}{
		{root, monNight, false},
		{root.Routes[0], monNight, true},
		{root.Routes[0], monDay, false},
		{root.Routes[1], monDay, true},
		{root.Routes[1], satDay, false},
		{root.Routes[2], monNight, true},
		{root.Routes[2], monDay, false},
		{root.Routes[2], satDay, true},
	} {
		if got := tc.route.Muted(tc.t); got != tc.want {
			t.Errorf("%s at %s: muted %v, want %v", tc.route.ID(), tc.t, got, tc.want)
		}
	}
	// Children do not inherit the intervals.
	if len(root.MuteTimeIntervals) != 0 || len(root.Routes[0].MuteTimeIntervals) != 1 {
		t.Errorf("intervals: %+v", root)
	}
}

func TestNewRouteUnknownInterval(t *testing.T) {
	cfg := routeConfig(t, `route { receiver = "a" }`)
	cfg.Route.Routes = []*hclconfig.Route{{Receiver: "a", MuteTimeIntervals: []string{"gone"}}}
	if _, err := NewRoute(cfg); err == nil {
		t.Fatal("an unknown interval was accepted")
	}
}
