package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/internal/testreceiver"
	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify/amnotifytest"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// TestModule drives the module through the host against a local Bot API.
func TestModule(t *testing.T) {
	amnotifytest.Module{
		Package: "plugins/notifier/telegram", Plugin: telegramPlugin, SecretAttribute: "bot_token",
		Config: func(base string) map[string]any {
			return map[string]any{"bot_token": amnotifytest.Secret, "chat_id": -1001234567890, "api_url": base, "message_thread_id": 7}
		},
		Bad: map[string]any{"chat_id": 1.5}, BadAttribute: "chat_id",
		Answer: `{"ok": true, "result": {"message_id": 1, "chat": {"id": -1001234567890}}}`,
		Check: func(t *testing.T, r testreceiver.Request) {
			var p map[string]string
			if err := json.Unmarshal(r.Body, &p); err != nil {
				t.Fatal(err)
			}
			if r.Path != "/bot"+amnotifytest.Secret+"/sendMessage" || p["chat_id"] != "-1001234567890" || p["parse_mode"] != "HTML" ||
				p["disable_web_page_preview"] != "true" || p["message_thread_id"] != "7" || p["disable_notification"] != "" ||
				!strings.Contains(p["text"], "host:9100 is down") {
				t.Errorf("%s %s\n%s", r.Method, r.Path, r.Body)
			}
		},
	}.Run(t)
}

// TestSample configures the plugin with sample.hcl.
func TestSample(t *testing.T) {
	amnotifytest.Sample(t, telegramPlugin, "api.telegram.org", map[string]string{"TELEGRAM_BOT_TOKEN": "123456:ABC"})
}

// TestMessage escapes what the template inserts in HTML, replaces an
// HTML message over Telegram's limit, and cuts a plain one.
func TestMessage(t *testing.T) {
	tg := func(config map[string]any) *telegram {
		t.Helper()
		config["bot_token"], config["chat_id"] = "1:x", 42
		values, err := telegramPlugin.Schema.Values(config)
		if err != nil {
			t.Fatal(err)
		}
		tg, err := newTelegram(values)
		if err != nil {
			t.Fatal(err)
		}
		return tg
	}
	n := amnotifytest.Notification("firing")
	n.CommonLabels = map[string]string{"x": "<b>"}
	p, err := tg(map[string]any{"message": "{{ .CommonLabels.x }}"}).params(n)
	if err != nil || p["text"] != "&lt;b&gt;" {
		t.Errorf("%q %v", p["text"], err)
	}
	long := `{{ range $i := .Alerts }}{{ printf "%5000s" "x" }}{{ end }}`
	if p, _ := tg(map[string]any{"message": long}).params(n); p["text"] != tooLong {
		t.Errorf("a long HTML message: %q", p["text"][:20])
	}
	if p, _ := tg(map[string]any{"message": long, "parse_mode": ""}).params(n); len([]rune(p["text"])) != maxMessage || p["parse_mode"] != "" {
		t.Errorf("a long plain message: %d characters, %q", len([]rune(p["text"])), p["parse_mode"])
	}
}
