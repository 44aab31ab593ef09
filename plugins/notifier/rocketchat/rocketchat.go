package main

import (
	"context"
	"net/http"
	"strings"

	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify"
	"github.com/vigilmon/vigil/sdk"
)

const (
	// defaultURL is Rocket.Chat's open server, Alertmanager's default.
	defaultURL = "https://open.rocket.chat/"
	// maxTitle is the most characters of a title.
	maxTitle = 1024
)

var rocketchatPlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "rocketchat",
		Version:      "0.1.0",
		Description:  "Posts notifications to a Rocket.Chat channel, as Alertmanager's Rocket.Chat receiver does.",
		Capabilities: []string{sdk.CapabilityDeliversToURL},
	},
	Schema: sdk.Schema{
		sdk.String("token", "The personal access token of the user to post as.", sdk.Required, sdk.Sensitive),
		sdk.String("token_id", "The id of the user the token belongs to.", sdk.Required),
		sdk.String("api_url", "The Rocket.Chat server.", sdk.Default(defaultURL)),
		sdk.String("channel", "A template: the channel to post to, such as #alerts; the user's default when empty."),
		sdk.String("color", "A template: the attachment's colour.", sdk.Default(`{{ if eq .Status "firing" }}red{{ else }}green{{ end }}`)),
		sdk.String("emoji", "A template: the emoji to post with.", sdk.Default(`{{ template "rocketchat.default.emoji" . }}`)),
		sdk.String("icon_url", "A template: the avatar to post with.", sdk.Default(`{{ template "rocketchat.default.iconurl" . }}`)),
		sdk.String("text", "A template: the attachment's text.", sdk.Default(`{{ template "rocketchat.default.text" . }}`)),
		sdk.String("title", "A template: the attachment's title, cut to 1024 characters.", sdk.Default(`{{ template "rocketchat.default.title" . }}`)),
		sdk.String("title_link", "A template: the link of the title.", sdk.Default(`{{ template "rocketchat.default.titlelink" . }}`)),
		sdk.String("image_url", "A template: an image of the attachment."),
		sdk.String("thumb_url", "A template: a thumbnail of the attachment."),
	},
	Notifier: func(cfg sdk.Config) (sdk.Notifier, error) { return newRocketchat(cfg) },
}

// message is a chat.postMessage call.
type message struct {
	Channel     string       `json:"channel,omitempty"`
	Text        string       `json:"text,omitempty"`
	ParseUrls   bool         `json:"parseUrls,omitempty"`
	Alias       string       `json:"alias,omitempty"`
	Emoji       string       `json:"emoji,omitempty"`
	Avatar      string       `json:"avatar,omitempty"`
	Attachments []attachment `json:"attachments,omitempty"`
}

type attachment struct {
	Title     string `json:"title,omitempty"`
	TitleLink string `json:"title_link,omitempty"`
	Text      string `json:"text,omitempty"`
	ImageURL  string `json:"image_url,omitempty"`
	ThumbURL  string `json:"thumb_url,omitempty"`
	Color     string `json:"color,omitempty"`
}

// rocketchat posts as one user.
type rocketchat struct {
	token, tokenID, url                                                      string
	channel, color, emoji, iconURL, text, title, titleLink, image, thumbnail string
	templates                                                                *amnotify.Templates
}

func newRocketchat(cfg sdk.Config) (*rocketchat, error) {
	u, err := amnotify.CheckURL("api_url", strings.TrimSpace(cfg.String("api_url")), false)
	if err != nil {
		return nil, err
	}
	r := &rocketchat{
		token: strings.TrimSpace(cfg.String("token")), tokenID: strings.TrimSpace(cfg.String("token_id")),
		url: u.JoinPath("api/v1/chat.postMessage").String(), channel: cfg.String("channel"), color: cfg.String("color"),
		emoji: cfg.String("emoji"), iconURL: cfg.String("icon_url"), text: cfg.String("text"), title: cfg.String("title"),
		titleLink: cfg.String("title_link"), image: cfg.String("image_url"), thumbnail: cfg.String("thumb_url"),
	}
	// The token is a secret: errors never quote it.
	if r.token == "" || strings.ContainsAny(r.token, " \t\r\n") {
		return nil, sdk.AttributeErrorf("token", "must be an access token, without spaces")
	}
	if r.tokenID == "" || strings.ContainsAny(r.tokenID, " \t\r\n") {
		return nil, sdk.AttributeErrorf("token_id", "must be a user id, without spaces, not %q", r.tokenID)
	}
	if r.templates, err = amnotify.New(); err != nil {
		return nil, err
	}
	for _, a := range []struct{ name, text string }{
		{"channel", r.channel}, {"color", r.color}, {"emoji", r.emoji}, {"icon_url", r.iconURL}, {"text", r.text},
		{"title", r.title}, {"title_link", r.titleLink}, {"image_url", r.image}, {"thumb_url", r.thumbnail},
	} {
		if err := r.templates.Check(a.name, a.text); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// message renders n as a message with one attachment.
func (r *rocketchat) message(n *sdk.Notification) (*message, error) {
	t := r.templates.Render(n)
	title, _ := amnotify.TruncateInRunes(t.Text(r.title), maxTitle)
	a := attachment{
		Title: title, TitleLink: t.Text(r.titleLink), Text: t.Text(r.text),
		ImageURL: t.Text(r.image), ThumbURL: t.Text(r.thumbnail), Color: t.Text(r.color),
	}
	m := &message{Channel: t.Text(r.channel), Emoji: t.Text(r.emoji), Avatar: t.Text(r.iconURL), Attachments: []attachment{a}}
	return m, t.Err()
}

// Notify implements sdk.Notifier: it posts the message. An answer of 2xx
// is a delivery; 429, 5xx and failures to reach Rocket.Chat are
// retryable; any other answer, and a host the plugin may not reach, are
// permanent.
func (r *rocketchat) Notify(ctx context.Context, n *sdk.Notification) error {
	m, err := r.message(n)
	if err != nil {
		return sdk.Permanent(err)
	}
	return amnotify.PostJSON(ctx, "rocketchat", r.url, m, http.Header{"X-Auth-Token": {r.token}, "X-User-Id": {r.tokenID}})
}
