package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/sdk"
)

// TestPluginBinary drives the built binary through the host's client,
// against a local SMTP server with STARTTLS and AUTH.
func TestPluginBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin")
	}
	s := newServer(t, selfSigned(t), "user", "s3cret")
	p, err := client.Start(client.Options{Path: testplugins.Build(t, "plugins/notifier/email")})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	info, kind, err := p.Info(ctx)
	if err != nil || kind != sdk.KindNotifier || info.Name != "email" || info.Version == "" {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	schema, err := p.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	smarthost, _ := schema.Attribute("smarthost")
	to, _ := schema.Attribute("to")
	password, _ := schema.Attribute("auth_password")
	requireTLS, _ := schema.Attribute("require_tls")
	hello, _ := schema.Attribute("hello")
	if !smarthost.Required || !to.Required || to.Type != sdk.TypeStringList || !password.Sensitive ||
		requireTLS.Default != true || hello.Default != "localhost" {
		t.Errorf("schema %+v", schema)
	}

	for config, attr := range map[string]string{
		`{}`: "smarthost",
		`{"smarthost": "smtp.example.com", "from": "a@example.com", "to": ["b@example.com"]}`:                  "smarthost",
		`{"smarthost": "smtp.example.com:25", "from": "a@example.com", "to": ["nobody"]}`:                      "to",
		`{"smarthost": "smtp.example.com:25", "from": "a@example.com", "to": ["b@example.com"], "port": 25}`:   "port",
		`{"smarthost": "smtp.example.com:25", "from": "a@example.com", "to": ["b@example.com"], "text": "{{"}`: "text",
	} {
		var ae *sdk.AttributeError
		if err := p.Configure(ctx, []byte(config)); !errors.As(err, &ae) || ae.Attribute != attr {
			t.Errorf("configure %s: %v, want an error naming %q", config, err, attr)
		}
	}

	config, _ := json.Marshal(base(s.addr, map[string]any{
		"auth_username": "user", "auth_password": "s3cret", "tls_insecure_skip_verify": true,
	}))
	if err := p.Configure(ctx, config); err != nil {
		t.Fatal(err)
	}
	if err := p.Notify(ctx, notification("firing")); err != nil {
		t.Fatal(err)
	}
	d := s.last(t)
	msg := parse(t, d.data)
	if !d.tls || d.user != "user" || len(d.to) != 2 || msg.subject != "[FIRING:1] InstanceDown node" ||
		!strings.Contains(msg.text, "a:9100 is down") || !strings.Contains(msg.html, "a:9100 is down") {
		t.Errorf("delivery %+v, message %+v", d, msg)
	}

	for code, permanent := range map[int]bool{550: true, 451: false} {
		s.failWith("rcpt", code, "mailbox unavailable")
		err := p.Notify(ctx, notification("firing"))
		if err == nil || sdk.IsPermanent(err) != permanent || !strings.Contains(err.Error(), "mailbox unavailable") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%d: %v (permanent %v), want permanent %v", code, err, sdk.IsPermanent(err), permanent)
		}
	}
}
