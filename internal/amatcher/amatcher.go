// Package amatcher parses and prints label matchers in Alertmanager's
// syntax, the one of routes, inhibit rules and silences:
//
//	severity="page"
//	severity=page                 (an unquoted value, as the classic parser allows)
//	alertname=~"Disk.*"
//	env!="dev"
//	team!~"a|b"
//	{a="b", c=~"d"}               (a list; the braces may be left out)
//	"foo.bar"="x"                 (a UTF-8 label name, quoted)
//
// In a value, quoted or not, \" is a quote, \\ a backslash and \n a
// newline; any other backslash stays as it is, so regular expressions such
// as "a\.b" need no doubling. These are the rules of Alertmanager's classic
// parser, which its configuration falls back to. An unquoted label name is
// one the classic parser reads: letters, digits, _ and :, not starting
// with a digit. Both the configuration and the alert dispatcher use
// this package, so that they agree on what a matcher is.
package amatcher

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// Error is a matcher that does not parse: Input is the text, Column the
// 1-based position (in characters) of the mistake.
type Error struct {
	Input  string
	Column int
	Msg    string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("invalid matcher %q at column %d: %s", e.Input, e.Column, e.Msg)
}

// Parse parses one matcher or a list of them, in braces or not, separated
// by commas. An empty list ("{}" or "") yields no matchers.
func Parse(input string) ([]*labels.Matcher, error) {
	p := &parser{in: input}
	p.skipSpace()
	braced := p.peek() == '{'
	if braced {
		p.pos++
	}
	var out []*labels.Matcher
	for {
		p.skipSpace()
		if p.eof() || (braced && p.peek() == '}') {
			break
		}
		m, err := p.matcher()
		if err != nil {
			return nil, err
		}
		out = append(out, m)
		p.skipSpace()
		if p.peek() == ',' {
			p.pos++
			continue
		}
		break
	}
	if braced {
		if p.peek() != '}' {
			return nil, p.errorf("expected \",\" or \"}\"")
		}
		p.pos++
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.errorf("unexpected %q", p.rest())
	}
	return out, nil
}

// ParseOne parses exactly one matcher.
func ParseOne(input string) (*labels.Matcher, error) {
	ms, err := Parse(input)
	if err != nil {
		return nil, err
	}
	if len(ms) != 1 {
		return nil, &Error{Input: input, Column: 1, Msg: fmt.Sprintf("want one matcher, got %d", len(ms))}
	}
	return ms[0], nil
}

// Format prints a matcher so that Parse reads it back: the name quoted
// when it is not a classic label name, the value always quoted.
func Format(m *labels.Matcher) string {
	name := m.Name
	if !model.LegacyValidation.IsValidLabelName(name) {
		name = Quote(name)
	}
	return name + m.Type.String() + Quote(m.Value)
}

// FormatList prints matchers as a brace list: {a="b",c=~"d"}.
func FormatList(ms []*labels.Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = Format(m)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Sort orders matchers by name, then value, then type, as Alertmanager
// orders the matchers of a route (labels.Matchers.Less), so that route
// keys list them as Alertmanager's do.
func Sort(ms []*labels.Matcher) {
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Value != b.Value {
			return a.Value < b.Value
		}
		return a.Type < b.Type
	})
}

// Matches says whether every matcher matches lset; no matchers match all.
// A missing label matches as the empty value.
func Matches(ms []*labels.Matcher, lset labels.Labels) bool {
	for _, m := range ms {
		if !MatchValue(m, lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

// MatchValue says whether m matches the label value v as Alertmanager's
// matchers do. It differs from m.Matches in one thing: Prometheus compiles
// regular expressions so that "." matches a newline, Alertmanager as
// ^(?:re)$, where it does not. Only values with a newline can tell them
// apart; those are matched by a regular expression compiled
// Alertmanager's way.
func MatchValue(m *labels.Matcher, v string) bool {
	if (m.Type == labels.MatchRegexp || m.Type == labels.MatchNotRegexp) && strings.Contains(v, "\n") {
		if re, err := regexp.Compile("^(?:" + m.Value + ")$"); err == nil {
			return re.MatchString(v) == (m.Type == labels.MatchRegexp)
		}
	}
	return m.Matches(v)
}

// Quote puts s in double quotes with its backslashes, quotes and
// newlines escaped, as the parser reads a quoted value back and as
// Alertmanager prints matcher values.
func Quote(s string) string { return `"` + quoteEscaper.Replace(s) + `"` }

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

type parser struct {
	in  string
	pos int // byte offset
}

func (p *parser) eof() bool    { return p.pos >= len(p.in) }
func (p *parser) rest() string { return p.in[p.pos:] }

func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.in[p.pos]
}

func (p *parser) skipSpace() {
	for !p.eof() && strings.IndexByte(" \t\r\n", p.in[p.pos]) >= 0 {
		p.pos++
	}
}

// errorf reports a mistake at the current position.
func (p *parser) errorf(format string, args ...any) *Error {
	return p.errorAt(p.pos, format, args...)
}

func (p *parser) errorAt(pos int, format string, args ...any) *Error {
	return &Error{Input: p.in, Column: utf8.RuneCountInString(p.in[:pos]) + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) matcher() (*labels.Matcher, error) {
	start := p.pos
	var name string
	if p.peek() == '"' {
		n, err := p.quoted()
		if err != nil {
			return nil, err
		}
		if n == "" {
			return nil, p.errorAt(start, "the label name must not be empty")
		}
		name = n
	} else {
		for !p.eof() && strings.IndexByte("=!~,{}\" \t\r\n", p.peek()) < 0 {
			p.pos++
		}
		name = p.in[start:p.pos]
		if name == "" {
			return nil, p.errorAt(start, "expected a label name")
		}
		if !isClassicName(name) {
			return nil, p.errorAt(start, "%q is not a valid label name; quote a UTF-8 name, as in %q", name, Quote(name)+`="value"`)
		}
	}
	if !utf8.ValidString(name) {
		return nil, p.errorAt(start, "the label name is not valid UTF-8")
	}
	p.skipSpace()
	opPos := p.pos
	var typ labels.MatchType
	switch {
	case strings.HasPrefix(p.rest(), "=~"):
		typ, p.pos = labels.MatchRegexp, p.pos+2
	case strings.HasPrefix(p.rest(), "!~"):
		typ, p.pos = labels.MatchNotRegexp, p.pos+2
	case strings.HasPrefix(p.rest(), "!="):
		typ, p.pos = labels.MatchNotEqual, p.pos+2
	case strings.HasPrefix(p.rest(), "="):
		typ, p.pos = labels.MatchEqual, p.pos+1
	default:
		return nil, p.errorf("expected an operator (=, !=, =~ or !~) after %q", name)
	}
	if p.peek() == '=' || p.peek() == '~' {
		return nil, p.errorAt(opPos, "unknown operator %q", p.in[opPos:p.pos+1])
	}
	p.skipSpace()
	valuePos := p.pos
	var value string
	if p.peek() == '"' {
		v, err := p.quoted()
		if err != nil {
			return nil, err
		}
		value = v
	} else {
		for !p.eof() && p.peek() != ',' && p.peek() != '}' {
			switch {
			case p.peek() == '"':
				return nil, p.errorf("a quote inside an unquoted value; quote the whole value")
			case p.peek() == '\\' && p.pos+1 < len(p.in) && (p.in[p.pos+1] == '"' || p.in[p.pos+1] == '\\'):
				p.pos += 2 // an escaped quote or backslash
			default:
				p.pos++
			}
		}
		value = unescape(strings.TrimRight(p.in[valuePos:p.pos], " \t\r\n"))
	}
	if !utf8.ValidString(value) {
		return nil, p.errorAt(valuePos, "the value is not valid UTF-8")
	}
	m, err := labels.NewMatcher(typ, name, value)
	if err != nil {
		return nil, p.errorAt(valuePos, "%s", err)
	}
	return m, nil
}

// isClassicName says whether name may be written unquoted: it matches
// [a-zA-Z_:][a-zA-Z0-9_:]*, as the classic parser's label names.
func isClassicName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		ok := c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// unescape applies the escapes of an unquoted value: \" and \\ stand for
// themselves and \n for a newline; any other backslash, a trailing one
// included, stays as it is.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; next {
		case '"', '\\':
			b.WriteByte(next)
		case 'n':
			b.WriteByte('\n')
		default:
			b.WriteByte('\\')
			b.WriteByte(next)
		}
		i++
	}
	return b.String()
}

// quoted reads a quoted string, the parser at its opening quote.
func (p *parser) quoted() (string, error) {
	start := p.pos
	p.pos++
	var b strings.Builder
	for !p.eof() {
		c := p.in[p.pos]
		switch c {
		case '"':
			p.pos++
			return b.String(), nil
		case '\\':
			if p.pos+1 >= len(p.in) {
				return "", p.errorAt(start, "unterminated quoted string")
			}
			switch next := p.in[p.pos+1]; next {
			case '"', '\\':
				b.WriteByte(next)
			case 'n':
				b.WriteByte('\n')
			default: // a regular expression's escape: kept as it is
				b.WriteByte('\\')
				b.WriteByte(next)
			}
			p.pos += 2
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", p.errorAt(start, "unterminated quoted string")
}
