package hclconfig

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time_interval locations work where the system has no zone database

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/zclconf/go-cty/cty"

	"github.com/vigilmon/vigil/internal/amatcher"
)

// Defaults of the route block, as Alertmanager has them.
const (
	DefaultGroupWait      = 30 * time.Second
	DefaultGroupInterval  = 5 * time.Minute
	DefaultRepeatInterval = 4 * time.Hour
)

// GroupByAll is the group_by entry that groups by every label.
const GroupByAll = "..."

// Route is a `route` block: a node of the alert routing tree. The values a
// child does not set are its parent's (receiver, group_by and the three
// timings), as in Alertmanager, so every node holds what is in effect.
type Route struct {
	// Receiver names the notifier block the alerts of the route go to.
	Receiver string
	// GroupBy are the labels alerts are grouped by; GroupByAll is set
	// instead when group_by is ["..."]: every label.
	GroupBy    []string
	GroupByAll bool
	// GroupWait, GroupInterval and RepeatInterval time the notifications
	// of a group.
	GroupWait      time.Duration
	GroupInterval  time.Duration
	RepeatInterval time.Duration
	// Matchers select the alerts of the route; the root route has none.
	Matchers []*labels.Matcher
	// Continue lets the routes after this one match too.
	Continue bool
	// MuteTimeIntervals and ActiveTimeIntervals name time_interval blocks:
	// the route is muted in any of the first, and outside all of the
	// second when there are any. Children do not inherit them.
	MuteTimeIntervals   []string
	ActiveTimeIntervals []string
	// Routes are the nested route blocks, in order.
	Routes []*Route
	// Range is where the block is declared, for diagnostics.
	Range hcl.Range
}

// Inhibit is an `inhibit` block: while an alert matching SourceMatchers
// fires, alerts matching TargetMatchers with the same values of the Equal
// labels are not notified.
type Inhibit struct {
	SourceMatchers []*labels.Matcher
	TargetMatchers []*labels.Matcher
	Equal          []string
	Range          hcl.Range
}

// TimeInterval is a `time_interval "<name>"` block: one of Alertmanager's
// time intervals. A time is in it when it is in every field that is set,
// and in a field when it is in any of its ranges; an empty field holds all
// times.
type TimeInterval struct {
	Name string
	// Times are ranges of the day, from a time_interval's times blocks.
	Times []TimeRange
	// Weekdays (0 Sunday to 6 Saturday), DaysOfMonth (1 to 31, or -1 for
	// the last day back to -31), Months (1 to 12) and Years are inclusive
	// ranges.
	Weekdays    []InclusiveRange
	DaysOfMonth []InclusiveRange
	Months      []InclusiveRange
	Years       []InclusiveRange
	// Location is the time zone the fields are read in; UTC when nil.
	Location *time.Location
	Range    hcl.Range
}

// TimeRange is a range of the day in minutes since midnight, StartMinute
// included and EndMinute (at most 24*60) excluded.
type TimeRange struct {
	StartMinute int
	EndMinute   int
}

// InclusiveRange is a range of integers, both ends included.
type InclusiveRange struct {
	Begin int
	End   int
}

var routeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "receiver"}, {Name: "group_by"}, {Name: "group_wait"}, {Name: "group_interval"},
		{Name: "repeat_interval"}, {Name: "matchers"}, {Name: "continue"},
		{Name: "mute_time_intervals"}, {Name: "active_time_intervals"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "route"}},
}

var inhibitSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "source_matchers"}, {Name: "target_matchers"}, {Name: "equal"},
}}

var timeIntervalSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "weekdays"}, {Name: "days_of_month"}, {Name: "months"}, {Name: "years"}, {Name: "location"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "times"}},
}

var timesSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "start_time", Required: true}, {Name: "end_time", Required: true},
}}

// route decodes a route block; parent is nil for the root.
func (d *decoder) route(b *hcl.Block, parent *Route, cfg *Config) *Route {
	r := &Route{GroupWait: DefaultGroupWait, GroupInterval: DefaultGroupInterval, RepeatInterval: DefaultRepeatInterval, Range: b.DefRange}
	if parent != nil {
		r.Receiver = parent.Receiver
		r.GroupBy = slices.Clone(parent.GroupBy)
		r.GroupByAll = parent.GroupByAll
		r.GroupWait, r.GroupInterval, r.RepeatInterval = parent.GroupWait, parent.GroupInterval, parent.RepeatInterval
	}
	content := d.content(b.Body, routeSchema)
	attrs := content.Attributes
	if _, ok := d.decodeInto(attrs, "receiver", cty.String, &r.Receiver); ok && !slices.Contains(cfg.notifierNames(), r.Receiver) {
		detail := fmt.Sprintf("No notifier block is named %q.", r.Receiver)
		if s := suggest(r.Receiver, cfg.notifierNames()); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		d.errorf(attrRange(attrs, "receiver", b.Body), "Unknown receiver", "%s", detail)
	}
	if parent == nil && r.Receiver == "" {
		d.errorf(attrRange(attrs, "receiver", b.Body), "Missing receiver", "The root route needs a receiver: the name of a notifier block.")
	}
	d.groupBy(attrs, b.Body, r)
	var wait model.Duration
	if _, set := attrs["group_wait"]; set {
		d.durationOrZero(attrs, "group_wait", &wait)
		r.GroupWait = time.Duration(wait)
	}
	d.duration(attrs, "group_interval", &r.GroupInterval)
	d.duration(attrs, "repeat_interval", &r.RepeatInterval)
	r.Matchers = d.matchers(attrs, "matchers")
	d.boolean(attrs, "continue", &r.Continue)
	r.MuteTimeIntervals = d.intervalRefs(attrs, "mute_time_intervals", cfg)
	r.ActiveTimeIntervals = d.intervalRefs(attrs, "active_time_intervals", cfg)
	if parent == nil {
		for _, name := range []string{"matchers", "continue", "mute_time_intervals", "active_time_intervals"} {
			if _, set := attrs[name]; set {
				d.errorf(attrRange(attrs, name, b.Body), "Invalid root route", "The root route takes every alert: it must not set %s.", name)
			}
		}
	}
	for _, cb := range content.Blocks {
		r.Routes = append(r.Routes, d.route(cb, r, cfg))
	}
	return r
}

// groupBy decodes a route's group_by: label names, or ["..."].
func (d *decoder) groupBy(attrs hcl.Attributes, body hcl.Body, r *Route) {
	var names []string
	a, ok := d.decodeInto(attrs, "group_by", cty.List(cty.String), &names)
	if !ok {
		return
	}
	r.GroupBy, r.GroupByAll = nil, false
	for i, n := range names {
		rng := elemRange(a, i)
		switch {
		case n == GroupByAll && len(names) > 1:
			d.errorf(rng, "Invalid group_by", "%q groups by every label and stands alone in group_by.", GroupByAll)
		case n == GroupByAll:
			r.GroupByAll = true
		case !model.UTF8Validation.IsValidLabelName(n):
			d.errorf(rng, "Invalid group_by", "%q is not a valid label name.", n)
		case slices.Contains(r.GroupBy, n):
			d.errorf(rng, "Invalid group_by", "Label %q is listed twice.", n)
		default:
			r.GroupBy = append(r.GroupBy, n)
		}
	}
}

// matchers decodes a list of matchers in Alertmanager's syntax; each
// string may hold one matcher or several.
func (d *decoder) matchers(attrs hcl.Attributes, name string) []*labels.Matcher {
	var texts []string
	a, ok := d.decodeInto(attrs, name, cty.List(cty.String), &texts)
	if !ok {
		return nil
	}
	var out []*labels.Matcher
	for i, text := range texts {
		ms, err := amatcher.Parse(text)
		if err != nil {
			d.errorf(elemRange(a, i), "Invalid matcher", "%s.", err)
			continue
		}
		out = append(out, ms...)
	}
	return out
}

// intervalRefs decodes a list of names of time_interval blocks.
func (d *decoder) intervalRefs(attrs hcl.Attributes, name string, cfg *Config) []string {
	var names []string
	a, ok := d.decodeInto(attrs, name, cty.List(cty.String), &names)
	if !ok {
		return nil
	}
	known := cfg.timeIntervalNames()
	for i, n := range names {
		if !slices.Contains(known, n) {
			detail := fmt.Sprintf("No time_interval block is named %q.", n)
			if s := suggest(n, known); s != "" {
				detail += fmt.Sprintf(" Did you mean %q?", s)
			}
			d.errorf(elemRange(a, i), "Unknown time interval", "%s", detail)
		}
	}
	return names
}

func (c *Config) timeIntervalNames() []string {
	var out []string
	for _, ti := range c.TimeIntervals {
		out = append(out, ti.Name)
	}
	return out
}

// inhibit decodes an inhibit block.
func (d *decoder) inhibit(b *hcl.Block) *Inhibit {
	in := &Inhibit{Range: b.DefRange}
	attrs := d.content(b.Body, inhibitSchema).Attributes
	in.SourceMatchers = d.matchers(attrs, "source_matchers")
	in.TargetMatchers = d.matchers(attrs, "target_matchers")
	if a, ok := d.decodeInto(attrs, "equal", cty.List(cty.String), &in.Equal); ok {
		for i, n := range in.Equal {
			if !model.UTF8Validation.IsValidLabelName(n) {
				d.errorf(elemRange(a, i), "Invalid label name", "%q in equal is not a valid label name.", n)
			}
		}
	}
	return in
}

// timeInterval decodes a time_interval block.
func (d *decoder) timeInterval(b *hcl.Block) *TimeInterval {
	ti := &TimeInterval{Name: b.Labels[0], Range: b.DefRange}
	if ti.Name == "" {
		d.errorf(&b.LabelRanges[0], "Invalid time interval name", "A time_interval needs a name.")
	}
	content := d.content(b.Body, timeIntervalSchema)
	attrs := content.Attributes
	for _, tb := range content.Blocks {
		if tr, ok := d.timeRange(tb); ok {
			ti.Times = append(ti.Times, tr)
		}
	}
	ti.Weekdays = d.inclusiveRanges(attrs, "weekdays", "weekday", parseWeekday, checkOrdered)
	ti.DaysOfMonth = d.inclusiveRanges(attrs, "days_of_month", "day of month", parseDayOfMonth, checkDaysOfMonth)
	ti.Months = d.inclusiveRanges(attrs, "months", "month", parseMonth, checkOrdered)
	ti.Years = d.inclusiveRanges(attrs, "years", "year", parseYear, checkOrdered)
	var loc string
	if a, ok := d.decodeInto(attrs, "location", cty.String, &loc); ok {
		l, err := time.LoadLocation(loc)
		if err != nil || loc == "" {
			r := a.Expr.Range()
			d.errorf(&r, "Unknown location", "%q is not a time zone; write one of the IANA database, such as \"Europe/Berlin\", or \"UTC\".", loc)
		} else {
			ti.Location = l
		}
	}
	return ti
}

// timeRange decodes a times block.
func (d *decoder) timeRange(b *hcl.Block) (TimeRange, bool) {
	attrs := d.content(b.Body, timesSchema).Attributes
	var tr TimeRange
	ok := true
	for _, f := range []struct {
		name string
		dst  *int
	}{{"start_time", &tr.StartMinute}, {"end_time", &tr.EndMinute}} {
		var s string
		a, set := d.decodeInto(attrs, f.name, cty.String, &s)
		if !set {
			ok = false
			continue
		}
		m, valid := parseClock(s)
		if !valid {
			r := a.Expr.Range()
			d.errorf(&r, "Invalid time", "%q is not a time of day for %s; write it as \"HH:MM\", from \"00:00\" to \"24:00\".", s, f.name)
			ok = false
			continue
		}
		*f.dst = m
	}
	if ok && tr.StartMinute >= tr.EndMinute {
		d.errorf(&b.DefRange, "Invalid time range", "start_time must be before end_time; a range across midnight is two times blocks.")
		return tr, false
	}
	return tr, ok
}

// parseClock parses "HH:MM" into minutes since midnight; "24:00" ends a day.
func parseClock(s string) (int, bool) {
	h, m, found := strings.Cut(s, ":")
	if !found || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}

// inclusiveRanges decodes a list of "a" or "a:b" entries, each end parsed
// by parse and the range checked by check.
func (d *decoder) inclusiveRanges(attrs hcl.Attributes, name, what string, parse func(string) (int, bool), check func(InclusiveRange) string) []InclusiveRange {
	var entries []string
	a, ok := d.decodeInto(attrs, name, cty.List(cty.String), &entries)
	if !ok {
		return nil
	}
	var out []InclusiveRange
	for i, e := range entries {
		rng := elemRange(a, i)
		lo, hi, isRange := strings.Cut(e, ":")
		begin, ok1 := parse(strings.TrimSpace(lo))
		end, ok2 := begin, true
		if isRange {
			end, ok2 = parse(strings.TrimSpace(hi))
		}
		if !ok1 || !ok2 {
			d.errorf(rng, "Invalid "+what+" range", "%q is not a %s or a range of them such as %s.", e, what, rangeExample[name])
			continue
		}
		r := InclusiveRange{Begin: begin, End: end}
		if msg := check(r); msg != "" {
			d.errorf(rng, "Invalid "+what+" range", "%q: %s.", e, msg)
			continue
		}
		out = append(out, r)
	}
	return out
}

var rangeExample = map[string]string{
	"weekdays": `"monday:friday"`, "days_of_month": `"1:5" or "-3:-1"`, "months": `"january:march" or "1:3"`, "years": `"2026:2027"`,
}

var weekdayNames = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

var monthNames = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}

func parseWeekday(s string) (int, bool) {
	i := slices.Index(weekdayNames, strings.ToLower(s))
	return i, i >= 0
}

func parseMonth(s string) (int, bool) {
	if i := slices.Index(monthNames, strings.ToLower(s)); i >= 0 {
		return i + 1, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= 12
}

func parseDayOfMonth(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n != 0 && n >= -31 && n <= 31
}

func parseYear(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

func checkOrdered(r InclusiveRange) string {
	if r.Begin > r.End {
		return "the start is after the end"
	}
	return ""
}

// checkDaysOfMonth checks days as Alertmanager does: a negative start
// needs a negative end, and a range that is empty in every month (of at
// least 28 days) is refused.
func checkDaysOfMonth(r InclusiveRange) string {
	if r.Begin < 0 && r.End > 0 {
		return "the end day must be negative when the start day is"
	}
	begin, end := r.Begin, r.End
	if begin < 0 {
		begin += 28
	}
	if end < 0 {
		end += 28
	}
	if begin > end {
		return "the end day is always before the start day"
	}
	return ""
}

// elemRange is the range of element i of a list attribute, or of the
// whole value when it is not written as a list.
func elemRange(a *hcl.Attribute, i int) *hcl.Range {
	if t, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok && i < len(t.Exprs) {
		r := t.Exprs[i].Range()
		return &r
	}
	r := a.Expr.Range()
	return &r
}

// Alertmanager is an `alertmanager` block: external Alertmanagers that
// receive the alerts of the rules through their v2 API, as Prometheus's
// alertmanager_config with static targets. Several blocks may be given.
type Alertmanager struct {
	// URLs are the Alertmanagers' base URLs; alerts are posted to
	// <URL>/api/v2/alerts.
	URLs []*url.URL
	// Timeout bounds one request.
	Timeout time.Duration
	Range   hcl.Range
}

var alertmanagerSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "urls", Required: true}, {Name: "timeout"},
}}

func (d *decoder) alertmanager(b *hcl.Block) *Alertmanager {
	am := &Alertmanager{Timeout: DefaultAlertmanagerTimeout, Range: b.DefRange}
	attrs := d.content(b.Body, alertmanagerSchema).Attributes
	var urls []string
	a, ok := d.decodeInto(attrs, "urls", cty.List(cty.String), &urls)
	if ok && len(urls) == 0 {
		d.errorf(attrRange(attrs, "urls", b.Body), "Invalid urls", "An alertmanager block needs at least one URL.")
	}
	for i, s := range urls {
		u, err := parseHTTPURL(s)
		if err != nil {
			d.errorf(elemRange(a, i), "Invalid Alertmanager URL", "%s", err)
			continue
		}
		am.URLs = append(am.URLs, u)
	}
	d.duration(attrs, "timeout", &am.Timeout)
	return am
}

// parseHTTPURL parses an absolute http or https URL without a query.
func parseHTTPURL(s string) (*url.URL, error) {
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return nil, fmt.Errorf("%q must start with http:// or https://", s)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%q is not a URL: %v", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q must start with http:// or https://", s)
	case u.Host == "":
		return nil, fmt.Errorf("%q has no host", s)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%q must not have a query or fragment", s)
	}
	return u, nil
}
