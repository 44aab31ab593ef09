package remote

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"

	"github.com/vigilmon/vigil/hclconfig"
)

// TestUpstreamConfig converts remote_write blocks into Prometheus's
// remote_write entries: the queue, the authentication with its secrets,
// TLS, relabeling and the external labels; metadata is never sent.
func TestUpstreamConfig(t *testing.T) {
	cfg, diags := hclconfig.Load("../../hclconfig/testdata/remote.good.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	conf, err := upstreamConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := conf.GlobalConfig.ExternalLabels.String(); got != `{cluster="dev"}` {
		t.Errorf("external labels %s", got)
	}
	if len(conf.RemoteWriteConfigs) != 3 {
		t.Fatalf("%d remote_write entries, want 3", len(conf.RemoteWriteConfigs))
	}
	mimir, thanos, plain := conf.RemoteWriteConfigs[0], conf.RemoteWriteConfigs[1], conf.RemoteWriteConfigs[2]
	wantQueue := config.QueueConfig{Capacity: 2500, MinShards: 2, MaxShards: 10, MaxSamplesPerSend: 500,
		BatchSendDeadline: model.Duration(time.Second), MinBackoff: model.Duration(100 * time.Millisecond), MaxBackoff: model.Duration(10 * time.Second), RetryOnRateLimit: true}
	if mimir.Name != "mimir" || mimir.URL.String() != "https://mimir.example.com/api/v1/push" || string(mimir.ProtobufMessage) != hclconfig.RemoteWriteV2 ||
		mimir.RemoteTimeout != model.Duration(10*time.Second) || mimir.HTTPClientConfig.HTTPHeaders.Headers["X-Scope-OrgID"].Values[0] != "team-a" || !mimir.SendExemplars || !mimir.SendNativeHistograms ||
		mimir.QueueConfig != wantQueue || mimir.MetadataConfig.Send || len(mimir.WriteRelabelConfigs) != 1 ||
		mimir.HTTPClientConfig.BasicAuth == nil || string(mimir.HTTPClientConfig.BasicAuth.Password) != "s3cr3t-token" ||
		filepath.Base(mimir.HTTPClientConfig.TLSConfig.CAFile) != "ca.pem" || !mimir.HTTPClientConfig.FollowRedirects {
		t.Errorf("mimir: %+v", mimir)
	}
	if o := thanos.HTTPClientConfig.OAuth2; o == nil || string(o.ClientSecret) != "s3cr3t-token" || o.TokenURL != "https://auth.example.com/token" ||
		o.EndpointParams["audience"] != "thanos" || string(thanos.ProtobufMessage) != hclconfig.RemoteWriteV1 || thanos.QueueConfig != config.DefaultQueueConfig {
		t.Errorf("thanos: %+v", thanos)
	}
	if a := plain.HTTPClientConfig.Authorization; a == nil || a.Type != "Bearer" || string(a.Credentials) != "s3cr3t-token" {
		t.Errorf("plain: %+v", plain.HTTPClientConfig.Authorization)
	}
}

// TestReadConfig converts remote_read blocks into Prometheus's remote_read
// entries, with the client settings of remote_write and Prometheus's
// defaults, and no remote_write entry.
func TestReadConfig(t *testing.T) {
	cfg, diags := hclconfig.Load("../../hclconfig/testdata/remote.good.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	conf, err := readConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(conf.RemoteWriteConfigs) != 0 || len(conf.RemoteReadConfigs) != 2 || conf.GlobalConfig.ExternalLabels.String() != `{cluster="dev"}` {
		t.Fatalf("%+v", conf)
	}
	archive, plain := conf.RemoteReadConfigs[0], conf.RemoteReadConfigs[1]
	if archive.Name != "archive" || archive.URL.String() != "https://archive.example.com/api/v1/read" || archive.RemoteTimeout != model.Duration(20*time.Second) ||
		archive.HTTPClientConfig.HTTPHeaders.Headers["X-Scope-OrgID"].Values[0] != "team-a" || !archive.ReadRecent || archive.FilterExternalLabels ||
		archive.RequiredMatchers["job"] != "node" || archive.RequiredMatchers["service.name"] != "api" || len(archive.RequiredMatchers) != 2 ||
		archive.HTTPClientConfig.Authorization == nil || string(archive.HTTPClientConfig.Authorization.Credentials) != "s3cr3t-token" ||
		!archive.HTTPClientConfig.TLSConfig.InsecureSkipVerify || archive.ChunkedReadLimit != config.DefaultChunkedReadLimit {
		t.Errorf("archive: %+v", archive)
	}
	if plain.RemoteTimeout != config.DefaultRemoteReadConfig.RemoteTimeout || plain.ReadRecent || !plain.FilterExternalLabels || plain.RequiredMatchers != nil ||
		plain.HTTPClientConfig.BasicAuth == nil || string(plain.HTTPClientConfig.BasicAuth.Password) != "s3cr3t-token" || !plain.HTTPClientConfig.EnableHTTP2 {
		t.Errorf("plain: %+v", plain)
	}
}
