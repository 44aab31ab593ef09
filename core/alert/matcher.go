package alert

import (
	"fmt"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/internal/amatcher"
)

// MatcherError is a matcher that does not parse; it names the input and
// the column of the mistake.
type MatcherError = amatcher.Error

// ParseMatchers parses matchers in Alertmanager's syntax: one matcher such
// as `severity="page"`, `severity=page`, `alertname=~"Disk.*"`,
// `env!="dev"` or `team!~"a|b"`, or a list, `{a="b", c=~"d"}`. A UTF-8
// label name is quoted: `"foo.bar"="x"`. The configuration parses its
// matchers the same way. A mistake is a *MatcherError.
func ParseMatchers(s string) ([]*labels.Matcher, error) {
	ms, err := amatcher.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("parse matchers: %w", err)
	}
	return ms, nil
}

// FormatMatchers prints matchers as a brace list that ParseMatchers reads
// back, such as {severity="page",team=~"a|b"}.
func FormatMatchers(ms []*labels.Matcher) string { return amatcher.FormatList(ms) }

// MatchesAll says whether every matcher matches lset; no matchers match
// every label set. A missing label matches as the empty value.
func MatchesAll(ms []*labels.Matcher, lset labels.Labels) bool { return amatcher.Matches(ms, lset) }
