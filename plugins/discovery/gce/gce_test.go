package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	for _, name := range []string{"project", "zone", "filter", "refresh_interval", "port", "tag_separator"} {
		if _, ok := schema.Attribute(name); !ok {
			t.Errorf("no attribute %q", name)
		}
	}
	if len(schema) != 7 {
		t.Errorf("schema %+v: want gce's six fields and credentials_file", schema)
	}
	p := upstream.Plugin(mechanism)
	for config, attr := range map[string]string{
		`{"zone": "europe-west2-a"}`:                         "project",
		`{"project": "p"}`:                                   "zone",
		`{"project": "p", "zone": "z", "tag_separtor": ","}`: "tag_separtor",
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
}

// TestConformance runs the suite with a service account whose token
// endpoint is a local server that refuses it, so that no request leaves
// the machine: the plugin sends an empty first update.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin")
	}
	var asked atomic.Int64
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		asked.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error": "invalid_grant", "error_description": "Invalid JWT Signature."}`))
	}))
	defer tokens.Close()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	account, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "shop", "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "vigil@shop.iam.gserviceaccount.com", "client_id": "1",
		"token_uri": tokens.URL + "/token",
	})
	path := filepath.Join(t.TempDir(), "account.json")
	if err := os.WriteFile(path, account, 0o600); err != nil {
		t.Fatal(err)
	}
	config, _ := json.Marshal(map[string]any{"project": "shop", "zone": "europe-west2-a", "refresh_interval": "1s", "credentials_file": path})
	conformance.Discoverer(t, conformance.Program(testplugins.Build(t, "plugins/discovery/gce")), conformance.Options{ConfigJSON: config})
	if asked.Load() == 0 {
		t.Error("the plugin never asked the token endpoint")
	}
}
