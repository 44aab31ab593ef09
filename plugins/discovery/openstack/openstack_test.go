package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
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
	for _, name := range []string{"identity_endpoint", "username", "userid", "password", "project_name", "domain_name",
		"application_credential_secret", "role", "region", "port", "all_tenants", "availability", "tls_config_ca_file"} {
		if _, ok := schema.Attribute(name); !ok {
			t.Errorf("no attribute %q", name)
		}
	}
	p := upstream.Plugin(mechanism)
	for config, attr := range map[string]string{
		`{"region": "r1"}`:               "role",
		`{"role": "instance"}`:           "region",
		`{"role": "vm", "region": "r1"}`: "role",
		`{"role": "instance", "region": "r1", "availability": "x"}`: "availability",
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
	for _, name := range []string{"password", "application_credential_secret"} {
		if a, _ := p.Schema.Attribute(name); !a.Sensitive {
			t.Errorf("%s is not sensitive", name)
		}
	}
}

// TestConformance runs the suite with a Keystone that refuses every
// request: the plugin sends an empty first update, and asks again.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin")
	}
	var asked atomic.Int64
	keystone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		asked.Add(1)
		http.Error(w, `{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}`, http.StatusUnauthorized)
	}))
	defer keystone.Close()
	config, _ := json.Marshal(map[string]any{
		"identity_endpoint": keystone.URL + "/v3", "username": "vigil", "password": "secret", "domain_name": "Default",
		"project_name": "shop", "role": "instance", "region": "RegionOne", "refresh_interval": "1s",
	})
	conformance.Discoverer(t, conformance.Program(testplugins.Build(t, "plugins/discovery/openstack")), conformance.Options{ConfigJSON: config})
	if asked.Load() == 0 {
		t.Error("the plugin never asked the identity endpoint")
	}
}
