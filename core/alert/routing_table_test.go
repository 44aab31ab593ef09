package alert

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/hclconfig"
)

// amRouteConfig loads a configuration with a notifier for each receiver of
// Alertmanager's routing tests and the given blocks.
func amRouteConfig(t *testing.T, blocks string) *hclconfig.Config {
	t.Helper()
	src := `plugin "p" { source = "p" }` + "\n"
	for _, n := range []string{
		"notify-def", "notify-A", "notify-testing", "notify-productionA", "notify-productionB", "notify-BC",
		"default", "test1", "test2", "test3",
	} {
		src += `notifier "` + n + `" { plugin = "p" }` + "\n"
	}
	cfg, diags := hclconfig.Parse("alert.hcl", []byte(src+blocks))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return cfg
}

func amRouteTree(t *testing.T, blocks string) *Route {
	t.Helper()
	r, err := NewRoute(amRouteConfig(t, blocks))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// amRoutingTree is the tree of Alertmanager's TestRouteMatchers, its YAML
// routes written as route blocks with the same matchers.
const amRoutingTree = `
route {
  receiver = "notify-def"

  route {
    matchers = ["{owner=\"team-A\"}", "{level!=\"critical\"}"]
    receiver = "notify-A"

    route {
      matchers = ["{env=\"testing\"}", "{baz!~\".*quux\"}"]
      receiver = "notify-testing"
      group_by = ["..."]
    }

    route {
      matchers   = ["{env=\"production\"}"]
      receiver   = "notify-productionA"
      group_wait = "1m"
      continue   = true
    }

    route {
      matchers        = ["env=~\"produ.*\"", "job=~\".*\""]
      receiver        = "notify-productionB"
      group_wait      = "30s"
      group_interval  = "5m"
      repeat_interval = "1h"
      group_by        = ["job"]
    }
  }

  route {
    matchers   = ["owner=~\"team-(B|C)\""]
    group_by   = ["foo", "bar"]
    group_wait = "2m"
    receiver   = "notify-BC"
  }

  route {
    matchers = ["group_by=\"role\""]
    group_by = ["role"]

    route {
      matchers = ["{env=\"testing\"}"]
      receiver = "notify-testing"

      route {
        matchers   = ["wait=\"long\""]
        group_wait = "2m"
      }
    }
  }
}
`

// routeOpts is what a matched route must hold, as Alertmanager's RouteOpts.
type routeOpts struct {
	receiver       string
	groupBy        []string // in any order
	groupByAll     bool
	groupWait      time.Duration
	groupInterval  time.Duration
	repeatInterval time.Duration
	key            string
}

// defaultOpts are Alertmanager's DefaultRouteOpts with a receiver and key.
func defaultOpts(receiver, key string) routeOpts {
	return routeOpts{
		receiver:       receiver,
		groupWait:      30 * time.Second,
		groupInterval:  5 * time.Minute,
		repeatInterval: 4 * time.Hour,
		key:            key,
	}
}

func (o routeOpts) with(f func(*routeOpts)) routeOpts {
	f(&o)
	return o
}

func optsOf(r *Route) routeOpts {
	gb := slices.Clone(r.GroupBy)
	slices.Sort(gb)
	return routeOpts{
		receiver:       r.Receiver,
		groupBy:        gb,
		groupByAll:     r.GroupByAll,
		groupWait:      r.GroupWait,
		groupInterval:  r.GroupInterval,
		repeatInterval: r.RepeatInterval,
		key:            r.Key(),
	}
}

func sameOpts(a, b routeOpts) bool {
	ga, gb := slices.Clone(a.groupBy), slices.Clone(b.groupBy)
	slices.Sort(ga)
	slices.Sort(gb)
	return a.receiver == b.receiver && slices.Equal(ga, gb) && a.groupByAll == b.groupByAll &&
		a.groupWait == b.groupWait && a.groupInterval == b.groupInterval && a.repeatInterval == b.repeatInterval &&
		a.key == b.key
}

// TestRoutingTableAlertmanager checks that the routing tree of
// Alertmanager's TestRouteMatchers, written as route blocks, sends each
// label set to the same routes, in the same order, with the same receiver,
// grouping, timings and route key as Alertmanager does: the cases of that
// test first, then more that exercise continue, fallthrough to the parent
// or the root, anchored and negative regular expressions, negative
// equality, group_by ["..."] and inheritance down three levels.
func TestRoutingTableAlertmanager(t *testing.T) {
	root := amRouteTree(t, amRoutingTree)

	const (
		keyA     = `{}/{level!="critical",owner="team-A"}`
		keyTest  = keyA + `/{baz!~".*quux",env="testing"}`
		keyProdA = keyA + `/{env="production"}`
		keyProdB = keyA + `/{env=~"produ.*",job=~".*"}`
		keyBC    = `{}/{owner=~"team-(B|C)"}`
		keyRole  = `{}/{group_by="role"}`
		keyRoleT = keyRole + `/{env="testing"}`
		keyRoleW = keyRoleT + `/{wait="long"}`
	)
	var (
		def   = defaultOpts("notify-def", "{}")
		optsA = defaultOpts("notify-A", keyA)
		test  = defaultOpts("notify-testing", keyTest).with(func(o *routeOpts) { o.groupByAll = true })
		prodA = defaultOpts("notify-productionA", keyProdA).with(func(o *routeOpts) { o.groupWait = time.Minute })
		prodB = defaultOpts("notify-productionB", keyProdB).with(func(o *routeOpts) {
			o.groupBy, o.repeatInterval = []string{"job"}, time.Hour
		})
		bc = defaultOpts("notify-BC", keyBC).with(func(o *routeOpts) {
			o.groupBy, o.groupWait = []string{"foo", "bar"}, 2*time.Minute
		})
		role  = defaultOpts("notify-def", keyRole).with(func(o *routeOpts) { o.groupBy = []string{"role"} })
		roleT = defaultOpts("notify-testing", keyRoleT).with(func(o *routeOpts) { o.groupBy = []string{"role"} })
		roleW = roleT.with(func(o *routeOpts) { o.key, o.groupWait = keyRoleW, 2*time.Minute })
	)

	ls := labels.FromStrings
	for _, tc := range []struct {
		name string
		lset labels.Labels
		want []routeOpts
	}{
		// The cases of Alertmanager's TestRouteMatchers.
		{"team-A alone stays on its route", ls("owner", "team-A"), []routeOpts{optsA}},
		{"an env no child takes stays on the parent", ls("owner", "team-A", "env", "unset"), []routeOpts{optsA}},
		{"regex route with its own grouping", ls("owner", "team-C"), []routeOpts{bc}},
		{"group_by ... below team-A", ls("owner", "team-A", "env", "testing"), []routeOpts{test}},
		{"continue reaches the next sibling", ls("owner", "team-A", "env", "production"), []routeOpts{prodA, prodB}},
		{"a route without receiver inherits the root's", ls("group_by", "role"), []routeOpts{role}},
		{"group_by inherited by a child", ls("env", "testing", "group_by", "role"), []routeOpts{roleT}},
		{"three levels of inheritance", ls("env", "testing", "group_by", "role", "wait", "long"), []routeOpts{roleW}},

		// More cases, their results worked out by Alertmanager's rules.
		{"no route matches: the root", ls("owner", "team-D"), []routeOpts{def}},
		{"no labels: the root", labels.EmptyLabels(), []routeOpts{def}},
		{"negative matcher fails: the root", ls("owner", "team-A", "level", "critical"), []routeOpts{def}},
		{"negative matcher passes on another value", ls("owner", "team-A", "level", "warning"), []routeOpts{optsA}},
		{"negative regex fails: the parent", ls("owner", "team-A", "env", "testing", "baz", "fooquux"), []routeOpts{optsA}},
		{"negative regex passes", ls("owner", "team-A", "env", "testing", "baz", "quuxfoo"), []routeOpts{test}},
		{"regexes are anchored: a prefix is no match", ls("owner", "team-BC"), []routeOpts{def}},
		{"regexes are anchored: a substring is no match", ls("owner", "xteam-B"), []routeOpts{def}},
		{"regex alternative", ls("owner", "team-B"), []routeOpts{bc}},
		{"the regex child alone", ls("owner", "team-A", "env", "production-eu", "job", "api"), []routeOpts{prodB}},
		{"a regex short of its match", ls("owner", "team-A", "env", "prod"), []routeOpts{optsA}},
		{"continue with more labels", ls("owner", "team-A", "env", "production", "job", "api", "level", "info"), []routeOpts{prodA, prodB}},
		{"a match without continue ends the search", ls("owner", "team-C", "group_by", "role", "env", "testing"), []routeOpts{bc}},
		{"a later sibling when the first does not match", ls("owner", "team-A", "level", "critical", "group_by", "role", "env", "testing"), []routeOpts{roleT}},
		{"a leaf's matcher fails: its parent", ls("env", "testing", "group_by", "role", "wait", "short"), []routeOpts{roleT}},
		{"label values are case-sensitive", ls("owner", "Team-A"), []routeOpts{def}},
		{"label names are case-sensitive", ls("Owner", "team-A"), []routeOpts{def}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []routeOpts
			for _, r := range root.Match(tc.lset) {
				got = append(got, optsOf(r))
			}
			if !slices.EqualFunc(got, tc.want, sameOpts) {
				t.Fatalf("routes of %s:\n got %+v\nwant %+v", tc.lset, got, tc.want)
			}
		})
	}
}

// TestRoutingTableWalk checks that Walk visits the routes of
// Alertmanager's routing tree depth-first in order, with the receivers
// Alertmanager's TestRouteWalk expects, inherited ones included.
func TestRoutingTableWalk(t *testing.T) {
	root := amRouteTree(t, amRoutingTree)
	want := []string{
		"notify-def", "notify-A", "notify-testing", "notify-productionA", "notify-productionB",
		"notify-BC", "notify-def", "notify-testing", "notify-testing",
	}
	var got []string
	root.Walk(func(r *Route) { got = append(got, r.Receiver) })
	if !slices.Equal(got, want) {
		t.Fatalf("walk: got %q, want %q", got, want)
	}
}

// TestRoutingTableIDs checks the route IDs of Alertmanager's TestRouteID
// tree: siblings with the same matchers share a key and are told apart
// by their index, at every level, regex and negative matchers included.
func TestRoutingTableIDs(t *testing.T) {
	root := amRouteTree(t, `
route {
  receiver = "default"
  route {
    continue = true
    matchers = ["foo=bar"]
    receiver = "test1"
    route { matchers = ["bar=baz"] }
  }
  route {
    continue = true
    matchers = ["foo=bar"]
    receiver = "test1"
    route { matchers = ["bar=baz"] }
  }
  route {
    continue = true
    matchers = ["foo=bar"]
    receiver = "test2"
    route { matchers = ["bar=baz"] }
  }
  route {
    continue = true
    matchers = ["bar=baz"]
    receiver = "test3"
    route { matchers = ["baz=qux"] }
    route { matchers = ["qux=corge"] }
  }
  route {
    continue = true
    matchers = ["qux=~\"[a-zA-Z0-9]+\""]
  }
  route {
    continue = true
    matchers = ["corge!~\"[0-9]+\""]
  }
}`)
	want := []string{
		`{}`,
		`{}/{foo="bar"}/0`,
		`{}/{foo="bar"}/0/{bar="baz"}/0`,
		`{}/{foo="bar"}/1`,
		`{}/{foo="bar"}/1/{bar="baz"}/0`,
		`{}/{foo="bar"}/2`,
		`{}/{foo="bar"}/2/{bar="baz"}/0`,
		`{}/{bar="baz"}/3`,
		`{}/{bar="baz"}/3/{baz="qux"}/0`,
		`{}/{bar="baz"}/3/{qux="corge"}/1`,
		`{}/{qux=~"[a-zA-Z0-9]+"}/4`,
		`{}/{corge!~"[0-9]+"}/5`,
	}
	var got []string
	root.Walk(func(r *Route) { got = append(got, r.ID()) })
	if !slices.Equal(got, want) {
		t.Fatalf("IDs:\n got %q\nwant %q", got, want)
	}

	// Every route continues: an alert goes everywhere it matches, in
	// order, the deepest matching route of each branch standing for it.
	ls := labels.FromStrings
	for _, tc := range []struct {
		lset labels.Labels
		want []string
	}{
		{ls("foo", "bar"), []string{
			`{}/{foo="bar"}/0`, `{}/{foo="bar"}/1`, `{}/{foo="bar"}/2`, `{}/{corge!~"[0-9]+"}/5`,
		}},
		{ls("foo", "bar", "bar", "baz"), []string{
			`{}/{foo="bar"}/0/{bar="baz"}/0`, `{}/{foo="bar"}/1/{bar="baz"}/0`, `{}/{foo="bar"}/2/{bar="baz"}/0`,
			`{}/{bar="baz"}/3`, `{}/{corge!~"[0-9]+"}/5`,
		}},
		{ls("bar", "baz", "baz", "qux", "qux", "corge"), []string{
			// The first child of route 3 has no continue: the second is not tried.
			`{}/{bar="baz"}/3/{baz="qux"}/0`, `{}/{qux=~"[a-zA-Z0-9]+"}/4`, `{}/{corge!~"[0-9]+"}/5`,
		}},
		{ls("corge", "42"), []string{`{}`}},
		{ls("corge", "x42", "qux", "a-b"), []string{`{}/{corge!~"[0-9]+"}/5`}},
	} {
		var got []string
		for _, r := range root.Match(tc.lset) {
			got = append(got, r.ID())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("routes of %s:\n got %q\nwant %q", tc.lset, got, tc.want)
		}
	}
}

// TestRoutingTableGroupByAllInheritance checks group_by inheritance as
// Alertmanager's TestInheritParentGroupByAll does: a child inherits
// group_by ["..."] unless it sets its own group_by, and a child of a route
// with a list may switch to ["..."]; and that the group labels and keys
// follow.
func TestRoutingTableGroupByAllInheritance(t *testing.T) {
	root := amRouteTree(t, `
route {
  receiver = "notify-def"
  route {
    matchers = ["env=parent"]
    group_by = ["..."]
    route { matchers = ["env=child1"] }
    route {
      matchers = ["env=child2"]
      group_by = ["foo"]
      route {
        matchers = ["env=grandchild"]
        group_by = ["..."]
      }
    }
  }
}`)
	parent := root.Routes[0]
	child1, child2 := parent.Routes[0], parent.Routes[1]
	grandchild := child2.Routes[0]
	lset := labels.FromStrings("env", "x", "foo", "1", "bar", "2")
	for _, tc := range []struct {
		name       string
		route      *Route
		groupByAll bool
		groupBy    []string
		group      string
	}{
		{"root", root, false, nil, `{}`},
		{"parent", parent, true, nil, `{bar="2", env="x", foo="1"}`},
		{"child1 inherits ...", child1, true, nil, `{bar="2", env="x", foo="1"}`},
		{"child2 sets a list", child2, false, []string{"foo"}, `{foo="1"}`},
		{"grandchild sets ... again", grandchild, true, nil, `{bar="2", env="x", foo="1"}`},
	} {
		if tc.route.GroupByAll != tc.groupByAll || !slices.Equal(tc.route.GroupBy, tc.groupBy) {
			t.Errorf("%s: group_by %q, all %v; want %q, all %v", tc.name, tc.route.GroupBy, tc.route.GroupByAll, tc.groupBy, tc.groupByAll)
		}
		if got := tc.route.GroupLabels(lset).String(); got != tc.group {
			t.Errorf("%s: group labels %s, want %s", tc.name, got, tc.group)
		}
		if got, want := tc.route.GroupKey(lset), tc.route.Key()+":"+tc.group; got != want {
			t.Errorf("%s: group key %s, want %s", tc.name, got, want)
		}
	}
}

// TestRoutingTableMatcherOrder checks that a route's key lists its
// matchers as Alertmanager sorts them, by name, then value, then type,
// whatever their order in the configuration, so that group keys are the
// ones Alertmanager would make.
func TestRoutingTableMatcherOrder(t *testing.T) {
	for _, tc := range []struct {
		matchers string // the HCL list
		key      string
	}{
		{`["b=1", "a=2"]`, `{}/{a="2",b="1"}`},
		{`["{a=\"2\", b=\"1\"}"]`, `{}/{a="2",b="1"}`},
		// The same name: by value, then by type.
		{`["a!=y", "a=~\"x|y\""]`, `{}/{a=~"x|y",a!="y"}`},
		{`["a=~\"x|y\"", "a!=y"]`, `{}/{a=~"x|y",a!="y"}`},
		{`["a!~x", "a!=x", "a=~x", "a=x"]`, `{}/{a="x",a!="x",a=~"x",a!~"x"}`},
		{`["env!=dev", "env=~\"prod|staging\"", "env!~\"test.*\""]`, `{}/{env!="dev",env=~"prod|staging",env!~"test.*"}`},
	} {
		root := amRouteTree(t, `
route {
  receiver = "notify-def"
  route { matchers = `+tc.matchers+` }
}`)
		if got := root.Routes[0].Key(); got != tc.key {
			t.Errorf("%s: key %s, want %s", tc.matchers, got, tc.key)
		}
	}
}

// TestRoutingTableKeyFormat checks that route keys and group keys print
// matchers and labels byte for byte as Alertmanager's do (its
// labels.Matchers.String and model.LabelSet.String): UTF-8 label names
// are left unquoted unless they hold a space or one of {}!=~,\"'`, and
// values are escaped the same way. Notifiers see the group key, and some
// derive deduplication keys from it.
func TestRoutingTableKeyFormat(t *testing.T) {
	m := func(typ labels.MatchType, name, value string) *labels.Matcher {
		t.Helper()
		mm, err := labels.NewMatcher(typ, name, value)
		if err != nil {
			t.Fatal(err)
		}
		return mm
	}
	for _, tc := range []struct {
		name    string
		matcher *labels.Matcher
		groupBy []string
		lset    labels.Labels
		key     string
		group   string
	}{
		{"classic name", m(labels.MatchEqual, "job", "api"), []string{"job"},
			labels.FromStrings("job", "api"),
			`{}/{job="api"}`, `{}/{job="api"}:{job="api"}`},
		{"dotted name stays unquoted", m(labels.MatchEqual, "foo.bar", "x"), []string{"foo.bar"},
			labels.FromStrings("foo.bar", "x"),
			`{}/{foo.bar="x"}`, `{}/{foo.bar="x"}:{foo.bar="x"}`},
		{"non-ASCII name stays unquoted", m(labels.MatchRegexp, "ünï", "a|b"), []string{"ünï", "job"},
			labels.FromStrings("ünï", "a", "job", "j"),
			`{}/{ünï=~"a|b"}`, `{}/{ünï=~"a|b"}:{job="j", ünï="a"}`},
		{"name with a space is quoted", m(labels.MatchNotEqual, "foo bar", "x"), []string{"foo bar"},
			labels.FromStrings("foo bar", "y"),
			`{}/{"foo bar"!="x"}`, `{}/{"foo bar"!="x"}:{foo bar="y"}`},
		{"name with a quote is quoted", m(labels.MatchEqual, `a"b`, "x"), nil,
			labels.FromStrings(`a"b`, "x"),
			`{}/{"a\"b"="x"}`, `{}/{"a\"b"="x"}:{}`},
		{"value escapes", m(labels.MatchEqual, "msg", "say \"hi\"\\\n"), []string{"msg"},
			labels.FromStrings("msg", "say \"hi\"\\\n"),
			`{}/{msg="say \"hi\"\\\n"}`, `{}/{msg="say \"hi\"\\\n"}:{msg="say \"hi\"\\\n"}`},
		{"tab in a value: escaped only in the group labels", m(labels.MatchEqual, "msg", "a\tb"), []string{"msg"},
			labels.FromStrings("msg", "a\tb"),
			"{}/{msg=\"a\tb\"}", "{}/{msg=\"a\tb\"}:{msg=\"a\\tb\"}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := amRouteConfig(t, `route { receiver = "notify-def" }`)
			cfg.Route.Routes = []*hclconfig.Route{{
				Receiver: "notify-A", GroupBy: tc.groupBy, Matchers: []*labels.Matcher{tc.matcher},
			}}
			root, err := NewRoute(cfg)
			if err != nil {
				t.Fatal(err)
			}
			matched := root.Match(tc.lset)
			if len(matched) != 1 || matched[0] != root.Routes[0] {
				t.Fatalf("%s did not reach the route", tc.lset)
			}
			r := matched[0]
			if got := r.Key(); got != tc.key {
				t.Errorf("key %s, want %s", got, tc.key)
			}
			if got := r.ID(); got != tc.key+"/0" {
				t.Errorf("ID %s, want %s/0", got, tc.key)
			}
			if got := r.GroupKey(tc.lset); got != tc.group {
				t.Errorf("group key %s, want %s", got, tc.group)
			}
		})
	}
}
