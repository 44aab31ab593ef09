package hclconfig

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRemoteConfig decodes the remote_write and remote_read blocks and the server's
// remote attributes, with their defaults, and checks that rendering hides
// every secret and loads back to the same configuration.
func TestRemoteConfig(t *testing.T) {
	cfg, diags := Load("testdata/remote.good.hcl")
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	srv := cfg.Server
	if !srv.EnableRemoteWriteReceiver || srv.RemoteReadSampleLimit != 1000 || srv.RemoteReadConcurrentLimit != 0 || srv.RemoteReadMaxBytesInFrame != 512<<10 {
		t.Errorf("server: %+v", srv)
	}
	if len(cfg.RemoteWrites) != 3 {
		t.Fatalf("%d remote_write blocks, want 3", len(cfg.RemoteWrites))
	}
	mimir, thanos, plain := cfg.RemoteWrites[0], cfg.RemoteWrites[1], cfg.RemoteWrites[2]
	if mimir.Name != "mimir" || mimir.URL.String() != "https://mimir.example.com/api/v1/push" || mimir.ProtobufMessage != RemoteWriteV2 ||
		mimir.RemoteTimeout != 10*time.Second || mimir.Headers["X-Scope-OrgID"] != "team-a" || !mimir.SendExemplars || !mimir.SendNativeHistograms ||
		mimir.BasicAuth.Password.Value() != "s3cr3t-token" || mimir.TLS.CAFile != filepath.Join("testdata", "ca.pem") {
		t.Errorf("mimir: %+v", mimir)
	}
	wantQueue := RemoteWriteQueue{Capacity: 2500, MinShards: 2, MaxShards: 10, MaxSamplesPerSend: 500, BatchSendDeadline: time.Second,
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second, RetryOnHTTP429: true}
	if diff := cmp.Diff(wantQueue, mimir.Queue); diff != "" {
		t.Errorf("mimir queue (-want +got):\n%s", diff)
	}
	if len(mimir.WriteRelabel) != 1 || string(mimir.WriteRelabel[0].Action) != "drop" {
		t.Errorf("write_relabel: %+v", mimir.WriteRelabel)
	}
	if thanos.ProtobufMessage != RemoteWriteV1 || thanos.RemoteTimeout != DefaultRemoteTimeout || thanos.Queue != DefaultRemoteWriteQueue ||
		thanos.URL.RawQuery != "tenant=a" || thanos.OAuth2.ClientSecret.Value() != "s3cr3t-token" || thanos.OAuth2.TokenURL.Host != "auth.example.com" || thanos.OAuth2.EndpointParams["audience"] != "thanos" {
		t.Errorf("thanos, with defaults: %+v", thanos)
	}
	if plain.BearerToken.Value() != "s3cr3t-token" {
		t.Errorf("plain: %+v", plain)
	}

	if len(cfg.RemoteReads) != 2 {
		t.Fatalf("%d remote_read blocks, want 2", len(cfg.RemoteReads))
	}
	archive, plainRead := cfg.RemoteReads[0], cfg.RemoteReads[1]
	if archive.Name != "archive" || archive.URL.String() != "https://archive.example.com/api/v1/read" || archive.RemoteTimeout != 20*time.Second ||
		archive.Headers["X-Scope-OrgID"] != "team-a" || !archive.ReadRecent || archive.FilterExternalLabels ||
		!cmp.Equal(archive.RequiredMatchers, map[string]string{"job": "node", "service.name": "api"}) ||
		archive.BearerToken.Value() != "s3cr3t-token" || archive.TLS == nil || !archive.TLS.InsecureSkipVerify {
		t.Errorf("archive: %+v", archive)
	}
	if plainRead.RemoteTimeout != DefaultRemoteReadTimeout || plainRead.ReadRecent || !plainRead.FilterExternalLabels ||
		plainRead.RequiredMatchers != nil || plainRead.BasicAuth == nil || plainRead.BasicAuth.Password.Value() != "s3cr3t-token" {
		t.Errorf("plain remote_read, with defaults: %+v", plainRead)
	}

	text := string(cfg.HCL())
	if strings.Contains(text, "s3cr3t") {
		t.Fatalf("a secret is in the rendered config:\n%s", text)
	}
	for _, want := range []string{`password = "<secret>"`, `client_secret = "<secret>"`, `bearer_token = "<secret>"`, `ops:xxxxx@thanos.example.com`, `ops:xxxxx@127.0.0.1:9092`,
		`read_recent = true`, `filter_external_labels = false`, `required_matchers = { job = "node" "service.name" = "api" }`} {
		if !strings.Contains(strings.Join(strings.Fields(text), " "), want) {
			t.Errorf("the rendered config lacks %s:\n%s", want, text)
		}
	}
	again, diags := Parse("testdata/rendered.hcl", []byte(text))
	if diags.HasErrors() {
		t.Fatalf("the rendered config does not load:\n%s\n%s", diagText(diags), text)
	}
	if got := string(again.HCL()); got != text {
		t.Fatalf("render is not stable:\n%s\nvs\n%s", got, text)
	}
}
