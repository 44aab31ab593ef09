package main

import (
	"context"
	"strings"

	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify"
	"github.com/vigilmon/vigil/sdk"
)

// Discord's limits, in characters.
const (
	maxTitle       = 256
	maxDescription = 4096
	maxContent     = 2000
)

// The embed's colours, by the notification's status, Alertmanager's.
const (
	colorFiring   = 0x992D22
	colorResolved = 0x2ECC71
	colorOther    = 0x95A5A6
)

var discordPlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "discord",
		Version:      "0.1.0",
		Description:  "Posts notifications to a Discord webhook, as Alertmanager's Discord receiver does.",
		Capabilities: []string{sdk.CapabilityDeliversToURL},
	},
	Schema: sdk.Schema{
		sdk.String("webhook_url", "The webhook's URL, https://discord.com/api/webhooks/...", sdk.Required, sdk.Sensitive),
		sdk.String("title", "A template: the embed's title, cut to 256 characters.", sdk.Default(`{{ template "discord.default.title" . }}`)),
		sdk.String("message", "A template: the embed's description, cut to 4096 characters.", sdk.Default(`{{ template "discord.default.message" . }}`)),
		sdk.String("content", "A template: the message's text above the embed, cut to 2000 characters.", sdk.Default(`{{ template "discord.default.content" . }}`)),
		sdk.String("username", "The name to post as, instead of the webhook's own."),
		sdk.String("avatar_url", "The avatar to post with, instead of the webhook's own."),
	},
	Notifier: func(cfg sdk.Config) (sdk.Notifier, error) { return newDiscord(cfg) },
}

// message is what a Discord webhook takes.
type message struct {
	Content   string  `json:"content"`
	Embeds    []embed `json:"embeds"`
	Username  string  `json:"username,omitempty"`
	AvatarURL string  `json:"avatar_url,omitempty"`
}

type embed struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Color       int    `json:"color"`
}

// discord posts to one webhook.
type discord struct {
	url, title, message, content, username, avatarURL string
	templates                                         *amnotify.Templates
}

func newDiscord(cfg sdk.Config) (*discord, error) {
	u, err := amnotify.CheckURL("webhook_url", cfg.String("webhook_url"), true)
	if err != nil {
		return nil, err
	}
	d := &discord{
		url: u.String(), title: cfg.String("title"), message: cfg.String("message"), content: cfg.String("content"),
		username: strings.TrimSpace(cfg.String("username")), avatarURL: strings.TrimSpace(cfg.String("avatar_url")),
	}
	if d.avatarURL != "" {
		if _, err := amnotify.CheckURL("avatar_url", d.avatarURL, false); err != nil {
			return nil, err
		}
	}
	if d.templates, err = amnotify.New(); err != nil {
		return nil, err
	}
	for _, a := range []struct{ name, text string }{{"title", d.title}, {"message", d.message}, {"content", d.content}} {
		if err := d.templates.Check(a.name, a.text); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// render renders n as a message with one embed.
func (d *discord) render(n *sdk.Notification) (*message, error) {
	r := d.templates.Render(n)
	title, _ := amnotify.TruncateInRunes(r.Text(d.title), maxTitle)
	description, _ := amnotify.TruncateInRunes(r.Text(d.message), maxDescription)
	content, _ := amnotify.TruncateInRunes(r.Text(d.content), maxContent)
	color := colorOther
	switch n.Status {
	case "firing":
		color = colorFiring
	case "resolved":
		color = colorResolved
	}
	m := &message{Content: content, Username: d.username, AvatarURL: d.avatarURL,
		Embeds: []embed{{Title: title, Description: description, Color: color}}}
	return m, r.Err()
}

// Notify implements sdk.Notifier: it posts the message. An answer of 2xx
// is a delivery; 429, 5xx and failures to reach Discord are retryable;
// any other answer, and a host the plugin may not reach, are permanent.
func (d *discord) Notify(ctx context.Context, n *sdk.Notification) error {
	m, err := d.render(n)
	if err != nil {
		return sdk.Permanent(err)
	}
	return amnotify.PostJSON(ctx, "discord", d.url, m, nil)
}
