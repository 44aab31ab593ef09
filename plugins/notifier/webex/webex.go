package main

import (
	"context"
	"net/http"
	"strings"

	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify"
	"github.com/vigilmon/vigil/sdk"
)

const (
	// defaultURL is Webex's message API.
	defaultURL = "https://webexapis.com/v1/messages"
	// maxMessage is Webex's limit on a message, in bytes.
	maxMessage = 7439
)

var webexPlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "webex",
		Version:      "0.1.0",
		Description:  "Posts notifications to a Cisco Webex room, as Alertmanager's Webex receiver does.",
		Capabilities: []string{sdk.CapabilityDeliversToURL},
	},
	Schema: sdk.Schema{
		sdk.String("bot_token", "The bot's access token, sent as a bearer token (Alertmanager's http_config.authorization).", sdk.Required, sdk.Sensitive),
		sdk.String("room_id", "A template: the room to post to.", sdk.Required),
		sdk.String("api_url", "Webex's message API.", sdk.Default(defaultURL)),
		sdk.String("message", "A template: the message, in Markdown, cut to 7439 bytes.", sdk.Default(`{{ template "webex.default.message" . }}`)),
	},
	Notifier: func(cfg sdk.Config) (sdk.Notifier, error) { return newWebex(cfg) },
}

// message is a message of Webex's API.
type message struct {
	Markdown string `json:"markdown"`
	RoomID   string `json:"roomId,omitempty"`
}

// webex posts to one room as one bot.
type webex struct {
	token, url, roomID, message string
	templates                   *amnotify.Templates
}

func newWebex(cfg sdk.Config) (*webex, error) {
	u, err := amnotify.CheckURL("api_url", strings.TrimSpace(cfg.String("api_url")), false)
	if err != nil {
		return nil, err
	}
	w := &webex{token: strings.TrimSpace(cfg.String("bot_token")), url: u.String(), roomID: cfg.String("room_id"), message: cfg.String("message")}
	// The token is a secret: errors never quote it.
	if w.token == "" || strings.ContainsAny(w.token, " \t\r\n") {
		return nil, sdk.AttributeErrorf("bot_token", "must be an access token, without spaces")
	}
	if strings.TrimSpace(w.roomID) == "" {
		return nil, sdk.AttributeErrorf("room_id", "is empty")
	}
	if w.templates, err = amnotify.New(); err != nil {
		return nil, err
	}
	for _, a := range []struct{ name, text string }{{"room_id", w.roomID}, {"message", w.message}} {
		if err := w.templates.Check(a.name, a.text); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// render renders n as a message.
func (w *webex) render(n *sdk.Notification) (*message, error) {
	r := w.templates.Render(n)
	text, _ := amnotify.TruncateInBytes(r.Text(w.message), maxMessage)
	m := &message{Markdown: text, RoomID: r.Text(w.roomID)}
	return m, r.Err()
}

// Notify implements sdk.Notifier: it posts the message. An answer of 2xx
// is a delivery; 429, 5xx and failures to reach Webex are retryable; any
// other answer, and a host the plugin may not reach, are permanent.
func (w *webex) Notify(ctx context.Context, n *sdk.Notification) error {
	m, err := w.render(n)
	if err != nil {
		return sdk.Permanent(err)
	}
	return amnotify.PostJSON(ctx, "webex", w.url, m, http.Header{"Authorization": {"Bearer " + w.token}})
}
