// Package promimport converts a Prometheus configuration file (YAML) into
// Vigil's HCL, for `vigil config import`. Start with Convert.
//
// The YAML is read twice. Prometheus's own config.Load reads it first, so
// every default and check of Prometheus applies, and the HCL is written
// from what it gives. Then the YAML tree is walked key by key (yaml.v3
// nodes, which keep lines): every key is either converted or reported as
// an Unconverted with its line, so nothing is dropped without a word. The
// HCL keeps Prometheus's behaviour where Vigil's defaults differ (the
// formats scrapes ask for, for one) and leaves out what equals Vigil's
// defaults.
package promimport

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/zclconf/go-cty/cty"
	"go.yaml.in/yaml/v3"

	"github.com/vigilmon/vigil/hclconfig"
)

// Options tune a conversion.
type Options struct {
	// Filename names the YAML file in the HCL's header comment.
	Filename string
	// PluginDir is the folder of the plugin programs the plugin blocks
	// name (vigil-discovery-file, vigil-discovery-http); when empty they
	// are named alone, and vigil looks for them beside itself and on PATH.
	PluginDir string
}

// Result is a conversion: the HCL and what it leaves out.
type Result struct {
	// HCL is the configuration in Vigil's canonical format.
	HCL []byte
	// Unconverted lists the parts of the YAML that the HCL leaves out, in
	// the order of their lines.
	Unconverted []Unconverted
}

// Unconverted is a part of the Prometheus configuration that has no
// equivalent in the HCL.
type Unconverted struct {
	// Line is the line of Key in the YAML file, from 1.
	Line int
	// Key is the YAML key as written.
	Key string
	// Why says what Vigil lacks, and what to do about it where something
	// can be done.
	Why string
}

// String writes u as "LINE: KEY is not converted: WHY".
func (u Unconverted) String() string {
	return fmt.Sprintf("%d: %s is not converted: %s", u.Line, u.Key, u.Why)
}

// WriteReport writes one line per unconverted part to w, each
// "FILE:LINE: KEY is not converted: WHY".
func (r *Result) WriteReport(w io.Writer, file string) error {
	for _, u := range r.Unconverted {
		if _, err := fmt.Fprintf(w, "%s:%s\n", file, u); err != nil {
			return err
		}
	}
	return nil
}

// Convert converts the Prometheus configuration in src. An error means src
// is not a configuration Prometheus would load; it is Prometheus's own
// message, with the YAML line where it has one.
func Convert(src []byte, opts Options) (*Result, error) {
	registerStandIns()
	cfg, err := config.Load(string(src), slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, fmt.Errorf("not a valid Prometheus configuration: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("cannot read the YAML: %w", err)
	}
	var root *yaml.Node
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		root = resolve(doc.Content[0])
	}
	c := &converter{opts: opts, cfg: cfg, plugins: map[string]bool{}, names: map[string]bool{}, lossReported: map[*yaml.Node]bool{}}
	return c.convert(root)
}

// converter holds one conversion's state.
type converter struct {
	opts   Options
	cfg    *config.Config
	report []Unconverted
	// plugins says which discovery plugins the HCL uses: "file", "http",
	// "kubernetes"...
	plugins map[string]bool
	// names are the discovery blocks' names, each used once.
	names map[string]bool
	// globalProtocols are the formats scrapes ask for unless they set
	// their own, as the global block of the HCL says.
	globalProtocols []string
	// protocolsKey is the key of global scrape_protocols; nil if unset.
	protocolsKey *yaml.Node
	// lossReported are the keys reported by nativeHistogramLoss.
	lossReported map[*yaml.Node]bool
}

// skip reports key as not converted.
func (c *converter) skip(key *yaml.Node, why string, args ...any) {
	c.report = append(c.report, Unconverted{Line: key.Line, Key: key.Value, Why: fmt.Sprintf(why, args...)})
}

// skipIf reports key when cond holds: the key sets something Vigil lacks
// to a value other than the default.
func (c *converter) skipIf(cond bool, key *yaml.Node, why string, args ...any) {
	if cond {
		c.skip(key, why, args...)
	}
}

func (c *converter) convert(root *yaml.Node) (*Result, error) {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	name := c.opts.Filename
	if name == "" {
		name = "a Prometheus configuration"
	}
	comment(body, "Converted from "+name+" by vigil config import.")
	body.AppendNewline()

	var (
		retention    time.Duration
		maxExemplars = -1 // not set
	)
	for _, e := range entries(root) {
		switch e.key {
		case "global", "rule_files", "scrape_configs", "alerting":
			// Below, with the blocks they become.
		case "storage":
			retention, maxExemplars = c.storage(e)
		case "runtime":
			c.skip(e.node, "Vigil's configuration has no runtime settings; the server sets GOGC=75 unless the environment sets GOGC")
		case "remote_write", "remote_read":
			// Below, after the alertmanager blocks.
		case "otlp":
			// Below, after the global block.
		case "tracing":
			c.skip(e.node, "Vigil does not export traces")
		case "scrape_config_files":
			c.skip(e.node, "the scrape configurations of other files are not read; copy them into scrape_configs and import again")
		default:
			c.skip(e.node, "Vigil's configuration has no such setting")
		}
	}

	if len(c.cfg.RuleFiles) > 0 {
		body.SetAttributeValue("rule_files", stringList(c.cfg.RuleFiles))
		body.AppendNewline()
	}
	if retention > 0 || maxExemplars >= 0 {
		server := body.AppendNewBlock("server", nil).Body()
		if retention > 0 {
			server.SetAttributeValue("retention", durationVal(retention))
		}
		if maxExemplars >= 0 {
			server.SetAttributeValue("max_exemplars", cty.NumberIntVal(int64(maxExemplars)))
		}
		body.AppendNewline()
	}
	global, _ := lookup(root, "global")
	c.global(body.AppendNewBlock("global", nil).Body(), global)
	if _, ok := lookup(root, "otlp"); ok {
		body.AppendNewline()
		c.otlp(body.AppendNewBlock("otlp", nil).Body())
	}

	var jobs []*hclwrite.Block
	scrapes, _ := lookup(root, "scrape_configs")
	scrapeNodes := items(scrapes.value)
	if len(scrapeNodes) != len(c.cfg.ScrapeConfigs) {
		return nil, errors.New("cannot match the scrape configurations with the YAML tree")
	}
	for i, sc := range c.cfg.ScrapeConfigs {
		jobs = append(jobs, c.job(sc, scrapeNodes[i])...)
	}
	alerting, _ := lookup(root, "alerting")
	managers := c.alerting(alerting.value)
	remotes, err := c.remoteBlocks(root)
	if err != nil {
		return nil, err
	}

	var others []string
	for p := range c.plugins {
		if p != "file" && p != "http" {
			others = append(others, p)
		}
	}
	slices.Sort(others)
	for _, p := range append([]string{"file", "http"}, others...) {
		if c.plugins[p] {
			body.AppendNewline()
			source := "vigil-discovery-" + p
			if c.opts.PluginDir != "" {
				source = strings.TrimRight(c.opts.PluginDir, "/") + "/" + source
			}
			body.AppendNewBlock("plugin", []string{p}).Body().SetAttributeValue("source", cty.StringVal(source))
		}
	}
	for _, b := range slices.Concat(jobs, managers, remotes) {
		body.AppendNewline()
		body.AppendBlock(b)
	}
	slices.SortStableFunc(c.report, func(a, b Unconverted) int { return a.Line - b.Line })
	return &Result{HCL: hclwrite.Format(f.Bytes()), Unconverted: c.report}, nil
}

// otlp writes the otlp block of Prometheus's otlp section, whose
// attributes have the same names; those at their defaults are left out.
// Prometheus enables its receiver by a flag, Vigil by the server block's
// enable_otlp_receiver, which a comment recalls.
func (c *converter) otlp(b *hclwrite.Body) {
	o := c.cfg.OTLPConfig
	comment(b, "The receiver is on with server { enable_otlp_receiver = true }, as --web.enable-otlp-receiver.")
	for _, a := range []struct {
		name  string
		value bool
	}{
		{"promote_all_resource_attributes", o.PromoteAllResourceAttributes},
		{"keep_identifying_resource_attributes", o.KeepIdentifyingResourceAttributes},
		{"convert_histograms_to_nhcb", o.ConvertHistogramsToNHCB},
		{"promote_scope_metadata", o.PromoteScopeMetadata},
	} {
		if a.value {
			b.SetAttributeValue(a.name, cty.True)
		}
	}
	// These two are true unless set.
	if !o.LabelNameUnderscoreSanitization {
		b.SetAttributeValue("label_name_underscore_sanitization", cty.False)
	}
	if !o.LabelNamePreserveMultipleUnderscores {
		b.SetAttributeValue("label_name_preserve_multiple_underscores", cty.False)
	}
	if len(o.PromoteResourceAttributes) > 0 {
		b.SetAttributeValue("promote_resource_attributes", stringList(o.PromoteResourceAttributes))
	}
	if len(o.IgnoreResourceAttributes) > 0 {
		b.SetAttributeValue("ignore_resource_attributes", stringList(o.IgnoreResourceAttributes))
	}
	if s := string(o.TranslationStrategy); s != "" && s != hclconfig.OTLPTranslationStrategies[0] {
		b.SetAttributeValue("translation_strategy", cty.StringVal(s))
	}
}

// global writes the global block and reports its keys that have no place
// in it. Prometheus's global scrape limits are written on every scrape
// block, where Vigil has them.
func (c *converter) global(b *hclwrite.Body, global entry) {
	g := c.cfg.GlobalConfig
	b.SetAttributeValue("scrape_interval", durationVal(time.Duration(g.ScrapeInterval)))
	b.SetAttributeValue("scrape_timeout", durationVal(time.Duration(g.ScrapeTimeout)))
	b.SetAttributeValue("evaluation_interval", durationVal(time.Duration(g.EvaluationInterval)))
	if labels, ok := lookup(global.value, "external_labels"); ok {
		// As written: Prometheus expands environment variables in them
		// when it loads the file, and so does the HCL, with env().
		values := map[string]hclwrite.Tokens{}
		for _, e := range entries(labels.value) {
			values[e.key], _ = expandedTokens(e.value.Value)
		}
		if len(values) > 0 {
			b.SetAttributeRaw("external_labels", objectTokens(values))
		}
	}
	// Prometheus asks for the text formats unless native histograms are
	// on; Vigil asks for protobuf first. The HCL asks for what
	// Prometheus asked for, so that histograms stay as they were.
	switch {
	case g.ScrapeProtocols != nil:
		c.globalProtocols = protocolNames(g.ScrapeProtocols)
	case g.ScrapeNativeHistograms != nil && *g.ScrapeNativeHistograms:
		c.globalProtocols = protocolNames(config.DefaultProtoFirstScrapeProtocols)
	default:
		c.globalProtocols = protocolNames(config.DefaultScrapeProtocols)
	}
	if !slices.Equal(c.globalProtocols, hclconfig.DefaultScrapeProtocols) && len(c.globalProtocols) > 0 {
		b.SetAttributeValue("scrape_protocols", stringList(c.globalProtocols))
	}
	if len(c.globalProtocols) == 0 {
		c.globalProtocols = hclconfig.DefaultScrapeProtocols
	}

	for _, e := range entries(global.value) {
		switch e.key {
		case "scrape_interval", "scrape_timeout", "evaluation_interval", "external_labels", "scrape_native_histograms",
			"body_size_limit", "sample_limit", "label_limit", "label_name_length_limit", "label_value_length_limit":
		case "scrape_protocols":
			c.protocolsKey = e.node
			c.unknownProtocols(e, g.ScrapeProtocols)
		case "target_limit":
			c.skipIf(g.TargetLimit > 0, e.node, "Vigil has no limit on the targets of a scrape")
		case "keep_dropped_targets":
			c.skipIf(g.KeepDroppedTargets > 0, e.node, "Vigil has no limit on the dropped targets it keeps")
		case "rule_query_offset":
			c.skipIf(g.RuleQueryOffset > 0, e.node, "Vigil has no default query offset; set query_offset in the groups of the rule files")
		case "query_log_file":
			c.skip(e.node, "Vigil does not log queries to a file")
		case "scrape_failure_log_file":
			c.skip(e.node, "Vigil does not log failed scrapes to a file")
		case "query_max_series", "query_max_samples_read", "query_max_duration":
			c.skip(e.node, "Vigil's query block has other limits: timeout, max_samples and max_concurrency")
		default:
			c.scrapeOption(e, scrapeOptions{
				validation:          g.MetricNameValidationScheme,
				escaping:            g.MetricNameEscapingScheme,
				convertClassic:      g.ConvertClassicHistogramsToNHCB,
				alwaysScrapeClassic: g.AlwaysScrapeClassicHistograms,
				extraScrapeMetrics:  g.ExtraScrapeMetrics != nil && *g.ExtraScrapeMetrics,
			}, "Vigil's global block has no such setting")
		}
	}
}

// scrapeOptions are the settings that global and scrape configurations
// share and that Vigil has not: each is reported unless at its default.
type scrapeOptions struct {
	validation          model.ValidationScheme
	escaping            string
	convertClassic      bool
	alwaysScrapeClassic bool
	extraScrapeMetrics  bool
}

// scrapeOption reports a setting of options, or with otherwise any other
// key.
func (c *converter) scrapeOption(e entry, o scrapeOptions, otherwise string) {
	switch e.key {
	case "metric_name_validation_scheme":
		c.skipIf(o.validation != model.UTF8Validation, e.node, "Vigil accepts every UTF-8 metric and label name")
	case "metric_name_escaping_scheme":
		c.skipIf(o.escaping != model.AllowUTF8, e.node, "Vigil asks targets for UTF-8 names, unescaped")
	case "convert_classic_histograms_to_nhcb":
		c.skipIf(o.convertClassic, e.node, "Vigil does not convert classic histograms to native ones")
	case "always_scrape_classic_histograms":
		c.skipIf(o.alwaysScrapeClassic, e.node, "Vigil keeps only the native buckets of a histogram that has both")
	case "extra_scrape_metrics":
		c.skipIf(o.extraScrapeMetrics, e.node, "Vigil appends the five report series of every scrape, not the extra ones")
	default:
		c.skip(e.node, "%s", otherwise)
	}
}

// unknownProtocols reports the protocols of a scrape_protocols list that
// Vigil does not parse.
func (c *converter) unknownProtocols(e entry, list []config.ScrapeProtocol) {
	for _, p := range list {
		if !vigilProtocols[string(p)] {
			c.skip(e.node, "Vigil does not parse %s; the list leaves it out", p)
		}
	}
}

// vigilProtocols are the exposition formats Vigil parses: Prometheus's
// less the experimental OpenMetrics 2.0, as hclconfig checks them.
var vigilProtocols = func() map[string]bool {
	m := map[string]bool{}
	for p := range config.ScrapeProtocolsHeaders {
		m[string(p)] = p != config.OpenMetricsText2_0_0
	}
	return m
}()

// protocolNames lists the protocols Vigil parses, in order.
func protocolNames(list []config.ScrapeProtocol) []string {
	var out []string
	for _, p := range list {
		if vigilProtocols[string(p)] {
			out = append(out, string(p))
		}
	}
	return out
}

// storage returns the retention by time of storage.tsdb, and
// storage.exemplars.max_exemplars when it differs from Vigil's default (-1
// when not), and reports the rest.
func (c *converter) storage(storage entry) (time.Duration, int) {
	var retention time.Duration
	maxExemplars := -1
	tsdb := c.cfg.StorageConfig.TSDBConfig
	for _, e := range entries(storage.value) {
		switch e.key {
		case "tsdb":
			for _, t := range entries(e.value) {
				switch t.key {
				case "retention":
					for _, r := range entries(t.value) {
						switch r.key {
						case "time":
							retention = time.Duration(tsdb.Retention.Time)
						case "size":
							c.skipIf(tsdb.Retention.Size > 0, r.node, "the server block retains by time only")
						case "percentage":
							c.skipIf(tsdb.Retention.Percentage > 0, r.node, "the server block retains by time only")
						default:
							c.skip(r.node, "the server block retains by time only")
						}
					}
				case "out_of_order_time_window":
					c.skipIf(tsdb.OutOfOrderTimeWindow > 0, t.node, "the server block has no out-of-order window")
				default:
					c.skip(t.node, "Vigil's store has no such setting")
				}
			}
		case "exemplars":
			for _, x := range entries(e.value) {
				if x.key != "max_exemplars" || c.cfg.StorageConfig.ExemplarsConfig == nil {
					c.skip(x.node, "Vigil's exemplar storage has no such setting")
					continue
				}
				// Prometheus keeps none at 0 or less.
				if n := max(0, int(c.cfg.StorageConfig.ExemplarsConfig.MaxExemplars)); n != hclconfig.DefaultMaxExemplars {
					maxExemplars = n
				}
			}
		default:
			c.skip(e.node, "Vigil's store has no such setting")
		}
	}
	return retention, maxExemplars
}
