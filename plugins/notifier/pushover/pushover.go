package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify"
	"github.com/vigilmon/vigil/sdk"
)

const (
	// defaultURL is Pushover's message API.
	defaultURL = "https://api.pushover.net/1/messages.json"
	// Pushover's limits, in characters.
	maxTitle   = 250
	maxMessage = 1024
	maxURL     = 512
)

var pushoverPlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "pushover",
		Version:      "0.1.0",
		Description:  "Sends notifications as Pushover messages, as Alertmanager's Pushover receiver does.",
		Capabilities: []string{sdk.CapabilityDeliversToURL},
	},
	Schema: sdk.Schema{
		sdk.String("user_key", "The recipient's user (or group) key.", sdk.Required, sdk.Sensitive),
		sdk.String("token", "The application's API token.", sdk.Required, sdk.Sensitive),
		sdk.String("api_url", "Pushover's message API.", sdk.Default(defaultURL)),
		sdk.String("title", "A template: the title, cut to 250 characters.", sdk.Default(`{{ template "pushover.default.title" . }}`)),
		sdk.String("message", "A template: the message, cut to 1024 characters.", sdk.Default(`{{ template "pushover.default.message" . }}`)),
		sdk.String("url", "A template: a link shown with the message, cut to 512 characters.", sdk.Default(`{{ template "pushover.default.url" . }}`)),
		sdk.String("url_title", "A template: the link's title."),
		sdk.String("device", "A template: the devices to send to, separated by commas; all when empty."),
		sdk.String("sound", "A template: the sound to play."),
		sdk.String("priority", "A template: the priority, -2 to 2; 2 (emergency) repeats until acknowledged.", sdk.Default(`{{ if eq .Status "firing" }}2{{ else }}0{{ end }}`)),
		sdk.Duration("retry", "How often Pushover repeats an emergency message, at least 30s.", sdk.Default("1m")),
		sdk.Duration("expire", "How long Pushover repeats an emergency message, at most 3h.", sdk.Default("1h")),
		sdk.Duration("ttl", "How long the message lives on the device; 0 for ever.", sdk.Default("0s")),
		sdk.Bool("html", "The message is HTML: the template is an HTML template.", sdk.Default(false)),
		sdk.Bool("monospace", "Show the message in a monospace font.", sdk.Default(false)),
	},
	Notifier: func(cfg sdk.Config) (sdk.Notifier, error) { return newPushover(cfg) },
}

// pushover sends messages to one recipient from one application.
type pushover struct {
	userKey, token, url                                      string
	title, message, link, linkTitle, device, sound, priority string
	retry, expire, ttl                                       time.Duration
	html, monospace                                          bool
	templates                                                *amnotify.Templates
}

func newPushover(cfg sdk.Config) (*pushover, error) {
	u, err := amnotify.CheckURL("api_url", strings.TrimSpace(cfg.String("api_url")), false)
	if err != nil {
		return nil, err
	}
	p := &pushover{
		userKey: strings.TrimSpace(cfg.String("user_key")), token: strings.TrimSpace(cfg.String("token")), url: u.String(),
		title: cfg.String("title"), message: cfg.String("message"), link: cfg.String("url"), linkTitle: cfg.String("url_title"),
		device: cfg.String("device"), sound: cfg.String("sound"), priority: cfg.String("priority"),
		retry: cfg.Duration("retry"), expire: cfg.Duration("expire"), ttl: cfg.Duration("ttl"),
		html: cfg.Bool("html"), monospace: cfg.Bool("monospace"),
	}
	// Keys are secrets: errors never quote them.
	for name, v := range map[string]string{"user_key": p.userKey, "token": p.token} {
		if v == "" || strings.ContainsAny(v, " \t\r\n") {
			return nil, sdk.AttributeErrorf(name, "must be a Pushover key, without spaces")
		}
	}
	if p.html && p.monospace {
		return nil, sdk.AttributeErrorf("monospace", "cannot be set with html")
	}
	if p.retry < 30*time.Second {
		return nil, sdk.AttributeErrorf("retry", "must be at least 30s, not %s", p.retry)
	}
	if p.expire <= 0 || p.expire > 3*time.Hour {
		return nil, sdk.AttributeErrorf("expire", "must be more than 0 and at most 3h, not %s", p.expire)
	}
	if p.ttl < 0 {
		return nil, sdk.AttributeErrorf("ttl", "must not be negative, not %s", p.ttl)
	}
	if p.templates, err = amnotify.New(); err != nil {
		return nil, err
	}
	for _, a := range []struct{ name, text string }{
		{"title", p.title}, {"message", p.message}, {"url", p.link}, {"url_title", p.linkTitle},
		{"device", p.device}, {"sound", p.sound}, {"priority", p.priority},
	} {
		if err := p.templates.Check(a.name, a.text); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// parameters renders n as the parameters of a message, as Alertmanager
// sends them.
func (p *pushover) parameters(n *sdk.Notification) (url.Values, error) {
	r := p.templates.Render(n)
	v := url.Values{}
	v.Add("token", p.token)
	v.Add("user", p.userKey)
	title, _ := amnotify.TruncateInRunes(r.Text(p.title), maxTitle)
	v.Add("title", title)
	var message string
	if p.html {
		v.Add("html", "1")
		message = r.HTML(p.message)
	} else {
		message = r.Text(p.message)
	}
	if p.monospace {
		v.Add("monospace", "1")
	}
	message, _ = amnotify.TruncateInRunes(message, maxMessage)
	if message = strings.TrimSpace(message); message == "" {
		message = "(no details)"
	}
	v.Add("message", message)
	link, _ := amnotify.TruncateInRunes(r.Text(p.link), maxURL)
	v.Add("url", link)
	v.Add("url_title", r.Text(p.linkTitle))
	v.Add("priority", r.Text(p.priority))
	v.Add("retry", fmt.Sprint(int64(p.retry.Seconds())))
	v.Add("expire", fmt.Sprint(int64(p.expire.Seconds())))
	v.Add("device", r.Text(p.device))
	v.Add("sound", r.Text(p.sound))
	if ttl := int64(p.ttl.Seconds()); ttl > 0 {
		v.Add("ttl", fmt.Sprint(ttl))
	}
	return v, r.Err()
}

// Notify implements sdk.Notifier: it posts the message, its parameters
// in the URL's query with an empty body, as Alertmanager does. An answer
// of 2xx is a delivery; 429, 5xx and failures to reach Pushover are
// retryable; any other answer, and a host the plugin may not reach, are
// permanent.
func (p *pushover) Notify(ctx context.Context, n *sdk.Notification) error {
	v, err := p.parameters(n)
	if err != nil {
		return sdk.Permanent(err)
	}
	u, _ := url.Parse(p.url)
	u.RawQuery = v.Encode()
	return amnotify.Send(ctx, "pushover", http.MethodPost, u.String(), "text/plain", http.NoBody, nil)
}
