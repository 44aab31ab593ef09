package main

import (
	"context"
	"net/url"
	"strings"

	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify"
	"github.com/vigilmon/vigil/sdk"
)

const (
	// defaultURL is the REST endpoint of VictorOps' integrations.
	defaultURL = "https://alert.victorops.com/integrations/generic/20131114/alert/"
	// maxStateMessage is VictorOps' limit on a state message, in
	// characters.
	maxStateMessage = 20480
)

// reservedFields are the payload's own fields, which custom_fields may
// not set.
var reservedFields = []string{"routing_key", "message_type", "state_message", "entity_display_name", "monitoring_tool", "entity_id", "entity_state"}

var victoropsPlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "victorops",
		Version:      "0.1.0",
		Description:  "Sends notifications to VictorOps (Splunk On-Call), as Alertmanager's VictorOps receiver does.",
		Capabilities: []string{sdk.CapabilityDeliversToURL},
	},
	Schema: sdk.Schema{
		sdk.String("api_key", "The key of the REST integration.", sdk.Required, sdk.Sensitive),
		sdk.String("routing_key", "A template: the routing key of the team to alert.", sdk.Required),
		sdk.String("api_url", "The REST integration's endpoint.", sdk.Default(defaultURL)),
		sdk.String("message_type", "A template: the incident's type while firing, CRITICAL, WARNING or INFO; anything else is CRITICAL.", sdk.Default("CRITICAL")),
		sdk.String("state_message", "A template: the incident's message, cut to 20480 characters.", sdk.Default(`{{ template "victorops.default.state_message" . }}`)),
		sdk.String("entity_display_name", "A template: the incident's summary.", sdk.Default(`{{ template "victorops.default.entity_display_name" . }}`)),
		sdk.String("monitoring_tool", "A template: the monitoring tool named.", sdk.Default(`{{ template "victorops.default.monitoring_tool" . }}`)),
		sdk.StringMap("custom_fields", "Templates: more fields of the incident."),
	},
	Notifier: func(cfg sdk.Config) (sdk.Notifier, error) { return newVictorOps(cfg) },
}

// victorops sends incidents to one routing key of one integration.
type victorops struct {
	apiKey, apiURL, routingKey, messageType, stateMessage, displayName, tool string
	custom                                                                   map[string]string
	templates                                                                *amnotify.Templates
}

func newVictorOps(cfg sdk.Config) (*victorops, error) {
	u, err := amnotify.CheckURL("api_url", strings.TrimSpace(cfg.String("api_url")), false)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	v := &victorops{
		apiKey: strings.TrimSpace(cfg.String("api_key")), apiURL: u.String(), routingKey: cfg.String("routing_key"),
		messageType: cfg.String("message_type"), stateMessage: cfg.String("state_message"),
		displayName: cfg.String("entity_display_name"), tool: cfg.String("monitoring_tool"),
		custom: cfg.StringMap("custom_fields"),
	}
	// The key is a secret: errors never quote it.
	if v.apiKey == "" || strings.ContainsAny(v.apiKey, " \t\r\n/?#") {
		return nil, sdk.AttributeErrorf("api_key", "must be an API key, without spaces or slashes")
	}
	if strings.TrimSpace(v.routingKey) == "" {
		return nil, sdk.AttributeErrorf("routing_key", "is empty")
	}
	if v.templates, err = amnotify.New(); err != nil {
		return nil, err
	}
	for _, a := range []struct{ name, text string }{
		{"routing_key", v.routingKey}, {"message_type", v.messageType}, {"state_message", v.stateMessage},
		{"entity_display_name", v.displayName}, {"monitoring_tool", v.tool},
	} {
		if err := v.templates.Check(a.name, a.text); err != nil {
			return nil, err
		}
	}
	for k, text := range v.custom {
		for _, r := range reservedFields {
			if k == r {
				return nil, sdk.AttributeErrorf("custom_fields", "%q is a field of the incident itself", k)
			}
		}
		if err := v.templates.Check("custom_fields", text); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// incident renders n as the incident's fields and the URL to post them
// to, as Alertmanager does: every field a string.
func (v *victorops) incident(n *sdk.Notification) (string, map[string]string, error) {
	r := v.templates.Render(n)
	u := v.apiURL + url.PathEscape(v.apiKey) + "/" + url.PathEscape(r.Text(v.routingKey))
	messageType := r.Text(v.messageType)
	switch {
	case n.Status == "resolved":
		messageType = "RECOVERY"
	case messageType != "INFO" && messageType != "WARNING" && messageType != "CRITICAL":
		messageType = "CRITICAL"
	}
	state, _ := amnotify.TruncateInRunes(r.Text(v.stateMessage), maxStateMessage)
	msg := map[string]string{
		"message_type":        messageType,
		"entity_id":           amnotify.Hash(n.GroupKey),
		"entity_display_name": r.Text(v.displayName),
		"state_message":       state,
		"monitoring_tool":     r.Text(v.tool),
	}
	for k, text := range v.custom {
		msg[k] = r.Text(text)
	}
	return u, msg, r.Err()
}

// Notify implements sdk.Notifier: it posts the incident. An answer of
// 2xx is a delivery; 429, 5xx and failures to reach VictorOps are
// retryable; any other answer, and a host the plugin may not reach, are
// permanent.
func (v *victorops) Notify(ctx context.Context, n *sdk.Notification) error {
	u, msg, err := v.incident(n)
	if err != nil {
		return sdk.Permanent(err)
	}
	return amnotify.PostJSON(ctx, "victorops", u, msg, nil)
}
