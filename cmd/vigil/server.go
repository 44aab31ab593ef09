package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/spf13/cobra"

	"github.com/vigilmon/vigil/core/alert"
	"github.com/vigilmon/vigil/core/api"
	"github.com/vigilmon/vigil/core/discovery"
	"github.com/vigilmon/vigil/core/pluginhost"
	"github.com/vigilmon/vigil/core/query"
	"github.com/vigilmon/vigil/core/rules"
	"github.com/vigilmon/vigil/core/scrape"
	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/hclconfig"
)

// defaultConfig is the configuration of `vigil server` without --config:
// Vigil scrapes its own metrics, so that a first query has data at once.
const defaultConfig = `global {
  scrape_interval = "15s"
}

scrape "vigil" {
  targets = [%q]
}
`

type serverFlags struct {
	config, listen, data string
}

func newServerCommand() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Vigil server",
		Long: `Run the server: scrape the configured targets into the store under the data
directory and answer the Prometheus HTTP API. Without --config it scrapes
itself. SIGHUP or POST /-/reload reload the configuration (a bad one is
refused and the running one stays); SIGTERM shuts down cleanly.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServer(cmd.Context(), f, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&f.config, "config", "", "the HCL configuration file (default: scrape itself)")
	cmd.Flags().StringVar(&f.listen, "listen", "", "the address to listen on, overriding the configuration (default 127.0.0.1:9090)")
	cmd.Flags().StringVar(&f.data, "data", "", "the data directory, overriding the configuration (default ./data)")
	return cmd
}

// server holds the running components.
type server struct {
	flags     serverFlags
	logger    hclog.Logger
	plugins   *pluginhost.Host
	scrapes   *scrape.Manager
	discovery *discovery.Manager
	rules     *rules.Manager
	alerts    *alert.Dispatcher
	forwarder *alert.Forwarder
	// configured is the server block the server started with, before its
	// listen address was resolved: reloads compare theirs with it.
	configured hclconfig.Server
	config     atomic.Pointer[hclconfig.Config] // in effect
	mu         sync.Mutex                       // serializes reloads
}

func runServer(ctx context.Context, f serverFlags, stderr io.Writer) error {
	logger := hclog.New(&hclog.LoggerOptions{Name: "vigil", Output: stderr, Level: hclog.Info})
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(hclconfig.DefaultGOGC)
	}
	var cfg *hclconfig.Config
	listen := hclconfig.DefaultListen
	if f.config != "" {
		c, err := loadConfig(f.config, stderr)
		if err != nil {
			return err
		}
		cfg, listen = c, c.Server.Listen
	}
	if f.listen != "" {
		listen = f.listen
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %q: %w", listen, err)
	}
	defer ln.Close()
	if cfg == nil {
		c, diags := hclconfig.Parse("<default>", []byte(fmt.Sprintf(defaultConfig, ln.Addr().String())))
		if diags.HasErrors() {
			return fmt.Errorf("the default configuration is invalid: %s", diags.Error())
		}
		cfg = c
	}
	f.override(cfg)
	configured := cfg.Server // as written, for reloads to compare
	cfg.Server.Listen = ln.Addr().String()

	db, err := tsdb.Open(cfg.Server.DataDir, tsdb.Options{Retention: cfg.Server.Retention, Logger: logger.Named("tsdb")})
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			logger.Error("cannot close the store", "error", err)
		}
	}()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), db.Collector())
	engine, err := query.NewEngine(query.Options{
		Registerer:    reg,
		MaxSamples:    cfg.Query.MaxSamples,
		Timeout:       cfg.Query.Timeout,
		LookbackDelta: cfg.Query.LookbackDelta,
	})
	if err != nil {
		return err
	}
	defer engine.Close()
	alertStore, err := alert.OpenStore(filepath.Join(cfg.Server.DataDir, "alerts"), logger.Named("alerts"))
	if err != nil {
		return err
	}
	defer func() {
		if err := alertStore.Close(); err != nil {
			logger.Error("cannot close the alert store", "error", err)
		}
	}()
	externalURL := cfg.Server.ExternalURL
	if externalURL == nil {
		externalURL = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	}
	plugins := pluginhost.NewHost(logger, filepath.Join(cfg.Server.DataDir, "wasm-cache"))
	dispatcher := alert.NewDispatcher(alert.Options{
		Store: alertStore, Notifiers: plugins.Notifier, ExternalURL: externalURL.String(), Logger: logger.Named("dispatcher"),
	})
	forwarder := alert.NewForwarder(reg, logger.Named("alertmanagers"))
	defer forwarder.Stop()
	s := &server{flags: f, logger: logger, scrapes: scrape.NewManager(db, logger),
		alerts: dispatcher, forwarder: forwarder, plugins: plugins, configured: configured}
	s.rules = rules.NewManager(rules.Options{
		Store: db, Engine: engine, Registerer: reg, Logger: logger.Named("rules"),
		ExternalURL: externalURL, Notify: s.notify,
	})
	defer s.rules.Stop() // before the store closes

	s.discovery = discovery.NewManager(s.scrapes, logger)
	s.scrapes.SetExporters(s.plugins.Exporter)
	reg.MustRegister(s.scrapes.Collector(), s.plugins.Metrics(), dispatcher.Collector())
	defer s.plugins.Close()
	defer dispatcher.Stop() // before the notifiers and the alert store close
	defer s.scrapes.Stop()
	defer s.discovery.Stop()
	if err := resolvePlugins(ctx, s.plugins, cfg, stderr); err != nil {
		return err
	}
	if err := s.apply(ctx, cfg); err != nil {
		return err
	}
	s.config.Store(cfg)
	s.rules.Run()
	pluginCtx, stopPlugins := context.WithCancel(context.Background())
	defer stopPlugins()
	go s.plugins.Run(pluginCtx)

	mux := http.NewServeMux()
	var admin api.Admin
	if cfg.Server.EnableAdminAPI {
		admin = db
	}
	api.New(api.Sources{
		Admin:       admin,
		SnapshotDir: filepath.Join(cfg.Server.DataDir, "snapshots"),
		Engine:      engine, Store: db, Stats: db.Stats, Targets: s.scrapes, Rules: s.rules, Silences: alertStore.Silences(), Alerts: dispatcher,
		Alertmanagers:        forwarder.Alertmanagers,
		ExternalLabels:       func() labels.Labels { return labels.FromMap(s.config.Load().Global.ExternalLabels) },
		Config:               func() *hclconfig.Config { return s.config.Load() },
		Flags:                map[string]string{"config": f.config, "listen": ln.Addr().String(), "data": cfg.Server.DataDir},
		MaxConcurrentQueries: cfg.Query.MaxConcurrency,
		Version:              versionString(), Logger: logger.Named("api"),
	}).Register(mux)
	api.RegisterUI(mux)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Vigil is Healthy.") })
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Vigil is Ready.") })
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.reload(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "configuration reloaded")
	})
	httpSrv := &http.Server{Handler: instrument(reg, mux), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	logger.Info("listening", "address", ln.Addr().String(), "data_dir", cfg.Server.DataDir, "scrapes", len(cfg.Scrapes))

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			logger.Info("shutting down")
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := httpSrv.Shutdown(shutdownCtx); err != nil {
				logger.Error("cannot shut the HTTP server down cleanly", "error", err)
			}
			return nil
		case <-hup:
			if err := s.reload(); err != nil {
				logger.Error("reload refused; the running configuration stays", "error", err)
			}
		case err := <-serveErr:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return fmt.Errorf("the HTTP server stopped: %w", err)
		}
	}
}

// reload reads the configuration file again and applies it. Without a
// configuration file there is nothing to reload.
func (s *server) reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flags.config == "" {
		s.logger.Info("no configuration file to reload")
		return nil
	}
	cfg, err := loadConfig(s.flags.config, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := resolvePlugins(ctx, s.plugins, cfg, nil); err != nil {
		return err
	}
	if err := s.apply(ctx, cfg); err != nil {
		return err
	}
	s.flags.override(cfg)
	running := s.config.Load()
	if !sameServer(cfg.Server, s.configured) || cfg.Query != running.Query {
		s.logger.Warn("the server and query blocks take effect at the next start")
	}
	cfg.Server, cfg.Query = running.Server, running.Query
	s.config.Store(cfg)
	s.logger.Info("configuration reloaded", "file", s.flags.config, "scrapes", len(cfg.Scrapes))
	return nil
}

// apply makes cfg's plugins, scrapes, discoveries, rules and alert
// routes the running ones.
func (s *server) apply(ctx context.Context, cfg *hclconfig.Config) error {
	if err := s.plugins.ApplyConfig(ctx, cfg); err != nil {
		return err
	}
	err := s.scrapes.ApplyConfig(cfg)
	s.discovery.ApplyConfig(cfg, s.plugins.Discoverer)
	return errors.Join(err, s.rules.ApplyConfig(cfg), s.alerts.ApplyConfig(cfg), s.forwarder.ApplyConfig(cfg))
}

// override sets what the flags give in cfg's server block.
func (f serverFlags) override(cfg *hclconfig.Config) {
	if f.listen != "" {
		cfg.Server.Listen = f.listen
	}
	if f.data != "" {
		cfg.Server.DataDir = f.data
	}
}

// sameServer says whether two server blocks say the same.
func sameServer(a, b hclconfig.Server) bool {
	urlOf := func(u *url.URL) string {
		if u == nil {
			return ""
		}
		return u.String()
	}
	return a.Listen == b.Listen && a.DataDir == b.DataDir && a.Retention == b.Retention &&
		a.EnableAdminAPI == b.EnableAdminAPI && urlOf(a.ExternalURL) == urlOf(b.ExternalURL)
}

// notify takes the alerts the rules send: with the external labels they
// lack added, as Prometheus adds them, they go to the dispatcher and to
// the external Alertmanagers.
func (s *server) notify(alerts []*alert.Alert) {
	external := s.config.Load().Global.ExternalLabels
	if len(external) > 0 {
		out := make([]*alert.Alert, len(alerts))
		for i, a := range alerts {
			b := labels.NewBuilder(a.Labels)
			for name, value := range external {
				if !a.Labels.Has(name) {
					b.Set(name, value)
				}
			}
			withLabels := *a
			withLabels.Labels = b.Labels()
			out[i] = &withLabels
		}
		alerts = out
	}
	s.alerts.Receive(alerts)
	s.forwarder.Send(alerts)
}

// resolvePlugins checks cfg's plugin configs against the plugins'
// schemas, as loadConfig reports the file's own mistakes.
func resolvePlugins(ctx context.Context, host *pluginhost.Host, cfg *hclconfig.Config, w io.Writer) error {
	diags := host.Resolve(ctx, cfg)
	if len(diags) == 0 {
		return nil
	}
	var text strings.Builder
	hclconfig.WriteDiagnostics(&text, diags)
	if w != nil {
		io.WriteString(w, text.String())
	}
	if diags.HasErrors() {
		return fmt.Errorf("the plugin configuration is not valid:\n%s", text.String())
	}
	return nil
}

// loadConfig loads file. Its diagnostics, as file:line:col with the
// source line, go to w when w is not nil, and into the error.
func loadConfig(file string, w io.Writer) (*hclconfig.Config, error) {
	cfg, diags := hclconfig.Load(file)
	if len(diags) == 0 {
		return cfg, nil
	}
	var text strings.Builder
	hclconfig.WriteDiagnostics(&text, diags)
	if w != nil {
		io.WriteString(w, text.String())
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("configuration %q is not valid:\n%s", file, text.String())
	}
	return cfg, nil
}

// instrument counts the HTTP requests the server answers and times them,
// by the route pattern that served them.
func instrument(reg prometheus.Registerer, mux *http.ServeMux) http.Handler {
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:                        "vigil_http_request_duration_seconds",
		Help:                        "Time taken to answer HTTP requests, by route.",
		Buckets:                     prometheus.DefBuckets,
		NativeHistogramBucketFactor: 1.1,
	}, []string{"handler"})
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigil_http_requests_total",
		Help: "HTTP requests answered, by route and status code.",
	}, []string{"handler", "code"})
	reg.MustRegister(duration, requests)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		if pattern == "" {
			pattern = "other"
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		mux.ServeHTTP(rec, r)
		duration.WithLabelValues(pattern).Observe(time.Since(start).Seconds())
		requests.WithLabelValues(pattern, fmt.Sprint(rec.status)).Inc()
	})
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Flush lets streaming handlers (pprof, federation) flush through.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
