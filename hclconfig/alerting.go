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
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/zclconf/go-cty/cty"
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

// routeAttrs are the attributes of route blocks, the root and the
// nested ones. A child that leaves out receiver, group_by or a timing has
// its parent's (inheritRoute).
var routeAttrs = []attr[Route]{
	field("receiver", str, func(r *Route) *string { return &r.Receiver },
		"The notifier block the alerts go to; required on the root.").inherits("the parent route's"),
	accessor("group_by", groupBy,
		func(r *Route) groupByValue { return groupByValue{r.GroupBy, r.GroupByAll} },
		func(r *Route, g groupByValue) { r.GroupBy, r.GroupByAll = g.labels, g.all },
		"The labels alerts are grouped by; [\"...\"] for every label.").inherits("the parent route's"),
	withDefault("group_wait", durationOrZero[time.Duration](), func(r *Route) *time.Duration { return &r.GroupWait }, DefaultGroupWait,
		"The wait before the first notification of a group; a child has its parent's."),
	withDefault("group_interval", duration[time.Duration](), func(r *Route) *time.Duration { return &r.GroupInterval }, DefaultGroupInterval,
		"The wait before notifying a group's changes; a child has its parent's."),
	withDefault("repeat_interval", duration[time.Duration](), func(r *Route) *time.Duration { return &r.RepeatInterval }, DefaultRepeatInterval,
		"The wait before notifying a group again; a child has its parent's."),
	field("matchers", matchers, func(r *Route) *[]*labels.Matcher { return &r.Matchers },
		"What the alerts of a nested route must match, all of them."),
	withDefault("continue", boolean, func(r *Route) *bool { return &r.Continue }, false,
		"Whether the routes after a nested route are tried too."),
	field("mute_time_intervals", strList, func(r *Route) *[]string { return &r.MuteTimeIntervals },
		"time_interval blocks in any of which the route is muted."),
	field("active_time_intervals", strList, func(r *Route) *[]string { return &r.ActiveTimeIntervals },
		"time_interval blocks outside all of which the route is muted."),
}

// routeSpec is a nested route block, rootRouteSpec the root: the same
// attributes, with more checks for the root. Their children are set in
// init, as a route holds routes.
var (
	routeSpec = &block[Route]{
		name: "route", doc: "A node of the alert routing tree.",
		rangeOf: func(r *Route) *hcl.Range { return &r.Range },
		attrs:   routeAttrs,
		check:   checkRoute,
	}
	rootRouteSpec = &block[Route]{
		name: "route", doc: "The root of the alert routing tree: it takes every alert.",
		rangeOf: func(r *Route) *hcl.Range { return &r.Range },
		attrs:   routeAttrs,
		check: func(s *scope, r *Route) {
			checkRoute(s, r)
			if r.Receiver == "" {
				s.errorf("receiver", "Missing receiver", "The root route needs a receiver: the name of a notifier block.")
			}
			for _, name := range []string{"matchers", "continue", "mute_time_intervals", "active_time_intervals"} {
				if s.set(name) {
					s.errorf(name, "Invalid root route", "The root route takes every alert: it must not set %s.", name)
				}
			}
		},
	}
)

func init() {
	children := []child[Route]{
		listOf(func(r *Route) *[]*Route { return &r.Routes }, routeSpec).spacedOut().inheriting(inheritRoute),
	}
	routeSpec.children, rootRouteSpec.children = children, children
}

// inheritRoute gives a nested route its parent's receiver, group_by and
// timings.
func inheritRoute(_ *decoder, parent, r *Route) {
	r.Receiver = parent.Receiver
	r.GroupBy = slices.Clone(parent.GroupBy)
	r.GroupByAll = parent.GroupByAll
	r.GroupWait, r.GroupInterval, r.RepeatInterval = parent.GroupWait, parent.GroupInterval, parent.RepeatInterval
}

// checkRoute checks that a route names a notifier block and time_interval
// blocks that exist.
func checkRoute(s *scope, r *Route) {
	notifiers := instanceNames(s.d.cfg.Notifiers)
	if s.set("receiver") && !slices.Contains(notifiers, r.Receiver) {
		detail := fmt.Sprintf("No notifier block is named %q.", r.Receiver)
		if sg := suggest(r.Receiver, notifiers); sg != "" {
			detail += fmt.Sprintf(" Did you mean %q?", sg)
		}
		s.errorf("receiver", "Unknown receiver", "%s", detail)
	}
	var known []string
	for _, ti := range s.d.cfg.TimeIntervals {
		known = append(known, ti.Name)
	}
	for _, name := range []string{"mute_time_intervals", "active_time_intervals"} {
		if !s.set(name) {
			continue
		}
		list := r.MuteTimeIntervals
		if name == "active_time_intervals" {
			list = r.ActiveTimeIntervals
		}
		for i, n := range list {
			if !slices.Contains(known, n) {
				detail := fmt.Sprintf("No time_interval block is named %q.", n)
				if sg := suggest(n, known); sg != "" {
					detail += fmt.Sprintf(" Did you mean %q?", sg)
				}
				s.elemErrorf(name, i, "Unknown time interval", "%s", detail)
			}
		}
	}
}

// groupByValue is a route's group_by: label names, or all of them.
type groupByValue struct {
	labels []string
	all    bool
}

// groupBy is a list of label names, or ["..."].
var groupBy = codec[groupByValue]{
	typ: cty.List(cty.String), kind: "list of string",
	decode: func(at attrValue, v cty.Value) (groupByValue, bool) {
		names, ok := strList.decode(at, v)
		var g groupByValue
		for i, n := range names {
			switch {
			case n == GroupByAll && len(names) > 1:
				at.elemErrorf(i, "Invalid group_by", "%q groups by every label and stands alone in group_by.", GroupByAll)
			case n == GroupByAll:
				g.all = true
			case !model.UTF8Validation.IsValidLabelName(n):
				at.elemErrorf(i, "Invalid group_by", "%q is not a valid label name.", n)
			case slices.Contains(g.labels, n):
				at.elemErrorf(i, "Invalid group_by", "Label %q is listed twice.", n)
			default:
				g.labels = append(g.labels, n)
			}
		}
		return g, ok
	},
	render: func(g groupByValue, o renderOptions) cty.Value {
		if g.all {
			return stringList([]string{GroupByAll})
		}
		return stringList(g.labels)
	},
}

var inhibitSpec = &block[Inhibit]{
	name: "inhibit", doc: "While an alert matching source_matchers fires, alerts matching target_matchers with the same equal labels are not notified.",
	rangeOf: func(in *Inhibit) *hcl.Range { return &in.Range },
	attrs: []attr[Inhibit]{
		field("source_matchers", matchers, func(in *Inhibit) *[]*labels.Matcher { return &in.SourceMatchers },
			"What the inhibiting alerts match."),
		field("target_matchers", matchers, func(in *Inhibit) *[]*labels.Matcher { return &in.TargetMatchers },
			"What the inhibited alerts match."),
		field("equal", labelNameList, func(in *Inhibit) *[]string { return &in.Equal },
			"The labels both must have the same values of."),
	},
}

var timeIntervalSpec = &block[TimeInterval]{
	name: "time_interval", label: "NAME", doc: "A named time interval for mute_time_intervals and active_time_intervals.",
	labelOf: func(ti *TimeInterval) *string { return &ti.Name },
	checkLabel: func(d *decoder, rng *hcl.Range, name string) string {
		if name == "" {
			d.errorf(rng, "Invalid time interval name", "A time_interval needs a name.")
		}
		return name
	},
	rangeOf: func(ti *TimeInterval) *hcl.Range { return &ti.Range },
	attrs: []attr[TimeInterval]{
		field("weekdays", ranges("weekday", `"monday:friday"`, parseWeekday, checkOrdered, named(weekdayNames, 0)),
			func(ti *TimeInterval) *[]InclusiveRange { return &ti.Weekdays }, "Weekdays, or ranges of them."),
		field("days_of_month", ranges("day of month", `"1:5" or "-3:-1"`, parseDayOfMonth, checkDaysOfMonth, strconv.Itoa),
			func(ti *TimeInterval) *[]InclusiveRange { return &ti.DaysOfMonth }, "Days of the month from 1, or from -1 for the last, or ranges of them."),
		field("months", ranges("month", `"january:march" or "1:3"`, parseMonth, checkOrdered, named(monthNames, 1)),
			func(ti *TimeInterval) *[]InclusiveRange { return &ti.Months }, "Months, by name or 1 to 12, or ranges of them."),
		field("years", ranges("year", `"2026:2027"`, parseYear, checkOrdered, strconv.Itoa),
			func(ti *TimeInterval) *[]InclusiveRange { return &ti.Years }, "Years, or ranges of them."),
		field("location", location, func(ti *TimeInterval) **time.Location { return &ti.Location },
			"The time zone the fields are read in; unset, UTC."),
	},
	children: []child[TimeInterval]{
		valuesOf(func(ti *TimeInterval) *[]TimeRange { return &ti.Times }, timesSpec),
	},
}

var timesSpec = &block[TimeRange]{
	name: "times", doc: "A range of the day; several: any of them.",
	attrs: []attr[TimeRange]{
		field("start_time", clock, func(tr *TimeRange) *int { return &tr.StartMinute }, "\"HH:MM\", included.").require(),
		field("end_time", clock, func(tr *TimeRange) *int { return &tr.EndMinute }, "\"HH:MM\", up to \"24:00\", excluded.").require(),
	},
	check: func(s *scope, tr *TimeRange) {
		if s.ok() && tr.StartMinute >= tr.EndMinute {
			s.blockErrorf("Invalid time range", "start_time must be before end_time; a range across midnight is two times blocks.")
		}
	},
}

// clock is a time of day, "HH:MM", kept in minutes since midnight.
var clock = codec[int]{
	typ: cty.String, kind: "string",
	decode: func(at attrValue, v cty.Value) (int, bool) {
		m, ok := parseClock(v.AsString())
		if !ok {
			at.errorf("Invalid time", "%q is not a time of day for %s; write it as \"HH:MM\", from \"00:00\" to \"24:00\".", v.AsString(), at.name())
		}
		return m, ok
	},
	render: func(minutes int, _ renderOptions) cty.Value { return cty.StringVal(clockText(minutes)) },
}

// clockText writes minutes since midnight as "HH:MM".
func clockText(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

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

// ranges is a list of "a" or "a:b" entries of what, each end parsed by
// parse and written by format, each range checked by check; example shows
// one in diagnostics.
func ranges(what, example string, parse func(string) (int, bool), check func(InclusiveRange) string, format func(int) string) codec[[]InclusiveRange] {
	return codec[[]InclusiveRange]{
		typ: cty.List(cty.String), kind: "list of string",
		decode: func(at attrValue, v cty.Value) ([]InclusiveRange, bool) {
			entries, ok := strList.decode(at, v)
			var out []InclusiveRange
			for i, e := range entries {
				lo, hi, isRange := strings.Cut(e, ":")
				begin, ok1 := parse(strings.TrimSpace(lo))
				end, ok2 := begin, true
				if isRange {
					end, ok2 = parse(strings.TrimSpace(hi))
				}
				if !ok1 || !ok2 {
					at.elemErrorf(i, "Invalid "+what+" range", "%q is not a %s or a range of them such as %s.", e, what, example)
					continue
				}
				r := InclusiveRange{Begin: begin, End: end}
				if msg := check(r); msg != "" {
					at.elemErrorf(i, "Invalid "+what+" range", "%q: %s.", e, msg)
					continue
				}
				out = append(out, r)
			}
			return out, ok
		},
		render: func(rs []InclusiveRange, _ renderOptions) cty.Value { return stringList(rangeTexts(rs, format)) },
	}
}

// rangeTexts writes ranges as the configuration does, "a" or "a:b", each
// end written by format.
func rangeTexts(rs []InclusiveRange, format func(int) string) []string {
	var out []string
	for _, r := range rs {
		e := format(r.Begin)
		if r.End != r.Begin {
			e += ":" + format(r.End)
		}
		out = append(out, e)
	}
	return out
}

// named writes i as names[i-offset].
func named(names []string, offset int) func(int) string {
	return func(i int) string { return names[i-offset] }
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

// Alertmanager is an `alertmanager` block: external Alertmanagers that
// receive the alerts of the rules through their v2 API, as Prometheus's
// alertmanager_config with static targets. Several blocks may be given.
type Alertmanager struct {
	// URLs are the Alertmanagers' base URLs; alerts are posted to
	// <URL>/api/v2/alerts.
	URLs []*url.URL
	// Timeout bounds one request.
	Timeout time.Duration
	// HTTPClient is how the Alertmanagers are reached: authentication,
	// TLS, proxy, headers.
	HTTPClient
	Range hcl.Range
}

// alertmanagerClient is the HTTP client of an alertmanager block.
var alertmanagerClient = httpClient(func(am *Alertmanager) *HTTPClient { return &am.HTTPClient }, "Alertmanager", true)

var alertmanagerSpec = &block[Alertmanager]{
	name: "alertmanager", doc: "External Alertmanagers the alerts of the rules are sent to as well.",
	rangeOf: func(am *Alertmanager) *hcl.Range { return &am.Range },
	attrs: append([]attr[Alertmanager]{
		field("urls", listOfEach("list of URL", "Invalid Alertmanager URL", parseHTTPURL, urlString),
			func(am *Alertmanager) *[]*url.URL { return &am.URLs },
			"Base URLs; alerts go to URL/api/v2/alerts. A user and password in a URL are sent as basic authentication.").require(),
		withDefault("timeout", duration[time.Duration](), func(am *Alertmanager) *time.Duration { return &am.Timeout }, DefaultAlertmanagerTimeout,
			"How long one request may take."),
	}, alertmanagerClient.attrs...),
	children: alertmanagerClient.blocks,
	check: func(s *scope, am *Alertmanager) {
		if s.set("urls") && s.ok() && len(am.URLs) == 0 {
			s.errorf("urls", "Invalid urls", "An alertmanager block needs at least one URL.")
		}
		checkHTTPClient(s, "alertmanager", "", &am.HTTPClient)
		for _, u := range am.URLs {
			if u.User != nil && (am.BasicAuth != nil || am.BearerToken != "" || am.BearerTokenFile != "" || am.OAuth2 != nil) {
				s.errorf("urls", "Conflicting authentication", "URL %s has a user, and the block sets its own authentication; choose one.", u.Redacted())
			}
		}
	},
}
