package alert

import (
	"errors"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

func TestParseMatchers(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`severity="page"`, `{severity="page"}`},
		{`severity=page`, `{severity="page"}`},
		{`alertname=~"Disk.*"`, `{alertname=~"Disk.*"}`},
		{`env!="dev"`, `{env!="dev"}`},
		{`team!~"a|b"`, `{team!~"a|b"}`},
		{`{a="b", c=~"d"}`, `{a="b",c=~"d"}`},
		{`"foo.bar"="x"`, `{"foo.bar"="x"}`},
		{`a="q\"uote"`, `{a="q\"uote"}`},
	} {
		ms, err := ParseMatchers(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got := FormatMatchers(ms); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in     string
		column int
	}{
		{`severity`, 9},
		{`a=~"("`, 4},
		{`{a="b"`, 7},
		{`foo.bar=x`, 1},
	} {
		_, err := ParseMatchers(tc.in)
		var me *MatcherError
		if !errors.As(err, &me) || me.Column != tc.column || me.Input != tc.in {
			t.Errorf("%s: error %v, want one at column %d", tc.in, err, tc.column)
		}
	}
}

func TestMatchesAll(t *testing.T) {
	ms, err := ParseMatchers(`{env!="dev", team=""}`)
	if err != nil {
		t.Fatal(err)
	}
	if !MatchesAll(ms, labels.FromStrings("env", "prod")) {
		t.Error("a missing label matches the empty value")
	}
	if MatchesAll(ms, labels.FromStrings("env", "dev")) || MatchesAll(ms, labels.FromStrings("team", "x")) {
		t.Error("matched")
	}
}
