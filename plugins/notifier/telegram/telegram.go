package main

import (
	"context"
	"math"
	"strconv"
	"strings"

	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify"
	"github.com/vigilmon/vigil/sdk"
)

const (
	// defaultURL is Telegram's Bot API.
	defaultURL = "https://api.telegram.org"
	// maxMessage is Telegram's limit on a message, in characters.
	maxMessage = 4096
	// tooLong replaces an HTML message over the limit, which cannot be
	// cut without breaking its markup, as Alertmanager does.
	tooLong = "The notification could not be sent: its message exceeds Telegram's limit of 4096 characters. Check the template of the message."
)

// parseModes are the parse modes Telegram knows; "" sends plain text.
var parseModes = []string{"", "HTML", "Markdown", "MarkdownV2"}

var telegramPlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "telegram",
		Version:      "0.1.0",
		Description:  "Sends notifications to a Telegram chat through a bot, as Alertmanager's Telegram receiver does.",
		Capabilities: []string{sdk.CapabilityDeliversToURL},
	},
	Schema: sdk.Schema{
		sdk.String("bot_token", "The bot's token, from @BotFather.", sdk.Required, sdk.Sensitive),
		sdk.Number("chat_id", "The chat to send to.", sdk.Required),
		sdk.String("api_url", "Telegram's Bot API.", sdk.Default(defaultURL)),
		sdk.String("message", "A template: the message, cut to 4096 characters.", sdk.Default(`{{ template "telegram.default.message" . }}`)),
		sdk.String("parse_mode", "How Telegram formats the message: HTML, Markdown, MarkdownV2, or \"\" for plain text. HTML escapes what the template inserts.", sdk.Default("HTML")),
		sdk.Bool("disable_notifications", "Send silently: users get a notification without sound.", sdk.Default(false)),
		sdk.Number("message_thread_id", "The topic of a forum chat to send to; 0 for none.", sdk.Default(0)),
	},
	Notifier: func(cfg sdk.Config) (sdk.Notifier, error) { return newTelegram(cfg) },
}

// telegram sends to one chat through one bot.
type telegram struct {
	url, message, parseMode string
	chatID, threadID        int64
	silent                  bool
	templates               *amnotify.Templates
}

func newTelegram(cfg sdk.Config) (*telegram, error) {
	u, err := amnotify.CheckURL("api_url", strings.TrimSpace(cfg.String("api_url")), false)
	if err != nil {
		return nil, err
	}
	// The token is a secret: errors never quote it.
	token := strings.TrimSpace(cfg.String("bot_token"))
	if token == "" || strings.ContainsAny(token, " \t\r\n/?#") {
		return nil, sdk.AttributeErrorf("bot_token", "must be a bot token, such as 123456:ABC-DEF")
	}
	t := &telegram{
		url: strings.TrimSuffix(u.String(), "/") + "/bot" + token + "/sendMessage", message: cfg.String("message"),
		parseMode: cfg.String("parse_mode"), silent: cfg.Bool("disable_notifications"),
	}
	if t.chatID, err = integer(cfg.Number("chat_id")); err != nil || t.chatID == 0 {
		return nil, sdk.AttributeErrorf("chat_id", "must be a chat's id, a whole number other than 0, not %v", cfg.Number("chat_id"))
	}
	if t.threadID, err = integer(cfg.Number("message_thread_id")); err != nil || t.threadID < 0 {
		return nil, sdk.AttributeErrorf("message_thread_id", "must be a topic's id, a whole number, not %v", cfg.Number("message_thread_id"))
	}
	ok := false
	for _, m := range parseModes {
		ok = ok || m == t.parseMode
	}
	if !ok {
		return nil, sdk.AttributeErrorf("parse_mode", "must be HTML, Markdown, MarkdownV2 or \"\", not %q", t.parseMode)
	}
	if t.templates, err = amnotify.New(); err != nil {
		return nil, err
	}
	if err := t.templates.Check("message", t.message); err != nil {
		return nil, err
	}
	return t, nil
}

// integer is f as an int64, or an error when it is not a whole number.
func integer(f float64) (int64, error) {
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, strconv.ErrRange
	}
	return int64(f), nil
}

// params renders n as the parameters of sendMessage, as Alertmanager's
// Telegram client sends them: every value a string.
func (t *telegram) params(n *sdk.Notification) (map[string]string, error) {
	r := t.templates.Render(n)
	var text string
	if t.parseMode == "HTML" {
		text = r.HTML(t.message)
		if len([]rune(text)) > maxMessage {
			text = tooLong
		}
	} else {
		text, _ = amnotify.TruncateInRunes(r.Text(t.message), maxMessage)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	p := map[string]string{
		"chat_id":                  strconv.FormatInt(t.chatID, 10),
		"text":                     text,
		"disable_web_page_preview": "true",
	}
	if t.parseMode != "" {
		p["parse_mode"] = t.parseMode
	}
	if t.silent {
		p["disable_notification"] = "true"
	}
	if t.threadID != 0 {
		p["message_thread_id"] = strconv.FormatInt(t.threadID, 10)
	}
	return p, nil
}

// Notify implements sdk.Notifier: it sends the message. An answer of 2xx
// is a delivery; 429, 5xx and failures to reach Telegram are retryable;
// any other answer, and a host the plugin may not reach, are permanent.
func (t *telegram) Notify(ctx context.Context, n *sdk.Notification) error {
	p, err := t.params(n)
	if err != nil {
		return sdk.Permanent(err)
	}
	return amnotify.PostJSON(ctx, "telegram", t.url, p, nil)
}
