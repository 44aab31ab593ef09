package hclconfig

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/vigilmon/vigil/internal/atrest"
	"github.com/vigilmon/vigil/internal/hclfuncs"
	"github.com/vigilmon/vigil/registry"
	"github.com/vigilmon/vigil/sdk"
)

// Load reads and decodes the configuration file at path. The diagnostics
// name file, line and column; Config is nil when they hold an error.
func Load(path string) (*Config, hcl.Diagnostics) {
	src, diags := readConfig(path)
	if diags.HasErrors() {
		return nil, diags
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
	d := newDecoder(filename)
	configSpec.decode(d, nil, file.Body, d.cfg)
	if d.diags.HasErrors() {
		return nil, d.diags
	}
	return d.cfg, d.diags
}

// loadPartial decodes only the top-level blocks of the given types of the
// configuration file at path, leaving the others alone, and does not
// resolve registry plugins through the lock file: it serves the commands
// that run before the plugins are installed.
func loadPartial(path string, types ...string) (*Config, hcl.Diagnostics) {
	src, diags := readConfig(path)
	if diags.HasErrors() {
		return nil, diags
	}
	file, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	d := newDecoder(path)
	d.unresolved = true
	var children []child[Config]
	schema := &hcl.BodySchema{}
	for _, c := range configSpec.children {
		if slices.Contains(types, c.headers()[0].Type) {
			children = append(children, c)
			schema.Blocks = append(schema.Blocks, c.headers()...)
		}
	}
	content, _, diags := file.Body.PartialContent(schema)
	d.diags = append(d.diags, diags...)
	configSpec.decodeChildren(d, children, content.Blocks, d.cfg)
	return d.cfg, d.diags
}

func readConfig(path string) ([]byte, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration file",
			Detail:   fmt.Sprintf("Reading %q failed: %s.", path, err),
		}}
	}
	return src, nil
}

// decoder collects diagnostics while it decodes.
type decoder struct {
	ctx     *hcl.EvalContext
	baseDir string // of the config file; relative paths start there
	diags   hcl.Diagnostics
	// cfg is the configuration decoded so far, for references to the
	// blocks decoded before.
	cfg   *Config
	names map[string]map[string]hcl.Range // block names by namespace, for unique
	// lock is the lock file beside the configuration, read on first use;
	// unresolved leaves registry plugins unresolved instead.
	lock       *registry.LockFile
	lockErr    error
	unresolved bool
}

// newDecoder makes a decoder for the configuration file filename, and
// the configuration it decodes, with the defaults.
func newDecoder(filename string) *decoder {
	baseDir := filepath.Dir(filename)
	cfg := &Config{File: filename}
	configSpec.defaults(cfg)
	return &decoder{ctx: hclfuncs.EvalContext(baseDir), baseDir: baseDir, cfg: cfg}
}

// evalContext offers env(NAME) and file(PATH) to expressions.
func evalContext(baseDir string) *hcl.EvalContext { return hclfuncs.EvalContext(baseDir) }

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

// eval evaluates attribute a converted to type ty; false when it has no
// value (null) or a mistake, which is reported.
func (d *decoder) eval(a *hcl.Attribute, ty cty.Type) (cty.Value, bool) {
	v, diags := a.Expr.Value(d.ctx)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	v, err := convert.Convert(v, ty)
	if err != nil {
		r := a.Expr.Range()
		d.errorf(&r, "Incorrect attribute value type", "Inappropriate value for attribute %q: %s.", a.Name, err)
		return cty.NilVal, false
	}
	return v, !v.IsNull()
}

// unique reports a block whose label is taken already in its namespace
// (what), and says whether it is unique.
func (d *decoder) unique(what, label string, rng hcl.Range) bool {
	if d.names == nil {
		d.names = map[string]map[string]hcl.Range{}
	}
	if d.names[what] == nil {
		d.names[what] = map[string]hcl.Range{}
	}
	if prev, dup := d.names[what][label]; dup {
		d.errorf(&rng, "Duplicate "+what+" name", "A %s named %q is already defined at %s; %s names must be unique.", what, label, prev, what)
		return false
	}
	d.names[what][label] = rng
	return true
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

// elemRange is the range of element i of a list attribute, or of the
// whole value when it is not written as a list.
func elemRange(a *hcl.Attribute, i int) *hcl.Range {
	if t, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok && i < len(t.Exprs) {
		r := t.Exprs[i].Range()
		return &r
	}
	r := a.Expr.Range()
	return &r
}

// configSpec describes the file: its attributes and every top-level
// block, in the order they are decoded, as each may refer to those
// before it, and rendered.
var configSpec = &block[Config]{
	attrs: []attr[Config]{
		field("rule_files", paths, func(c *Config) *[]string { return &c.RuleFiles },
			"Patterns of Prometheus YAML rule files, relative to this file's folder."),
		field("dashboard_files", paths, func(c *Config) *[]string { return &c.DashboardFiles },
			"Patterns of files of dashboard blocks, relative to this file's folder; each file holds dashboard blocks only."),
	},
	children: []child[Config]{
		nested[Config, Server]{spec: serverSpec, ptr: func(c *Config) *Server { return &c.Server }, spaced: true},
		nested[Config, Global]{spec: globalSpec, ptr: func(c *Config) *Global { return &c.Global }, spaced: true},
		nested[Config, Query]{spec: querySpec, ptr: func(c *Config) *Query { return &c.Query }, spaced: true},
		nested[Config, OTLP]{spec: otlpSpec, ptr: func(c *Config) *OTLP { return &c.OTLP }, spaced: true},
		listOf(func(c *Config) *[]*Plugin { return &c.Plugins }, pluginSpec).unique("plugin").spacedOut(),
		listOf(func(c *Config) *[]*PluginInstance { return &c.Discoveries }, discoverySpec).unique("discovery").spacedOut(),
		listOf(func(c *Config) *[]*PluginInstance { return &c.Notifiers }, notifierSpec).unique("notifier").spacedOut(),
		// Scrapes and exporters share one namespace: the job label.
		listOf(func(c *Config) *[]*Scrape { return &c.Scrapes }, scrapeSpec, exporterSpec).unique("scrape").spacedOut().
			inheriting(func(_ *decoder, c *Config, s *Scrape) {
				s.ScrapeInterval, s.ScrapeTimeout, s.ScrapeProtocols = c.Global.ScrapeInterval, c.Global.ScrapeTimeout, c.Global.ScrapeProtocols
			}),
		valuesOf(func(c *Config) *[]rulefmt.RuleGroup { return &c.RuleGroups }, rulesSpec).unique("rule group").spacedOut().
			inheriting(func(_ *decoder, c *Config, g *rulefmt.RuleGroup) {
				g.Interval = model.Duration(c.Global.EvaluationInterval)
			}),
		listOf(func(c *Config) *[]*TimeInterval { return &c.TimeIntervals }, timeIntervalSpec).unique("time_interval").spacedOut(),
		optional[Config, Route]{spec: rootRouteSpec, ptr: func(c *Config) **Route { return &c.Route }, spaced: true},
		listOf(func(c *Config) *[]*Inhibit { return &c.Inhibits }, inhibitSpec).spacedOut(),
		listOf(func(c *Config) *[]*Alertmanager { return &c.Alertmanagers }, alertmanagerSpec).spacedOut(),
		listOf(func(c *Config) *[]*RemoteWrite { return &c.RemoteWrites }, remoteWriteSpec).unique("remote_write").spacedOut(),
		listOf(func(c *Config) *[]*RemoteRead { return &c.RemoteReads }, remoteReadSpec).unique("remote_read").spacedOut(),
		valuesOf(func(c *Config) *[]registry.Registry { return &c.Registries }, registrySpec).unique("registry").spacedOut(),
		dashboardList(),
	},
	check: func(s *scope, c *Config) {
		s.d.checkRuleFiles(s, c.RuleFiles)
		s.d.checkDashboardFiles(s, c.DashboardFiles)
	},
}

// paths are paths or patterns of files, relative ones joined to the
// configuration file's folder.
var paths = codec[[]string]{
	typ: cty.List(cty.String), kind: "list of string",
	decode: func(at attrValue, v cty.Value) ([]string, bool) {
		list, ok := strList.decode(at, v)
		for i, p := range list {
			if !filepath.IsAbs(p) {
				list[i] = filepath.Join(at.d.baseDir, p)
			}
		}
		return list, ok
	},
	render: func(list []string, o renderOptions) cty.Value {
		out := make([]string, len(list))
		for i, p := range list {
			out[i] = relativePath(p, o)
		}
		return stringList(out)
	},
}

// filePath is the path of a file, a relative one joined to the
// configuration file's folder, as Prometheus resolves the files of its
// configuration.
var filePath = codec[string]{
	typ: cty.String, kind: "path",
	decode: func(at attrValue, v cty.Value) (string, bool) {
		p, ok := str.decode(at, v)
		if ok && p != "" && !filepath.IsAbs(p) {
			p = filepath.Join(at.d.baseDir, p)
		}
		return p, ok
	},
	render: func(p string, o renderOptions) cty.Value { return cty.StringVal(relativePath(p, o)) },
}

// encryptionKeyFile is a filePath whose file holds an encryption key, in
// the form atrest.ReadKey reads.
var encryptionKeyFile = codec[string]{
	typ: cty.String, kind: "path",
	decode: func(at attrValue, v cty.Value) (string, bool) {
		p, ok := filePath.decode(at, v)
		if !ok || p == "" {
			return p, ok
		}
		if _, err := atrest.ReadKey(p); err != nil {
			at.errorf("Invalid "+at.name(), "%s.", err)
			return "", false
		}
		return p, true
	},
	render: filePath.render,
}

// relativePath writes a path that decoding joined to the configuration
// file's folder relative to it again. A path without a folder in it, and
// an absolute one, stay as they are.
func relativePath(p string, o renderOptions) string {
	if filepath.IsAbs(p) || !strings.ContainsAny(p, "/"+string(filepath.Separator)) {
		return p
	}
	if rel, err := filepath.Rel(o.baseDir, p); err == nil {
		return filepath.ToSlash(rel)
	}
	return p
}

var serverSpec = &block[Server]{
	name: "server", doc: "The server's address, store and API.",
	attrs: []attr[Server]{
		withDefault("listen", str, func(s *Server) *string { return &s.Listen }, DefaultListen,
			"The address the API and UI listen on."),
		withDefault("data_dir", str, func(s *Server) *string { return &s.DataDir }, DefaultDataDir,
			"The folder of the store."),
		field("encryption_key_file", encryptionKeyFile, func(s *Server) *string { return &s.EncryptionKeyFile },
			"A file of 64 hexadecimal digits (openssl rand -hex 32), the AES key the store's files are encrypted with; not the write-ahead log. Set it when the data folder is made: an existing store is refused with another key, or none."),
		withDefault("retention", durationOrZero[time.Duration](), func(s *Server) *time.Duration { return &s.Retention }, DefaultRetention,
			"How long samples are kept, back from the newest sample; \"0s\" keeps them forever."),
		withDefault("min_free_disk", size, func(s *Server) *int64 { return &s.MinFreeDisk }, DefaultMinFreeDisk,
			"The free space to keep on the data folder's filesystem: below it new samples, pushes and silences are refused (scrapes fail, remote write answers 503), /-/ready answers 503, and the server does not start; all resume once space is back. \"0B\" turns the check off. Read when the server starts."),
		withDefault("max_exemplars", count, func(s *Server) *int { return &s.MaxExemplars }, DefaultMaxExemplars,
			"How many exemplars are kept in memory, the newest, for all series together; 0 keeps none. A reload applies a new value."),
		withDefault("series_idle_timeout", durationOrZero[time.Duration](), func(s *Server) *time.Duration { return &s.SeriesIdleTimeout }, DefaultSeriesIdleTimeout,
			"How long a series without a sample stays in memory, back from the newest sample; then queries read it from disk, and its next sample brings it back."),
		withDefault("enable_admin_api", boolean, func(s *Server) *bool { return &s.EnableAdminAPI }, false,
			"Whether the admin API (delete series, clean tombstones, snapshot) is served."),
		withDefault("enable_lifecycle", boolean, func(s *Server) *bool { return &s.EnableLifecycle }, false,
			"Whether POST /-/reload reloads the configuration, as Prometheus's --web.enable-lifecycle; off, it answers 403. SIGHUP reloads either way."),
		withDefault("enable_push", boolean, func(s *Server) *bool { return &s.EnablePush }, false,
			"Whether batch jobs may push metrics, as to a Pushgateway; the groups are scraped as job \"pushgateway\"."),
		withDefault("push_group_ttl", durationOrZero[time.Duration](), func(s *Server) *time.Duration { return &s.PushGroupTTL }, 0,
			"How long a pushed group lives after its last successful push; \"0s\" keeps it until it is deleted."),
		withDefault("push_body_size_limit", size, func(s *Server) *int64 { return &s.PushBodySizeLimit }, DefaultPushBodySizeLimit,
			"The largest push, uncompressed; a larger one is refused with 413. \"0B\" sets no limit."),
		withDefault("push_max_groups", count, func(s *Server) *int { return &s.PushMaxGroups }, 0,
			"How many pushed groups are kept at most; a push that would add one more is refused with 400. 0 sets no limit."),
		field("external_url", httpURL("Invalid external_url"), func(s *Server) **url.URL { return &s.ExternalURL },
			"Where people reach the server, for links in notifications; unset, http:// and the listen address."),
		field("route_prefix", routePrefix, func(s *Server) *string { return &s.RoutePrefix },
			"The path everything the server answers is under, the UI, the API and /metrics included, as Prometheus's --web.route-prefix; / is redirected to it. Unset, the path of external_url."),
		withDefault("read_timeout", duration[time.Duration](), func(s *Server) *time.Duration { return &s.ReadTimeout }, DefaultReadTimeout,
			"How long reading a request may take, its body included, and how long an idle connection stays open, as Prometheus's --web.read-timeout."),
		field("write_timeout", duration[time.Duration](), func(s *Server) *time.Duration { return &s.WriteTimeout },
			"How long answering a request may take, from the end of its headers; more than the query block's timeout. Unset: the query timeout and a minute."),
		withDefault("max_connections", positive, func(s *Server) *int { return &s.MaxConnections }, DefaultMaxConnections,
			"The connections served at once; more wait to be accepted, as Prometheus's --web.max-connections."),
		withDefault("cors_origin", regex, func(s *Server) *relabel.Regexp { return &s.CORSOrigin }, DefaultCORSOrigin,
			"The origins, a fully anchored regular expression, whose web pages may read the API v1 (Access-Control-Allow-Origin), as Prometheus's --web.cors.origin. Requests that change state are never allowed from other origins."),
		withDefault("enable_remote_write_receiver", boolean, func(s *Server) *bool { return &s.EnableRemoteWriteReceiver }, false,
			"Whether POST /api/v1/write takes samples by Remote-Write 1.0 and 2.0."),
		withDefault("enable_otlp_receiver", boolean, func(s *Server) *bool { return &s.EnableOTLPReceiver }, false,
			"Whether POST /api/v1/otlp/v1/metrics takes OpenTelemetry metrics (OTLP/HTTP, protobuf or JSON), translated as the otlp block says."),
		withDefault("otlp_body_size_limit", size, func(s *Server) *int64 { return &s.OTLPBodySizeLimit }, DefaultOTLPBodySizeLimit,
			"The largest OTLP request, compressed and uncompressed; a larger one is refused with 413."),
		withDefault("remote_read_sample_limit", count, func(s *Server) *int { return &s.RemoteReadSampleLimit }, DefaultRemoteReadSampleLimit,
			"The samples one sampled remote read may return; 0 for no limit. Streamed reads are not limited."),
		withDefault("remote_read_concurrent_limit", count, func(s *Server) *int { return &s.RemoteReadConcurrentLimit }, DefaultRemoteReadConcurrentLimit,
			"The remote reads served at once, others wait; 0 for no limit."),
		withDefault("remote_read_max_bytes_in_frame", size, func(s *Server) *int64 { return &s.RemoteReadMaxBytesInFrame }, DefaultRemoteReadMaxBytesInFrame,
			"The bytes of one frame of a streamed remote read, before encoding."),
		withDefault("builtin_dashboards", boolean, func(s *Server) *bool { return &s.BuiltinDashboards }, true,
			"Whether the web UI offers Vigil's own dashboards, \"vigil\" (the server's ingestion, queries, rules, notifications and plugins) and \"node\" (the node exporter plugin's metrics), beside the dashboard blocks. A reload applies a new value."),
	},
	children: []child[Server]{
		optional[Server, ServerTLS]{spec: serverTLSSpec, ptr: func(s *Server) **ServerTLS { return &s.TLS }},
		optional[Server, Auth]{spec: authSpec, ptr: func(s *Server) **Auth { return &s.Auth }},
		nested[Server, Audit]{spec: auditSpec, ptr: func(s *Server) *Audit { return &s.Audit }},
	},
	check: func(s *scope, v *Server) {
		if v.Listen == "" {
			s.errorf("listen", "Invalid listen address", "listen must not be empty.")
		}
		if v.SeriesIdleTimeout == 0 {
			s.errorf("series_idle_timeout", "Invalid series_idle_timeout", "series_idle_timeout must be longer than 0s.")
		}
		if !s.set("route_prefix") && v.ExternalURL != nil {
			v.RoutePrefix = strings.TrimRight(v.ExternalURL.Path, "/")
		}
		if v.OTLPBodySizeLimit <= 0 {
			s.errorf("otlp_body_size_limit", "Invalid otlp_body_size_limit", "otlp_body_size_limit must be positive.")
		}
		if s.set("remote_read_max_bytes_in_frame") && v.RemoteReadMaxBytesInFrame <= 0 {
			s.errorf("remote_read_max_bytes_in_frame", "Invalid remote_read_max_bytes_in_frame", "remote_read_max_bytes_in_frame must be positive.")
		}
	},
}

var globalSpec = &block[Global]{
	name: "global", doc: "Defaults for the other blocks.",
	attrs: []attr[Global]{
		withDefault("scrape_interval", duration[time.Duration](), func(g *Global) *time.Duration { return &g.ScrapeInterval }, DefaultScrapeInterval,
			"How often targets are scraped."),
		withDefault("scrape_timeout", duration[time.Duration](), func(g *Global) *time.Duration { return &g.ScrapeTimeout }, DefaultScrapeTimeout,
			"How long a scrape may take; at most scrape_interval."),
		withDefault("evaluation_interval", duration[time.Duration](), func(g *Global) *time.Duration { return &g.EvaluationInterval }, DefaultEvaluationInterval,
			"How often rules are evaluated."),
		field("external_labels", strMap, func(g *Global) *map[string]string { return &g.ExternalLabels },
			"Labels added to alerts and to what leaves the server."),
		withDefault("scrape_protocols", scrapeProtocols, func(g *Global) *[]string { return &g.ScrapeProtocols }, DefaultScrapeProtocols,
			"The exposition formats scrapes ask for, most wanted first."),
		withDefault("resolve_timeout", duration[time.Duration](), func(g *Global) *time.Duration { return &g.ResolveTimeout }, DefaultResolveTimeout,
			"When an alert posted without an end resolves, as Alertmanager's resolve_timeout."),
		withDefault("max_alerts", positive, func(g *Global) *int { return &g.MaxAlerts }, DefaultMaxAlerts,
			"The alerts held at once, from the rules and the Alertmanager API; new ones beyond it are refused (429) and counted in vigil_alerts_limited_total."),
	},
	check: func(s *scope, g *Global) {
		for name := range g.ExternalLabels {
			if !model.UTF8Validation.IsValidLabelName(name) || strings.HasPrefix(name, "__") {
				s.errorf("external_labels", "Invalid external label", "%q is not a valid label name for an external label.", name)
			}
		}
		if !s.set("scrape_timeout") && g.ScrapeTimeout > g.ScrapeInterval {
			g.ScrapeTimeout = g.ScrapeInterval
		}
		if g.ScrapeTimeout > g.ScrapeInterval {
			s.errorf("scrape_timeout", "Invalid scrape timeout", "scrape_timeout (%s) must not exceed scrape_interval (%s).", g.ScrapeTimeout, g.ScrapeInterval)
		}
	},
}

var querySpec = &block[Query]{
	name: "query", doc: "The limits of PromQL queries; read when the server starts.",
	attrs: []attr[Query]{
		withDefault("timeout", duration[time.Duration](), func(q *Query) *time.Duration { return &q.Timeout }, DefaultQueryTimeout,
			"How long a query may run."),
		withDefault("max_samples", positive, func(q *Query) *int { return &q.MaxSamples }, DefaultQueryMaxSamples,
			"The samples one query may hold at once."),
		withDefault("max_concurrency", positive, func(q *Query) *int { return &q.MaxConcurrency }, DefaultQueryConcurrency,
			"The queries running at once; others wait."),
		withDefault("lookback_delta", duration[time.Duration](), func(q *Query) *time.Duration { return &q.LookbackDelta }, DefaultLookbackDelta,
			"How far back a query looks for a series' last sample."),
		withDefault("max_query_length", positive, func(q *Query) *int { return &q.MaxQueryLength }, DefaultMaxQueryLength,
			"The length in bytes of a PromQL expression the API takes; longer ones are refused (400). It bounds the time parsing takes, which cannot be stopped."),
	},
}

// scrapeProtocols is a list of known protocol names, none twice, at
// least one.
var scrapeProtocols = codec[[]string]{
	typ: cty.List(cty.String), kind: "list of string",
	decode: func(at attrValue, v cty.Value) ([]string, bool) {
		list, ok := strList.decode(at, v)
		if !ok {
			return nil, false
		}
		if len(list) == 0 {
			at.errorf("Invalid scrape_protocols", "scrape_protocols must name at least one protocol.")
			return nil, false
		}
		seen := map[string]bool{}
		for _, p := range list {
			if err := checkScrapeProtocol(p); err != nil {
				at.errorf("Invalid scrape_protocols", "%s.", err)
				return nil, false
			}
			if seen[p] {
				at.errorf("Invalid scrape_protocols", "Protocol %q is listed twice.", p)
				return nil, false
			}
			seen[p] = true
		}
		return list, true
	},
	render: strList.render,
}

// scrapeProtocol is the name of one protocol.
var scrapeProtocol = codec[string]{
	typ: cty.String, kind: "string",
	decode: func(at attrValue, v cty.Value) (string, bool) {
		p := v.AsString()
		if err := checkScrapeProtocol(p); err != nil {
			at.errorf("Invalid "+at.name(), "%s.", err)
			return "", false
		}
		return p, true
	},
	render: str.render,
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

// jobOptions are the attributes scrape and exporter blocks share.
var jobOptions = []attr[Scrape]{
	withDefault("honor_labels", boolean, func(s *Scrape) *bool { return &s.HonorLabels }, false,
		"Whether the target's labels win over the job's when they clash."),
	withDefault("honor_timestamps", boolean, func(s *Scrape) *bool { return &s.HonorTimestamps }, true,
		"Whether the target's timestamps are kept."),
	field("sample_limit", count, func(s *Scrape) *int { return &s.SampleLimit },
		"The samples a scrape may give, or it fails; 0 for no limit."),
	field("label_limit", count, func(s *Scrape) *int { return &s.LabelLimit },
		"The labels a series may have; 0 for no limit."),
	field("label_name_length_limit", count, func(s *Scrape) *int { return &s.LabelNameLengthLimit },
		"The length of a label name; 0 for no limit."),
	field("label_value_length_limit", count, func(s *Scrape) *int { return &s.LabelValueLengthLimit },
		"The length of a label value; 0 for no limit."),
	withDefault("body_size_limit", size, func(s *Scrape) *int64 { return &s.BodySizeLimit }, DefaultBodySizeLimit,
		"The size of a scrape's body; a larger body fails the scrape, unread when its Content-Length announces it; \"0B\" for no limit."),
}

// relabelBlocks are the relabel and metric_relabel blocks of a job.
var relabelBlocks = []child[Scrape]{
	listOf(func(s *Scrape) *[]*relabel.Config { return &s.Relabel }, relabelSpec),
	listOf(func(s *Scrape) *[]*relabel.Config { return &s.MetricRelabel },
		relabelSpec.named("metric_relabel", "A relabeling of each sample's labels after the scrape; any number, in order.")),
}

// scrapeClient is the HTTP client of a scrape block.
var scrapeClient = httpClient(func(s *Scrape) *HTTPClient { return &s.HTTPClient }, "target", true)

// scrapeHeaders are the headers a scrape sets itself, beside
// reservedHeaders.
var scrapeHeaders = []string{"accept", "x-prometheus-scrape-timeout-seconds"}

var scrapeSpec = &block[Scrape]{
	name: "scrape", label: "NAME", doc: "A job of HTTP targets; NAME is its job label.",
	labelOf: func(s *Scrape) *string { return &s.Name },
	attrs: slices.Concat([]attr[Scrape]{
		field("targets", strList, func(s *Scrape) *[]string { return &s.Targets },
			"The targets, host:port."),
		field("discovery", strList, func(s *Scrape) *[]string { return &s.Discovery },
			"Discovery blocks whose targets are scraped too."),
		withDefault("metrics_path", str, func(s *Scrape) *string { return &s.MetricsPath }, DefaultMetricsPath,
			"The path scraped."),
		withDefault("scheme", str, func(s *Scrape) *string { return &s.Scheme }, DefaultScheme,
			"\"http\" or \"https\"."),
		field("params", strListMap, func(s *Scrape) *map[string][]string { return &s.Params },
			"The query parameters of the scrape's URL."),
		field("scrape_interval", duration[time.Duration](), func(s *Scrape) *time.Duration { return &s.ScrapeInterval },
			"How often the targets are scraped.").inherits("global scrape_interval"),
		field("scrape_timeout", duration[time.Duration](), func(s *Scrape) *time.Duration { return &s.ScrapeTimeout },
			"How long a scrape may take; at most scrape_interval.").inherits("global scrape_timeout"),
	}, jobOptions, []attr[Scrape]{
		field("scrape_protocols", scrapeProtocols, func(s *Scrape) *[]string { return &s.ScrapeProtocols },
			"The exposition formats asked for, most wanted first.").inherits("global scrape_protocols"),
		withDefault("fallback_scrape_protocol", scrapeProtocol, func(s *Scrape) *string { return &s.FallbackScrapeProtocol }, DefaultFallbackScrapeProtocol,
			"The format of a body without a known Content-Type."),
	}, scrapeClient.attrs),
	children: slices.Concat(scrapeClient.blocks, relabelBlocks),
	check: func(s *scope, sc *Scrape) {
		checkJob(s, sc, "scrape_interval", "scrape_timeout")
		s.d.checkDiscoveryRefs(s, sc.Discovery)
		if sc.Scheme != "http" && sc.Scheme != "https" {
			s.errorf("scheme", "Invalid scheme", "scheme must be \"http\" or \"https\", not %q.", sc.Scheme)
		}
		if !strings.HasPrefix(sc.MetricsPath, "/") {
			s.errorf("metrics_path", "Invalid metrics path", "metrics_path must start with /, got %q.", sc.MetricsPath)
		}
		for _, t := range sc.Targets {
			if t == "" || strings.Contains(t, "/") {
				s.errorf("targets", "Invalid target", "Target %q must be host:port, without scheme or path (set scheme and metrics_path instead).", t)
			}
		}
		checkHTTPClient(s, "scrape", sc.Name, &sc.HTTPClient, scrapeHeaders...)
	},
	is: func(s *Scrape) bool { return s.Exporter == nil },
}

// exporterSpec is a job that collects an exporter plugin: the scrape
// options that do not concern HTTP, with the plugin and its config. The
// HTTP settings keep a scrape's defaults.
var exporterSpec = &block[Scrape]{
	name: "exporter", label: "NAME", doc: "A job whose samples come from an exporter plugin; NAME is its job label.",
	labelOf: func(s *Scrape) *string { return &s.Name },
	init: func(s *Scrape) {
		scrapeSpec.defaults(s)
		s.Exporter = &PluginInstance{Kind: sdk.KindExporter}
	},
	attrs: slices.Concat([]attr[Scrape]{
		field("plugin", pluginRef, func(s *Scrape) **Plugin { return &s.Exporter.Plugin },
			"The plugin block of the exporter.").require(),
		field("interval", duration[time.Duration](), func(s *Scrape) *time.Duration { return &s.ScrapeInterval },
			"How often the plugin is collected.").inherits("global scrape_interval"),
		field("timeout", duration[time.Duration](), func(s *Scrape) *time.Duration { return &s.ScrapeTimeout },
			"How long a collection may take; at most interval.").inherits("global scrape_timeout"),
		field("targets", strList, func(s *Scrape) *[]string { return &s.Targets },
			"For a multi-target exporter (such as blackbox): the targets, each collected on its own with its own up and instance; what the plugin collects is the target's __param_target label after relabeling, or its __address__."),
		field("discovery", strList, func(s *Scrape) *[]string { return &s.Discovery },
			"For a multi-target exporter: discovery blocks whose targets are collected too."),
		field("module", str, func(s *Scrape) *string { return &s.Module },
			"For a multi-target exporter: the plugin's module the targets use, their __param_module label unless relabeling changes it."),
		field("params", strListMap, func(s *Scrape) *map[string][]string { return &s.Params },
			"For a multi-target exporter: the targets' __param_* labels, whose first values the plugin is handed, as a scrape's params."),
	}, jobOptions),
	children: append([]child[Scrape]{
		configBlock[Scrape]{inst: func(s *Scrape) *PluginInstance { return s.Exporter }},
	}, relabelBlocks...),
	check: func(s *scope, sc *Scrape) {
		sc.Exporter.Name, sc.Exporter.Range = sc.Name, s.block.DefRange
		s.d.resolvePlugin(s, sc.Exporter)
		checkJob(s, sc, "interval", "timeout")
		s.d.checkDiscoveryRefs(s, sc.Discovery)
		for _, t := range sc.Targets {
			if t == "" {
				s.errorf("targets", "Invalid target", "A target of exporter %q is empty.", sc.Name)
			}
		}
		sc.Exporter.MultiTarget = len(sc.Targets) > 0 || len(sc.Discovery) > 0
		switch {
		case s.set("targets"):
			sc.Exporter.TargetsRange = *s.rangeOf("targets")
		case s.set("discovery"):
			sc.Exporter.TargetsRange = *s.rangeOf("discovery")
		}
		for _, name := range []string{"module", "params"} {
			if s.set(name) && !sc.Exporter.MultiTarget {
				s.errorf(name, "Attribute for targets only", "%s applies to an exporter block with targets or discovery; exporter %q has neither.", name, sc.Name)
			}
		}
		if sc.Module != "" && len(sc.Params["module"]) > 0 {
			s.errorf("module", "Module set twice", "Exporter %q sets both module and params' module; set one.", sc.Name)
		}
	},
	is: func(s *Scrape) bool { return s.Exporter != nil },
}

// checkJob checks a job's timeout against its interval, which the
// attributes intervalName and timeoutName set. A timeout inherited from
// the global block is cut to the interval.
func checkJob(s *scope, sc *Scrape, intervalName, timeoutName string) {
	if !s.set(timeoutName) && sc.ScrapeTimeout > sc.ScrapeInterval {
		sc.ScrapeTimeout = sc.ScrapeInterval
	}
	if sc.ScrapeTimeout > sc.ScrapeInterval {
		s.errorf(timeoutName, "Invalid scrape timeout", "%s (%s) must not exceed %s (%s) in %s %q.", timeoutName, sc.ScrapeTimeout, intervalName, sc.ScrapeInterval, s.block.Type, sc.Name)
	}
}

// relabelSpec is a relabel or metric_relabel block, with Prometheus's
// defaults, checked as Prometheus checks it.
var relabelSpec = &block[relabel.Config]{
	name: "relabel", doc: "A relabeling of the target's labels before the scrape; any number, in order.",
	init: func(c *relabel.Config) { c.NameValidationScheme = model.UTF8Validation },
	attrs: []attr[relabel.Config]{
		field("source_labels", labelNames, func(c *relabel.Config) *model.LabelNames { return &c.SourceLabels },
			"The labels whose values are joined."),
		withDefault("separator", str, func(c *relabel.Config) *string { return &c.Separator }, relabel.DefaultRelabelConfig.Separator,
			"What joins the values."),
		withDefault("regex", regex, func(c *relabel.Config) *relabel.Regexp { return &c.Regex }, relabel.DefaultRelabelConfig.Regex,
			"What the joined value must match, anchored at both ends."),
		field("modulus", modulus, func(c *relabel.Config) *uint64 { return &c.Modulus },
			"The modulus of hashmod."),
		field("target_label", str, func(c *relabel.Config) *string { return &c.TargetLabel },
			"The label written."),
		withDefault("replacement", str, func(c *relabel.Config) *string { return &c.Replacement }, relabel.DefaultRelabelConfig.Replacement,
			"What is written, with the regex's groups."),
		withDefault("action", action, func(c *relabel.Config) *relabel.Action { return &c.Action }, relabel.DefaultRelabelConfig.Action,
			"One of Prometheus's relabel actions."),
	},
	check: func(s *scope, c *relabel.Config) {
		if !s.ok() {
			return
		}
		if err := c.Validate(model.UTF8Validation); err != nil {
			s.blockErrorf("Invalid "+s.block.Type+" block", "%s.", err)
		}
	},
}

var labelNames = codec[model.LabelNames]{
	typ: cty.List(cty.String), kind: "list of string",
	decode: func(at attrValue, v cty.Value) (model.LabelNames, bool) {
		list, ok := strList.decode(at, v)
		var out model.LabelNames
		for _, l := range list {
			out = append(out, model.LabelName(l))
		}
		return out, ok
	},
	render: func(names model.LabelNames, o renderOptions) cty.Value {
		list := make([]string, len(names))
		for i, n := range names {
			list[i] = string(n)
		}
		return stringList(list)
	},
}

var regex = codec[relabel.Regexp]{
	typ: cty.String, kind: "string",
	decode: func(at attrValue, v cty.Value) (relabel.Regexp, bool) {
		re, err := relabel.NewRegexp(v.AsString())
		if err != nil {
			at.errorf("Invalid regular expression", "%s.", err)
			return relabel.Regexp{}, false
		}
		return re, true
	},
	render: func(re relabel.Regexp, _ renderOptions) cty.Value { return cty.StringVal(re.String()) },
}

var modulus = codec[uint64]{
	typ: cty.Number, kind: "number",
	decode: func(at attrValue, v cty.Value) (uint64, bool) {
		n, ok := count.decode(at, v)
		return uint64(n), ok
	},
	render: func(n uint64, _ renderOptions) cty.Value { return cty.NumberUIntVal(n) },
}

var relabelActions = []relabel.Action{
	relabel.Replace, relabel.Keep, relabel.Drop, relabel.KeepEqual, relabel.DropEqual, relabel.HashMod,
	relabel.LabelMap, relabel.LabelDrop, relabel.LabelKeep, relabel.Lowercase, relabel.Uppercase,
}

var action = codec[relabel.Action]{
	typ: cty.String, kind: "string",
	decode: func(at attrValue, v cty.Value) (relabel.Action, bool) {
		a := relabel.Action(strings.ToLower(v.AsString()))
		if !slices.Contains(relabelActions, a) {
			names := make([]string, len(relabelActions))
			for i, k := range relabelActions {
				names[i] = string(k)
			}
			at.errorf("Unknown relabel action", "%q is not a relabel action; use one of %s.", v.AsString(), strings.Join(names, ", "))
			return "", false
		}
		return a, true
	},
	render: func(a relabel.Action, _ renderOptions) cty.Value { return cty.StringVal(string(a)) },
}
