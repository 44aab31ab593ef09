package alert

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/amatcher"
)

// Route is a node of the routing tree, built by NewRoute from the route
// blocks. Its options are those in effect, inherited ones included.
type Route struct {
	// Receiver names the notifier the route's alerts go to.
	Receiver string
	// GroupBy are the labels the route groups alerts by; GroupByAll
	// groups by every label.
	GroupBy    []string
	GroupByAll bool
	// GroupWait, GroupInterval and RepeatInterval time the notifications
	// of the route's groups.
	GroupWait      time.Duration
	GroupInterval  time.Duration
	RepeatInterval time.Duration
	// Matchers select the route's alerts, sorted as Alertmanager sorts
	// them; the root has none.
	Matchers []*labels.Matcher
	// Continue lets the routes after this one match too.
	Continue bool
	// MuteTimeIntervals and ActiveTimeIntervals are the intervals of the
	// route's mute_time_intervals and active_time_intervals.
	MuteTimeIntervals   []*hclconfig.TimeInterval
	ActiveTimeIntervals []*hclconfig.TimeInterval
	// Routes are the children, in the configuration's order.
	Routes []*Route

	parent *Route
	index  int // among the parent's Routes
}

// NewRoute builds the routing tree of cfg's route block, with the time
// intervals it names looked up in cfg. It returns nil when the
// configuration has no route block.
func NewRoute(cfg *hclconfig.Config) (*Route, error) {
	if cfg.Route == nil {
		return nil, nil
	}
	intervals := map[string]*hclconfig.TimeInterval{}
	for _, ti := range cfg.TimeIntervals {
		intervals[ti.Name] = ti
	}
	r, err := newRoute(cfg.Route, nil, 0, intervals)
	if err != nil {
		return nil, fmt.Errorf("build routing tree: %w", err)
	}
	return r, nil
}

func newRoute(c *hclconfig.Route, parent *Route, index int, intervals map[string]*hclconfig.TimeInterval) (*Route, error) {
	r := &Route{
		Receiver:       c.Receiver,
		GroupBy:        slices.Clone(c.GroupBy),
		GroupByAll:     c.GroupByAll,
		GroupWait:      c.GroupWait,
		GroupInterval:  c.GroupInterval,
		RepeatInterval: c.RepeatInterval,
		Matchers:       slices.Clone(c.Matchers),
		Continue:       c.Continue,
		parent:         parent,
		index:          index,
	}
	amatcher.Sort(r.Matchers)
	var err error
	if r.MuteTimeIntervals, err = lookupIntervals(c.MuteTimeIntervals, intervals); err != nil {
		return nil, fmt.Errorf("route %s: mute_time_intervals: %w", r.Key(), err)
	}
	if r.ActiveTimeIntervals, err = lookupIntervals(c.ActiveTimeIntervals, intervals); err != nil {
		return nil, fmt.Errorf("route %s: active_time_intervals: %w", r.Key(), err)
	}
	for i, cc := range c.Routes {
		child, err := newRoute(cc, r, i, intervals)
		if err != nil {
			return nil, err
		}
		r.Routes = append(r.Routes, child)
	}
	return r, nil
}

func lookupIntervals(names []string, intervals map[string]*hclconfig.TimeInterval) ([]*hclconfig.TimeInterval, error) {
	var out []*hclconfig.TimeInterval
	for _, n := range names {
		ti, ok := intervals[n]
		if !ok {
			return nil, fmt.Errorf("no time_interval is named %q", n)
		}
		out = append(out, ti)
	}
	return out, nil
}

// Match returns the routes lset goes to, as Alertmanager finds them: the
// children are tried depth-first in order, the first that matches ends
// the search unless it has Continue, and a route none of whose children
// match is itself the match. It returns nil when r does not match.
func (r *Route) Match(lset labels.Labels) []*Route {
	if !MatchesAll(r.Matchers, lset) {
		return nil
	}
	var all []*Route
	for _, child := range r.Routes {
		matches := child.Match(lset)
		all = append(all, matches...)
		if matches != nil && !child.Continue {
			break
		}
	}
	if len(all) == 0 {
		all = append(all, r)
	}
	return all
}

// Key identifies the route by its matchers and its parents', as
// Alertmanager's route keys do: {}/{severity="page"}. Siblings with the
// same matchers share a key; ID tells them apart.
func (r *Route) Key() string {
	var b strings.Builder
	if r.parent != nil {
		b.WriteString(r.parent.Key())
		b.WriteByte('/')
	}
	b.WriteString(keyMatchers(r.Matchers))
	return b.String()
}

// ID identifies the route uniquely in its tree, as Alertmanager's route
// IDs do: the key with the route's index among its siblings at each
// level, such as {}/{severity="page"}/0.
func (r *Route) ID() string {
	var b strings.Builder
	if r.parent != nil {
		b.WriteString(r.parent.ID())
		b.WriteByte('/')
	}
	b.WriteString(keyMatchers(r.Matchers))
	if r.parent != nil {
		b.WriteByte('/')
		b.WriteString(strconv.Itoa(r.index))
	}
	return b.String()
}

// GroupLabels returns the labels of lset that the route groups by: those
// of GroupBy that lset has, or all of them with GroupByAll.
func (r *Route) GroupLabels(lset labels.Labels) labels.Labels {
	if r.GroupByAll {
		return lset.Copy()
	}
	b := labels.NewBuilder(lset)
	return b.Keep(r.GroupBy...).Labels()
}

// GroupKey identifies the group lset falls in on the route, as
// Alertmanager's group keys do: the route's key and the group labels,
// such as {}/{severity="page"}:{alertname="DiskFull", job="node"}.
func (r *Route) GroupKey(lset labels.Labels) string {
	return r.Key() + ":" + keyLabels(r.GroupLabels(lset))
}

// keyMatchers prints matchers as Alertmanager's labels.Matchers.String
// does in route keys: a label name is quoted only when it holds a space
// or one of {}!=~,\"'`, and then the value is quoted by strconv.Quote;
// otherwise the value only has \, " and newlines escaped. Names such as
// foo.bar stay unquoted, unlike in FormatMatchers.
func keyMatchers(ms []*labels.Matcher) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		if strings.ContainsFunc(m.Name, isKeyReserved) {
			b.WriteString(strconv.Quote(m.Name))
			b.WriteString(m.Type.String())
			b.WriteString(strconv.Quote(m.Value))
			continue
		}
		b.WriteString(m.Name)
		b.WriteString(m.Type.String())
		b.WriteString(amatcher.Quote(m.Value))
	}
	b.WriteByte('}')
	return b.String()
}

func isKeyReserved(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("{}!=~,\\\"'`", r)
}

// keyLabels prints group labels as Alertmanager's model.LabelSet.String
// does in group keys: sorted, names never quoted, values quoted by
// strconv.Quote, separated by ", ".
func keyLabels(lset labels.Labels) string {
	var b strings.Builder
	b.WriteByte('{')
	first := true
	lset.Range(func(l labels.Label) {
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
	})
	b.WriteByte('}')
	return b.String()
}

// Muted says whether notifications of the route are muted at t: when t is
// in one of its mute time intervals, or when it has active time intervals
// and t is in none of them.
func (r *Route) Muted(t time.Time) bool {
	for _, ti := range r.MuteTimeIntervals {
		if ContainsTime(ti, t) {
			return true
		}
	}
	if len(r.ActiveTimeIntervals) == 0 {
		return false
	}
	for _, ti := range r.ActiveTimeIntervals {
		if ContainsTime(ti, t) {
			return false
		}
	}
	return true
}

// Walk calls visit for r and every route below it, depth-first in order.
func (r *Route) Walk(visit func(*Route)) {
	visit(r)
	for _, child := range r.Routes {
		child.Walk(visit)
	}
}
