package main

import (
	"context"

	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify"
	"github.com/vigilmon/vigil/sdk"
)

var msteamsPlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "msteams",
		Version:      "0.1.0",
		Description:  "Posts notifications to a Microsoft Teams incoming webhook (Office 365 connector), as Alertmanager's msteams receiver does.",
		Capabilities: []string{sdk.CapabilityDeliversToURL},
	},
	Schema: sdk.Schema{
		sdk.String("webhook_url", "The incoming webhook's URL.", sdk.Required, sdk.Sensitive),
		sdk.String("title", "A template: the card's title.", sdk.Default(`{{ template "msteams.default.title" . }}`)),
		sdk.String("summary", "A template: the card's summary, shown in notifications.", sdk.Default(`{{ template "msteams.default.summary" . }}`)),
		sdk.String("text", "A template: the card's text, in Markdown.", sdk.Default(`{{ template "msteams.default.text" . }}`)),
	},
	Notifier: func(cfg sdk.Config) (sdk.Notifier, error) { return newMSTeams(cfg) },
}

// The card's colours, by the notification's status, Alertmanager's.
const (
	colorFiring   = "8C1A1A"
	colorResolved = "2DC72D"
	colorOther    = "808080"
)

// card is a message card of the connector API.
type card struct {
	Context    string `json:"@context"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Summary    string `json:"summary"`
	Text       string `json:"text"`
	ThemeColor string `json:"themeColor"`
}

// msteams posts to one incoming webhook.
type msteams struct {
	url, title, summary, text string
	templates                 *amnotify.Templates
}

func newMSTeams(cfg sdk.Config) (*msteams, error) {
	u, err := amnotify.CheckURL("webhook_url", cfg.String("webhook_url"), true)
	if err != nil {
		return nil, err
	}
	m := &msteams{url: u.String(), title: cfg.String("title"), summary: cfg.String("summary"), text: cfg.String("text")}
	if m.templates, err = amnotify.New(); err != nil {
		return nil, err
	}
	for _, a := range []struct{ name, text string }{{"title", m.title}, {"summary", m.summary}, {"text", m.text}} {
		if err := m.templates.Check(a.name, a.text); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// card renders n as a message card.
func (m *msteams) card(n *sdk.Notification) (*card, error) {
	r := m.templates.Render(n)
	c := &card{
		Context: "http://schema.org/extensions", Type: "MessageCard",
		Title: r.Text(m.title), Summary: r.Text(m.summary), Text: r.Text(m.text), ThemeColor: colorOther,
	}
	switch n.Status {
	case "firing":
		c.ThemeColor = colorFiring
	case "resolved":
		c.ThemeColor = colorResolved
	}
	return c, r.Err()
}

// Notify implements sdk.Notifier: it posts the card. An answer of 2xx is
// a delivery; 429, 5xx and failures to reach Teams are retryable; any
// other answer, and a host the plugin may not reach, are permanent.
func (m *msteams) Notify(ctx context.Context, n *sdk.Notification) error {
	c, err := m.card(n)
	if err != nil {
		return sdk.Permanent(err)
	}
	return amnotify.PostJSON(ctx, "msteams", m.url, c, nil)
}
