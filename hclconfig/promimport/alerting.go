package promimport

import (
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"go.yaml.in/yaml/v3"

	"github.com/vigilmon/vigil/hclconfig"
)

// alerting converts the alertmanagers of the alerting section into
// alertmanager blocks, one for each with static targets, and reports the
// rest. node is the section.
func (c *converter) alerting(node *yaml.Node) []*hclwrite.Block {
	var managers []*yaml.Node
	for _, e := range entries(node) {
		switch e.key {
		case "alertmanagers":
			managers = items(e.value)
		case "alert_relabel_configs":
			c.skip(e.node, "Vigil does not relabel alerts before it sends them")
		default:
			c.skip(e.node, "Vigil's alerting has no such setting")
		}
	}
	var blocks []*hclwrite.Block
	for i, am := range c.cfg.AlertingConfig.AlertmanagerConfigs {
		if i < len(managers) {
			if b := c.alertmanager(am, managers[i]); b != nil {
				blocks = append(blocks, b)
			}
		}
	}
	return blocks
}

// alertmanager writes the block of one alertmanager configuration: its
// static targets become URLs with its scheme and path prefix, beside its
// HTTP client settings. It is nil when there is no static target.
func (c *converter) alertmanager(am *config.AlertmanagerConfig, node *yaml.Node) *hclwrite.Block {
	var client clientOut
	for _, e := range entries(node) {
		switch e.key {
		case "scheme", "path_prefix", "timeout", "api_version":
		case "static_configs":
			for _, group := range items(e.value) {
				if labels, ok := lookup(group, "labels"); ok {
					c.skipIf(len(entries(labels.value)) > 0, labels.node, "an alertmanager block takes URLs; the labels of its targets are for relabel_configs, which Vigil lacks")
				}
			}
		case "relabel_configs":
			c.skip(e.node, "Vigil does not relabel Alertmanager targets")
		case "alert_relabel_configs":
			c.skip(e.node, "Vigil does not relabel alerts before it sends them")
		case "sigv4":
			c.skip(e.node, "Vigil does not sign requests with AWS SigV4")
		default:
			if c.client(e, am.HTTPClientConfig, blockClient, &client) {
				continue
			}
			if strings.HasSuffix(e.key, "_sd_configs") {
				c.skip(e.node, "an alertmanager block lists fixed URLs; Vigil does not discover Alertmanagers")
				continue
			}
			c.skip(e.node, "the alertmanager block has no such setting")
		}
	}
	var urls []string
	for _, d := range am.ServiceDiscoveryConfigs {
		groups, ok := d.(discovery.StaticConfig)
		if !ok {
			continue
		}
		for _, g := range groups {
			for _, t := range g.Targets {
				u := url.URL{Scheme: am.Scheme, Host: string(t[model.AddressLabel])}
				if prefix := strings.Trim(am.PathPrefix, "/"); prefix != "" {
					u.Path = "/" + prefix
				}
				urls = append(urls, u.String())
			}
		}
	}
	if len(urls) == 0 {
		return nil
	}
	block := hclwrite.NewBlock("alertmanager", nil)
	block.Body().SetAttributeValue("urls", stringList(urls))
	if timeout := time.Duration(am.Timeout); timeout != hclconfig.DefaultAlertmanagerTimeout {
		block.Body().SetAttributeValue("timeout", durationVal(timeout))
	}
	client.write(block.Body())
	return block
}
