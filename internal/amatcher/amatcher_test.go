package amatcher

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

func TestParseGood(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // FormatList of the result
	}{
		{`severity="page"`, `{severity="page"}`},
		{`severity=page`, `{severity="page"}`},
		{`  severity = page  `, `{severity="page"}`},
		{`alertname=~"Disk.*"`, `{alertname=~"Disk.*"}`},
		{`env!="dev"`, `{env!="dev"}`},
		{`team!~"a|b"`, `{team!~"a|b"}`},
		{`{a="b", c=~"d"}`, `{a="b",c=~"d"}`},
		{`{a="b",c=~"d",}`, `{a="b",c=~"d"}`},
		{`a=b,c!=d`, `{a="b",c!="d"}`},
		{`{}`, `{}`},
		{``, `{}`},
		{`"foo.bar"="x"`, `{"foo.bar"="x"}`},
		{`"ünï"!~"x"`, `{"ünï"!~"x"}`},
		{`a="say \"hi\""`, `{a="say \"hi\""}`},
		{`a="back\\slash"`, `{a="back\\slash"}`},
		{`a="line\nbreak"`, `{a="line\nbreak"}`},
		{`a=~"host\.example"`, `{a=~"host\\.example"}`},
		{`a=""`, `{a=""}`},
		{`a=`, `{a=""}`},
		{`a="x,y}"`, `{a="x,y}"}`},
		{`url=http://x/y?a=b`, `{url="http://x/y?a=b"}`},
		// Escapes in unquoted values, as Alertmanager's classic parser.
		{`a=b\nc`, `{a="b\nc"}`},
		{`a=b\"c`, `{a="b\"c"}`},
		{`a=b\\`, `{a="b\\"}`},
		{`a=b\`, `{a="b\\"}`},
		{`a=~x\.y`, `{a=~"x\\.y"}`},
		// Colons, as in the classic parser's label names.
		{`foo:bar=x`, `{"foo:bar"="x"}`},
		{`:a=x`, `{":a"="x"}`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			ms, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got := FormatList(ms)
			if got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
			// What Format prints parses back to the same matchers.
			again, err := Parse(got)
			if err != nil || FormatList(again) != got {
				t.Fatalf("round trip of %s: %s, %v", got, FormatList(again), err)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	ms, err := Parse(`{a="x\"y", b=~"h\.e", "c.d"=e}`)
	if err != nil {
		t.Fatal(err)
	}
	if ms[0].Value != `x"y` || ms[1].Value != `h\.e` || ms[2].Name != "c.d" || ms[2].Value != "e" {
		t.Fatalf("values: %q %q %q=%q", ms[0].Value, ms[1].Value, ms[2].Name, ms[2].Value)
	}
	if !ms[1].Matches("h.e") || ms[1].Matches("hxe") {
		t.Fatal("the regexp's escape was not kept")
	}
	if ms[0].Type != labels.MatchEqual || ms[1].Type != labels.MatchRegexp {
		t.Fatal("types")
	}
}

func TestParseBad(t *testing.T) {
	for _, tc := range []struct {
		in     string
		column int
		msg    string
	}{
		{`severity`, 9, "expected an operator"},
		{`="page"`, 1, "expected a label name"},
		{`foo.bar="x"`, 1, `"foo.bar" is not a valid label name`},
		{`a=="b"`, 2, `unknown operator "=="`},
		{`a=~~"b"`, 2, `unknown operator "=~~"`},
		{`a!"b"`, 2, "expected an operator"},
		{`a="b`, 3, "unterminated quoted string"},
		{`a="b\`, 3, "unterminated quoted string"},
		{`a=~"(b"`, 4, "missing closing )"},
		{`{a="b"`, 7, `expected "," or "}"`},
		{`{a="b" c="d"}`, 8, `expected "," or "}"`},
		{`a="b"}`, 6, `unexpected "}"`},
		{`a="b" x`, 7, `unexpected "x"`},
		{`a=b"c"`, 4, "a quote inside an unquoted value"},
		{`""="x"`, 1, "the label name must not be empty"},
		{`{a="b",,}`, 8, "expected a label name"},
		{`ü="x"`, 1, `"ü" is not a valid label name`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			ms, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("parsed: %s", FormatList(ms))
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("not an *Error: %v", err)
			}
			if pe.Input != tc.in || pe.Column != tc.column || !strings.Contains(pe.Msg, tc.msg) {
				t.Fatalf("got %v (column %d), want column %d and %q", err, pe.Column, tc.column, tc.msg)
			}
			if !strings.Contains(err.Error(), "invalid matcher") {
				t.Fatalf("error does not say what failed: %v", err)
			}
		})
	}
}

func TestParseOne(t *testing.T) {
	if _, err := ParseOne(`{a="b",c="d"}`); err == nil {
		t.Fatal("two matchers parsed as one")
	}
	m, err := ParseOne(`a="b"`)
	if err != nil || m.Name != "a" {
		t.Fatalf("%v %v", m, err)
	}
}

func TestMatchesAndSort(t *testing.T) {
	ms, _ := Parse(`{z="1", a=~"x|y", a!="y"}`)
	Sort(ms)
	// By name, then value, then type, as Alertmanager's labels.Matchers.
	if got := FormatList(ms); got != `{a=~"x|y",a!="y",z="1"}` {
		t.Fatalf("sorted: %s", got)
	}
	if !Matches(ms, labels.FromStrings("a", "x", "z", "1")) || Matches(ms, labels.FromStrings("a", "y", "z", "1")) {
		t.Fatal("Matches")
	}
	if !Matches(nil, labels.EmptyLabels()) {
		t.Fatal("no matchers match everything")
	}
}

// TestMatchValue checks that regular expressions match as Alertmanager's
// do, where "." does not match a newline (Prometheus's matchers let it),
// and that everything else matches as labels.Matcher does.
func TestMatchValue(t *testing.T) {
	for _, tc := range []struct {
		matcher, value string
		want           bool
	}{
		{`a=~"x.y"`, "x\ny", false},
		{`a!~"x.y"`, "x\ny", true},
		{`a=~".*"`, "x\ny", false},
		{`a=~"(?s).*"`, "x\ny", true},
		{`a=~"x\ny"`, "x\ny", true},
		{`a=~"x[^z]y"`, "x\ny", true},
		{`a=~"x.y"`, "x-y", true},
		{`a!~"x.y"`, "x-y", false},
		{`a="x\ny"`, "x\ny", true},
		{`a!="x"`, "x\ny", true},
	} {
		m, err := ParseOne(tc.matcher)
		if err != nil {
			t.Fatal(err)
		}
		if got := MatchValue(m, tc.value); got != tc.want {
			t.Errorf("%s on %q: %v, want %v", tc.matcher, tc.value, got, tc.want)
		}
		if got := Matches([]*labels.Matcher{m}, labels.FromStrings("a", tc.value)); got != tc.want {
			t.Errorf("Matches: %s on %q: %v, want %v", tc.matcher, tc.value, got, tc.want)
		}
	}
}
