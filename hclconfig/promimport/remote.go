package promimport

import (
	"fmt"
	"net/url"
	"time"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/prometheus/prometheus/config"
	"github.com/zclconf/go-cty/cty"
	"go.yaml.in/yaml/v3"
)

// remoteBlocks converts the entries of remote_write and remote_read into
// remote_write and remote_read blocks, in the file's order. A block is
// named after the entry's name, or else after its URL's host, with a
// number when a block of its kind has that name already.
func (c *converter) remoteBlocks(root *yaml.Node) ([]*hclwrite.Block, error) {
	var blocks []*hclwrite.Block
	writes, _ := lookup(root, "remote_write")
	nodes := items(writes.value)
	if len(nodes) != len(c.cfg.RemoteWriteConfigs) {
		return nil, fmt.Errorf("cannot match the remote_write entries with the YAML tree")
	}
	names := map[string]bool{}
	for i, rw := range c.cfg.RemoteWriteConfigs {
		blocks = append(blocks, c.remoteWrite(rw, nodes[i], remoteName(names, rw.Name, rw.URL.URL)))
	}
	reads, _ := lookup(root, "remote_read")
	nodes = items(reads.value)
	if len(nodes) != len(c.cfg.RemoteReadConfigs) {
		return nil, fmt.Errorf("cannot match the remote_read entries with the YAML tree")
	}
	names = map[string]bool{}
	for i, rr := range c.cfg.RemoteReadConfigs {
		blocks = append(blocks, c.remoteRead(rr, nodes[i], remoteName(names, rr.Name, rr.URL.URL)))
	}
	return blocks, nil
}

// remoteName is the label of a remote block: name, or else u's host, made
// unique among names, which it joins.
func remoteName(names map[string]bool, name string, u *url.URL) string {
	want := name
	if want == "" {
		want = u.Hostname()
	}
	if want == "" {
		want = "remote"
	}
	name = want
	for i := 2; names[name]; i++ {
		name = fmt.Sprintf("%s-%d", want, i)
	}
	names[name] = true
	return name
}

// remoteWrite converts an entry of remote_write. What equals Vigil's
// defaults, which are Prometheus's, is left out.
func (c *converter) remoteWrite(rw *config.RemoteWriteConfig, node *yaml.Node, name string) *hclwrite.Block {
	block := hclwrite.NewBlock("remote_write", []string{name})
	b := block.Body()
	var client clientOut
	for _, e := range entries(node) {
		switch e.key {
		case "url", "name", "remote_timeout", "headers", "write_relabel_configs", "protobuf_message",
			"send_exemplars", "send_native_histograms":
			// Below.
		case "queue_config":
			for _, q := range entries(e.value) {
				c.skipIf(q.key == "sample_age_limit" && rw.QueueConfig.SampleAgeLimit > 0, q.node,
					"Vigil's queues send samples of any age")
			}
		case "metadata_config":
			c.skipIf(rw.MetadataConfig.Send, e.node, "Vigil keeps no metadata in its write-ahead log, and sends none")
		case "round_robin_dns":
			c.skipIf(rw.RoundRobinDNS, e.node, "Vigil's remote_write connects to the address the system resolver gives first")
		case "sigv4", "azuread", "google_iam":
			c.skip(e.node, "Vigil has no %s authentication; use bearer_token, basic_auth or oauth2", e.key)
		case "failed_request_logging", "convert_nhcb_to_classic":
			c.skipIf(e.key == "failed_request_logging" && rw.FailedRequestLogging || e.key == "convert_nhcb_to_classic" && rw.ConvertNHCBToClassic,
				e.node, "Vigil's remote_write has no such setting")
		default:
			if !c.client(e, rw.HTTPClientConfig, blockClient, &client) {
				c.skip(e.node, "Vigil's remote_write has no such setting")
			}
		}
	}
	b.SetAttributeValue("url", cty.StringVal(rw.URL.String()))
	d := config.DefaultRemoteWriteConfig
	if rw.ProtobufMessage != d.ProtobufMessage {
		b.SetAttributeValue("protobuf_message", cty.StringVal(string(rw.ProtobufMessage)))
	}
	if rw.RemoteTimeout != d.RemoteTimeout {
		b.SetAttributeValue("remote_timeout", durationVal(time.Duration(rw.RemoteTimeout)))
	}
	if rw.SendExemplars {
		b.SetAttributeValue("send_exemplars", cty.True)
	}
	if rw.SendNativeHistograms {
		b.SetAttributeValue("send_native_histograms", cty.True)
	}
	remoteHeaders(&client, rw.Headers)
	client.write(b)
	q, dq := rw.QueueConfig, d.QueueConfig
	var queue *hclwrite.Body
	set := func(name string, v cty.Value) {
		if queue == nil {
			queue = nested(b, "queue")
		}
		queue.SetAttributeValue(name, v)
	}
	for _, n := range []struct {
		name    string
		v, dflt int
	}{
		{"capacity", q.Capacity, dq.Capacity}, {"min_shards", q.MinShards, dq.MinShards},
		{"max_shards", q.MaxShards, dq.MaxShards}, {"max_samples_per_send", q.MaxSamplesPerSend, dq.MaxSamplesPerSend},
	} {
		if n.v != n.dflt {
			set(n.name, cty.NumberIntVal(int64(n.v)))
		}
	}
	for _, n := range []struct {
		name    string
		v, dflt time.Duration
	}{
		{"batch_send_deadline", time.Duration(q.BatchSendDeadline), time.Duration(dq.BatchSendDeadline)},
		{"min_backoff", time.Duration(q.MinBackoff), time.Duration(dq.MinBackoff)},
		{"max_backoff", time.Duration(q.MaxBackoff), time.Duration(dq.MaxBackoff)},
	} {
		if n.v != n.dflt {
			set(n.name, durationVal(n.v))
		}
	}
	if q.RetryOnRateLimit {
		set("retry_on_http_429", cty.True)
	}
	for _, r := range rw.WriteRelabelConfigs {
		writeRelabel(nested(b, "write_relabel"), r)
	}
	return block
}

// remoteRead converts an entry of remote_read. What equals Vigil's
// defaults, which are Prometheus's, is left out.
func (c *converter) remoteRead(rr *config.RemoteReadConfig, node *yaml.Node, name string) *hclwrite.Block {
	block := hclwrite.NewBlock("remote_read", []string{name})
	b := block.Body()
	var client clientOut
	for _, e := range entries(node) {
		switch e.key {
		case "url", "name", "remote_timeout", "headers", "read_recent", "required_matchers", "filter_external_labels":
			// Below.
		case "chunked_read_limit":
			c.skipIf(rr.ChunkedReadLimit != config.DefaultChunkedReadLimit, e.node,
				"Vigil's remote_read takes frames of streamed chunks up to Prometheus's default size")
		default:
			if !c.client(e, rr.HTTPClientConfig, blockClient, &client) {
				c.skip(e.node, "Vigil's remote_read has no such setting")
			}
		}
	}
	b.SetAttributeValue("url", cty.StringVal(rr.URL.String()))
	d := config.DefaultRemoteReadConfig
	if rr.RemoteTimeout != d.RemoteTimeout {
		b.SetAttributeValue("remote_timeout", durationVal(time.Duration(rr.RemoteTimeout)))
	}
	if rr.ReadRecent {
		b.SetAttributeValue("read_recent", cty.True)
	}
	if len(rr.RequiredMatchers) > 0 {
		m := map[string]string{}
		for k, v := range rr.RequiredMatchers {
			m[string(k)] = string(v)
		}
		b.SetAttributeValue("required_matchers", stringMap(m))
	}
	if !rr.FilterExternalLabels {
		b.SetAttributeValue("filter_external_labels", cty.False)
	}
	remoteHeaders(&client, rr.Headers)
	client.write(b)
	return block
}

// remoteHeaders adds the headers of a remote entry to those of its HTTP
// client settings: both are the block's headers attribute.
func remoteHeaders(client *clientOut, headers map[string]string) {
	if len(headers) == 0 {
		return
	}
	if client.headers == nil {
		client.headers = map[string]string{}
	}
	for k, v := range headers {
		client.headers[k] = v
	}
}
