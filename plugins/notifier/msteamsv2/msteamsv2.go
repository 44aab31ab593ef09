package main

import (
	"context"

	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify"
	"github.com/vigilmon/vigil/sdk"
)

var msteamsv2Plugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "msteamsv2",
		Version:      "0.1.0",
		Description:  "Posts notifications as Adaptive Cards to a Microsoft Teams Workflows (Power Automate) webhook, as Alertmanager's msteamsv2 receiver does.",
		Capabilities: []string{sdk.CapabilityDeliversToURL},
	},
	Schema: sdk.Schema{
		sdk.String("webhook_url", "The URL of the workflow's \"When a Teams webhook request is received\" trigger.", sdk.Required, sdk.Sensitive),
		sdk.String("title", "A template: the card's heading.", sdk.Default(`{{ template "msteamsv2.default.title" . }}`)),
		sdk.String("text", "A template: the card's text, in Markdown.", sdk.Default(`{{ template "msteamsv2.default.text" . }}`)),
	},
	Notifier: func(cfg sdk.Config) (sdk.Notifier, error) { return newMSTeamsV2(cfg) },
}

// The heading's colours, by the notification's status, Alertmanager's.
const (
	colorFiring   = "Attention"
	colorResolved = "Good"
	colorOther    = "Warning"
)

// message is what a Workflows webhook takes: a message with one Adaptive
// Card attached.
type message struct {
	Type        string       `json:"type"`
	Attachments []attachment `json:"attachments"`
}

type attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"` // always null
	Content     content `json:"content"`
}

type content struct {
	Schema  string      `json:"$schema"`
	Type    string      `json:"type"`
	Version string      `json:"version"`
	Body    []textBlock `json:"body"`
	Msteams struct {
		Width string `json:"width"`
	} `json:"msteams"`
}

type textBlock struct {
	Type   string `json:"type"`
	Text   string `json:"text"`
	Weight string `json:"weight,omitempty"`
	Size   string `json:"size,omitempty"`
	Wrap   bool   `json:"wrap,omitempty"`
	Style  string `json:"style,omitempty"`
	Color  string `json:"color,omitempty"`
}

// msteamsv2 posts to one workflow.
type msteamsv2 struct {
	url, title, text string
	templates        *amnotify.Templates
}

func newMSTeamsV2(cfg sdk.Config) (*msteamsv2, error) {
	u, err := amnotify.CheckURL("webhook_url", cfg.String("webhook_url"), true)
	if err != nil {
		return nil, err
	}
	m := &msteamsv2{url: u.String(), title: cfg.String("title"), text: cfg.String("text")}
	if m.templates, err = amnotify.New(); err != nil {
		return nil, err
	}
	for _, a := range []struct{ name, text string }{{"title", m.title}, {"text", m.text}} {
		if err := m.templates.Check(a.name, a.text); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// message renders n as a message with an Adaptive Card.
func (m *msteamsv2) message(n *sdk.Notification) (*message, error) {
	r := m.templates.Render(n)
	color := colorOther
	switch n.Status {
	case "firing":
		color = colorFiring
	case "resolved":
		color = colorResolved
	}
	c := content{
		Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.2",
		Body: []textBlock{
			{Type: "TextBlock", Text: r.Text(m.title), Weight: "Bolder", Size: "Medium", Wrap: true, Style: "heading", Color: color},
			{Type: "TextBlock", Text: r.Text(m.text), Wrap: true},
		},
	}
	c.Msteams.Width = "full"
	msg := &message{Type: "message", Attachments: []attachment{{ContentType: "application/vnd.microsoft.card.adaptive", Content: c}}}
	return msg, r.Err()
}

// Notify implements sdk.Notifier: it posts the message. An answer of 2xx
// is a delivery; 429, 5xx and failures to reach Teams are retryable; any
// other answer, and a host the plugin may not reach, are permanent.
func (m *msteamsv2) Notify(ctx context.Context, n *sdk.Notification) error {
	msg, err := m.message(n)
	if err != nil {
		return sdk.Permanent(err)
	}
	return amnotify.PostJSON(ctx, "msteamsv2", m.url, msg, nil)
}
