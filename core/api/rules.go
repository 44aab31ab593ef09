package api

import (
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/vigilmon/vigil/core/tenant"
)

// RuleSource is what /api/v1/rules and /api/v1/alerts read: the rule
// groups being evaluated. core/rules.Manager is one.
type RuleSource interface {
	// RuleGroups returns the groups, sorted by file and name.
	RuleGroups() []*rules.Group
	// AlertingRules returns the alerting rules of every group.
	AlertingRules() []*rules.AlertingRule
}

// ruleGroup is a group of /api/v1/rules, in Prometheus's shape; its rules
// are alertingRule and recordingRule values, in the group's order.
type ruleGroup struct {
	Name           string    `json:"name"`
	File           string    `json:"file"`
	Rules          []any     `json:"rules"`
	Interval       float64   `json:"interval"`
	Limit          int       `json:"limit"`
	EvaluationTime float64   `json:"evaluationTime"`
	LastEvaluation time.Time `json:"lastEvaluation"`
}

type alertingRule struct {
	State          string           `json:"state"`
	Name           string           `json:"name"`
	Query          string           `json:"query"`
	Duration       float64          `json:"duration"`
	KeepFiringFor  float64          `json:"keepFiringFor"`
	Labels         labels.Labels    `json:"labels"`
	Annotations    labels.Labels    `json:"annotations"`
	Alerts         []*alert         `json:"alerts"`
	Health         rules.RuleHealth `json:"health"`
	LastError      string           `json:"lastError,omitempty"`
	EvaluationTime float64          `json:"evaluationTime"`
	LastEvaluation time.Time        `json:"lastEvaluation"`
	Type           string           `json:"type"` // "alerting"
}

type recordingRule struct {
	Name           string           `json:"name"`
	Query          string           `json:"query"`
	Labels         labels.Labels    `json:"labels"`
	Health         rules.RuleHealth `json:"health"`
	LastError      string           `json:"lastError,omitempty"`
	EvaluationTime float64          `json:"evaluationTime"`
	LastEvaluation time.Time        `json:"lastEvaluation"`
	Type           string           `json:"type"` // "recording"
}

// alert is an active alert, in Prometheus's shape: the value is a string
// so that it keeps its precision.
type alert struct {
	Labels          labels.Labels `json:"labels"`
	Annotations     labels.Labels `json:"annotations"`
	State           string        `json:"state"`
	ActiveAt        *time.Time    `json:"activeAt,omitempty"`
	KeepFiringSince *time.Time    `json:"keepFiringSince,omitempty"`
	Value           string        `json:"value"`
}

// tenantAlerts are the alerts of in that the request may see: those of
// its tenant, when it is confined to one.
func tenantAlerts(r *http.Request, in []*rules.Alert) []*rules.Alert {
	ms := tenant.MatchersOf(r.Context())
	if ms == nil {
		return in
	}
	out := in[:0:0]
	for _, a := range in {
		if tenant.Matches(ms, a.Labels) {
			out = append(out, a)
		}
	}
	return out
}

func apiAlerts(in []*rules.Alert) []*alert {
	out := make([]*alert, 0, len(in))
	for _, a := range in {
		x := &alert{
			Labels:      a.Labels,
			Annotations: a.Annotations,
			State:       a.State.String(),
			ActiveAt:    &a.ActiveAt,
			Value:       strconv.FormatFloat(a.Value, 'e', -1, 64),
		}
		if !a.KeepFiringSince.IsZero() {
			x.KeepFiringSince = &a.KeepFiringSince
		}
		out = append(out, x)
	}
	return out
}

// alerts answers /api/v1/alerts: the pending and firing alerts.
func (a *API) alerts(r *http.Request) (any, annotations.Annotations, *apiError) {
	out := []*alert{}
	if a.src.Rules != nil {
		for _, rule := range a.src.Rules.AlertingRules() {
			out = append(out, apiAlerts(tenantAlerts(r, rule.ActiveAlerts()))...)
		}
	}
	return map[string]any{"alerts": out}, nil, nil
}

// alertmanagerURL is an Alertmanager of /api/v1/alertmanagers.
type alertmanagerURL struct {
	URL string `json:"url"`
}

// alertmanagers answers /api/v1/alertmanagers: the external Alertmanagers
// of the alertmanager blocks. None is ever dropped: they are static.
func (a *API) alertmanagers(*http.Request) (any, annotations.Annotations, *apiError) {
	active := []alertmanagerURL{}
	if a.src.Alertmanagers != nil {
		for _, u := range a.src.Alertmanagers() {
			active = append(active, alertmanagerURL{URL: u})
		}
	}
	return map[string]any{"activeAlertmanagers": active, "droppedAlertmanagers": []alertmanagerURL{}}, nil, nil
}

// rules answers /api/v1/rules, filtered as Prometheus filters it: type
// (alert or record), rule_name[], rule_group[], file[], match[] on the
// rules' labels, and exclude_alerts. A group left without rules is left
// out.
func (a *API) rules(r *http.Request) (any, annotations.Annotations, *apiError) {
	typ := strings.ToLower(r.FormValue("type"))
	if typ != "" && typ != "alert" && typ != "record" {
		return nil, nil, badData("invalid parameter \"type\": not supported value %q", typ)
	}
	excludeAlerts := false
	if s := r.FormValue("exclude_alerts"); s != "" {
		b, err := strconv.ParseBool(strings.ToLower(s))
		if err != nil {
			return nil, nil, badData("invalid parameter \"exclude_alerts\": %v", err)
		}
		excludeAlerts = b
	}
	matcherSets, err := a.matchers(r)
	if err != nil {
		return nil, nil, err
	}
	names, groupNames, files := formSet(r, "rule_name[]"), formSet(r, "rule_group[]"), formSet(r, "file[]")
	groupLimit, nextToken, apiErr := rulesPage(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}

	out := []*ruleGroup{}
	if a.src.Rules == nil {
		return map[string]any{"groups": out}, nil, nil
	}
	res := map[string]any{}
	foundToken := nextToken == ""
	for _, g := range a.src.Rules.RuleGroups() {
		if !groupNames.has(g.Name()) || !files.has(g.File()) {
			continue
		}
		if !foundToken {
			if ruleGroupToken(g.File(), g.Name()) != nextToken {
				continue
			}
			foundToken = true
		}
		if groupLimit > 0 && len(out) == groupLimit {
			res["groupNextToken"] = ruleGroupToken(g.File(), g.Name())
			break
		}
		group := &ruleGroup{
			Name:           g.Name(),
			File:           g.File(),
			Rules:          []any{},
			Interval:       g.Interval().Seconds(),
			Limit:          g.Limit(),
			EvaluationTime: g.GetEvaluationTime().Seconds(),
			LastEvaluation: g.GetLastEvaluation(),
		}
		for _, rule := range g.Rules(matcherSets...) {
			if !names.has(rule.Name()) {
				continue
			}
			lastError := ""
			if err := rule.LastError(); err != nil {
				lastError = err.Error()
			}
			switch rule := rule.(type) {
			case *rules.AlertingRule:
				if typ == "record" {
					continue
				}
				var active []*alert
				if !excludeAlerts {
					active = apiAlerts(tenantAlerts(r, rule.ActiveAlerts()))
				}
				group.Rules = append(group.Rules, alertingRule{
					State:          rule.State().String(),
					Name:           rule.Name(),
					Query:          rule.Query().String(),
					Duration:       rule.HoldDuration().Seconds(),
					KeepFiringFor:  rule.KeepFiringFor().Seconds(),
					Labels:         rule.Labels(),
					Annotations:    rule.Annotations(),
					Alerts:         active,
					Health:         rule.Health(),
					LastError:      lastError,
					EvaluationTime: rule.GetEvaluationDuration().Seconds(),
					LastEvaluation: rule.GetEvaluationTimestamp(),
					Type:           "alerting",
				})
			case *rules.RecordingRule:
				if typ == "alert" {
					continue
				}
				group.Rules = append(group.Rules, recordingRule{
					Name:           rule.Name(),
					Query:          rule.Query().String(),
					Labels:         rule.Labels(),
					Health:         rule.Health(),
					LastError:      lastError,
					EvaluationTime: rule.GetEvaluationDuration().Seconds(),
					LastEvaluation: rule.GetEvaluationTimestamp(),
					Type:           "recording",
				})
			}
		}
		if len(group.Rules) > 0 {
			out = append(out, group)
		}
	}
	if !foundToken {
		return nil, nil, badData("invalid group_next_token %q. were rule groups changed?", nextToken)
	}
	res["groups"] = out
	return res, nil, nil
}

// rulesPage reads the pagination parameters of /api/v1/rules as
// Prometheus does: group_limit, a positive number of groups per page, and
// group_next_token, the token the previous page ended with.
func rulesPage(r *http.Request) (limit int, token string, apiErr *apiError) {
	token = r.FormValue("group_next_token")
	s := r.FormValue("group_limit")
	if s == "" {
		if token != "" {
			return 0, "", badData("group_limit needs to be present in order to paginate over the groups")
		}
		return 0, "", nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n <= 0 {
		return 0, "", badData("group_limit needs to be greater than 0")
	}
	return int(n), token, nil
}

// ruleGroupToken names a rule group in a page token: a hash of its file
// and name, as Prometheus's.
func ruleGroupToken(file, name string) string {
	h := sha1.Sum([]byte(file + ";" + name))
	return hex.EncodeToString(h[:])
}

// stringSet is the values of a repeated form parameter; an empty set
// lets everything through.
type stringSet map[string]bool

func formSet(r *http.Request, name string) stringSet {
	set := stringSet{}
	for _, v := range r.Form[name] {
		set[v] = true
	}
	return set
}

func (s stringSet) has(v string) bool { return len(s) == 0 || s[v] }
