// Package hclconfig reads Vigil's HCL configuration: the schema of its
// blocks, their decoding into Config, the functions a file may call (env,
// file) and diagnostics that point at file:line:col. Start with Load or
// Parse; README.md in this folder is the reference of every block.
//
// Each block is described once, as data (schema.go): a block[T] lists
// its attributes with their types, defaults and documentation, bound to
// the fields of T. Decoding, Config.HCL and the reference's tables all
// come from those descriptions; decode.go, plugins.go, rules.go,
// alerting.go, registry.go and dashboard.go hold them with the checks
// that span attributes or blocks. The built-in dashboards are HCL files
// in dashboards/, embedded.
package hclconfig

import (
	"fmt"
	"net/url"
	"time"

	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/model/rulefmt"

	"github.com/vigilmon/vigil/registry"
)

// DefaultCORSOrigin lets web pages of every origin read the API v1, as
// Prometheus's --web.cors.origin does by default.
var DefaultCORSOrigin = relabel.MustNewRegexp(".*")

// Defaults, as Prometheus has them.
const (
	DefaultListen  = "127.0.0.1:9090"
	DefaultDataDir = "./data"
	// DefaultRetention is how long samples are kept when the server block
	// sets no retention: Prometheus's default of 15 days.
	DefaultRetention = 15 * 24 * time.Hour
	// DefaultMaxExemplars is how many exemplars the store keeps in memory
	// when the server block sets no max_exemplars: Prometheus's default
	// for storage.exemplars.max_exemplars.
	DefaultMaxExemplars = 100000
	// DefaultMinFreeDisk is the reserve of free space of the data
	// folder's filesystem when the server block sets no min_free_disk:
	// below it the store refuses new samples rather than fill the disk,
	// which badger's memory-mapped files cannot survive, and the server
	// does not start.
	DefaultMinFreeDisk = 256 << 20
	// DefaultPushBodySizeLimit is the largest push the push API takes,
	// uncompressed, when the server block sets no push_body_size_limit.
	DefaultPushBodySizeLimit = 16 << 20
	// DefaultOTLPBodySizeLimit is the largest OTLP request, compressed
	// and uncompressed, when the server block sets no
	// otlp_body_size_limit: the limit of Prometheus's OTLP receiver.
	DefaultOTLPBodySizeLimit = 32 << 20
	// DefaultSeriesIdleTimeout is how long a series stays in memory without
	// a sample when the server block does not say: the store's default,
	// within the 1 to 3 hours after which Prometheus's head drops it.
	DefaultSeriesIdleTimeout  = 2 * time.Hour
	DefaultScrapeInterval     = time.Minute
	DefaultScrapeTimeout      = 10 * time.Second
	DefaultEvaluationInterval = time.Minute
	DefaultMetricsPath        = "/metrics"
	DefaultScheme             = "http"
	// DefaultBodySizeLimit bounds what one scrape reads when the scrape
	// block sets no body_size_limit, so that a runaway target fails its
	// scrape instead of filling the server's memory.
	DefaultBodySizeLimit = 256 << 20
	DefaultQueryTimeout  = 2 * time.Minute
	// DefaultReadTimeout and DefaultMaxConnections are Prometheus's
	// --web.read-timeout and --web.max-connections.
	DefaultReadTimeout      = 5 * time.Minute
	DefaultMaxConnections   = 512
	DefaultQueryMaxSamples  = 50_000_000
	DefaultQueryConcurrency = 20
	// DefaultMaxQueryLength bounds the expressions the API parses: the
	// upstream parser cannot be stopped and takes time growing with the
	// square of some expressions' length, about half a second for the
	// worst of 32 KiB on a small machine.
	DefaultMaxQueryLength = 32 << 10
	DefaultLookbackDelta  = 5 * time.Minute
	// DefaultResolveTimeout is Alertmanager's resolve_timeout.
	DefaultResolveTimeout = 5 * time.Minute
	// DefaultMaxAlerts bounds the alerts the dispatcher holds when the
	// global block sets no max_alerts.
	DefaultMaxAlerts = 100_000
	// DefaultNotifyTimeout bounds one attempt of a notifier block to
	// deliver a notification.
	DefaultNotifyTimeout = 10 * time.Second
	// DefaultAlertmanagerTimeout bounds one request to an external
	// Alertmanager, as Prometheus's alertmanager_config timeout.
	DefaultAlertmanagerTimeout = 10 * time.Second
	// DefaultFallbackScrapeProtocol parses a scrape whose Content-Type is
	// missing or unknown, so such a target still works, as it did in
	// Prometheus 2.
	DefaultFallbackScrapeProtocol = "PrometheusText0.0.4"
	// DefaultGOGC is the garbage collector's target the server sets when
	// the GOGC environment variable does not, as Prometheus does: a
	// smaller heap for a little more collector time.
	DefaultGOGC = 75
)

// Config is a decoded and validated configuration.
type Config struct {
	Server Server
	Global Global
	Query  Query
	// OTLP is the otlp block: how the OTLP receiver names series.
	OTLP OTLP
	// Scrapes are the jobs: scrape blocks of HTTP targets and exporter
	// blocks, whose Exporter is set.
	Scrapes []*Scrape
	// Plugins are the plugin blocks; Discoveries and Notifiers the
	// discovery and notifier blocks, instances of plugins.
	Plugins     []*Plugin
	Discoveries []*PluginInstance
	Notifiers   []*PluginInstance
	// RuleGroups are the rules blocks, in the shape of Prometheus's rule
	// files; each has its interval set, the global evaluation_interval
	// when the block sets none.
	RuleGroups []rulefmt.RuleGroup
	// RuleFiles are the rule_files patterns of Prometheus YAML rule files,
	// relative ones joined to the configuration file's folder.
	RuleFiles []string
	// Route is the route block, the root of the alert routing tree; nil
	// when there is none. Inhibits are the inhibit blocks and
	// TimeIntervals the time_interval blocks, in the file's order.
	Route         *Route
	Inhibits      []*Inhibit
	TimeIntervals []*TimeInterval
	// Alertmanagers are the alertmanager blocks: external Alertmanagers
	// the alerts of the rules are sent to as well, through their v2 API.
	Alertmanagers []*Alertmanager
	// RemoteWrites are the remote_write blocks: receivers the samples of
	// the store are sent to.
	RemoteWrites []*RemoteWrite
	// RemoteReads are the remote_read blocks: other stores the queries
	// read beside the local one.
	RemoteReads []*RemoteRead
	// Registries are the registry blocks: where plugins of a registry
	// address come from. The server does not use them; vigil plugin
	// commands do.
	Registries []registry.Registry
	// Dashboards are the dashboard blocks of the file, then those of the
	// files DashboardFiles match, patterns made absolute as RuleFiles'.
	Dashboards     []*Dashboard
	DashboardFiles []string
	// File is the name the configuration was loaded from, as given to Load
	// or Parse. The rule groups of its rules blocks are filed under it.
	File string
}

// Query is the `query` block: the limits of PromQL queries.
type Query struct {
	Timeout        time.Duration
	MaxSamples     int
	MaxConcurrency int
	LookbackDelta  time.Duration
	// MaxQueryLength bounds the length of a PromQL expression sent to
	// the API, in bytes; DefaultMaxQueryLength unless set.
	MaxQueryLength int
}

// Server is the `server` block.
type Server struct {
	Listen  string
	DataDir string
	// EncryptionKeyFile, when set, holds the key badger's files are
	// encrypted with (see package atrest); checked at load.
	EncryptionKeyFile string
	// Retention is how long samples are kept, back from the newest
	// sample; DefaultRetention unless set; 0 ("0s") keeps them forever.
	Retention time.Duration
	// MaxExemplars is how many exemplars the store keeps in memory, for all
	// series together; DefaultMaxExemplars unless set; 0 keeps none. A
	// reload applies a new value.
	MaxExemplars   int
	EnableAdminAPI bool
	// EnableLifecycle serves POST /-/reload; off, it answers 403, as
	// Prometheus's without --web.enable-lifecycle. SIGHUP reloads either
	// way.
	EnableLifecycle bool
	// EnablePush serves the Pushgateway's API and collects the pushed
	// groups as a target of job "pushgateway".
	EnablePush bool
	// PushGroupTTL, when not 0, is how long a pushed group lives after
	// its last successful push.
	PushGroupTTL time.Duration
	// MinFreeDisk is the reserve of free space, in bytes, of the data
	// folder's filesystem: below it new samples and pushes are refused,
	// the server is not ready, and it does not start. 0 turns the check
	// off; DefaultMinFreeDisk unless set.
	MinFreeDisk int64
	// PushBodySizeLimit is the largest push, uncompressed, in bytes; 0
	// for no limit; DefaultPushBodySizeLimit unless set.
	PushBodySizeLimit int64
	// PushMaxGroups, when not 0, is how many groups the push store holds
	// at most.
	PushMaxGroups int
	// SeriesIdleTimeout is how long a series without a sample stays in
	// memory; DefaultSeriesIdleTimeout unless set.
	SeriesIdleTimeout time.Duration
	// ExternalURL is where people reach the server, for the links in
	// notifications and alert templates; nil means http://<listen address>.
	ExternalURL *url.URL
	// RoutePrefix is the path everything the server answers is under,
	// the UI, the API and /metrics included, as Prometheus's
	// --web.route-prefix: "/vigil", or "" for the root. Unset, it is the
	// path of ExternalURL, as in Prometheus.
	RoutePrefix string
	// ReadTimeout bounds reading a request, its body included, and how
	// long an idle connection stays open; DefaultReadTimeout unless set.
	ReadTimeout time.Duration
	// WriteTimeout bounds answering a request, from the end of its
	// headers; it must exceed the query timeout. 0, unset, is the query
	// timeout and a minute.
	WriteTimeout time.Duration
	// MaxConnections bounds the connections served at once; others wait
	// to be accepted. DefaultMaxConnections unless set.
	MaxConnections int
	// CORSOrigin is the fully anchored regular expression of the origins
	// whose web pages may read the API v1, as Prometheus's
	// --web.cors.origin; DefaultCORSOrigin unless set.
	CORSOrigin relabel.Regexp
	// EnableRemoteWriteReceiver serves POST /api/v1/write, Remote-Write
	// 1.0 and 2.0.
	EnableRemoteWriteReceiver bool
	// EnableOTLPReceiver serves POST /api/v1/otlp/v1/metrics, translated
	// as the otlp block says; OTLPBodySizeLimit is the largest request
	// in bytes, compressed and uncompressed.
	EnableOTLPReceiver bool
	OTLPBodySizeLimit  int64
	// RemoteReadSampleLimit, RemoteReadConcurrentLimit and
	// RemoteReadMaxBytesInFrame limit POST /api/v1/read as Prometheus's
	// storage.remote.read-* flags: the samples of one sampled answer, the
	// requests served at once (0 for no limit) and the bytes of one frame
	// of a streamed answer.
	RemoteReadSampleLimit     int
	RemoteReadConcurrentLimit int
	RemoteReadMaxBytesInFrame int64
	// TLS, when set, makes the server answer HTTPS only.
	TLS *ServerTLS
	// Auth, when set, makes every request need a user, a token or a JWT
	// with a role that allows it; without it, anyone may do anything.
	Auth *Auth
	// Audit says where the audit log goes.
	Audit Audit
	// BuiltinDashboards serves Vigil's own dashboards (BuiltinDashboards)
	// beside the configuration's.
	BuiltinDashboards bool
}

// Global is the `global` block: defaults for the other blocks.
type Global struct {
	ScrapeInterval     time.Duration
	ScrapeTimeout      time.Duration
	EvaluationInterval time.Duration
	ExternalLabels     map[string]string
	// ScrapeProtocols are the exposition formats scrapes ask for, most
	// wanted first; DefaultScrapeProtocols when unset.
	ScrapeProtocols []string
	// ResolveTimeout is when an alert posted to the Alertmanager API
	// without an end time resolves unless it is posted again, as
	// Alertmanager's resolve_timeout.
	ResolveTimeout time.Duration
	// MaxAlerts bounds the alerts the dispatcher holds, from the rules
	// and the Alertmanager API; new ones beyond it are refused.
	MaxAlerts int
}

// DefaultScrapeProtocols ask for the protobuf format first, the one that
// carries native histograms, then OpenMetrics and the text format.
// Prometheus asks in this order when it scrapes native histograms.
var DefaultScrapeProtocols = []string{
	"PrometheusProto", "OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4",
}

// Scrape is a `scrape "<name>"` block: a job of HTTP targets.
type Scrape struct {
	Name                  string
	Targets               []string
	MetricsPath           string
	Scheme                string
	Params                map[string][]string
	ScrapeInterval        time.Duration
	ScrapeTimeout         time.Duration
	HonorLabels           bool
	HonorTimestamps       bool
	SampleLimit           int
	LabelLimit            int
	LabelNameLengthLimit  int
	LabelValueLengthLimit int
	BodySizeLimit         int64 // bytes; 0: no limit; DefaultBodySizeLimit when unset
	// ScrapeProtocols are the formats asked for, the global ones when
	// unset; FallbackScrapeProtocol parses a body with a missing or
	// unknown Content-Type.
	ScrapeProtocols        []string
	FallbackScrapeProtocol string
	// Discovery names the discovery blocks whose targets the scrape
	// adds to its static ones.
	Discovery []string
	// Exporter is set for an exporter block: the job collects the plugin
	// instead of scraping HTTP targets. An exporter block with Targets or
	// Discovery collects each of its targets on its own, from a
	// multi-target exporter; one without collects the plugin once.
	Exporter *PluginInstance
	// Module, for an exporter block with targets, is the module its
	// targets' __param_module label defaults to, as params' module.
	Module string
	// HTTPClient is how the targets are reached: authentication, TLS,
	// proxy, headers.
	HTTPClient
	Relabel       []*relabel.Config
	MetricRelabel []*relabel.Config
}

// Secret is a string that never shows in logs, errors or the status API:
// it prints as <secret>. Value returns the string itself.
type Secret string

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<secret>"
}

// GoString implements fmt.GoStringer, so %#v hides it too.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// Value returns the secret itself.
func (s Secret) Value() string { return string(s) }
