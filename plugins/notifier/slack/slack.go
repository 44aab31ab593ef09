package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/wasm"
)

const (
	// userAgent is sent with every message.
	userAgent = "Vigil"
	// Slack's limits, in characters, that the plugin cuts longer texts
	// to.
	maxTitle = 1024
	maxText  = 8000
)

// Colours of the attachment by the notification's status.
const (
	colorFiring   = "danger"
	colorResolved = "good"
)

// defaultTitle and defaultText are the templates used when the config
// sets none. The title reads "[FIRING:2] InstanceDown node".
const (
	defaultTitle = `[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ len (firing .Alerts) }}{{ end }}] {{ join " " (sortedValues .GroupLabels) }}`
	defaultText  = `{{ range .Alerts }}• {{ with .Annotations.summary }}{{ . }}{{ else }}{{ .Labels.alertname }}{{ end }}` +
		`{{ with .Labels.severity }} ({{ . }}){{ end }}` +
		`{{ with .Annotations.description }}: {{ . }}{{ end }}` +
		`{{ with .GeneratorURL }} <{{ . }}|source>{{ end }}` + "\n" + `{{ end }}`
)

var slackPlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "slack",
		Version:      "0.1.0",
		Description:  "Posts notifications to a Slack incoming webhook.",
		Capabilities: []string{sdk.CapabilityDeliversToURL},
	},
	Schema: sdk.Schema{
		sdk.String("webhook_url", "The Slack incoming webhook URL, https://hooks.slack.com/services/...", sdk.Required, sdk.Sensitive),
		sdk.String("channel", "The channel to post to, \"#alerts\" or \"@user\", instead of the webhook's own, where the webhook allows it."),
		sdk.String("username", "The name to post as, instead of the webhook's own, where the webhook allows it."),
		sdk.String("icon_emoji", "The emoji to post with, such as \":rotating_light:\"."),
		sdk.String("title", "A Go text/template over the notification: the message's text.", sdk.Default(defaultTitle)),
		sdk.String("text", "A Go text/template over the notification: the text of the attachment coloured by status.", sdk.Default(defaultText)),
	},
	Notifier: func(cfg sdk.Config) (sdk.Notifier, error) { return newSlack(cfg) },
}

// funcs are the functions the templates may call, besides text/template's
// own: the SDK's notification template functions.
var funcs = template.FuncMap(sdk.TemplateFuncs())

// slack posts notifications to one incoming webhook.
type slack struct {
	url         string
	channel     string
	username    string
	iconEmoji   string
	title, text *template.Template
}

func newSlack(cfg sdk.Config) (*slack, error) {
	// The URL is a secret: errors never quote it.
	u, err := url.Parse(cfg.String("webhook_url"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, sdk.AttributeErrorf("webhook_url", "is not an http or https URL")
	}
	s := &slack{
		url:       u.String(),
		channel:   strings.TrimSpace(cfg.String("channel")),
		username:  strings.TrimSpace(cfg.String("username")),
		iconEmoji: strings.TrimSpace(cfg.String("icon_emoji")),
	}
	if e := s.iconEmoji; e != "" && (len(e) < 3 || !strings.HasPrefix(e, ":") || !strings.HasSuffix(e, ":") || strings.ContainsAny(e, " \t\n")) {
		return nil, sdk.AttributeErrorf("icon_emoji", "must be an emoji name between colons, such as \":bell:\", not %q", e)
	}
	for _, t := range []struct {
		name string
		dst  **template.Template
	}{{"title", &s.title}, {"text", &s.text}} {
		tmpl, err := template.New(t.name).Funcs(funcs).Option("missingkey=zero").Parse(cfg.String(t.name))
		if err != nil {
			return nil, sdk.AttributeErrorf(t.name, "is not a valid template: %v", err)
		}
		// A template that fails on a typical notification would fail on
		// every one: refuse it now.
		if err := tmpl.Execute(io.Discard, sample()); err != nil {
			return nil, sdk.AttributeErrorf(t.name, "fails: %v", err)
		}
		*t.dst = tmpl
	}
	return s, nil
}

// sample is a notification to try templates on.
func sample() *sdk.Notification {
	labels := map[string]string{"alertname": "InstanceDown", "instance": "host:9100", "job": "node", "severity": "critical"}
	annotations := map[string]string{"summary": "host:9100 is down", "description": "It has not answered for 5 minutes."}
	return &sdk.Notification{
		Version: "4", GroupKey: `{}:{alertname="InstanceDown"}`, Status: "firing", Receiver: "slack",
		GroupLabels: map[string]string{"alertname": "InstanceDown"}, CommonLabels: labels, CommonAnnotations: annotations,
		ExternalURL: "http://vigil.example.com:9090",
		Alerts: []sdk.Alert{{
			Status: "firing", Labels: labels, Annotations: annotations, StartsAt: time.Unix(0, 0).UTC(),
			GeneratorURL: "http://vigil.example.com:9090/graph", Fingerprint: "0123456789abcdef",
		}},
	}
}

// message is a Slack incoming webhook's message.
type message struct {
	Channel     string       `json:"channel,omitempty"`
	Username    string       `json:"username,omitempty"`
	IconEmoji   string       `json:"icon_emoji,omitempty"`
	Text        string       `json:"text"`
	Attachments []attachment `json:"attachments"`
}

// attachment is a part of a message with a coloured bar.
type attachment struct {
	Color    string   `json:"color"`
	Fallback string   `json:"fallback"`
	Text     string   `json:"text"`
	Footer   string   `json:"footer,omitempty"`
	MrkdwnIn []string `json:"mrkdwn_in"`
}

// message renders n as a Slack message.
func (s *slack) message(n *sdk.Notification) (*message, error) {
	render := func(t *template.Template, limit int) (string, error) {
		var b bytes.Buffer
		if err := t.Execute(&b, n); err != nil {
			return "", fmt.Errorf("the %s template fails: %w", t.Name(), err)
		}
		return truncate(strings.TrimSpace(b.String()), limit), nil
	}
	title, err := render(s.title, maxTitle)
	if err != nil {
		return nil, err
	}
	text, err := render(s.text, maxText)
	if err != nil {
		return nil, err
	}
	color := colorFiring
	if n.Status == "resolved" {
		color = colorResolved
	}
	footer := "Vigil"
	if n.ExternalURL != "" {
		footer = "Vigil " + n.ExternalURL
	}
	return &message{
		Channel: s.channel, Username: s.username, IconEmoji: s.iconEmoji, Text: title,
		Attachments: []attachment{{Color: color, Fallback: title, Text: text, Footer: footer, MrkdwnIn: []string{"text"}}},
	}, nil
}

// truncate cuts s to at most limit characters, ending it with "…" when
// cut.
func truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)
	return string(r[:limit-1]) + "…"
}

// Notify implements sdk.Notifier: it posts the notification. An answer of
// 2xx is a delivery; 429, 5xx and failures to reach Slack are retryable;
// any other answer, and a host the plugin may not reach, are permanent.
func (s *slack) Notify(ctx context.Context, n *sdk.Notification) error {
	msg, err := s.message(n)
	if err != nil {
		return sdk.Permanent(err)
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return sdk.Permanent(fmt.Errorf("cannot encode the message: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return sdk.Permanent(errors.New("cannot make the request"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := wasm.HTTPClient().Do(req)
	if err != nil {
		// The webhook URL is a secret: errors leave it out.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		err = fmt.Errorf("cannot post to Slack: %w", err)
		if errors.Is(err, wasm.ErrHostNotAllowed) {
			return sdk.Permanent(err)
		}
		return err
	}
	defer resp.Body.Close()
	return sdk.ResponseError("slack", resp)
}
