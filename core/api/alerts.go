package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	amalert "github.com/vigilmon/vigil/core/alert"
	"github.com/vigilmon/vigil/core/tenant"
	"github.com/vigilmon/vigil/hclconfig"
)

// AlertSource is what the alert endpoints of the Alertmanager API v2 read
// and write: the current alerts with their states, and the alerts that
// clients post. core/alert.Dispatcher is one.
type AlertSource interface {
	// Alerts returns the alerts firing at now.
	Alerts(now time.Time) []amalert.AlertStatus
	// Groups returns the aggregation groups and their alerts firing at now.
	Groups(now time.Time) []amalert.AlertGroup
	// Receive takes posted alerts, new ones and new states of known ones.
	// An error wrapping amalert.ErrTooManyAlerts says it refused some,
	// holding as many as it may; it took the others.
	Receive(alerts []*amalert.Alert) error
}

// The alert states of Alertmanager's API v2.
const (
	AlertStateActive      = "active"
	AlertStateSuppressed  = "suppressed"
	AlertStateUnprocessed = "unprocessed"
)

// AMReceiver names a receiver in Alertmanager's API v2 shape.
type AMReceiver struct {
	Name string `json:"name"`
}

// AMAlertStatus is the state of an alert: active, or suppressed by the
// silences and inhibiting alerts listed.
type AMAlertStatus struct {
	State       string   `json:"state"`
	SilencedBy  []string `json:"silencedBy"`
	InhibitedBy []string `json:"inhibitedBy"`
}

// GettableAlert is an alert as GET /api/v2/alerts answers it.
type GettableAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	// EndsAt is absent while the alert fires until further notice.
	EndsAt       time.Time     `json:"endsAt,omitzero"`
	UpdatedAt    time.Time     `json:"updatedAt"`
	GeneratorURL string        `json:"generatorURL,omitempty"`
	Fingerprint  string        `json:"fingerprint"`
	Receivers    []AMReceiver  `json:"receivers"`
	Status       AMAlertStatus `json:"status"`
}

// AlertGroup is an aggregation group as GET /api/v2/alerts/groups
// answers it.
type AlertGroup struct {
	Labels   map[string]string `json:"labels"`
	Receiver AMReceiver        `json:"receiver"`
	Alerts   []GettableAlert   `json:"alerts"`
}

// PostableAlert is an alert as POST /api/v2/alerts takes it.
type PostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// alertFilter holds the query parameters that select alerts.
type alertFilter struct {
	matchers                    []*labels.Matcher
	active, silenced, inhibited bool
	receiver                    *regexp.Regexp
}

// parseAlertFilter reads filter=, active, silenced, inhibited and
// receiver as Alertmanager does: the booleans default to true and the
// receiver regular expression is anchored.
func parseAlertFilter(r *http.Request) (alertFilter, *amError) {
	q := r.URL.Query()
	f := alertFilter{active: true, silenced: true, inhibited: true}
	for _, s := range q["filter"] {
		ms, err := amalert.ParseMatchers(s)
		if err != nil {
			return f, &amError{http.StatusBadRequest, fmt.Sprintf("bad matcher format: %v", err)}
		}
		f.matchers = append(f.matchers, ms...)
	}
	// A request confined to a tenant sees the tenant's alerts only.
	f.matchers = append(f.matchers, tenant.MatchersOf(r.Context())...)
	for name, v := range map[string]*bool{"active": &f.active, "silenced": &f.silenced, "inhibited": &f.inhibited} {
		if s := q.Get(name); s != "" {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return f, &amError{http.StatusBadRequest, fmt.Sprintf("invalid %s: %q is not a boolean", name, s)}
			}
			*v = b
		}
	}
	if s := q.Get("receiver"); s != "" {
		re, err := regexp.Compile("^(?:" + s + ")$")
		if err != nil {
			return f, &amError{http.StatusBadRequest, fmt.Sprintf("failed to parse receiver param: %v", err)}
		}
		f.receiver = re
	}
	return f, nil
}

// keep says whether the filter selects the alert s.
func (f *alertFilter) keep(s *amalert.AlertStatus) bool {
	if !amalert.MatchesAll(f.matchers, s.Labels) {
		return false
	}
	if f.receiver != nil && !slices.ContainsFunc(s.Receivers, f.receiver.MatchString) {
		return false
	}
	switch {
	case !f.silenced && len(s.SilencedBy) > 0,
		!f.inhibited && len(s.InhibitedBy) > 0,
		!f.active && !s.Suppressed():
		return false
	}
	return true
}

func gettableAlert(s *amalert.AlertStatus) GettableAlert {
	state := AlertStateActive
	if s.Suppressed() {
		state = AlertStateSuppressed
	}
	inhibitedBy := make([]string, 0, len(s.InhibitedBy))
	for _, fp := range s.InhibitedBy {
		inhibitedBy = append(inhibitedBy, fmt.Sprintf("%016x", fp))
	}
	receivers := make([]AMReceiver, 0, len(s.Receivers))
	for _, r := range s.Receivers {
		receivers = append(receivers, AMReceiver{Name: r})
	}
	return GettableAlert{
		Labels:       s.Labels.Map(),
		Annotations:  s.Annotations.Map(),
		StartsAt:     s.StartsAt,
		EndsAt:       s.EndsAt,
		UpdatedAt:    s.UpdatedAt,
		GeneratorURL: s.GeneratorURL,
		Fingerprint:  fmt.Sprintf("%016x", s.Fingerprint()),
		Receivers:    receivers,
		Status: AMAlertStatus{
			State:       state,
			SilencedBy:  append([]string{}, s.SilencedBy...),
			InhibitedBy: inhibitedBy,
		},
	}
}

// getAlerts answers GET /api/v2/alerts: the firing alerts the query
// selects, sorted by fingerprint as Alertmanager sorts them.
func (a *API) getAlerts(r *http.Request) (any, *amError) {
	f, apiErr := parseAlertFilter(r)
	if apiErr != nil {
		return nil, apiErr
	}
	out := []GettableAlert{}
	for _, s := range a.src.Alerts.Alerts(time.Now()) {
		if f.keep(&s) {
			out = append(out, gettableAlert(&s))
		}
	}
	slices.SortFunc(out, func(x, y GettableAlert) int { return strings.Compare(x.Fingerprint, y.Fingerprint) })
	return out, nil
}

// getAlertGroups answers GET /api/v2/alerts/groups: the aggregation
// groups with the alerts the query selects; the receiver parameter
// selects groups by their receiver, and groups left with no alert are
// left out.
func (a *API) getAlertGroups(r *http.Request) (any, *amError) {
	f, apiErr := parseAlertFilter(r)
	if apiErr != nil {
		return nil, apiErr
	}
	out := []AlertGroup{}
	for _, g := range a.src.Alerts.Groups(time.Now()) {
		ag := AlertGroup{Labels: g.Labels.Map(), Receiver: AMReceiver{Name: g.Receiver}, Alerts: []GettableAlert{}}
		for _, s := range g.Alerts {
			if f.keep(&s) {
				ag.Alerts = append(ag.Alerts, gettableAlert(&s))
			}
		}
		if len(ag.Alerts) > 0 {
			out = append(out, ag)
		}
	}
	return out, nil
}

// maxPostedAlertsBytes bounds the body of POST /api/v2/alerts.
const maxPostedAlertsBytes = 32 << 20

// postAlerts answers POST /api/v2/alerts as Alertmanager does: an alert
// without a start starts now (or at its end, when it has one), and one
// without an end resolves after the resolve_timeout unless it is posted
// again. Empty label values are dropped. The valid alerts are taken even
// when others are not; those are reported in one 400 answer, each with
// its index. New alerts beyond the global max_alerts are refused with
// 429, the others taken.
func (a *API) postAlerts(r *http.Request) (any, *amError) {
	if err := requireJSON(r); err != nil {
		return nil, err
	}
	var posted []PostableAlert
	if err := json.NewDecoder(r.Body).Decode(&posted); err != nil {
		return nil, decodeError("the alerts", err)
	}
	resolveTimeout := hclconfig.DefaultResolveTimeout
	if a.src.Config != nil {
		resolveTimeout = a.src.Config().Global.ResolveTimeout
	}
	now := time.Now()
	var (
		valid []*amalert.Alert
		errs  []string
	)
	for i, p := range posted {
		al, err := alertFromPostable(p, now, resolveTimeout)
		if err != nil {
			errs = append(errs, fmt.Sprintf("alert %d: %v", i, err))
			continue
		}
		valid = append(valid, al)
	}
	if ms := tenant.MatchersOf(r.Context()); ms != nil {
		for _, al := range valid {
			if !tenant.Matches(ms, al.Labels) {
				return nil, &amError{http.StatusForbidden, fmt.Sprintf("alert %s: its labels are outside the series this user may see, %s; no alert was taken", al.Labels, tenant.String(ms))}
			}
		}
	}
	var limited error
	if len(valid) > 0 {
		if err := a.src.Alerts.Receive(valid); err != nil {
			if !errors.Is(err, amalert.ErrTooManyAlerts) {
				return nil, &amError{http.StatusInternalServerError, err.Error()}
			}
			limited = err
			errs = append(errs, err.Error())
		}
	}
	switch {
	case len(errs) > 1 || (len(errs) == 1 && limited == nil):
		return nil, &amError{http.StatusBadRequest, strings.Join(errs, "; ")}
	case limited != nil:
		return nil, &amError{http.StatusTooManyRequests, limited.Error()}
	}
	return nil, nil
}

// alertFromPostable checks a posted alert and fills in its times.
func alertFromPostable(p PostableAlert, now time.Time, resolveTimeout time.Duration) (*amalert.Alert, error) {
	lb := labels.NewScratchBuilder(len(p.Labels))
	for name, value := range p.Labels {
		if value == "" {
			continue
		}
		if !model.UTF8Validation.IsValidLabelName(name) {
			return nil, fmt.Errorf("invalid label name %q", name)
		}
		lb.Add(name, value)
	}
	lb.Sort()
	lset := lb.Labels()
	if lset.IsEmpty() {
		return nil, errors.New("at least one label pair required")
	}
	ab := labels.NewScratchBuilder(len(p.Annotations))
	for name, value := range p.Annotations {
		if !model.UTF8Validation.IsValidLabelName(name) {
			return nil, fmt.Errorf("invalid annotation name %q", name)
		}
		ab.Add(name, value)
	}
	ab.Sort()
	al := &amalert.Alert{
		Labels: lset, Annotations: ab.Labels(),
		StartsAt: p.StartsAt, EndsAt: p.EndsAt, GeneratorURL: p.GeneratorURL,
	}
	if al.StartsAt.IsZero() {
		al.StartsAt = now
		if !al.EndsAt.IsZero() {
			al.StartsAt = al.EndsAt
		}
	}
	if al.EndsAt.IsZero() {
		al.EndsAt = now.Add(resolveTimeout)
	}
	if al.EndsAt.Before(al.StartsAt) {
		return nil, errors.New("start time must be before end time")
	}
	return al, nil
}

// The dispatcher is an AlertSource.
var _ AlertSource = (*amalert.Dispatcher)(nil)
