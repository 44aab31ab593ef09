package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify"
	"github.com/vigilmon/vigil/sdk"
)

const (
	// defaultURL is Opsgenie's API, as Alertmanager's opsgenie_api_url.
	defaultURL = "https://api.opsgenie.com/"
	// userAgent is sent with every request.
	userAgent = "Vigil"
	// maxMessage is Opsgenie's limit on a message, in characters.
	maxMessage = 130
)

var opsgeniePlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "opsgenie",
		Version:      "0.1.0",
		Description:  "Creates and closes Opsgenie alerts, as Alertmanager's Opsgenie receiver does.",
		Capabilities: []string{sdk.CapabilityDeliversToURL},
	},
	Schema: sdk.Schema{
		sdk.String("api_key", "The key of the Opsgenie API integration.", sdk.Required, sdk.Sensitive),
		sdk.String("api_url", "Opsgenie's API.", sdk.Default(defaultURL)),
		sdk.String("message", "A template: the alert's message, cut to 130 characters.", sdk.Default(`{{ template "opsgenie.default.message" . }}`)),
		sdk.String("description", "A template: the alert's description.", sdk.Default(`{{ template "opsgenie.default.description" . }}`)),
		sdk.String("source", "A template: the alert's source.", sdk.Default(`{{ template "opsgenie.default.source" . }}`)),
		sdk.StringMap("details", "Templates: extra details of the alert, besides the common labels."),
		sdk.StringList("responders", "Who the alert is for, each \"TYPE:NAME\": team, user (a username), escalation or schedule; \"teams:a,b\" names several teams."),
		sdk.String("tags", "A template: the alert's tags, separated by commas."),
		sdk.String("note", "A template: a note on the alert."),
		sdk.String("priority", "A template: the alert's priority, P1 to P5."),
		sdk.String("entity", "A template: the alert's entity."),
		sdk.String("actions", "A template: the alert's custom actions, separated by commas."),
		sdk.Bool("update_alerts", "Also update the message and description of an open alert.", sdk.Default(false)),
	},
	Notifier: func(cfg sdk.Config) (sdk.Notifier, error) { return newOpsgenie(cfg) },
}

// responder is one of whom an alert is for.
type responder struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Username string `json:"username,omitempty"`
	Type     string `json:"type"`
}

// responderTypes are the kinds of responder Opsgenie knows; "teams"
// names several teams.
var responderTypes = []string{"team", "teams", "user", "escalation", "schedule"}

// opsgenie creates and closes the alerts of one Opsgenie integration.
type opsgenie struct {
	apiKey, apiURL                                     string
	message, description, source, tags, note, priority string
	entity, actions                                    string
	details                                            map[string]string
	responders                                         []responder
	updateAlerts                                       bool
	templates                                          *amnotify.Templates
}

func newOpsgenie(cfg sdk.Config) (*opsgenie, error) {
	o := &opsgenie{
		apiKey: strings.TrimSpace(cfg.String("api_key")), apiURL: strings.TrimSpace(cfg.String("api_url")),
		message: cfg.String("message"), description: cfg.String("description"), source: cfg.String("source"),
		tags: cfg.String("tags"), note: cfg.String("note"), priority: cfg.String("priority"),
		entity: cfg.String("entity"), actions: cfg.String("actions"), details: cfg.StringMap("details"),
		updateAlerts: cfg.Bool("update_alerts"),
	}
	// The key is a secret: errors never quote it.
	if o.apiKey == "" || strings.ContainsAny(o.apiKey, " \t\r\n") {
		return nil, sdk.AttributeErrorf("api_key", "must be an API key, without spaces")
	}
	u, err := url.Parse(o.apiURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, sdk.AttributeErrorf("api_url", "is not an http or https URL: %q", o.apiURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	o.apiURL = u.String()
	if p := o.priority; p != "" && !strings.Contains(p, "{{") && !(len(p) == 2 && p[0] == 'P' && p[1] >= '1' && p[1] <= '5') {
		return nil, sdk.AttributeErrorf("priority", "must be P1, P2, P3, P4 or P5, or a template, not %q", p)
	}
	for _, r := range cfg.StringList("responders") {
		typ, name, ok := strings.Cut(r, ":")
		typ, name = strings.TrimSpace(typ), strings.TrimSpace(name)
		if !ok || name == "" || !contains(responderTypes, typ) {
			return nil, sdk.AttributeErrorf("responders", "%q is not TYPE:NAME with a type of %s", r, strings.Join(responderTypes, ", "))
		}
		switch typ {
		case "user":
			o.responders = append(o.responders, responder{Username: name, Type: typ})
		case "teams":
			for _, team := range safeSplit(name, ",") {
				o.responders = append(o.responders, responder{Name: team, Type: "team"})
			}
		default:
			o.responders = append(o.responders, responder{Name: name, Type: typ})
		}
	}
	if o.templates, err = amnotify.New(); err != nil {
		return nil, err
	}
	for _, a := range []struct{ name, text string }{
		{"message", o.message}, {"description", o.description}, {"source", o.source}, {"tags", o.tags},
		{"note", o.note}, {"priority", o.priority}, {"entity", o.entity}, {"actions", o.actions},
	} {
		if err := o.templates.Check(a.name, a.text); err != nil {
			return nil, err
		}
	}
	for _, k := range sortedKeys(o.details) {
		if err := o.templates.Check("details", o.details[k]); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// contains says whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sortedKeys are m's keys in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// safeSplit splits s at sep, leaving out empty parts, as Alertmanager
// does for tags and actions.
func safeSplit(s, sep string) []string {
	var out []string
	for _, x := range strings.Split(strings.TrimSpace(s), sep) {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// createMessage creates an alert.
type createMessage struct {
	Alias       string            `json:"alias"`
	Message     string            `json:"message"`
	Description string            `json:"description,omitempty"`
	Details     map[string]string `json:"details"`
	Source      string            `json:"source"`
	Responders  []responder       `json:"responders,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Note        string            `json:"note,omitempty"`
	Priority    string            `json:"priority,omitempty"`
	Entity      string            `json:"entity,omitempty"`
	Actions     []string          `json:"actions,omitempty"`
}

// closeMessage closes an alert.
type closeMessage struct {
	Source string `json:"source"`
}

// request is one call of Opsgenie's API.
type request struct {
	method, url string
	body        any
}

// requests are the calls that deliver n: a close when it is resolved,
// else a create, followed by updates of the message and description with
// update_alerts; as Alertmanager makes them.
func (o *opsgenie) requests(n *sdk.Notification) ([]request, error) {
	r := o.templates.Render(n)
	alias := amnotify.Hash(n.GroupKey)
	endpoint := func(path string) string {
		u, _ := url.Parse(o.apiURL)
		u.Path += path
		if strings.HasPrefix(path, "v2/alerts/") {
			u.RawQuery = url.Values{"identifierType": {"alias"}}.Encode()
		}
		return u.String()
	}
	var out []request
	if n.Status == "resolved" {
		out = append(out, request{http.MethodPost, endpoint("v2/alerts/" + alias + "/close"), closeMessage{Source: r.Text(o.source)}})
		return out, r.Err()
	}
	details := maps.Clone(n.CommonLabels)
	if details == nil {
		details = map[string]string{}
	}
	for k, v := range o.details {
		details[k] = r.Text(v)
	}
	message, _ := amnotify.TruncateInRunes(r.Text(o.message), maxMessage)
	responders := make([]responder, len(o.responders))
	for i, x := range o.responders {
		responders[i] = responder{ID: r.Text(x.ID), Name: r.Text(x.Name), Username: r.Text(x.Username), Type: x.Type}
	}
	msg := createMessage{
		Alias: alias, Message: message, Description: r.Text(o.description), Details: details,
		Source: r.Text(o.source), Responders: responders, Tags: safeSplit(r.Text(o.tags), ","),
		Note: r.Text(o.note), Priority: r.Text(o.priority), Entity: r.Text(o.entity), Actions: safeSplit(r.Text(o.actions), ","),
	}
	out = append(out, request{http.MethodPost, endpoint("v2/alerts"), msg})
	if o.updateAlerts {
		out = append(out,
			request{http.MethodPut, endpoint("v2/alerts/" + alias + "/message"), struct {
				Message string `json:"message,omitempty"`
			}{msg.Message}},
			request{http.MethodPut, endpoint("v2/alerts/" + alias + "/description"), struct {
				Description string `json:"description,omitempty"`
			}{msg.Description}})
	}
	return out, r.Err()
}

// Notify implements sdk.Notifier: it makes the calls of n in turn. An
// answer of 2xx is a delivery; 429, 5xx and failures to reach Opsgenie
// are retryable; any other answer, and a host the plugin may not reach,
// are permanent.
func (o *opsgenie) Notify(ctx context.Context, n *sdk.Notification) error {
	reqs, err := o.requests(n)
	if err != nil {
		return sdk.Permanent(err)
	}
	for _, r := range reqs {
		var body bytes.Buffer
		if err := json.NewEncoder(&body).Encode(r.body); err != nil {
			return sdk.Permanent(fmt.Errorf("cannot encode the request: %w", err))
		}
		req, err := http.NewRequestWithContext(ctx, r.method, r.url, &body)
		if err != nil {
			return sdk.Permanent(fmt.Errorf("cannot make the request: %w", err))
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "GenieKey "+o.apiKey)
		req.Header.Set("User-Agent", userAgent)
		if err := amnotify.Do("opsgenie", req); err != nil {
			return err
		}
	}
	return nil
}
