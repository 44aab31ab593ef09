package hclconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/units"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/vigilmon/vigil/internal/hclfuncs"
	"github.com/vigilmon/vigil/registry"
)

// Load reads and decodes the configuration file at path. The diagnostics
// name file, line and column; Config is nil when they hold an error.
func Load(path string) (*Config, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration file",
			Detail:   fmt.Sprintf("Reading %q failed: %s.", path, err),
		}}
	}
	return Parse(path, src)
}

// Parse decodes the configuration in src; filename names it in
// diagnostics, and relative paths given to file() start at its directory.
func Parse(filename string, src []byte) (*Config, hcl.Diagnostics) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	d := &decoder{ctx: evalContext(filepath.Dir(filename)), baseDir: filepath.Dir(filename)}
	cfg := d.root(file.Body)
	if d.diags.HasErrors() {
		return nil, d.diags
	}
	cfg.File = filename
	return cfg, d.diags
}

// evalContext offers env(NAME) and file(PATH) to expressions.
func evalContext(baseDir string) *hcl.EvalContext { return hclfuncs.EvalContext(baseDir) }

var rootSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "rule_files"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "server"},
		{Type: "global"},
		{Type: "query"},
		{Type: "scrape", LabelNames: []string{"name"}},
		{Type: "plugin", LabelNames: []string{"name"}},
		{Type: "exporter", LabelNames: []string{"name"}},
		{Type: "discovery", LabelNames: []string{"name"}},
		{Type: "notifier", LabelNames: []string{"name"}},
		{Type: "rules", LabelNames: []string{"group"}},
		{Type: "route"},
		{Type: "inhibit"},
		{Type: "time_interval", LabelNames: []string{"name"}},
		{Type: "alertmanager"},
		// Decoded by package registry (registry.DecodeRegistries).
		{Type: "registry", LabelNames: []string{"host"}},
	},
}

var serverSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "listen"}, {Name: "data_dir"}, {Name: "retention"}, {Name: "enable_admin_api"}, {Name: "external_url"},
}}

var globalSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "scrape_interval"}, {Name: "scrape_timeout"}, {Name: "evaluation_interval"}, {Name: "external_labels"},
	{Name: "scrape_protocols"}, {Name: "resolve_timeout"},
}}

var querySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "timeout"}, {Name: "max_samples"}, {Name: "max_concurrency"}, {Name: "lookback_delta"},
}}

var scrapeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "targets"}, {Name: "metrics_path"}, {Name: "scheme"}, {Name: "params"},
		{Name: "scrape_interval"}, {Name: "scrape_timeout"}, {Name: "honor_labels"}, {Name: "honor_timestamps"},
		{Name: "sample_limit"}, {Name: "label_limit"}, {Name: "label_name_length_limit"},
		{Name: "label_value_length_limit"}, {Name: "body_size_limit"}, {Name: "bearer_token"},
		{Name: "scrape_protocols"}, {Name: "fallback_scrape_protocol"}, {Name: "discovery"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "basic_auth"}, {Type: "tls"}, {Type: "relabel"}, {Type: "metric_relabel"}},
}

// exporterSchema is a scrape of an exporter plugin: the scrape options
// that do not concern HTTP, with the plugin and its config.
var exporterSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "plugin", Required: true}, {Name: "interval"}, {Name: "timeout"},
		{Name: "honor_labels"}, {Name: "honor_timestamps"},
		{Name: "sample_limit"}, {Name: "label_limit"}, {Name: "label_name_length_limit"},
		{Name: "label_value_length_limit"}, {Name: "body_size_limit"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "config"}, {Type: "relabel"}, {Type: "metric_relabel"}},
}

var basicAuthSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "username", Required: true}, {Name: "password"},
}}

var tlsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "ca_file"}, {Name: "cert_file"}, {Name: "key_file"}, {Name: "server_name"}, {Name: "insecure_skip_verify"},
}}

var relabelSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "source_labels"}, {Name: "separator"}, {Name: "regex"}, {Name: "modulus"},
	{Name: "target_label"}, {Name: "replacement"}, {Name: "action"},
}}

// decoder collects diagnostics while it decodes.
type decoder struct {
	ctx     *hcl.EvalContext
	baseDir string // of the config file; relative paths start there
	diags   hcl.Diagnostics
	names   map[string]map[string]hcl.Range // block names by namespace, for unique
	// lock is the lock file beside the configuration, read on first use.
	lock    *registry.LockFile
	lockErr error
}

func (d *decoder) errorf(rng *hcl.Range, summary, detail string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
		Subject:  rng,
	})
}

func (d *decoder) content(body hcl.Body, schema *hcl.BodySchema) *hcl.BodyContent {
	content, diags := body.Content(schema)
	d.diags = append(d.diags, diags...)
	return content
}

func (d *decoder) root(body hcl.Body) *Config {
	cfg := &Config{
		Server: Server{Listen: DefaultListen, DataDir: DefaultDataDir, Retention: DefaultRetention},
		Global: Global{
			ScrapeInterval:     DefaultScrapeInterval,
			ScrapeTimeout:      DefaultScrapeTimeout,
			EvaluationInterval: DefaultEvaluationInterval,
			ScrapeProtocols:    DefaultScrapeProtocols,
			ResolveTimeout:     DefaultResolveTimeout,
		},
		Query: Query{Timeout: DefaultQueryTimeout, MaxSamples: DefaultQueryMaxSamples, MaxConcurrency: DefaultQueryConcurrency, LookbackDelta: DefaultLookbackDelta},
	}
	content := d.content(body, rootSchema)
	seen := map[string]*hcl.Range{}
	var scrapes, plugins, discoveries, notifiers, ruleGroups, routes, inhibits, intervals []*hcl.Block
	for _, b := range content.Blocks {
		if len(b.Labels) == 0 && b.Type != "inhibit" && b.Type != "alertmanager" {
			if prev, dup := seen[b.Type]; dup {
				d.errorf(&b.DefRange, "Duplicate "+b.Type+" block", "Only one %s block is allowed; the first is at %s.", b.Type, prev)
				continue
			}
			seen[b.Type] = &b.DefRange
		}
		switch b.Type {
		case "server":
			d.server(b.Body, &cfg.Server)
		case "global":
			d.global(b.Body, &cfg.Global)
		case "query":
			d.query(b.Body, &cfg.Query)
		case "scrape", "exporter":
			scrapes = append(scrapes, b)
		case "plugin":
			plugins = append(plugins, b)
		case "discovery":
			discoveries = append(discoveries, b)
		case "notifier":
			notifiers = append(notifiers, b)
		case "rules":
			ruleGroups = append(ruleGroups, b)
		case "route":
			routes = append(routes, b)
		case "inhibit":
			inhibits = append(inhibits, b)
		case "time_interval":
			intervals = append(intervals, b)
		case "alertmanager":
			cfg.Alertmanagers = append(cfg.Alertmanagers, d.alertmanager(b))
		}
	}
	for _, b := range plugins {
		if p := d.plugin(b); p != nil && d.unique("plugin", b) {
			cfg.Plugins = append(cfg.Plugins, p)
		}
	}
	for _, b := range discoveries {
		if inst := d.pluginInstance(b, cfg, nil); inst != nil && d.unique("discovery", b) {
			cfg.Discoveries = append(cfg.Discoveries, inst)
		}
	}
	for _, b := range notifiers {
		if inst := d.pluginInstance(b, cfg, nil); inst != nil && d.unique("notifier", b) {
			cfg.Notifiers = append(cfg.Notifiers, inst)
		}
	}
	// Scrapes and exporters are decoded after global, whose values they
	// inherit. They share one namespace: the job label.
	for _, b := range scrapes {
		if !d.unique("scrape", b) {
			continue
		}
		var sc *Scrape
		if b.Type == "exporter" {
			sc = d.exporter(b, cfg)
		} else {
			sc = d.scrape(b, &cfg.Global, cfg)
		}
		cfg.Scrapes = append(cfg.Scrapes, sc)
	}
	// Rule groups, too, inherit from global: their interval.
	for _, b := range ruleGroups {
		if d.unique("rule group", b) {
			cfg.RuleGroups = append(cfg.RuleGroups, d.ruleGroup(b, &cfg.Global))
		}
	}
	cfg.RuleFiles = d.ruleFiles(content.Attributes, body)
	// The route names notifiers and time intervals: it comes after them.
	for _, b := range intervals {
		if d.unique("time_interval", b) {
			cfg.TimeIntervals = append(cfg.TimeIntervals, d.timeInterval(b))
		}
	}
	for _, b := range routes { // the duplicate check above keeps one
		cfg.Route = d.route(b, nil, cfg)
	}
	for _, b := range inhibits {
		cfg.Inhibits = append(cfg.Inhibits, d.inhibit(b))
	}
	return cfg
}

func (d *decoder) server(body hcl.Body, s *Server) {
	attrs := d.content(body, serverSchema).Attributes
	d.str(attrs, "listen", &s.Listen)
	d.str(attrs, "data_dir", &s.DataDir)
	retention := model.Duration(s.Retention)
	d.durationOrZero(attrs, "retention", &retention) // "0s" keeps samples forever
	s.Retention = time.Duration(retention)
	d.boolean(attrs, "enable_admin_api", &s.EnableAdminAPI)
	var external string
	d.str(attrs, "external_url", &external)
	if external != "" {
		u, err := parseHTTPURL(external)
		if err != nil {
			d.errorf(attrRange(attrs, "external_url", body), "Invalid external_url", "%s", err)
		}
		s.ExternalURL = u
	}
	if s.Listen == "" {
		d.errorf(attrRange(attrs, "listen", body), "Invalid listen address", "listen must not be empty.")
	}
}

func (d *decoder) global(body hcl.Body, g *Global) {
	attrs := d.content(body, globalSchema).Attributes
	d.duration(attrs, "scrape_interval", &g.ScrapeInterval)
	d.duration(attrs, "scrape_timeout", &g.ScrapeTimeout)
	d.duration(attrs, "evaluation_interval", &g.EvaluationInterval)
	d.strMap(attrs, "external_labels", &g.ExternalLabels)
	d.scrapeProtocols(attrs, body, &g.ScrapeProtocols)
	d.duration(attrs, "resolve_timeout", &g.ResolveTimeout)
	for name := range g.ExternalLabels {
		if !model.UTF8Validation.IsValidLabelName(name) || strings.HasPrefix(name, "__") {
			d.errorf(attrRange(attrs, "external_labels", body), "Invalid external label", "%q is not a valid label name for an external label.", name)
		}
	}
	if _, ok := attrs["scrape_timeout"]; !ok && g.ScrapeTimeout > g.ScrapeInterval {
		g.ScrapeTimeout = g.ScrapeInterval
	}
	if g.ScrapeTimeout > g.ScrapeInterval {
		d.errorf(attrRange(attrs, "scrape_timeout", body), "Invalid scrape timeout", "scrape_timeout (%s) must not exceed scrape_interval (%s).", g.ScrapeTimeout, g.ScrapeInterval)
	}
}

// scrapeProtocols decodes a scrape_protocols list: known protocol names,
// none twice, at least one.
func (d *decoder) scrapeProtocols(attrs hcl.Attributes, body hcl.Body, dst *[]string) {
	if _, set := attrs["scrape_protocols"]; !set {
		return
	}
	var list []string
	d.strList(attrs, "scrape_protocols", &list)
	rng := attrRange(attrs, "scrape_protocols", body)
	if len(list) == 0 {
		d.errorf(rng, "Invalid scrape_protocols", "scrape_protocols must name at least one protocol.")
		return
	}
	seen := map[string]bool{}
	for _, p := range list {
		if err := checkScrapeProtocol(p); err != nil {
			d.errorf(rng, "Invalid scrape_protocols", "%s.", err)
			return
		}
		if seen[p] {
			d.errorf(rng, "Invalid scrape_protocols", "Protocol %q is listed twice.", p)
			return
		}
		seen[p] = true
	}
	*dst = list
}

// checkScrapeProtocol says whether p names an exposition format Vigil
// parses, and lists them when it does not. OpenMetrics 2.0, experimental
// in Prometheus, is not one of them yet.
func checkScrapeProtocol(p string) error {
	var known []string
	for k := range config.ScrapeProtocolsHeaders {
		if k == config.OpenMetricsText2_0_0 {
			continue
		}
		if string(k) == p {
			return nil
		}
		known = append(known, string(k))
	}
	slices.Sort(known)
	return fmt.Errorf("%q is not a scrape protocol; use one of %s", p, strings.Join(known, ", "))
}

func (d *decoder) query(body hcl.Body, q *Query) {
	attrs := d.content(body, querySchema).Attributes
	d.duration(attrs, "timeout", &q.Timeout)
	d.integer(attrs, "max_samples", &q.MaxSamples)
	d.integer(attrs, "max_concurrency", &q.MaxConcurrency)
	d.duration(attrs, "lookback_delta", &q.LookbackDelta)
	if q.MaxSamples == 0 {
		d.errorf(attrRange(attrs, "max_samples", body), "Invalid max_samples", "max_samples must be positive.")
	}
	if q.MaxConcurrency == 0 {
		d.errorf(attrRange(attrs, "max_concurrency", body), "Invalid max_concurrency", "max_concurrency must be positive.")
	}
}

func (d *decoder) scrape(b *hcl.Block, g *Global, cfg *Config) *Scrape {
	s, _ := d.job(b, g, cfg, scrapeSchema, "scrape_interval", "scrape_timeout")
	return s
}

// job decodes a scrape or exporter block: the schema says which
// attributes it takes, and the names of its interval and timeout.
func (d *decoder) job(b *hcl.Block, g *Global, cfg *Config, schema *hcl.BodySchema, intervalName, timeoutName string) (*Scrape, *hcl.BodyContent) {
	s := &Scrape{
		Name:            b.Labels[0],
		MetricsPath:     DefaultMetricsPath,
		Scheme:          DefaultScheme,
		ScrapeInterval:  g.ScrapeInterval,
		ScrapeTimeout:   g.ScrapeTimeout,
		HonorTimestamps: true,
		BodySizeLimit:   DefaultBodySizeLimit,
		ScrapeProtocols: g.ScrapeProtocols,

		FallbackScrapeProtocol: DefaultFallbackScrapeProtocol,
	}
	content := d.content(b.Body, schema)
	attrs := content.Attributes
	d.strList(attrs, "targets", &s.Targets)
	d.str(attrs, "metrics_path", &s.MetricsPath)
	d.str(attrs, "scheme", &s.Scheme)
	d.strListMap(attrs, "params", &s.Params)
	d.duration(attrs, intervalName, &s.ScrapeInterval)
	d.duration(attrs, timeoutName, &s.ScrapeTimeout)
	d.boolean(attrs, "honor_labels", &s.HonorLabels)
	d.boolean(attrs, "honor_timestamps", &s.HonorTimestamps)
	d.integer(attrs, "sample_limit", &s.SampleLimit)
	d.integer(attrs, "label_limit", &s.LabelLimit)
	d.integer(attrs, "label_name_length_limit", &s.LabelNameLengthLimit)
	d.integer(attrs, "label_value_length_limit", &s.LabelValueLengthLimit)
	d.bytes(attrs, "body_size_limit", &s.BodySizeLimit)
	d.secret(attrs, "bearer_token", &s.BearerToken)
	d.scrapeProtocols(attrs, b.Body, &s.ScrapeProtocols)
	d.str(attrs, "fallback_scrape_protocol", &s.FallbackScrapeProtocol)
	if err := checkScrapeProtocol(s.FallbackScrapeProtocol); err != nil {
		d.errorf(attrRange(attrs, "fallback_scrape_protocol", b.Body), "Invalid fallback_scrape_protocol", "%s.", err)
	}

	if _, set := attrs[timeoutName]; !set && s.ScrapeTimeout > s.ScrapeInterval {
		s.ScrapeTimeout = s.ScrapeInterval
	}
	if s.ScrapeTimeout > s.ScrapeInterval {
		d.errorf(attrRange(attrs, timeoutName, b.Body), "Invalid scrape timeout", "%s (%s) must not exceed %s (%s) in %s %q.", timeoutName, s.ScrapeTimeout, intervalName, s.ScrapeInterval, b.Type, s.Name)
	}
	d.discoveryRefs(attrs, b.Body, cfg, &s.Discovery)
	if s.Scheme != "http" && s.Scheme != "https" {
		d.errorf(attrRange(attrs, "scheme", b.Body), "Invalid scheme", "scheme must be \"http\" or \"https\", not %q.", s.Scheme)
	}
	if !strings.HasPrefix(s.MetricsPath, "/") {
		d.errorf(attrRange(attrs, "metrics_path", b.Body), "Invalid metrics path", "metrics_path must start with /, got %q.", s.MetricsPath)
	}
	for _, t := range s.Targets {
		if t == "" || strings.Contains(t, "/") {
			d.errorf(attrRange(attrs, "targets", b.Body), "Invalid target", "Target %q must be host:port, without scheme or path (set scheme and metrics_path instead).", t)
		}
	}
	for _, ib := range content.Blocks {
		switch ib.Type {
		case "basic_auth":
			if s.BasicAuth != nil {
				d.errorf(&ib.DefRange, "Duplicate basic_auth block", "A scrape takes one basic_auth block.")
				continue
			}
			ba := &BasicAuth{}
			a := d.content(ib.Body, basicAuthSchema).Attributes
			d.str(a, "username", &ba.Username)
			d.secret(a, "password", &ba.Password)
			s.BasicAuth = ba
		case "tls":
			if s.TLS != nil {
				d.errorf(&ib.DefRange, "Duplicate tls block", "A scrape takes one tls block.")
				continue
			}
			t := &TLS{}
			a := d.content(ib.Body, tlsSchema).Attributes
			d.str(a, "ca_file", &t.CAFile)
			d.str(a, "cert_file", &t.CertFile)
			d.str(a, "key_file", &t.KeyFile)
			d.str(a, "server_name", &t.ServerName)
			d.boolean(a, "insecure_skip_verify", &t.InsecureSkipVerify)
			if (t.CertFile == "") != (t.KeyFile == "") {
				d.errorf(&ib.DefRange, "Incomplete client certificate", "cert_file and key_file must be set together.")
			}
			s.TLS = t
		case "relabel":
			s.Relabel = append(s.Relabel, d.relabel(ib))
		case "metric_relabel":
			s.MetricRelabel = append(s.MetricRelabel, d.relabel(ib))
		}
	}
	if s.BasicAuth != nil && s.BearerToken != "" {
		d.errorf(attrRange(attrs, "bearer_token", b.Body), "Conflicting authentication", "Scrape %q sets both basic_auth and bearer_token; choose one.", s.Name)
	}
	return s, content
}

// relabel decodes a relabel or metric_relabel block with Prometheus's
// defaults and checks it as Prometheus does.
func (d *decoder) relabel(b *hcl.Block) *relabel.Config {
	c := relabel.DefaultRelabelConfig
	attrs := d.content(b.Body, relabelSchema).Attributes
	var sources []string
	d.strList(attrs, "source_labels", &sources)
	for _, l := range sources {
		c.SourceLabels = append(c.SourceLabels, model.LabelName(l))
	}
	d.str(attrs, "separator", &c.Separator)
	d.str(attrs, "target_label", &c.TargetLabel)
	d.str(attrs, "replacement", &c.Replacement)
	var action, regex string
	d.str(attrs, "action", &action)
	if action != "" {
		c.Action = relabel.Action(strings.ToLower(action))
		if !knownAction(c.Action) {
			d.errorf(attrRange(attrs, "action", b.Body), "Unknown relabel action", "%q is not a relabel action; use one of %s.", action, strings.Join(actionNames(), ", "))
			return &c
		}
	}
	var modulus int
	d.integer(attrs, "modulus", &modulus)
	c.Modulus = uint64(modulus)
	if _, ok := attrs["regex"]; ok {
		d.str(attrs, "regex", &regex)
		re, err := relabel.NewRegexp(regex)
		if err != nil {
			d.errorf(attrRange(attrs, "regex", b.Body), "Invalid regular expression", "%s.", err)
			return &c
		}
		c.Regex = re
	}
	c.NameValidationScheme = model.UTF8Validation
	if err := c.Validate(model.UTF8Validation); err != nil {
		d.errorf(&b.DefRange, "Invalid "+b.Type+" block", "%s.", err)
	}
	return &c
}

var relabelActions = []relabel.Action{
	relabel.Replace, relabel.Keep, relabel.Drop, relabel.KeepEqual, relabel.DropEqual, relabel.HashMod,
	relabel.LabelMap, relabel.LabelDrop, relabel.LabelKeep, relabel.Lowercase, relabel.Uppercase,
}

func knownAction(a relabel.Action) bool {
	for _, k := range relabelActions {
		if a == k {
			return true
		}
	}
	return false
}

func actionNames() []string {
	names := make([]string, len(relabelActions))
	for i, a := range relabelActions {
		names[i] = string(a)
	}
	return names
}

// attrRange is the range of attribute name, or of the body that lacks it.
func attrRange(attrs hcl.Attributes, name string, body hcl.Body) *hcl.Range {
	if a, ok := attrs[name]; ok {
		r := a.Expr.Range()
		return &r
	}
	r := body.MissingItemRange()
	return &r
}

// value evaluates attribute name, when set, converted to type ty.
func (d *decoder) value(attrs hcl.Attributes, name string, ty cty.Type) (cty.Value, *hcl.Attribute, bool) {
	a, ok := attrs[name]
	if !ok {
		return cty.NilVal, nil, false
	}
	v, diags := a.Expr.Value(d.ctx)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, a, false
	}
	v, err := convert.Convert(v, ty)
	if err != nil {
		r := a.Expr.Range()
		d.errorf(&r, "Incorrect attribute value type", "Inappropriate value for attribute %q: %s.", name, err)
		return cty.NilVal, a, false
	}
	if v.IsNull() {
		return cty.NilVal, a, false
	}
	return v, a, true
}

func (d *decoder) decodeInto(attrs hcl.Attributes, name string, ty cty.Type, dst any) (*hcl.Attribute, bool) {
	v, a, ok := d.value(attrs, name, ty)
	if !ok {
		return a, false
	}
	if err := gocty.FromCtyValue(v, dst); err != nil {
		r := a.Expr.Range()
		d.errorf(&r, "Incorrect attribute value", "Attribute %q: %s.", name, err)
		return a, false
	}
	return a, true
}

func (d *decoder) str(attrs hcl.Attributes, name string, dst *string) {
	d.decodeInto(attrs, name, cty.String, dst)
}

func (d *decoder) secret(attrs hcl.Attributes, name string, dst *Secret) {
	var s string
	if _, ok := d.decodeInto(attrs, name, cty.String, &s); ok {
		*dst = Secret(s)
	}
}

func (d *decoder) boolean(attrs hcl.Attributes, name string, dst *bool) {
	d.decodeInto(attrs, name, cty.Bool, dst)
}

func (d *decoder) integer(attrs hcl.Attributes, name string, dst *int) {
	a, ok := d.decodeInto(attrs, name, cty.Number, dst)
	if ok && *dst < 0 {
		r := a.Expr.Range()
		d.errorf(&r, "Invalid "+name, "%s must not be negative, got %d.", name, *dst)
	}
}

func (d *decoder) strList(attrs hcl.Attributes, name string, dst *[]string) {
	d.decodeInto(attrs, name, cty.List(cty.String), dst)
}

func (d *decoder) strMap(attrs hcl.Attributes, name string, dst *map[string]string) {
	d.decodeInto(attrs, name, cty.Map(cty.String), dst)
}

func (d *decoder) strListMap(attrs hcl.Attributes, name string, dst *map[string][]string) {
	d.decodeInto(attrs, name, cty.Map(cty.List(cty.String)), dst)
}

// duration decodes a Prometheus duration string such as "15s", "1h30m" or "15d".
func (d *decoder) duration(attrs hcl.Attributes, name string, dst *time.Duration) {
	var s string
	a, ok := d.decodeInto(attrs, name, cty.String, &s)
	if !ok {
		return
	}
	v, err := model.ParseDuration(s)
	if err != nil || v <= 0 {
		r := a.Expr.Range()
		d.invalidDuration(&r, name, s)
		return
	}
	*dst = time.Duration(v)
}

// durationOrZero decodes a duration that may be zero, such as an alert's
// for, and says so when it is negative.
func (d *decoder) durationOrZero(attrs hcl.Attributes, name string, dst *model.Duration) {
	var s string
	a, ok := d.decodeInto(attrs, name, cty.String, &s)
	if !ok {
		return
	}
	r := a.Expr.Range()
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		d.errorf(&r, "Invalid "+name, "%s must not be negative, got %q.", name, s)
		return
	}
	v, err := model.ParseDuration(s)
	if err != nil {
		d.invalidDuration(&r, name, s)
		return
	}
	*dst = v
}

func (d *decoder) invalidDuration(rng *hcl.Range, name, value string) {
	d.errorf(rng, "Invalid duration", "%q is not a valid duration for %s; write it as Prometheus does, such as \"15s\", \"1h30m\" or \"15d\".", value, name)
}

// bytes decodes a size such as "10MB" or "512KiB" (units of 1024).
func (d *decoder) bytes(attrs hcl.Attributes, name string, dst *int64) {
	var s string
	a, ok := d.decodeInto(attrs, name, cty.String, &s)
	if !ok {
		return
	}
	v, err := units.ParseBase2Bytes(s)
	if err != nil || v < 0 {
		r := a.Expr.Range()
		d.errorf(&r, "Invalid size", "%q is not a valid size for %s; write it like \"10MB\" or \"512KB\".", s, name)
		return
	}
	*dst = int64(v)
}
