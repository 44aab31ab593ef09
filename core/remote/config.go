package remote

import (
	"fmt"

	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/hclconfig"
)

// upstreamConfig is the part of Prometheus's configuration that upstream's
// WriteStorage reads: the external labels and the remote_write blocks as
// remote_write entries, checked as Prometheus checks them.
func upstreamConfig(cfg *hclconfig.Config) (*config.Config, error) {
	conf := &config.Config{GlobalConfig: config.GlobalConfig{ExternalLabels: labels.FromMap(cfg.Global.ExternalLabels)}}
	for _, rw := range cfg.RemoteWrites {
		c, err := remoteWriteConfig(rw)
		if err != nil {
			return nil, fmt.Errorf("remote_write %q: %w", rw.Name, err)
		}
		conf.RemoteWriteConfigs = append(conf.RemoteWriteConfigs, c)
	}
	return conf, nil
}

// remoteWriteConfig converts a remote_write block into Prometheus's
// remote_write entry, with its defaults for what the block does not say.
func remoteWriteConfig(rw *hclconfig.RemoteWrite) (*config.RemoteWriteConfig, error) {
	c := config.DefaultRemoteWriteConfig
	c.Name = rw.Name
	c.URL = &commoncfg.URL{URL: rw.URL}
	c.ProtobufMessage = remoteapi.WriteMessageType(rw.ProtobufMessage)
	c.RemoteTimeout = model.Duration(rw.RemoteTimeout)
	c.Headers = rw.Headers
	c.WriteRelabelConfigs = rw.WriteRelabel
	c.SendExemplars = rw.SendExemplars
	c.SendNativeHistograms = rw.SendNativeHistograms
	q := rw.Queue
	c.QueueConfig = config.QueueConfig{
		Capacity:          q.Capacity,
		MinShards:         q.MinShards,
		MaxShards:         q.MaxShards,
		MaxSamplesPerSend: q.MaxSamplesPerSend,
		BatchSendDeadline: model.Duration(q.BatchSendDeadline),
		MinBackoff:        model.Duration(q.MinBackoff),
		MaxBackoff:        model.Duration(q.MaxBackoff),
		RetryOnRateLimit:  q.RetryOnHTTP429,
	}
	// Metadata would come from upstream's scrape manager, which Vigil
	// does not have.
	c.MetadataConfig.Send = false
	h := config.DefaultRemoteWriteHTTPClientConfig
	if rw.BearerToken != "" {
		h.Authorization = &commoncfg.Authorization{Type: "Bearer", Credentials: commoncfg.Secret(rw.BearerToken.Value())}
	}
	if b := rw.BasicAuth; b != nil {
		h.BasicAuth = &commoncfg.BasicAuth{Username: b.Username, Password: commoncfg.Secret(b.Password.Value())}
	}
	if o := rw.OAuth2; o != nil {
		h.OAuth2 = &commoncfg.OAuth2{
			ClientID: o.ClientID, ClientSecret: commoncfg.Secret(o.ClientSecret.Value()), Scopes: o.Scopes, EndpointParams: o.EndpointParams,
		}
		if o.TokenURL != nil {
			h.OAuth2.TokenURL = o.TokenURL.String()
		}
	}
	if t := rw.TLS; t != nil {
		h.TLSConfig = commoncfg.TLSConfig{
			CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify,
		}
	}
	c.HTTPClientConfig = h
	if err := c.HTTPClientConfig.Validate(); err != nil {
		return nil, err
	}
	if err := c.QueueConfig.Validate(); err != nil {
		return nil, err
	}
	if err := c.ProtobufMessage.Validate(); err != nil {
		return nil, fmt.Errorf("invalid protobuf_message: %w", err)
	}
	return &c, nil
}
