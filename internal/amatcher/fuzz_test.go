package amatcher

import (
	"testing"
	"unicode/utf8"
)

// FuzzParse holds Parse to three properties for any input: it does not
// panic, an error names a column inside the input, and what it accepts
// prints (FormatList) to text that parses back to the same matchers.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`severity="page"`, `severity=page`, `{a="b", c=~"d"}`, `a=b,c!=d`, `{}`, ``,
		`"foo.bar"="x"`, `a="say \"hi\""`, `a=~"host\.example"`, `a=b\nc`, `a=b\`,
		`team!~"a|b"`, `{a="x,y}"}`, `a=~"(unclosed"`, `a==b`, `"unterminated`, `{a="b"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ms, err := Parse(in)
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("Parse(%q) error is a %T, not an *Error: %v", in, err, err)
			}
			if e.Column < 1 || e.Column > utf8.RuneCountInString(in)+1 {
				t.Fatalf("Parse(%q) error column %d is outside the input", in, e.Column)
			}
			return
		}
		printed := FormatList(ms)
		again, err := Parse(printed)
		if err != nil {
			t.Fatalf("Parse(%q) = %s, which does not parse back: %v", in, printed, err)
		}
		if got := FormatList(again); got != printed {
			t.Fatalf("Parse(%q) printed %s, read back as %s", in, printed, got)
		}
		for i := range ms {
			if ms[i].Name != again[i].Name || ms[i].Value != again[i].Value || ms[i].Type != again[i].Type {
				t.Fatalf("Parse(%q) matcher %d is %v, read back as %v", in, i, ms[i], again[i])
			}
		}
	})
}
