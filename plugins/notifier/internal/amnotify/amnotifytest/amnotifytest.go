// Package amnotifytest tests the notifier plugins that send
// Alertmanager's payloads as Vigil runs them: Module builds a plugin as a
// WebAssembly module and drives it through the host against a local
// receiver, and Sample loads a plugin's sample.hcl.
package amnotifytest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/core/pluginhost"
	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/internal/testreceiver"
	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify"
	"github.com/vigilmon/vigil/sdk"
)

// Secret is the value a Module's config gives its secret: it must never
// appear in an error.
const Secret = "s3cr3t-value"

// Module is a notifier plugin's module under test.
type Module struct {
	// Package is the plugin's package, such as
	// "plugins/notifier/opsgenie", and Plugin the plugin it registers.
	Package string
	Plugin  sdk.Plugin
	// SecretAttribute is the attribute that holds the secret: it must
	// be sensitive.
	SecretAttribute string
	// Config is a config that delivers to the receiver at base, with
	// Secret as its secret.
	Config func(base string) map[string]any
	// Bad is a config the plugin refuses, naming BadAttribute.
	Bad          map[string]any
	BadAttribute string
	// Answer is the body the receiver answers a success with.
	Answer string
	// Check checks the request of a firing notification.
	Check func(t *testing.T, r testreceiver.Request)
}

// Notification is a notification of one alert of status.
func Notification(status string) *sdk.Notification {
	n := amnotify.Sample()
	n.Status = status
	n.Alerts[0].Status = status
	if status == "resolved" {
		n.Alerts[0].EndsAt = n.Alerts[0].StartsAt.Add(time.Hour)
	}
	return n
}

// Run builds the module and drives it through the host, allowed to reach
// 127.0.0.1: it describes itself, refuses the Bad config, delivers a
// firing and a resolved notification, reports failure answers as
// retryable or permanent without the secret, and cannot reach a host
// outside allow_hosts.
func (m Module) Run(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module")
	}
	module := testplugins.BuildWasm(t, m.Package)
	cache := testplugins.WasmCache(t, module)
	answer := m.Answer
	if answer == "" {
		answer = "{}"
	}
	r := testreceiver.New(t, http.StatusOK, answer, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	load := func(allow ...string) *pluginhost.WasmPlugin {
		p, err := pluginhost.LoadWasm(ctx, pluginhost.WasmOptions{Path: module, CacheDir: cache, AllowHosts: allow})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	p := load("127.0.0.1")
	info, kind, err := p.Info(ctx)
	if err != nil || kind != sdk.KindNotifier || info.Name != m.Plugin.Info.Name || info.Version == "" {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	schema, err := p.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := schema.Attribute(m.SecretAttribute); !ok || !a.Sensitive {
		t.Errorf("%s is not sensitive: %+v", m.SecretAttribute, schema)
	}
	config := m.Config(r.URL)
	bad := map[string]any{}
	for k, v := range config {
		bad[k] = v
	}
	for k, v := range m.Bad {
		bad[k] = v
	}
	var ae *sdk.AttributeError
	if err := p.Configure(ctx, mustJSON(t, bad)); !errors.As(err, &ae) || ae.Attribute != m.BadAttribute {
		t.Errorf("config %v: %v, want an error about %s", m.Bad, err, m.BadAttribute)
	} else if strings.Contains(err.Error(), Secret) {
		t.Errorf("the error quotes the secret: %v", err)
	}
	if err := p.Configure(ctx, mustJSON(t, config)); err != nil {
		t.Fatal(err)
	}
	if err := p.Notify(ctx, Notification("firing")); err != nil {
		t.Fatal(err)
	}
	m.Check(t, r.Last(t))
	if err := p.Notify(ctx, Notification("resolved")); err != nil {
		t.Fatal(err)
	}
	for status, permanent := range map[int]bool{http.StatusBadRequest: true, http.StatusTooManyRequests: false, http.StatusInternalServerError: false} {
		r.Respond(status, "failure-answer")
		err := p.Notify(ctx, Notification("firing"))
		if err == nil || sdk.IsPermanent(err) != permanent || !strings.Contains(err.Error(), "failure-answer") || strings.Contains(err.Error(), Secret) {
			t.Errorf("answered %d: %v, want permanent %v", status, err, permanent)
		}
	}
	r.Respond(http.StatusOK, answer)

	// Without the receiver in allow_hosts, the host refuses the request,
	// and retrying would not help.
	u, _ := url.Parse(r.URL)
	p = load("example.com")
	if err := p.Configure(ctx, mustJSON(t, config)); err != nil {
		t.Fatal(err)
	}
	err = p.Notify(ctx, Notification("firing"))
	if err == nil || !sdk.IsPermanent(err) || !strings.Contains(err.Error(), u.Host) || strings.Contains(err.Error(), Secret) {
		t.Errorf("a host not allowed: %v", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Sample loads sample.hcl as the server does, with the environment
// variables env set, and configures the plugin with each config block
// that uses it, through newNotifier; the plugin block must be a module
// allowed to reach host alone.
func Sample(t *testing.T, plugin sdk.Plugin, host string, env map[string]string) {
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, diags := hclconfig.Load("sample.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	n := 0
	for _, inst := range cfg.Instances() {
		if inst.Plugin.Name != plugin.Info.Name {
			continue
		}
		n++
		if !inst.Plugin.IsWasm() || len(inst.Plugin.AllowHosts) != 1 || inst.Plugin.AllowHosts[0] != host {
			t.Errorf("plugin block %+v, want a module allowed to reach %s", inst.Plugin, host)
		}
		config, diags := hclconfig.DecodePluginConfig(inst, plugin.Schema)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		values, err := plugin.Schema.Parse(config)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := plugin.Notifier(values); err != nil {
			t.Fatalf("%s %q: %v", inst.Kind, inst.Name, err)
		}
	}
	if n == 0 {
		t.Fatal("sample.hcl does not use the plugin")
	}
}
