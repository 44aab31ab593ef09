// Package server builds a Vigil server from its configuration and runs
// it: the store, the query engine, the plugins, scrapes, discovery, rules,
// the alert dispatcher and the HTTP API. Start with New, then Run; Reload
// applies the configuration file again.
//
// Every component has the same shape: it is made with New(Options) (or
// NewX in a package of several), takes each configuration with
// ApplyConfig(ctx, cfg), and runs until its context ends with Run(ctx).
// The server keeps one ordered list of them: they apply a configuration
// in that order, start in that order and stop in the reverse one.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/tsdb/agent"
	"golang.org/x/net/netutil"

	"github.com/vigilmon/vigil/core/alert"
	"github.com/vigilmon/vigil/core/auth"
	"github.com/vigilmon/vigil/core/discovery"
	"github.com/vigilmon/vigil/core/pluginhost"
	"github.com/vigilmon/vigil/core/push"
	"github.com/vigilmon/vigil/core/query"
	"github.com/vigilmon/vigil/core/remote"
	"github.com/vigilmon/vigil/core/rules"
	"github.com/vigilmon/vigil/core/scrape"
	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/atrest"
	"github.com/vigilmon/vigil/internal/diskguard"
)

// DefaultConfig is the configuration of a server without a configuration
// file: it scrapes its own metrics, at the address %q, so that a first
// query has data at once.
const DefaultConfig = `global {
  scrape_interval = "15s"
}

scrape "vigil" {
  targets = [%q]
}
`

// PushJob is the job label of the target that collects the pushed
// groups, when the server block enables pushes.
const PushJob = "pushgateway"

// Options say how to start a server.
type Options struct {
	// ConfigFile is the HCL configuration; empty for DefaultConfig.
	ConfigFile string
	// Listen and DataDir, when set, override the server block's listen
	// and data_dir.
	Listen, DataDir string
	// Version is the version /api/v1/status/buildinfo reports, a bare
	// version string such as "v1.2.0" or a commit ID; Revision is the
	// source revision it reports.
	Version, Revision string
	// Logger receives the server's log lines; none when nil.
	Logger hclog.Logger
	// Agent runs the server as an agent, as Prometheus's --agent: it
	// scrapes, runs plugins and discovery, and remote-writes, keeping only
	// the write-ahead log; it has no store to query, no rules and no
	// alerting, and refuses a configuration that has them.
	Agent bool
	// Diagnostics receives the configuration's diagnostics, as
	// file:line:col with the source line, when not nil; errors also go
	// into the error returned.
	Diagnostics io.Writer
}

// Server is a running Vigil server.
type Server struct {
	opts   Options
	logger hclog.Logger
	ln     net.Listener

	db         *tsdb.DB
	disk       *diskguard.Guard // nil in agent mode
	agentDB    *agent.DB        // instead of db, in agent mode
	sender     *remote.Sender
	reader     *remote.Reader
	engine     *promql.Engine
	alertStore *alert.Store
	push       *push.Store // nil unless the server block enables pushes
	plugins    *pluginhost.Host
	scrapes    *scrape.Manager
	discovery  *discovery.Manager
	rules      *rules.Manager
	dispatcher *alert.Dispatcher
	forwarder  *alert.Forwarder
	intake     *alert.Intake
	http       *http.Server
	// authn finds who requests come from, by the auth block in effect;
	// nil without one. A reload may replace it.
	authn atomic.Pointer[auth.Authenticator]
	// routePatterns are the patterns of the HTTP routes, each listed in
	// routeAccess.
	routePatterns []string
	reloads       *reloadMetrics
	// maxConnections bounds the connections served at once; 0 sets no
	// bound.
	maxConnections int

	// components run in this order, and stop in the reverse one; each
	// that reloads applies a configuration in this order too.
	components []component
	// closers release what New opened, in the reverse order, once the
	// components stopped.
	closers []func() error

	// configured is the server block the server started with, before its
	// listen address was resolved: reloads compare theirs with it.
	configured hclconfig.Server
	config     atomic.Pointer[hclconfig.Config] // in effect
	mu         sync.Mutex                       // serializes reloads
}

// component is a part of the server: ApplyConfig, when set, takes each
// configuration, and Run runs until its context ends.
type component struct {
	name        string
	applyConfig func(context.Context, *hclconfig.Config) error
	run         func(context.Context) error
}

// New loads the configuration, listens on its address, opens the store
// and builds every component, and applies the configuration. Run starts
// them; without Run, Close releases what New opened.
func New(ctx context.Context, opts Options) (_ *Server, err error) {
	logger := opts.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	s := &Server{opts: opts, logger: logger}
	defer func() {
		if err != nil {
			// What ApplyConfig started stops as at the end of Run.
			stopped, cancel := context.WithCancel(context.Background())
			cancel()
			runInOrder(stopped, s.components, logger)
			s.Close()
		}
	}()
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(hclconfig.DefaultGOGC)
	}
	cfg, err := s.load()
	if err != nil {
		return nil, err
	}
	if s.ln, err = net.Listen("tcp", cfg.Server.Listen); err != nil {
		return nil, fmt.Errorf("cannot listen on %q: %w", cfg.Server.Listen, err)
	}
	s.closers = append(s.closers, s.ln.Close)
	if opts.ConfigFile == "" {
		if cfg, err = parseDefault(s.ln.Addr().String()); err != nil {
			return nil, err
		}
		s.override(cfg)
	}
	s.configured = cfg.Server
	if cfg.Server.Auth != nil && cfg.Server.TLS == nil {
		logger.Warn("the server block has an auth block but no tls block: passwords and tokens cross the network in clear text")
	}
	cfg.Server.Listen = s.ln.Addr().String()
	if wt := cfg.Server.WriteTimeout; wt != 0 && wt <= cfg.Query.Timeout {
		return nil, fmt.Errorf("the server block's write_timeout (%s) must exceed the query block's timeout (%s), or answers to long queries are cut", wt, cfg.Query.Timeout)
	}

	build := s.build
	if opts.Agent {
		build = s.buildAgent
	}
	if err := build(cfg); err != nil {
		return nil, err
	}
	resolved, err := s.resolve(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := s.apply(ctx, resolved); err != nil {
		return nil, err
	}
	s.config.Store(resolved)
	return s, nil
}

// build opens the stores and makes every component, in the order they
// start.
func (s *Server) build(cfg *hclconfig.Config) error {
	var err error
	dataDir := cfg.Server.DataDir
	// The remote-write sender follows the store's write-ahead log, and the
	// store keeps the segments it has not read.
	if err := s.checkDisk(cfg); err != nil {
		return err
	}
	var key []byte
	if cfg.Server.EncryptionKeyFile != "" {
		if key, err = atrest.ReadKey(cfg.Server.EncryptionKeyFile); err != nil {
			return err
		}
	}
	s.sender = remote.NewSender(remote.SenderOptions{DataDir: dataDir, Logger: s.logger.Named("remote_write")})
	if s.db, err = tsdb.Open(dataDir, tsdb.Options{
		EncryptionKey:     key,
		SpaceCheck:        s.disk.Check,
		Retention:         cfg.Server.Retention,
		MaxExemplars:      int64(cfg.Server.MaxExemplars),
		SeriesIdleTimeout: cfg.Server.SeriesIdleTimeout,
		WALReader:         s.sender,
		Logger:            s.logger.Named("tsdb"),
	}); err != nil {
		s.sender.Close()
		return err
	}
	s.closers = append(s.closers, s.db.Close, s.sender.Close)
	// Queries, rules and federation read the store merged with the
	// remote_read blocks, as Prometheus's read its fanout storage; the
	// remote-read handler, exemplars and the admin API the store alone.
	s.reader = remote.NewReader(remote.ReaderOptions{Local: s.db, Logger: s.logger.Named("remote_read")})
	s.closers = append(s.closers, s.reader.Close)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), s.db.Collector(), s.disk.Collector())
	s.reloads = newReloadMetrics(reg)
	if s.engine, err = query.NewEngine(query.Options{
		Registerer:    reg,
		MaxSamples:    cfg.Query.MaxSamples,
		Timeout:       cfg.Query.Timeout,
		LookbackDelta: cfg.Query.LookbackDelta,
	}); err != nil {
		return err
	}
	s.closers = append(s.closers, s.engine.Close)
	if s.alertStore, err = alert.OpenStore(alert.StoreOptions{
		Dir: filepath.Join(dataDir, "alerts"), Logger: s.logger.Named("alerts"), Key: key, SpaceCheck: s.disk.Check,
	}); err != nil {
		return err
	}
	s.closers = append(s.closers, s.alertStore.Close)
	externalURL := cfg.Server.ExternalURL
	if externalURL == nil {
		externalURL = &url.URL{Scheme: "http", Host: s.ln.Addr().String(), Path: cfg.Server.RoutePrefix}
		if cfg.Server.TLS != nil {
			externalURL.Scheme = "https"
		}
	}

	s.plugins = pluginhost.New(pluginhost.Options{Logger: s.logger, CacheDir: filepath.Join(dataDir, "wasm-cache"), KeepCheckedPlugins: true})
	// Run stops the plugins; without Run, the plugins New's check kept
	// running stop with Close.
	s.closers = append(s.closers, s.plugins.Close)
	s.dispatcher = alert.NewDispatcher(alert.Options{
		Store: s.alertStore, Notifiers: s.plugins.Notifier, ExternalURL: externalURL.String(), Logger: s.logger.Named("dispatcher"),
	})
	s.forwarder = alert.NewForwarder(alert.ForwarderOptions{Registerer: reg, Logger: s.logger.Named("alertmanagers")})
	s.intake = alert.NewIntake(s.dispatcher, s.forwarder)
	s.rules = rules.New(rules.Options{
		Store: s.db, Queryable: s.reader.Queryable(), Engine: s.engine, Registerer: reg, Logger: s.logger.Named("rules"),
		ExternalURL: externalURL, Notify: s.intake.Send,
	})
	var sources []scrape.Source
	if cfg.Server.EnablePush {
		if s.push, err = push.Open(push.Options{
			Dir: filepath.Join(dataDir, "push"), TTL: cfg.Server.PushGroupTTL, MaxGroups: cfg.Server.PushMaxGroups,
			Logger: s.logger.Named("push"), EncryptionKey: key,
		}); err != nil {
			return err
		}
		s.closers = append(s.closers, s.push.Close)
		// The pushed groups are ingested as Prometheus ingests a
		// Pushgateway: a scrape of them at the global interval, with
		// honor_labels, as if of this server's /push/metrics.
		sources = append(sources, scrape.Source{
			Job: PushJob, Address: s.ln.Addr().String(), MetricsPath: "/push/metrics", HonorLabels: true, Exporter: s.push,
		})
	}
	s.scrapes = scrape.New(scrape.Options{Store: s.db, Exporters: s.plugins.Exporter, Sources: sources, Logger: s.logger})
	s.discovery = discovery.New(discovery.Options{Sink: s.scrapes, Discoverers: s.plugins.Discoverer, Logger: s.logger})
	reg.MustRegister(s.scrapes.Collector(), s.plugins.Metrics(), s.dispatcher.Collector())
	h, err := s.handler(cfg, reg)
	if err != nil {
		return err
	}
	if err := s.setHTTP(h, cfg); err != nil {
		return err
	}

	// Plugins start first and stop last: the scrapes, discoveries and
	// the dispatcher use them. The rules stop before the dispatcher, so
	// that no alert arrives after it stopped; the dispatcher stops before
	// the plugins, letting a delivery in progress finish. The remote-write
	// sender stops after everything that stores samples, sending what it
	// holds. The HTTP server stops first.
	s.components = []component{
		{"plugins", s.plugins.ApplyConfig, s.plugins.Run},
		{"remote write", s.sender.ApplyConfig, s.sender.Run},
		{"remote read", s.reader.ApplyConfig, nil},
		{"dispatcher", s.dispatcher.ApplyConfig, s.dispatcher.Run},
		{"alertmanagers", s.forwarder.ApplyConfig, s.forwarder.Run},
		{"alert intake", s.intake.ApplyConfig, nil},
		{"rules", s.rules.ApplyConfig, s.rules.Run},
		{"scrapes", s.scrapes.ApplyConfig, s.scrapes.Run},
		{"discovery", s.discovery.ApplyConfig, s.discovery.Run},
		{"http", nil, s.serve},
	}
	return nil
}

// checkDisk makes the disk guard of the data folder, and refuses to
// start when its filesystem has less free space than min_free_disk: the
// stores write as they open (badger's memory-mapped tables, the replay of
// the write-ahead log), and a write into a mapped page the full disk
// cannot hold would kill the process with SIGBUS, again at every restart.
func (s *Server) checkDisk(cfg *hclconfig.Config) error {
	dir := cfg.Server.DataDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create data directory %q: %w", dir, err)
	}
	s.disk = diskguard.New(diskguard.Options{Dir: dir, MinFree: uint64(cfg.Server.MinFreeDisk), Logger: s.logger.Named("disk")})
	if err := s.disk.Refresh(); err != nil {
		return fmt.Errorf("cannot start: %w; free space there, or lower server { min_free_disk }", err)
	}
	return nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Config returns the configuration in effect.
func (s *Server) Config() *hclconfig.Config { return s.config.Load() }

// Run runs the components until ctx ends or one of them fails, then stops
// them in the reverse order and releases the stores. It returns the first
// error a component returned.
func (s *Server) Run(ctx context.Context) error {
	cfg := s.config.Load()
	s.logger.Info("listening", "address", s.Addr(), "https", cfg.Server.TLS != nil, "auth", cfg.Server.Auth != nil,
		"data_dir", cfg.Server.DataDir, "scrapes", len(cfg.Scrapes), "agent", s.opts.Agent)
	err := runInOrder(ctx, s.components, s.logger)
	return errors.Join(err, s.Close())
}

// Close releases the listener and the stores. Run does it when it ends;
// call it only for a server that never ran.
func (s *Server) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	s.closers = nil
	return errors.Join(errs...)
}

// serve answers HTTP until ctx ends, then shuts the HTTP server down,
// letting requests in progress finish for up to 10 seconds.
func (s *Server) serve(ctx context.Context) error {
	served := make(chan error, 1)
	ln := s.ln
	if s.maxConnections > 0 {
		ln = netutil.LimitListener(ln, s.maxConnections)
	}
	go func() {
		if s.http.TLSConfig != nil {
			served <- s.http.ServeTLS(ln, "", "")
			return
		}
		served <- s.http.Serve(ln)
	}()
	select {
	case err := <-served:
		return fmt.Errorf("the HTTP server stopped: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.http.Shutdown(shutdownCtx); err != nil {
		s.logger.Error("cannot shut the HTTP server down cleanly", "error", err)
	}
	<-served
	return nil
}

// Reload reads the configuration file again and applies it; a
// configuration that is not valid is refused, logged, and the running one
// stays. Without a configuration file there is nothing to reload.
func (s *Server) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.reload()
	s.reloads.record(err == nil)
	if err != nil {
		s.logger.Error("reload refused; the running configuration stays", "error", err)
	}
	return err
}

func (s *Server) reload() error {
	if s.opts.ConfigFile == "" {
		s.logger.Info("no configuration file to reload")
		return nil
	}
	cfg, err := s.load()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resolved, err := s.resolve(ctx, cfg)
	if err != nil {
		return err
	}
	applied := false
	defer func() {
		if !applied {
			// Refused after the plugins were checked: the plugins the
			// check kept running for the new blocks stop.
			s.plugins.DiscardChecked()
		}
	}()
	// The auth block applies at once, as Prometheus reads its web
	// configuration at each request: users and tokens come and go
	// without a restart.
	running := s.config.Load()
	authChanged := !reflect.DeepEqual(resolved.Server.Auth, running.Server.Auth)
	var authn *auth.Authenticator
	if authChanged {
		if authn, err = s.newAuthenticator(resolved.Server.Auth); err != nil {
			return err
		}
	}
	applied = true
	if err := s.apply(ctx, resolved); err != nil {
		if authn != nil {
			authn.Close()
		}
		return err
	}
	if authChanged {
		if old := s.authn.Swap(authn); old != nil {
			old.Close()
		}
		s.logger.Info("the auth block applied", "auth", resolved.Server.Auth != nil)
	}
	// The exemplar storage is resized in place, as Prometheus resizes its
	// own on a reload, and the built-in dashboards come and go with
	// builtin_dashboards; the rest of the server block waits for a
	// restart.
	maxExemplars := resolved.Server.MaxExemplars
	if maxExemplars != running.Server.MaxExemplars && s.db != nil {
		if err := s.db.SetMaxExemplars(int64(maxExemplars)); err != nil {
			return err
		}
	}
	if !sameServer(resolved.Server, s.configured) || resolved.Query != running.Query {
		s.logger.Warn("the server and query blocks take effect at the next start")
	}
	if resolved.OTLP.Delta != running.OTLP.Delta {
		s.logger.Warn("the otlp block's delta takes effect at the next start")
	}
	authBlock, builtinDashboards := resolved.Server.Auth, resolved.Server.BuiltinDashboards
	resolved.Server, resolved.Query, resolved.OTLP.Delta = running.Server, running.Query, running.OTLP.Delta
	resolved.Server.MaxExemplars, resolved.Server.Auth = maxExemplars, authBlock
	resolved.Server.BuiltinDashboards = builtinDashboards
	s.config.Store(resolved)
	s.logger.Info("configuration reloaded", "file", s.opts.ConfigFile, "scrapes", len(resolved.Scrapes))
	return nil
}

// load loads the configuration file, or the default configuration
// without one, with the overrides of the options.
func (s *Server) load() (*hclconfig.Config, error) {
	cfg := &hclconfig.Config{Server: hclconfig.Server{
		Listen: hclconfig.DefaultListen, DataDir: hclconfig.DefaultDataDir,
		Retention: hclconfig.DefaultRetention, MaxExemplars: hclconfig.DefaultMaxExemplars,
		CORSOrigin:            hclconfig.DefaultCORSOrigin,
		PushBodySizeLimit:     hclconfig.DefaultPushBodySizeLimit,
		OTLPBodySizeLimit:     hclconfig.DefaultOTLPBodySizeLimit,
		SeriesIdleTimeout:     hclconfig.DefaultSeriesIdleTimeout,
		RemoteReadSampleLimit: hclconfig.DefaultRemoteReadSampleLimit, RemoteReadConcurrentLimit: hclconfig.DefaultRemoteReadConcurrentLimit,
		RemoteReadMaxBytesInFrame: hclconfig.DefaultRemoteReadMaxBytesInFrame,
		Audit:                     hclconfig.Audit{Enabled: true},
	}, OTLP: hclconfig.DefaultOTLP}
	if s.opts.ConfigFile != "" {
		var err error
		if cfg, err = hclconfig.LoadChecked(s.opts.ConfigFile, s.opts.Diagnostics); err != nil {
			return nil, err
		}
	}
	s.override(cfg)
	if s.opts.Agent {
		if err := cfg.CheckAgent(); err != nil {
			return nil, err
		}
		if len(cfg.RemoteWrites) == 0 {
			s.logger.Warn("the agent has no remote_write blocks: its samples go nowhere, and its log drops them after four hours")
		}
	}
	return cfg, nil
}

// parseDefault parses DefaultConfig for a server listening on addr.
func parseDefault(addr string) (*hclconfig.Config, error) {
	cfg, diags := hclconfig.Parse("<default>", fmt.Appendf(nil, DefaultConfig, addr))
	if diags.HasErrors() {
		return nil, fmt.Errorf("the default configuration is invalid: %s", diags.Error())
	}
	return cfg, nil
}

// override sets what the options give in cfg's server block.
func (s *Server) override(cfg *hclconfig.Config) {
	if s.opts.Listen != "" {
		cfg.Server.Listen = s.opts.Listen
	}
	if s.opts.DataDir != "" {
		cfg.Server.DataDir = s.opts.DataDir
	}
}

// resolve checks cfg's plugin configs against the plugins' schemas and
// returns cfg with them decoded.
func (s *Server) resolve(ctx context.Context, cfg *hclconfig.Config) (*hclconfig.Config, error) {
	resolved, diags := s.plugins.Resolve(ctx, cfg)
	if err := hclconfig.CheckDiagnostics("the plugin configuration", diags, s.opts.Diagnostics); err != nil {
		return nil, err
	}
	return resolved, nil
}

// apply hands cfg to every component, in order. The plugins come first:
// the others look their instances up. When the plugins refuse it,
// nothing else is applied.
func (s *Server) apply(ctx context.Context, cfg *hclconfig.Config) error {
	var errs []error
	for i, c := range s.components {
		if c.applyConfig == nil {
			continue
		}
		if err := c.applyConfig(ctx, cfg); err != nil {
			if i == 0 {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

// setHTTP makes the HTTP server of s, serving h with the timeouts and the
// connection limit of cfg's server block, and HTTPS only when it has a
// tls block.
func (s *Server) setHTTP(h http.Handler, cfg *hclconfig.Config) error {
	s.http = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.Server.ReadTimeout,
		WriteTimeout:      writeTimeout(cfg),
		ErrorLog:          s.logger.Named("http").StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Warn}),
	}
	s.maxConnections = cfg.Server.MaxConnections
	if cfg.Server.TLS != nil {
		tc, err := auth.TLSConfig(cfg.Server.TLS, s.logger.Named("tls"))
		if err != nil {
			return fmt.Errorf("the server block's %w", err)
		}
		s.http.TLSConfig = tc
	}
	return nil
}

// writeTimeout is how long answering a request may take: the server
// block's write_timeout, or the query timeout and a minute, so that an
// answer to the longest query has time to be written.
func writeTimeout(cfg *hclconfig.Config) time.Duration {
	if cfg.Server.WriteTimeout > 0 {
		return cfg.Server.WriteTimeout
	}
	return cfg.Query.Timeout + time.Minute
}

// sameServer says whether two server blocks say the same, leaving out
// max_exemplars and the auth block, which a reload applies.
func sameServer(a, b hclconfig.Server) bool {
	urlOf := func(u *url.URL) string {
		if u == nil {
			return ""
		}
		return u.String()
	}
	return a.Listen == b.Listen && a.DataDir == b.DataDir && a.Retention == b.Retention &&
		a.EnableAdminAPI == b.EnableAdminAPI && a.EnableLifecycle == b.EnableLifecycle && urlOf(a.ExternalURL) == urlOf(b.ExternalURL) && a.RoutePrefix == b.RoutePrefix &&
		a.CORSOrigin.String() == b.CORSOrigin.String() &&
		a.EnablePush == b.EnablePush && a.PushGroupTTL == b.PushGroupTTL &&
		a.PushBodySizeLimit == b.PushBodySizeLimit && a.PushMaxGroups == b.PushMaxGroups &&
		a.SeriesIdleTimeout == b.SeriesIdleTimeout &&
		a.ReadTimeout == b.ReadTimeout && a.WriteTimeout == b.WriteTimeout && a.MaxConnections == b.MaxConnections &&
		a.EnableRemoteWriteReceiver == b.EnableRemoteWriteReceiver &&
		a.EnableOTLPReceiver == b.EnableOTLPReceiver && a.OTLPBodySizeLimit == b.OTLPBodySizeLimit &&
		a.RemoteReadSampleLimit == b.RemoteReadSampleLimit &&
		a.RemoteReadConcurrentLimit == b.RemoteReadConcurrentLimit && a.RemoteReadMaxBytesInFrame == b.RemoteReadMaxBytesInFrame &&
		reflect.DeepEqual(a.TLS, b.TLS) && a.Audit == b.Audit
}

// externalLabels returns the external labels of the configuration in
// effect.
func (s *Server) externalLabels() labels.Labels {
	return labels.FromMap(s.config.Load().Global.ExternalLabels)
}
