package discovery

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilmon/vigil/sdk"
)

func TestDecodeJSON(t *testing.T) {
	groups, err := DecodeJSON([]byte(`[
		{"targets": ["127.0.0.1:9100", "db:5432"], "labels": {"env": "prod", "ünïcode": "ok"}},
		{"targets": []},
		{"labels": {"only": "labels"}}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	want := []*StaticGroup{
		{Targets: []string{"127.0.0.1:9100", "db:5432"}, Labels: map[string]string{"env": "prod", "ünïcode": "ok"}},
		{Targets: []string{}},
		{Labels: map[string]string{"only": "labels"}},
	}
	if d := cmp.Diff(want, groups); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}

	for name, tc := range map[string]struct{ in, err string }{
		"not a list":       {`{"targets": []}`, "not a JSON list"},
		"syntax":           {`[{"targets": [}]`, "not a JSON list"},
		"null group":       {`[{"targets": ["a:1"]}, null]`, "target group 1 is null"},
		"unknown field":    {`[{"targets": ["a:1"], "label": {}}]`, `unknown field "label"`},
		"target not str":   {`[{"targets": [1]}]`, "target group 0"},
		"label not str":    {`[{"targets": ["a:1"], "labels": {"a": 1}}]`, "target group 0"},
		"url target":       {`[{"targets": ["http://a:1/metrics"]}]`, "not a valid host:port"},
		"empty target":     {`[{"targets": [""]}]`, "empty"},
		"empty label name": {`[{"targets": ["a:1"], "labels": {"": "x"}}]`, `"" is not a valid label name`},
	} {
		if _, err := DecodeJSON([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want one containing %q", name, err, tc.err)
		}
	}
	if groups, err := DecodeJSON([]byte(`[]`)); err != nil || len(groups) != 0 {
		t.Errorf("an empty list: %v, %v", groups, err)
	}
}

func TestCheckAll(t *testing.T) {
	if err := CheckAll([]*StaticGroup{{Targets: []string{"a:1"}}, nil}); err == nil || !strings.Contains(err.Error(), "target group 1 is null") {
		t.Errorf("a nil group: %v", err)
	}
	if err := CheckAll([]*StaticGroup{{Labels: map[string]string{"a": "\xff"}}}); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("a value that is not UTF-8: %v", err)
	}
}

func TestTargetGroups(t *testing.T) {
	got := TargetGroups("f.json", []*StaticGroup{
		{Targets: []string{"a:1", "b:2"}, Labels: map[string]string{"env": "x", "__meta_filepath": "spoofed"}},
		{},
	}, map[string]string{"__meta_filepath": "f.json"})
	want := []sdk.TargetGroup{
		{Source: "f.json:0", Labels: map[string]string{"env": "x", "__meta_filepath": "f.json"},
			Targets: []map[string]string{{"__address__": "a:1"}, {"__address__": "b:2"}}},
		{Source: "f.json:1", Labels: map[string]string{"__meta_filepath": "f.json"}, Targets: []map[string]string{}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}
}

func group(source string, addrs ...string) sdk.TargetGroup {
	g := sdk.TargetGroup{Source: source, Labels: map[string]string{"l": "v"}}
	for _, a := range addrs {
		g.Targets = append(g.Targets, map[string]string{AddressLabel: a})
	}
	return g
}

func TestTracker(t *testing.T) {
	var tr Tracker
	set := func(origin string, groups ...sdk.TargetGroup) func() []sdk.TargetGroup {
		return func() []sdk.TargetGroup { return tr.Set(origin, groups) }
	}
	drop := func(origin string) func() []sdk.TargetGroup {
		return func() []sdk.TargetGroup { return tr.Drop(origin) }
	}
	steps := []struct {
		name    string
		do      func() []sdk.TargetGroup
		want    []sdk.TargetGroup
		origins []string
	}{
		{"first set sends all", set("a", group("a:0", "x:1"), group("a:1", "y:1")),
			[]sdk.TargetGroup{group("a:0", "x:1"), group("a:1", "y:1")}, []string{"a"}},
		{"unchanged sends nothing", set("a", group("a:0", "x:1"), group("a:1", "y:1")),
			nil, []string{"a"}},
		{"another origin", set("b", group("b:0", "z:1")),
			[]sdk.TargetGroup{group("b:0", "z:1")}, []string{"a", "b"}},
		{"a change and a vanished group", set("a", group("a:0", "x:2")),
			[]sdk.TargetGroup{group("a:0", "x:2"), {Source: "a:1"}}, []string{"a", "b"}},
		{"no groups left", set("a"),
			[]sdk.TargetGroup{{Source: "a:0"}}, []string{"a", "b"}},
		{"drop", drop("b"),
			[]sdk.TargetGroup{{Source: "b:0"}}, []string{"a"}},
		{"drop unknown", drop("c"),
			nil, []string{"a"}},
	}
	for _, s := range steps {
		if d := cmp.Diff(s.want, s.do()); d != "" {
			t.Errorf("%s: update (-want +got):\n%s", s.name, d)
		}
		if d := cmp.Diff(s.origins, tr.Origins()); d != "" {
			t.Errorf("%s: origins (-want +got):\n%s", s.name, d)
		}
	}
}

func TestEqual(t *testing.T) {
	a := sdk.TargetGroup{Source: "s", Labels: map[string]string{}}
	if !Equal(a, sdk.TargetGroup{Source: "s"}) {
		t.Error("a nil map differs from an empty one")
	}
	if Equal(group("s", "a:1", "b:1"), group("s", "b:1", "a:1")) {
		t.Error("targets in another order are equal")
	}
	if Equal(group("s", "a:1"), group("t", "a:1")) {
		t.Error("groups of other sources are equal")
	}
}
