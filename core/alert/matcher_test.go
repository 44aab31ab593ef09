package alert

import (
	"errors"
	"fmt"
	"slices"
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

// matcherText prints a parsed matcher with its value in Go syntax, so
// that escapes and newlines show.
func matcherText(m *labels.Matcher) string {
	return fmt.Sprintf("%s%s%q", m.Name, m.Type, m.Value)
}

// TestParseMatchersAlertmanager checks ParseMatchers on the inputs of
// Alertmanager's parser tests (pkg/labels/parse_test.go, matcher/parse
// and the compat fallback parser its configuration uses) that Alertmanager
// accepts: braces or none, quoted or unquoted values, trailing commas,
// spaces, commas and braces inside quotes, escapes in quoted and unquoted
// values, quoted label names, and the regex and negative operators. Each
// case gives the name, operator and value of every matcher, in order.
func TestParseMatchersAlertmanager(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // matcherText of each matcher
	}{
		{`{}`, nil},
		{``, nil},
		{`{foo='}`, []string{`foo="'"`}},
		{"{foo=`}", []string{"foo=\"`\""}},
		{`{foo=\"}`, []string{`foo="\""`}},
		{`{foo=bar}`, []string{`foo="bar"`}},
		{`{foo="bar"}`, []string{`foo="bar"`}},
		{`{foo=~bar.*}`, []string{`foo=~"bar.*"`}},
		{`{foo=~"bar.*"}`, []string{`foo=~"bar.*"`}},
		{`{foo!=bar}`, []string{`foo!="bar"`}},
		{`{foo!="bar"}`, []string{`foo!="bar"`}},
		{`{foo!~bar.*}`, []string{`foo!~"bar.*"`}},
		{`{foo!~"bar.*"}`, []string{`foo!~"bar.*"`}},
		{`{foo="bar", baz!="quux"}`, []string{`foo="bar"`, `baz!="quux"`}},
		{`{foo="bar", baz!~"quux.*"}`, []string{`foo="bar"`, `baz!~"quux.*"`}},
		{`{foo="bar",baz!~".*quux", derp="wat"}`, []string{`foo="bar"`, `baz!~".*quux"`, `derp="wat"`}},
		{`{foo="bar", instance=~"some-api.*"}`, []string{`foo="bar"`, `instance=~"some-api.*"`}},
		{`{foo=""}`, []string{`foo=""`}},
		{`{foo="bar,quux", job="job1"}`, []string{`foo="bar,quux"`, `job="job1"`}},
		{`{foo = "bar", dings != "bums", }`, []string{`foo="bar"`, `dings!="bums"`}},
		{`foo=bar,dings!=bums`, []string{`foo="bar"`, `dings!="bums"`}},
		{`{quote="She said: \"Hi, ladies! That's gender-neutral…\""}`, []string{`quote="She said: \"Hi, ladies! That's gender-neutral…\""`}},
		{`statuscode=~"5.."`, []string{`statuscode=~"5.."`}},
		{`contains_quote != "\"" , contains_comma !~ "foo,bar" , `, []string{`contains_quote!="\""`, `contains_comma!~"foo,bar"`}},
		{`{foo=bar\t}`, []string{`foo="bar\\t"`}},
		{`{foo=bar\n}`, []string{`foo="bar\n"`}},
		{`{foo=bar\}`, []string{`foo="bar\\"`}},
		{`{foo=bar\\}`, []string{`foo="bar\\"`}},
		{`{foo=bar\"}`, []string{`foo="bar\""`}},
		{`job=`, []string{`job=""`}},
		{`foo=!bar\n`, []string{`foo="!bar\n"`}},
		{`{foo=!bar,bar=$baz\n}`, []string{`foo="!bar"`, `bar="$baz\n"`}},
		{`foo="\xf0\x9f\x99\x82"`, []string{`foo="\\xf0\\x9f\\x99\\x82"`}},
		{`{foo="bar\w"}`, []string{`foo="bar\\w"`}},
		{`{foo=🙂}`, []string{`foo="🙂"`}},
		{`{foo=🙂bar}`, []string{`foo="🙂bar"`}},
		{`{foo=bar,}`, []string{`foo="bar"`}},
		{`{foo=~[a-z]+}`, []string{`foo=~"[a-z]+"`}},
		{`{"foo"="bar"}`, []string{`foo="bar"`}},
		{`{"foo"!~"[a-z]+"}`, []string{`foo!~"[a-z]+"`}},
		{`"foo"="bar",`, []string{`foo="bar"`}},
		{`{"foo"="🙂"}`, []string{`foo="🙂"`}},
		{`{"foo"="bar\\"}`, []string{`foo="bar\\"`}},
		{`{"foo"="\"bar\""}`, []string{`foo="\"bar\""`}},
		{`{"foo.bar"="x", "ünï 2"!="y"}`, []string{`foo.bar="x"`, `ünï 2!="y"`}},
		{`foo:bar="x"`, []string{`foo:bar="x"`}},
		{`_x=~"(?i)abc"`, []string{`_x=~"(?i)abc"`}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			ms, err := ParseMatchers(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, matcherText(m))
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestParseMatchersAlertmanagerErrors checks that ParseMatchers refuses,
// with a *MatcherError naming the input, what Alertmanager's parsers both
// refuse: lone commas, unbalanced or misplaced quotes, invalid label
// names, bad regular expressions and doubly escaped strings.
func TestParseMatchersAlertmanagerErrors(t *testing.T) {
	for _, in := range []string{
		`,`,
		`{,}`,
		`job="value`,
		`job=value"`,
		`contains_unescaped_quote = foo"bar`,
		`{invalid-name = "valid label"}`,
		`{foo=~"invalid[regexp"}`,
		`"{foo=\"bar"}`,
		`"foo=\"bar"`,
		`"foo=\"bar\""`,
		`"foo=\"bar\"`,
		`"{foo=\"bar\"}"`,
		`"foo="bar""`,
		`{{foo=`,
		`foo!bar`,
		`{foo!bar}`,
		`{`,
		`}`,
		`{foo=:"bar"}`,
		`0foo="bar"`,
	} {
		t.Run(in, func(t *testing.T) {
			ms, err := ParseMatchers(in)
			var me *MatcherError
			if !errors.As(err, &me) || me.Input != in {
				t.Fatalf("got %v, %v; want a *MatcherError", FormatMatchers(ms), err)
			}
		})
	}
}

// TestParseMatchersStricterThanAlertmanager checks the inputs that
// Alertmanager's classic parser, which its configuration falls back to,
// reads loosely (a stray brace kept in the value, "==" read as "=" and a
// value starting with "=") and its UTF-8 parser refuses; and unquoted
// UTF-8 label names, which only the UTF-8 parser reads. We refuse them
// all, so that a typo is reported rather than read as a surprising
// matcher; each can be written in a form both read.
func TestParseMatchersStricterThanAlertmanager(t *testing.T) {
	for _, tc := range []struct{ in, instead string }{
		{`{foo=bar}}`, `{foo="bar}"}`},
		{`{foo=bar}},}`, `{foo="bar}}"}`},
		{`{foo=,bar=}}`, `{foo="",bar="}"}`},
		{`{foo=}b`, `{foo="}b"}`},
		{`tricky=~~~`, `tricky=~"~~"`},
		{`trickier==\\=\=\"`, `trickier="=\\=\\=\""`},
		{`{foo=`, `{foo=""}`},
		{`{foo=bar`, `{foo="bar"}`},
		{`foo=bar}`, `{foo="bar"}`},
		{`foo🙂=bar`, `"foo🙂"="bar"`},
		{`foo.bar=x`, `"foo.bar"="x"`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if ms, err := ParseMatchers(tc.in); err == nil {
				t.Fatalf("parsed as %s", FormatMatchers(ms))
			}
			if _, err := ParseMatchers(tc.instead); err != nil {
				t.Fatalf("the suggested form %s: %v", tc.instead, err)
			}
		})
	}
}

// TestMatchesAllAlertmanager checks how matchers match label sets, as
// Alertmanager's labels.Matchers.Matches does: a missing label has the
// empty value, so `foo=""` and negative matchers match it; regular
// expressions are anchored at both ends, are case-sensitive unless they
// say (?i), and "." does not match a newline; all matchers must match.
func TestMatchesAllAlertmanager(t *testing.T) {
	ls := labels.FromStrings
	for _, tc := range []struct {
		matchers string
		lset     labels.Labels
		want     bool
	}{
		{`{}`, ls("a", "b"), true},
		{`{}`, labels.EmptyLabels(), true},
		{`foo="bar"`, ls("foo", "bar"), true},
		{`foo="bar"`, ls("foo", "baz"), false},
		{`foo="bar"`, labels.EmptyLabels(), false},
		{`foo=""`, labels.EmptyLabels(), true},
		{`foo=""`, ls("other", "x"), true},
		{`foo=""`, ls("foo", "x"), false},
		{`foo!=""`, ls("foo", "x"), true},
		{`foo!=""`, labels.EmptyLabels(), false},
		{`foo!="bar"`, labels.EmptyLabels(), true},
		{`foo!="bar"`, ls("foo", "bar"), false},
		{`foo!="bar"`, ls("foo", "baz"), true},
		{`foo=~"bar.*"`, ls("foo", "barbaz"), true},
		{`foo=~"bar.*"`, ls("foo", "xbar"), false},
		{`foo=~"ba"`, ls("foo", "bar"), false},
		{`foo=~"a|b"`, ls("foo", "ab"), false},
		{`foo=~"a|b"`, ls("foo", "b"), true},
		{`foo=~".*"`, labels.EmptyLabels(), true},
		{`foo=~".+"`, labels.EmptyLabels(), false},
		{`foo=~"BAR"`, ls("foo", "bar"), false},
		{`foo=~"(?i)BAR"`, ls("foo", "bar"), true},
		{`foo!~"bar.*"`, ls("foo", "barbaz"), false},
		{`foo!~"bar.*"`, ls("foo", "xbar"), true},
		{`foo!~"bar.*"`, labels.EmptyLabels(), true},
		{`foo!~".+"`, labels.EmptyLabels(), true},
		{`foo!~".*"`, labels.EmptyLabels(), false},
		{`foo=~"a.b"`, ls("foo", "a\nb"), false},
		{`foo!~"a.b"`, ls("foo", "a\nb"), true},
		{`foo=~"a.*"`, ls("foo", "a\nb"), false},
		{`foo=~"a\nb"`, ls("foo", "a\nb"), true},
		{`foo=~"a[^x]b"`, ls("foo", "a\nb"), true},
		{`foo=~"(?s)a.b"`, ls("foo", "a\nb"), true},
		{`foo=~"a.b"`, ls("foo", "a-b"), true},
		{`foo=~"a\.b"`, ls("foo", "a-b"), false},
		{`foo=~"a\.b"`, ls("foo", "a.b"), true},
		{`foo="Bar"`, ls("foo", "bar"), false},
		{`Foo="bar"`, ls("foo", "bar"), false},
		{`{foo="bar", baz!="quux"}`, ls("foo", "bar"), true},
		{`{foo="bar", baz!="quux"}`, ls("foo", "bar", "baz", "quux"), false},
		{`{foo="bar", baz=~"q.*"}`, ls("foo", "bar", "baz", "quux"), true},
		{`{foo="bar", baz=~"q.*"}`, ls("foo", "bar"), false},
		{`{foo=~"a|b", foo!="a"}`, ls("foo", "b"), true},
		{`{foo=~"a|b", foo!="a"}`, ls("foo", "a"), false},
		{`"foo.bar"="x"`, ls("foo.bar", "x"), true},
		{`"foo.bar"="x"`, ls("foo_bar", "x"), false},
	} {
		ms, err := ParseMatchers(tc.matchers)
		if err != nil {
			t.Fatalf("%s: %v", tc.matchers, err)
		}
		if got := MatchesAll(ms, tc.lset); got != tc.want {
			t.Errorf("%s on %s: %v, want %v", tc.matchers, tc.lset, got, tc.want)
		}
	}
}
