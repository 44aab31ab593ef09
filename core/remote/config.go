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
	c.HTTPClientConfig = rw.HTTPClient.Config(config.DefaultRemoteWriteHTTPClientConfig)
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

// readConfig is the part of Prometheus's configuration that upstream's
// remote Storage reads for its read side: the external labels and the
// remote_read blocks as remote_read entries. It has no remote_write
// entries, so that the storage starts no queue.
func readConfig(cfg *hclconfig.Config) (*config.Config, error) {
	conf := &config.Config{GlobalConfig: config.GlobalConfig{ExternalLabels: labels.FromMap(cfg.Global.ExternalLabels)}}
	for _, rr := range cfg.RemoteReads {
		c, err := remoteReadConfig(rr)
		if err != nil {
			return nil, fmt.Errorf("remote_read %q: %w", rr.Name, err)
		}
		conf.RemoteReadConfigs = append(conf.RemoteReadConfigs, c)
	}
	return conf, nil
}

// remoteReadConfig converts a remote_read block into Prometheus's
// remote_read entry, with its defaults for what the block does not say.
func remoteReadConfig(rr *hclconfig.RemoteRead) (*config.RemoteReadConfig, error) {
	c := config.DefaultRemoteReadConfig
	c.Name = rr.Name
	c.URL = &commoncfg.URL{URL: rr.URL}
	c.RemoteTimeout = model.Duration(rr.RemoteTimeout)
	c.ReadRecent = rr.ReadRecent
	c.FilterExternalLabels = rr.FilterExternalLabels
	if len(rr.RequiredMatchers) > 0 {
		c.RequiredMatchers = model.LabelSet{}
		for name, value := range rr.RequiredMatchers {
			c.RequiredMatchers[model.LabelName(name)] = model.LabelValue(value)
		}
	}
	c.HTTPClientConfig = rr.HTTPClient.Config(commoncfg.DefaultHTTPClientConfig)
	if err := c.HTTPClientConfig.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}
