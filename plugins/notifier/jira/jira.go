package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify"
	"github.com/vigilmon/vigil/sdk"
)

// Jira's limits, in characters.
const (
	maxSummary     = 255
	maxDescription = 32767
)

var jiraPlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "jira",
		Version:      "0.1.0",
		Description:  "Opens, updates and transitions a Jira issue per alert group, as Alertmanager's Jira receiver does.",
		Capabilities: []string{sdk.CapabilityDeliversToURL},
	},
	Schema: sdk.Schema{
		sdk.String("api_url", "Jira's REST API, such as https://example.atlassian.net/rest/api/2 (or /3 for API v3).", sdk.Required),
		sdk.String("username", "The user to sign in as (on Jira Cloud, an email address); with password, basic authentication."),
		sdk.String("password", "The user's password or API token.", sdk.Sensitive),
		sdk.String("bearer_token", "A personal access token, sent as a bearer token, instead of username and password.", sdk.Sensitive),
		sdk.String("api_type", "auto, cloud or datacenter: which search API to call; auto takes cloud's for hosts under atlassian.net.", sdk.Default("auto")),
		sdk.String("project", "A template: the key of the project of the issues.", sdk.Required),
		sdk.String("issue_type", "A template: the type of the issues, such as Bug.", sdk.Required),
		sdk.String("summary", "A template: the issue's summary, cut to 255 characters.", sdk.Default(`{{ template "jira.default.summary" . }}`)),
		sdk.Bool("update_summary", "Update the summary of an open issue.", sdk.Default(true)),
		sdk.String("description", "A template: the issue's description, cut to 32767 characters (with API v3, a JSON document in Atlassian Document Format).", sdk.Default(`{{ template "jira.default.description" . }}`)),
		sdk.Bool("update_description", "Update the description of an open issue.", sdk.Default(true)),
		sdk.StringList("labels", "Templates: labels of the issue, besides ALERT{group key hash}."),
		sdk.String("priority", "A template: the issue's priority; none when empty.", sdk.Default(`{{ template "jira.default.priority" . }}`)),
		sdk.StringMap("fields", "Templates: more fields of the issue, such as customfield_10000, each a string."),
		sdk.String("resolve_transition", "The transition to make once the group is resolved; none when empty."),
		sdk.String("reopen_transition", "The transition to reopen a closed issue when the group fires again within reopen_duration; none when empty."),
		sdk.Duration("reopen_duration", "How long after it was resolved an issue is reopened instead of a new one opened.", sdk.Default("0s")),
		sdk.String("wont_fix_resolution", "A resolution that keeps an issue closed: its group opens a new one."),
	},
	Notifier: func(cfg sdk.Config) (sdk.Notifier, error) { return newJira(cfg) },
}

// jira keeps the issues of one project.
type jira struct {
	apiURL                                   *url.URL
	auth, apiType                            string
	project, issueType, summary, description string
	priority                                 string
	updateSummary, updateDescription         bool
	labels                                   []string
	fields                                   map[string]string
	resolve, reopen, wontFix                 string
	reopenDuration                           time.Duration
	templates                                *amnotify.Templates
}

func newJira(cfg sdk.Config) (*jira, error) {
	u, err := amnotify.CheckURL("api_url", strings.TrimSpace(cfg.String("api_url")), false)
	if err != nil {
		return nil, err
	}
	j := &jira{
		apiURL: u, apiType: cfg.String("api_type"), project: cfg.String("project"), issueType: cfg.String("issue_type"),
		summary: cfg.String("summary"), description: cfg.String("description"), priority: cfg.String("priority"),
		updateSummary: cfg.Bool("update_summary"), updateDescription: cfg.Bool("update_description"),
		labels: cfg.StringList("labels"), fields: cfg.StringMap("fields"), resolve: cfg.String("resolve_transition"),
		reopen: cfg.String("reopen_transition"), reopenDuration: cfg.Duration("reopen_duration"),
		wontFix: cfg.String("wont_fix_resolution"),
	}
	switch user, password, token := cfg.String("username"), cfg.String("password"), cfg.String("bearer_token"); {
	case token != "" && (user != "" || password != ""):
		return nil, sdk.AttributeErrorf("bearer_token", "cannot be set with username and password")
	case token != "":
		j.auth = "Bearer " + strings.TrimSpace(token)
	case user != "" && password != "":
		j.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	case user != "" || password != "":
		return nil, sdk.AttributeErrorf("password", "and username are needed together")
	}
	if j.apiType != "auto" && j.apiType != "cloud" && j.apiType != "datacenter" {
		return nil, sdk.AttributeErrorf("api_type", "must be auto, cloud or datacenter, not %q", j.apiType)
	}
	if j.reopenDuration < 0 {
		return nil, sdk.AttributeErrorf("reopen_duration", "must not be negative, not %s", j.reopenDuration)
	}
	if j.templates, err = amnotify.New(); err != nil {
		return nil, err
	}
	for _, a := range []struct{ name, text string }{
		{"project", j.project}, {"issue_type", j.issueType}, {"summary", j.summary}, {"description", j.description}, {"priority", j.priority},
	} {
		if err := j.templates.Check(a.name, a.text); err != nil {
			return nil, err
		}
	}
	if err := j.templates.Check("labels", j.labels...); err != nil {
		return nil, err
	}
	for _, v := range j.fields {
		if err := j.templates.Check("fields", v); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// issue is an issue of Jira's API, in what the plugin reads and writes.
type issue struct {
	Key        string       `json:"key,omitempty"`
	Fields     *issueFields `json:"fields,omitempty"`
	Transition *idName      `json:"transition,omitempty"`
}

type idName struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// issueFields are an issue's fields; Fields are more, by their names.
type issueFields struct {
	Description any     `json:"-"` // a string, or a JSON document for API v3
	Issuetype   *idName `json:"-"`
	Labels      []string
	Priority    *idName
	Project     *struct {
		Key string `json:"key"`
	}
	Summary *string
	Status  *struct {
		StatusCategory struct {
			Key string `json:"key"`
		} `json:"statusCategory"`
	} `json:"status,omitempty"`
	Fields map[string]any
}

// MarshalJSON writes the fields set, as Alertmanager writes them.
func (f issueFields) MarshalJSON() ([]byte, error) {
	out := map[string]any{}
	if f.Summary != nil {
		out["summary"] = *f.Summary
	}
	if f.Description != nil {
		out["description"] = f.Description
	}
	if f.Issuetype != nil {
		out["issuetype"] = f.Issuetype
	}
	if f.Labels != nil {
		out["labels"] = f.Labels
	}
	if f.Priority != nil {
		out["priority"] = f.Priority
	}
	if f.Project != nil {
		out["project"] = f.Project
	}
	maps.Copy(out, f.Fields)
	return json.Marshal(out)
}

// UnmarshalJSON reads the status, all the plugin reads of an issue.
func (f *issueFields) UnmarshalJSON(b []byte) error {
	var v struct {
		Status *struct {
			StatusCategory struct {
				Key string `json:"key"`
			} `json:"statusCategory"`
		} `json:"status"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	f.Status = v.Status
	return nil
}

// v3 says the API is version 3, whose description is a document.
func (j *jira) v3() bool { return strings.HasSuffix(strings.TrimRight(j.apiURL.Path, "/"), "/3") }

// call makes one call of the API at u.
func (j *jira) call(ctx context.Context, method, u string, body any) ([]byte, error) {
	h := http.Header{"Accept-Language": {"en"}}
	if j.auth != "" {
		h.Set("Authorization", j.auth)
	}
	return amnotify.Call(ctx, "jira", method, u, body, h)
}

// Notify implements sdk.Notifier, as Alertmanager's Jira receiver does:
// it searches the group's open issue (by its label ALERT{hash}); without
// one it opens one while the group fires, else it updates it; then it
// makes the transition the status calls for. An answer of 2xx is a
// delivery; 429, 5xx and failures to reach Jira are retryable; any other
// answer, and a host the plugin may not reach, are permanent.
func (j *jira) Notify(ctx context.Context, n *sdk.Notification) error {
	r := j.templates.Render(n)
	groupID := amnotify.Hash(n.GroupKey)
	firing := false
	for _, a := range n.Alerts {
		firing = firing || a.Status == "firing"
	}
	existing, err := j.search(ctx, r, groupID, firing)
	if err != nil {
		return err
	}
	method, path := http.MethodPost, "issue"
	if existing == nil {
		if n.Status == "resolved" {
			return nil
		}
	} else {
		method, path = http.MethodPut, "issue/"+existing.Key
	}
	body, err := j.issue(r, groupID)
	if err != nil {
		return sdk.Permanent(err)
	}
	if method == http.MethodPut {
		if !j.updateDescription {
			body.Fields.Description = nil
		}
		if !j.updateSummary {
			body.Fields.Summary = nil
		}
	}
	if _, err := j.call(ctx, method, j.apiURL.JoinPath(path).String(), body); err != nil {
		return err
	}
	return j.transition(ctx, existing, firing)
}

// search finds the group's issue, or nil.
func (j *jira) search(ctx context.Context, r *amnotify.Render, groupID string, firing bool) (*issue, error) {
	var jql strings.Builder
	if j.wontFix != "" {
		fmt.Fprintf(&jql, `(resolution is EMPTY or resolution != %q) and `, j.wontFix)
	}
	if minutes := int64(j.reopenDuration.Minutes()); firing && j.reopen != "" && minutes > 0 {
		fmt.Fprintf(&jql, `(resolutiondate is EMPTY OR resolutiondate >= -%dm) and `, minutes)
	} else {
		jql.WriteString(`statusCategory != Done and `)
	}
	project := r.Text(j.project)
	if err := r.Err(); err != nil {
		return nil, sdk.Permanent(err)
	}
	fmt.Fprintf(&jql, `project=%q and labels=%q order by status ASC,resolutiondate DESC`, project, "ALERT{"+groupID+"}")
	search := struct {
		Fields     []string `json:"fields"`
		JQL        string   `json:"jql"`
		MaxResults int      `json:"maxResults"`
	}{[]string{"status"}, jql.String(), 2}
	searchURL := j.apiURL.JoinPath("/search").String()
	if j.apiType == "cloud" || j.apiType == "auto" && strings.HasSuffix(j.apiURL.Hostname(), "atlassian.net") {
		searchURL = strings.Replace(j.apiURL.JoinPath("/search/jql").String(), "/rest/api/2/", "/rest/api/3/", 1)
	}
	answer, err := j.call(ctx, http.MethodPost, searchURL, search)
	if err != nil {
		return nil, err
	}
	var result struct {
		Issues []issue `json:"issues"`
	}
	if err := json.Unmarshal(answer, &result); err != nil {
		return nil, sdk.Permanent(fmt.Errorf("jira's search answered what is not a search result: %w", err))
	}
	if len(result.Issues) == 0 {
		return nil, nil
	}
	return &result.Issues[0], nil
}

// issue renders the issue's fields.
func (j *jira) issue(r *amnotify.Render, groupID string) (*issue, error) {
	summary, _ := amnotify.TruncateInRunes(r.Text(j.summary), maxSummary)
	f := &issueFields{
		Project: &struct {
			Key string `json:"key"`
		}{r.Text(j.project)},
		Issuetype: &idName{Name: r.Text(j.issueType)},
		Summary:   &summary,
		Labels:    make([]string, 0, len(j.labels)+1),
		Fields:    map[string]any{},
	}
	for k, v := range j.fields {
		f.Fields[k] = r.Text(v)
	}
	description, _ := amnotify.TruncateInRunes(r.Text(j.description), maxDescription)
	if j.v3() {
		if d := strings.TrimSpace(description); d != "" {
			if !json.Valid([]byte(d)) {
				return nil, fmt.Errorf("the description is not the JSON document API v3 needs")
			}
			f.Description = json.RawMessage(d)
		}
	} else if description != "" {
		f.Description = description
	}
	for _, l := range j.labels {
		f.Labels = append(f.Labels, r.Text(l))
	}
	f.Labels = append(f.Labels, "ALERT{"+groupID+"}")
	sort.Strings(f.Labels)
	if p := r.Text(j.priority); p != "" {
		f.Priority = &idName{Name: p}
	}
	return &issue{Fields: f}, r.Err()
}

// transition makes the transition the group's status calls for on an
// issue found: reopen a done issue while firing, resolve an open one
// once resolved.
func (j *jira) transition(ctx context.Context, i *issue, firing bool) error {
	if i == nil || i.Key == "" || i.Fields == nil || i.Fields.Status == nil {
		return nil
	}
	done := i.Fields.Status.StatusCategory.Key == "done"
	name := j.resolve
	if firing {
		name = j.reopen
	}
	if name == "" || firing != done {
		return nil
	}
	path := j.apiURL.JoinPath("issue/" + i.Key + "/transitions").String()
	answer, err := j.call(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	var transitions struct {
		Transitions []idName `json:"transitions"`
	}
	if err := json.Unmarshal(answer, &transitions); err != nil {
		return sdk.Permanent(fmt.Errorf("jira answered what are not transitions: %w", err))
	}
	for _, t := range transitions.Transitions {
		if t.Name == name {
			_, err := j.call(ctx, http.MethodPost, path, issue{Transition: &idName{ID: t.ID}})
			return err
		}
	}
	return sdk.Permanent(fmt.Errorf("issue %s has no transition %q", i.Key, name))
}
