package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigilmon/vigil/core/api"
	"github.com/vigilmon/vigil/core/auth"
	"github.com/vigilmon/vigil/core/push"
	"github.com/vigilmon/vigil/core/remote"
	"github.com/vigilmon/vigil/core/tenant"
	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/httprec"
)

// handler serves the API, the UI, /metrics, profiles, and the health,
// readiness and reload endpoints.
func (s *Server) handler(cfg *hclconfig.Config, reg *prometheus.Registry) (http.Handler, error) {
	mux := newRoutes()
	var admin api.Admin
	if cfg.Server.EnableAdminAPI {
		admin = s.db
	}
	api.New(api.Sources{
		Admin:       admin,
		SnapshotDir: filepath.Join(cfg.Server.DataDir, "snapshots"),
		// What the API reads is confined, request by request, to the
		// tenant of its user, if any.
		Engine: s.engine, Store: tenant.ByContext(s.reader.Queryable()), Exemplars: tenant.ExemplarsByContext(s.db),
		Stats: s.db.Stats, Targets: s.scrapes, Rules: s.rules,
		Silences: s.alertStore.Silences(), Alerts: s.dispatcher,
		Alertmanagers:        s.forwarder.Alertmanagers,
		Plugins:              s.plugins.Status,
		ExternalLabels:       s.externalLabels,
		Config:               s.Config,
		Flags:                map[string]string{"config": s.opts.ConfigFile, "listen": s.Addr(), "data": cfg.Server.DataDir},
		MaxConcurrentQueries: cfg.Query.MaxConcurrency,
		MaxQueryLength:       cfg.Query.MaxQueryLength,
		QueryTimeout:         cfg.Query.Timeout,
		CORSOrigin:           corsOrigin(cfg.Server),
		Version:              s.opts.Version, Revision: s.opts.Revision, Logger: s.logger.Named("api"),
	}).Register(mux)
	api.RegisterUI(mux, cfg.Server.RoutePrefix)
	if s.push != nil {
		push.NewHandler(s.push, push.HandlerOptions{
			MaxBodyBytes: cfg.Server.PushBodySizeLimit, EnableWipe: cfg.Server.EnableAdminAPI, SpaceCheck: s.disk.Check, Logger: s.logger.Named("push"),
		}).Register(mux)
	}
	if cfg.Server.EnableRemoteWriteReceiver {
		mux.Handle("POST /api/v1/write", remote.NewWriteHandler(s.logger.Named("remote_write_receiver"), reg, s.db))
	} else {
		mux.HandleFunc("POST /api/v1/write", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "remote write receiver needs to be enabled with server { enable_remote_write_receiver = true }", http.StatusNotFound)
		})
	}
	if cfg.Server.EnableOTLPReceiver {
		mux.Handle("POST /api/v1/otlp/v1/metrics", remote.NewOTLPHandler(s.logger.Named("otlp_receiver"), reg, s.db, remote.OTLPOptions{
			Config:        func() hclconfig.OTLP { return s.config.Load().OTLP },
			ConvertDelta:  cfg.OTLP.Delta == hclconfig.OTLPDeltaConvert,
			LookbackDelta: cfg.Query.LookbackDelta,
			MaxBodyBytes:  cfg.Server.OTLPBodySizeLimit,
		}))
	} else {
		mux.HandleFunc("POST /api/v1/otlp/v1/metrics", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "OTLP receiver needs to be enabled with server { enable_otlp_receiver = true }", http.StatusNotFound)
		})
	}
	mux.Handle("POST /api/v1/read", remote.NewReadHandler(s.logger.Named("remote_read"), reg, tenant.SampleAndChunksByContext(s.db), s.externalLabels, remote.ReadLimits{
		SampleLimit:     cfg.Server.RemoteReadSampleLimit,
		ConcurrentLimit: cfg.Server.RemoteReadConcurrentLimit,
		MaxBytesInFrame: int(cfg.Server.RemoteReadMaxBytesInFrame),
	}))
	s.handleCommon(mux, reg, cfg.Server)
	return s.guard(cfg, reg, mux)
}

// agentHandler serves what an agent answers: the targets, the status
// endpoints, /metrics, profiles, and the health, readiness and reload
// endpoints; the endpoints that need a store say they are not available.
func (s *Server) agentHandler(cfg *hclconfig.Config, reg *prometheus.Registry) (http.Handler, error) {
	mux := newRoutes()
	api.New(api.Sources{
		Agent:          true,
		Targets:        s.scrapes,
		Plugins:        s.plugins.Status,
		ExternalLabels: s.externalLabels,
		Config:         s.Config,
		Flags:          map[string]string{"config": s.opts.ConfigFile, "listen": s.Addr(), "data": cfg.Server.DataDir, "agent": "true"},
		CORSOrigin:     corsOrigin(cfg.Server),
		Version:        s.opts.Version, Revision: s.opts.Revision, Logger: s.logger.Named("api"),
	}).Register(mux)
	api.RegisterUI(mux, cfg.Server.RoutePrefix)
	for _, pattern := range []string{"POST /api/v1/write", "POST /api/v1/read"} {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "not available in agent mode", http.StatusNotFound)
		})
	}
	s.handleCommon(mux, reg, cfg.Server)
	return s.guard(cfg, reg, mux)
}

// newAuthenticator makes the Authenticator of the server block's auth
// block; nil without one.
func (s *Server) newAuthenticator(cfg *hclconfig.Auth) (*auth.Authenticator, error) {
	if cfg == nil {
		return nil, nil
	}
	authn, err := auth.New(context.Background(), cfg, s.logger.Named("auth"))
	if err != nil {
		return nil, fmt.Errorf("the server block's auth: %w", err)
	}
	return authn, nil
}

// guard wraps the routes of mux: the cross-origin protection, the
// metrics of the requests, then who may use each route (the server
// block's auth block) and the audit log of the changes. It refuses a
// route that routeAccess does not list.
func (s *Server) guard(cfg *hclconfig.Config, reg *prometheus.Registry, mux *routes) (http.Handler, error) {
	if err := mux.check(); err != nil {
		return nil, err
	}
	s.routePatterns = mux.patterns
	g := &auth.Guard{
		Route: mux.access, Auth: s.authn.Load, Logger: s.logger.Named("auth"),
		Confines: func(route string) bool { return confinedRoutes[route] },
	}
	authn, err := s.newAuthenticator(cfg.Server.Auth)
	if err != nil {
		return nil, err
	}
	s.authn.Store(authn)
	s.closers = append(s.closers, func() error {
		if a := s.authn.Load(); a != nil {
			return a.Close()
		}
		return nil
	})
	audit, err := auth.OpenAudit(cfg.Server.Audit, cfg.Server.DataDir, s.logger)
	if err != nil {
		return nil, fmt.Errorf("the server block's audit: %w", err)
	}
	if audit != nil {
		s.closers = append(s.closers, audit.Close)
		g.Audit = audit
	}
	return underPrefix(cfg.Server.RoutePrefix, crossOriginProtection().Handler(instrument(reg, mux.mux, g.Handler(mux.mux)))), nil
}

// underPrefix serves h under the path prefix (the server block's
// route_prefix), as Prometheus serves its routes under --web.route-prefix:
// a request for a path below prefix reaches h without the prefix, prefix
// itself and / are redirected to prefix/, and other paths are not found.
// An empty prefix serves h at the root.
func underPrefix(prefix string, h http.Handler) http.Handler {
	if prefix == "" {
		return h
	}
	below := http.StripPrefix(prefix, h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, prefix+"/"):
			below.ServeHTTP(w, r)
		case p == prefix || p == "/":
			target := prefix + "/"
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, target, http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})
}

// handleCommon adds what servers and agents both answer: /metrics,
// profiles, and the health, readiness and reload endpoints. The reload
// endpoint reloads only with the server block's enable_lifecycle, as
// Prometheus's only with --web.enable-lifecycle: a request that can
// change what runs is not served to anyone who can reach the port unless
// asked for.
func (s *Server) handleCommon(mux *routes, reg *prometheus.Registry, cfg hclconfig.Server) {
	mux.Handle("GET /metrics", promhttp.HandlerFor(prometheus.Gatherers{reg, s.sender.Gatherer(), remote.ReadMetrics()}, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Vigil is Healthy.") })
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.disk.Check(); err != nil {
			http.Error(w, "Vigil is not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Vigil is Ready.")
	})
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, _ *http.Request) {
		if !cfg.EnableLifecycle {
			http.Error(w, "Lifecycle API is not enabled: set server { enable_lifecycle = true } to reload with POST /-/reload, or send SIGHUP", http.StatusForbidden)
			return
		}
		if err := s.Reload(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "configuration reloaded")
	})
}

// corsOrigin says whether web pages of an origin may read the API, by
// the server block's cors_origin.
func corsOrigin(s hclconfig.Server) func(string) bool {
	if s.CORSOrigin.Regexp == nil {
		return nil
	}
	return s.CORSOrigin.MatchString
}

// crossOriginProtection refuses, with 403, the requests that change state
// (POST, PUT, DELETE) which a browser sends from a page of another origin,
// as a form or a script of any web site can: a silence, a reload, an
// alert, an admin call. It knows them by the Sec-Fetch-Site and Origin
// headers browsers add; clients that are not browsers (curl, amtool,
// Grafana's server, promtool) send neither and pass. The POSTs that only
// read, such as queries, pass from every origin, as in Prometheus.
func crossOriginProtection() *http.CrossOriginProtection {
	p := http.NewCrossOriginProtection()
	for _, pattern := range api.ReadPOSTPatterns() {
		p.AddInsecureBypassPattern(pattern)
	}
	return p
}

// instrument counts the HTTP requests h answers and times them, by the
// route pattern of mux that served them.
func instrument(reg prometheus.Registerer, mux *http.ServeMux, h http.Handler) http.Handler {
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
		rec := httprec.New(w)
		start := time.Now()
		h.ServeHTTP(rec, r)
		duration.WithLabelValues(pattern).Observe(time.Since(start).Seconds())
		requests.WithLabelValues(pattern, fmt.Sprint(rec.Status)).Inc()
	})
}
