package main

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/vigilmon/vigil/conformance"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/sdk"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

func TestConfig(t *testing.T) {
	schema, err := upstream.Schema(mechanism)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"environment", "port", "subscription_id", "tenant_id", "client_id", "client_secret",
		"refresh_interval", "authentication_method", "resource_group", "proxy_url"} {
		if _, ok := schema.Attribute(name); !ok {
			t.Errorf("no attribute %q", name)
		}
	}
	p := upstream.Plugin(mechanism)
	for config, attr := range map[string]string{
		`{}`: "subscription_id",
		`{"subscription_id": "s", "authentication_method": "Password"}`:                "authentication_method",
		`{"subscription_id": "s", "authentication_method": "OAuth", "client_id": "c"}`: "tenant_id",
	} {
		cfg, err := p.Schema.Parse([]byte(config))
		if err == nil {
			_, err = p.Discoverer(cfg)
		}
		var ae *sdk.AttributeError
		if !errors.As(err, &ae) || ae.Attribute != attr {
			t.Errorf("%s: %v, want an error naming %q", config, err, attr)
		}
	}
	if a, _ := p.Schema.Attribute("client_secret"); !a.Sensitive {
		t.Error("client_secret is not sensitive")
	}
}

// TestConformance runs the suite with workload identity and no token
// file, so that getting a token fails before any request leaves the
// machine: the plugin sends an empty first update.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin")
	}
	for _, v := range []string{"AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET"} {
		t.Setenv(v, "")
	}
	config, _ := json.Marshal(map[string]any{
		"subscription_id": "00000000-0000-0000-0000-000000000000", "authentication_method": "WorkloadIdentity",
		"refresh_interval": "1s",
	})
	conformance.Discoverer(t, conformance.Program(testplugins.Build(t, "plugins/discovery/azure")), conformance.Options{ConfigJSON: config})
}
