package hclconfig

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"go.yaml.in/yaml/v3"

	"github.com/vigilmon/vigil/internal/amatcher"
)

// AlertmanagerYAML renders the alerting part of the configuration as an
// Alertmanager configuration file: the route tree, a receiver for each
// notifier block (by name only: what a notifier does is its plugin's
// business), the inhibit rules, the time intervals and the
// resolve_timeout. /api/v2/status serves it as config.original, where
// Alertmanager's clients expect Alertmanager's YAML: amtool's `config
// routes show` and `config routes test` load it with Alertmanager's own
// parser. Without a route block there is no route, which Alertmanager's
// parser refuses, as Vigil routes nothing.
func (c *Config) AlertmanagerYAML() ([]byte, error) {
	out := amFile{
		Global:    amGlobal{ResolveTimeout: model.Duration(c.Global.ResolveTimeout).String()},
		Receivers: []amReceiver{},
	}
	for _, n := range c.Notifiers {
		out.Receivers = append(out.Receivers, amReceiver{Name: n.Name})
	}
	if c.Route != nil {
		out.Route = amRouteOf(c.Route, nil)
	}
	for _, in := range c.Inhibits {
		out.InhibitRules = append(out.InhibitRules, amInhibitRule{
			SourceMatchers: matcherTexts(in.SourceMatchers),
			TargetMatchers: matcherTexts(in.TargetMatchers),
			Equal:          in.Equal,
		})
	}
	for _, ti := range c.TimeIntervals {
		spec := amTimeSpec{}
		for _, tr := range ti.Times {
			spec.Times = append(spec.Times, amTimeRange{StartTime: clockText(tr.StartMinute), EndTime: clockText(tr.EndMinute)})
		}
		spec.Weekdays = rangeTexts(ti.Weekdays, named(weekdayNames, 0))
		spec.DaysOfMonth = rangeTexts(ti.DaysOfMonth, strconv.Itoa)
		spec.Months = rangeTexts(ti.Months, named(monthNames, 1))
		spec.Years = rangeTexts(ti.Years, strconv.Itoa)
		if ti.Location != nil {
			spec.Location = ti.Location.String()
		}
		out.TimeIntervals = append(out.TimeIntervals, amTimeInterval{Name: ti.Name, TimeIntervals: []amTimeSpec{spec}})
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("cannot render the alerting configuration as Alertmanager YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("cannot render the alerting configuration as Alertmanager YAML: %w", err)
	}
	return b.Bytes(), nil
}

// amRouteOf renders r, a child of parent (nil for the root). A child
// writes only what differs from its parent, since Alertmanager's routes
// inherit receiver, group_by and the three timings as Vigil's do.
func amRouteOf(r, parent *Route) *amRoute {
	out := &amRoute{
		Matchers:            matcherTexts(r.Matchers),
		Continue:            r.Continue,
		MuteTimeIntervals:   r.MuteTimeIntervals,
		ActiveTimeIntervals: r.ActiveTimeIntervals,
	}
	groupBy := r.GroupBy
	if r.GroupByAll {
		groupBy = []string{GroupByAll}
	}
	if groupBy == nil {
		groupBy = []string{}
	}
	if parent == nil || r.GroupByAll != parent.GroupByAll || !slices.Equal(r.GroupBy, parent.GroupBy) {
		out.GroupBy = &groupBy
	}
	if parent == nil || r.Receiver != parent.Receiver {
		out.Receiver = r.Receiver
	}
	duration := func(d, inherited time.Duration) string {
		if parent != nil && d == inherited {
			return ""
		}
		return model.Duration(d).String()
	}
	var pw, pi, pr time.Duration
	if parent != nil {
		pw, pi, pr = parent.GroupWait, parent.GroupInterval, parent.RepeatInterval
	}
	out.GroupWait = duration(r.GroupWait, pw)
	out.GroupInterval = duration(r.GroupInterval, pi)
	out.RepeatInterval = duration(r.RepeatInterval, pr)
	for _, child := range r.Routes {
		out.Routes = append(out.Routes, amRouteOf(child, r))
	}
	return out
}

// matcherTexts writes matchers in Alertmanager's syntax.
func matcherTexts(ms []*labels.Matcher) []string {
	var texts []string
	for _, m := range ms {
		texts = append(texts, amatcher.Format(m))
	}
	return texts
}

// The shapes below are those of Alertmanager's configuration file
// (github.com/prometheus/alertmanager/config), for what Vigil has of it.

type amFile struct {
	Global        amGlobal         `yaml:"global"`
	Route         *amRoute         `yaml:"route,omitempty"`
	InhibitRules  []amInhibitRule  `yaml:"inhibit_rules,omitempty"`
	Receivers     []amReceiver     `yaml:"receivers"`
	TimeIntervals []amTimeInterval `yaml:"time_intervals,omitempty"`
}

type amGlobal struct {
	ResolveTimeout string `yaml:"resolve_timeout"`
}

type amReceiver struct {
	Name string `yaml:"name"`
}

type amRoute struct {
	Receiver string `yaml:"receiver,omitempty"`
	// GroupBy is nil when inherited; an empty list groups by nothing.
	GroupBy             *[]string  `yaml:"group_by,omitempty,flow"`
	Matchers            []string   `yaml:"matchers,omitempty"`
	Continue            bool       `yaml:"continue,omitempty"`
	MuteTimeIntervals   []string   `yaml:"mute_time_intervals,omitempty"`
	ActiveTimeIntervals []string   `yaml:"active_time_intervals,omitempty"`
	GroupWait           string     `yaml:"group_wait,omitempty"`
	GroupInterval       string     `yaml:"group_interval,omitempty"`
	RepeatInterval      string     `yaml:"repeat_interval,omitempty"`
	Routes              []*amRoute `yaml:"routes,omitempty"`
}

type amInhibitRule struct {
	SourceMatchers []string `yaml:"source_matchers,omitempty"`
	TargetMatchers []string `yaml:"target_matchers,omitempty"`
	Equal          []string `yaml:"equal,omitempty"`
}

type amTimeInterval struct {
	Name          string       `yaml:"name"`
	TimeIntervals []amTimeSpec `yaml:"time_intervals"`
}

type amTimeSpec struct {
	Times       []amTimeRange `yaml:"times,omitempty"`
	Weekdays    []string      `yaml:"weekdays,flow,omitempty"`
	DaysOfMonth []string      `yaml:"days_of_month,flow,omitempty"`
	Months      []string      `yaml:"months,flow,omitempty"`
	Years       []string      `yaml:"years,flow,omitempty"`
	Location    string        `yaml:"location,omitempty"`
}

type amTimeRange struct {
	StartTime string `yaml:"start_time"`
	EndTime   string `yaml:"end_time"`
}
