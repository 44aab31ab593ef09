package promimport

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/file"
	"github.com/prometheus/prometheus/discovery/http"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/zclconf/go-cty/cty"
	"go.yaml.in/yaml/v3"
)

// Defaults of the first-party discovery plugins, which are Prometheus's.
const (
	fileRefreshInterval = 5 * time.Minute
	httpRefreshInterval = time.Minute
)

// job converts one scrape configuration into the discovery blocks of its
// service discovery configurations and its scrape block.
// pluginSDs are the service discoveries that a first-party plugin runs
// with Prometheus's own code, taking the same fields
// (plugins/discovery/PROMETHEUS.md).
var pluginSDs = map[string]bool{
	"kubernetes": true, "consul": true, "ec2": true, "dns": true, "azure": true,
	"gce": true, "openstack": true, "docker": true, "nomad": true, "eureka": true,
}

func (c *converter) job(sc *config.ScrapeConfig, node *yaml.Node) []*hclwrite.Block {
	var (
		client   clientOut
		sdNodes  = map[string][]*yaml.Node{} // the entries of each *_sd_configs key
		bad      = map[string]bool{}         // static targets Vigil refuses
		otherSDs bool                        // discoveries that are not converted
	)
	for _, e := range entries(node) {
		switch e.key {
		case "job_name", "honor_labels", "honor_timestamps", "params", "scrape_interval", "scrape_timeout",
			"metrics_path", "scheme", "fallback_scrape_protocol", "body_size_limit", "sample_limit", "label_limit",
			"label_name_length_limit", "label_value_length_limit", "relabel_configs", "metric_relabel_configs",
			"scrape_native_histograms":
		case "scrape_protocols":
			c.unknownProtocols(e, sc.ScrapeProtocols)
		case "static_configs":
			for _, group := range items(e.value) {
				targets, _ := lookup(group, "targets")
				for _, t := range items(targets.value) {
					if !validTarget(t.Value) {
						bad[t.Value] = true
						c.report = append(c.report, Unconverted{Line: t.Line, Key: "targets", Why: fmt.Sprintf(
							"Vigil's targets are host:port, and %q has a scheme or a path; scrape %q leaves it out", t.Value, sc.JobName)})
					}
				}
			}
		case "file_sd_configs", "http_sd_configs":
			sdNodes[e.key] = items(e.value)
		case "kubernetes_sd_configs", "consul_sd_configs", "ec2_sd_configs", "dns_sd_configs", "azure_sd_configs",
			"gce_sd_configs", "openstack_sd_configs", "docker_sd_configs", "nomad_sd_configs", "eureka_sd_configs":
			sdNodes[e.key] = items(e.value)
		case "track_timestamps_staleness":
			// Vigil tracks every series for staleness, as with true.
			c.skipIf(!sc.TrackTimestampsStaleness, e.node, "Vigil marks a series stale when it vanishes, also when its samples have timestamps")
		case "enable_compression":
			c.skipIf(!sc.EnableCompression, e.node, "Vigil always asks targets for gzip")
		case "target_limit":
			c.skipIf(sc.TargetLimit > 0, e.node, "Vigil has no limit on the targets of a scrape")
		case "keep_dropped_targets":
			c.skipIf(sc.KeepDroppedTargets > 0, e.node, "Vigil has no limit on the dropped targets it keeps")
		case "native_histogram_bucket_limit", "native_histogram_min_bucket_factor":
			c.skipIf(sc.NativeHistogramBucketLimit > 0 || sc.NativeHistogramMinBucketFactor > 0, e.node, "Vigil keeps every bucket of a native histogram")
		case "scrape_failure_log_file":
			c.skip(e.node, "Vigil does not log failed scrapes to a file")
		default:
			if c.client(e, sc.HTTPClientConfig, blockClient, &client) {
				continue
			}
			if name, ok := strings.CutSuffix(e.key, "_sd_configs"); ok {
				otherSDs = true
				c.skip(e.node, "Vigil has no %s discovery plugin, so scrape %q has no targets from it", name, sc.JobName)
				continue
			}
			c.scrapeOption(e, scrapeOptions{
				validation:          sc.MetricNameValidationScheme,
				escaping:            sc.MetricNameEscapingScheme,
				convertClassic:      sc.ConvertClassicHistogramsToNHCBEnabled(),
				alwaysScrapeClassic: sc.AlwaysScrapeClassicHistogramsEnabled(),
				extraScrapeMetrics:  sc.ExtraScrapeMetricsEnabled(),
			}, "scrape blocks have no such setting")
		}
	}

	var (
		blocks      []*hclwrite.Block
		discoveries []string
		groups      []*targetgroup.Group
		httpIndex   int
		sdIndex     = map[string]int{} // the next node of each plugin mechanism's list
	)
	for _, d := range sc.ServiceDiscoveryConfigs {
		switch d := d.(type) {
		case discovery.StaticConfig:
			groups = append(groups, d...)
		case *file.SDConfig:
			name := c.discoveryName(sc.JobName + "-file")
			blocks = append(blocks, c.fileDiscovery(name, d))
			discoveries = append(discoveries, name)
		case *http.SDConfig:
			name := c.discoveryName(sc.JobName + "-http")
			var n *yaml.Node
			if nodes := sdNodes["http_sd_configs"]; httpIndex < len(nodes) {
				n = nodes[httpIndex]
			}
			blocks = append(blocks, c.httpDiscovery(name, d, n))
			discoveries = append(discoveries, name)
			httpIndex++
		default:
			mech := d.Name()
			nodes := sdNodes[mech+"_sd_configs"]
			if !pluginSDs[mech] || sdIndex[mech] >= len(nodes) {
				continue
			}
			name := c.discoveryName(sc.JobName + "-" + mech)
			blocks = append(blocks, c.pluginDiscovery(name, d, nodes[sdIndex[mech]]))
			discoveries = append(discoveries, name)
			sdIndex[mech]++
		}
	}
	return append(blocks, c.scrape(sc, node, scrapeParts{
		groups:      groups,
		bad:         bad,
		discoveries: discoveries,
		byAddress:   len(groups) > 1 || len(discoveries) > 0 || otherSDs,
		client:      client,
	}))
}

// scrapeParts is what job found for the scrape block.
type scrapeParts struct {
	groups      []*targetgroup.Group
	bad         map[string]bool
	discoveries []string
	// byAddress says the labels of static groups go to their targets by
	// __address__, since other targets share the job.
	byAddress bool
	client    clientOut
}

func (c *converter) scrape(sc *config.ScrapeConfig, node *yaml.Node, p scrapeParts) *hclwrite.Block {
	block := hclwrite.NewBlock("scrape", []string{sc.JobName})
	b := block.Body()
	var targets []string
	for _, g := range p.groups {
		for _, t := range groupTargets(g, p.bad) {
			if !slices.Contains(targets, t) {
				targets = append(targets, t)
			}
		}
	}
	if len(targets) > 0 {
		b.SetAttributeValue("targets", stringList(targets))
	}
	if len(p.discoveries) > 0 {
		b.SetAttributeValue("discovery", stringList(p.discoveries))
	}
	if sc.MetricsPath != "/metrics" {
		b.SetAttributeValue("metrics_path", cty.StringVal(sc.MetricsPath))
	}
	if sc.Scheme != "http" {
		b.SetAttributeValue("scheme", cty.StringVal(sc.Scheme))
	}
	if len(sc.Params) > 0 {
		params := map[string]cty.Value{}
		for k, v := range sc.Params {
			params[k] = stringList(v)
		}
		b.SetAttributeValue("params", cty.ObjectVal(params))
	}
	g := c.cfg.GlobalConfig
	if sc.ScrapeInterval != g.ScrapeInterval {
		b.SetAttributeValue("scrape_interval", durationVal(time.Duration(sc.ScrapeInterval)))
	}
	if sc.ScrapeTimeout != min(g.ScrapeTimeout, sc.ScrapeInterval) {
		b.SetAttributeValue("scrape_timeout", durationVal(time.Duration(sc.ScrapeTimeout)))
	}
	if sc.HonorLabels {
		b.SetAttributeValue("honor_labels", cty.True)
	}
	if !sc.HonorTimestamps {
		b.SetAttributeValue("honor_timestamps", cty.False)
	}
	for _, l := range []struct {
		name string
		v    uint
	}{
		{"sample_limit", sc.SampleLimit}, {"label_limit", sc.LabelLimit},
		{"label_name_length_limit", sc.LabelNameLengthLimit}, {"label_value_length_limit", sc.LabelValueLengthLimit},
	} {
		if l.v > 0 {
			b.SetAttributeValue(l.name, cty.NumberUIntVal(uint64(l.v)))
		}
	}
	if sc.BodySizeLimit > 0 {
		b.SetAttributeValue("body_size_limit", cty.StringVal(sizeString(int64(sc.BodySizeLimit))))
	}
	protocols := protocolNames(sc.ScrapeProtocols)
	if len(protocols) > 0 && !slices.Equal(protocols, c.globalProtocols) {
		b.SetAttributeValue("scrape_protocols", stringList(protocols))
	}
	if len(protocols) == 0 {
		protocols = c.globalProtocols
	}
	if slices.Contains(protocols, string(config.PrometheusProto)) && !sc.ScrapeNativeHistogramsEnabled() {
		c.nativeHistogramLoss(node)
	}
	if sc.ScrapeFallbackProtocol != "" {
		b.SetAttributeValue("fallback_scrape_protocol", cty.StringVal(string(sc.ScrapeFallbackProtocol)))
	}
	p.client.write(b)
	for i, r := range staticLabels(p.groups, p.bad, p.byAddress) {
		if i == 0 {
			if len(b.Attributes())+len(b.Blocks()) > 0 {
				b.AppendNewline()
			}
			comment(b, "The labels of static_configs.")
			writeRelabel(b.AppendNewBlock("relabel", nil).Body(), r)
			continue
		}
		writeRelabel(nested(b, "relabel"), r)
	}
	for _, r := range sc.RelabelConfigs {
		writeRelabel(nested(b, "relabel"), r)
	}
	for _, r := range sc.MetricRelabelConfigs {
		writeRelabel(nested(b, "metric_relabel"), r)
	}
	return block
}

// nested appends a block to b, after a blank line unless it is the first
// thing in b.
func nested(b *hclwrite.Body, typ string) *hclwrite.Body {
	if len(b.Attributes())+len(b.Blocks()) > 0 {
		b.AppendNewline()
	}
	return b.AppendNewBlock(typ, nil).Body()
}

// nativeHistogramLoss reports, for a scrape that asks for protobuf with
// native histograms off, the key that chose it: Prometheus then keeps the
// classic buckets of histograms that have both, and Vigil the native ones.
func (c *converter) nativeHistogramLoss(scrape *yaml.Node) {
	key := c.protocolsKey
	for _, name := range []string{"scrape_native_histograms", "scrape_protocols"} {
		if e, ok := lookup(scrape, name); ok {
			key = e.node
		}
	}
	if key == nil {
		return
	}
	if c.lossReported[key] {
		return // the global key, reported once
	}
	c.lossReported[key] = true
	c.skip(key, "with native histograms off, Prometheus keeps the classic buckets of a protobuf scrape's histograms, and Vigil their native buckets")
}

// validTarget says whether Vigil takes t in a scrape's targets.
func validTarget(t string) bool { return t != "" && !strings.Contains(t, "/") }

func groupTargets(g *targetgroup.Group, bad map[string]bool) []string {
	var out []string
	for _, t := range g.Targets {
		addr := string(t[model.AddressLabel])
		if !bad[addr] && validTarget(addr) {
			out = append(out, addr)
		}
	}
	return out
}

// staticLabels turns the labels of static groups into relabel rules
// that set them, first of all, as Prometheus gives them to targets
// before relabeling. With byAddress each rule applies to its group's
// targets only.
func staticLabels(groups []*targetgroup.Group, bad map[string]bool, byAddress bool) []*relabel.Config {
	var out []*relabel.Config
	for _, g := range groups {
		targets := groupTargets(g, bad)
		if len(targets) == 0 {
			continue
		}
		names := make([]string, 0, len(g.Labels))
		for name := range g.Labels {
			if name != model.AddressLabel { // each target's own address wins
				names = append(names, string(name))
			}
		}
		slices.Sort(names)
		for _, name := range names {
			r := relabel.DefaultRelabelConfig
			r.TargetLabel = name
			// $ starts a group reference in a replacement; $$ is a $.
			r.Replacement = strings.ReplaceAll(string(g.Labels[model.LabelName(name)]), "$", "$$")
			if byAddress {
				quoted := make([]string, len(targets))
				for i, t := range targets {
					quoted[i] = regexp.QuoteMeta(t)
				}
				r.SourceLabels = model.LabelNames{model.AddressLabel}
				r.Regex = relabel.MustNewRegexp(strings.Join(quoted, "|"))
			}
			out = append(out, &r)
		}
	}
	return out
}

// writeRelabel writes a relabel rule, leaving out Prometheus's defaults,
// which are Vigil's.
func writeRelabel(b *hclwrite.Body, r *relabel.Config) {
	d := relabel.DefaultRelabelConfig
	if len(r.SourceLabels) > 0 {
		names := make([]string, len(r.SourceLabels))
		for i, n := range r.SourceLabels {
			names[i] = string(n)
		}
		b.SetAttributeValue("source_labels", stringList(names))
	}
	if r.Separator != d.Separator {
		b.SetAttributeValue("separator", cty.StringVal(r.Separator))
	}
	if r.Regex.String() != d.Regex.String() {
		b.SetAttributeValue("regex", cty.StringVal(r.Regex.String()))
	}
	if r.Modulus > 0 {
		b.SetAttributeValue("modulus", cty.NumberUIntVal(r.Modulus))
	}
	if r.TargetLabel != "" {
		b.SetAttributeValue("target_label", cty.StringVal(r.TargetLabel))
	}
	if r.Replacement != d.Replacement {
		b.SetAttributeValue("replacement", cty.StringVal(r.Replacement))
	}
	if r.Action != d.Action {
		b.SetAttributeValue("action", cty.StringVal(string(r.Action)))
	}
}

// discoveryName returns want, or want with a number when a discovery
// block has that name already.
func (c *converter) discoveryName(want string) string {
	name := want
	for i := 2; c.names[name]; i++ {
		name = fmt.Sprintf("%s-%d", want, i)
	}
	c.names[name] = true
	return name
}

func (c *converter) fileDiscovery(name string, d *file.SDConfig) *hclwrite.Block {
	c.usePlugin("file")
	block := hclwrite.NewBlock("discovery", []string{name})
	block.Body().SetAttributeValue("plugin", cty.StringVal("file"))
	cb := block.Body().AppendNewBlock("config", nil).Body()
	cb.SetAttributeValue("files", stringList(d.Files))
	if time.Duration(d.RefreshInterval) != fileRefreshInterval {
		cb.SetAttributeValue("refresh_interval", durationVal(time.Duration(d.RefreshInterval)))
	}
	return block
}

// httpDiscovery writes the discovery block of an http_sd configuration;
// node is its YAML, whose HTTP client settings the plugin may lack.
func (c *converter) httpDiscovery(name string, d *http.SDConfig, node *yaml.Node) *hclwrite.Block {
	c.usePlugin("http")
	var client clientOut
	for _, e := range entries(node) {
		switch e.key {
		case "url", "refresh_interval":
		default:
			if !c.client(e, d.HTTPClientConfig, sdClient, &client) {
				c.skip(e.node, "the http discovery plugin has no such setting")
			}
		}
	}
	block := hclwrite.NewBlock("discovery", []string{name})
	block.Body().SetAttributeValue("plugin", cty.StringVal("http"))
	cb := block.Body().AppendNewBlock("config", nil).Body()
	cb.SetAttributeValue("url", cty.StringVal(d.URL))
	if time.Duration(d.RefreshInterval) != httpRefreshInterval {
		cb.SetAttributeValue("refresh_interval", durationVal(time.Duration(d.RefreshInterval)))
	}
	setValue(cb, "bearer_token", client.bearer)
	setValue(cb, "basic_auth_username", client.username)
	setValue(cb, "basic_auth_password", client.password)
	if client.tls != nil && client.tls.insecure {
		cb.SetAttributeValue("tls_insecure_skip_verify", cty.True)
	}
	return block
}

func (c *converter) usePlugin(name string) { c.plugins[name] = true }
