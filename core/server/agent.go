package server

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/prometheus/tsdb/agent"

	"github.com/vigilmon/vigil/core/discovery"
	"github.com/vigilmon/vigil/core/pluginhost"
	"github.com/vigilmon/vigil/core/remote"
	"github.com/vigilmon/vigil/core/scrape"
	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/hclogslog"
)

// buildAgent makes the components of an agent: plugins, the remote-write
// sender, scrapes, discovery and the HTTP server. The samples go to
// upstream's agent DB (tsdb/agent), which keeps only the write-ahead log
// that the remote-write queues follow, and truncates it by the lowest
// timestamp they sent, as Prometheus's agent does.
func (s *Server) buildAgent(cfg *hclconfig.Config) error {
	dataDir := cfg.Server.DataDir
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.sender = remote.NewSender(remote.SenderOptions{DataDir: dataDir, Logger: s.logger.Named("remote_write")})
	db, err := agent.Open(hclogslog.New(s.logger.Named("wal")), reg, s.sender.Storage(), dataDir, agent.DefaultOptions())
	if err != nil {
		s.sender.Close()
		return fmt.Errorf("cannot open the write-ahead log in %q: %w", dataDir, err)
	}
	db.SetWriteNotified(s.sender)
	s.agentDB = db
	s.closers = append(s.closers, db.Close, s.sender.Close)
	s.reloads = newReloadMetrics(reg)

	s.plugins = pluginhost.New(pluginhost.Options{Logger: s.logger, CacheDir: filepath.Join(dataDir, "wasm-cache")})
	s.scrapes = scrape.New(scrape.Options{Store: db, Exporters: s.plugins.Exporter, Logger: s.logger})
	s.discovery = discovery.New(discovery.Options{Sink: s.scrapes, Discoverers: s.plugins.Discoverer, Logger: s.logger})
	reg.MustRegister(s.scrapes.Collector(), s.plugins.Metrics())
	s.http = &http.Server{
		Handler:           s.agentHandler(cfg, reg),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.Server.ReadTimeout,
		WriteTimeout:      writeTimeout(cfg),
	}
	s.maxConnections = cfg.Server.MaxConnections
	// As in a server: the plugins first, the sender before what stores
	// samples, so that it stops after them, sending what it holds.
	s.components = []component{
		{"plugins", s.plugins.ApplyConfig, s.plugins.Run},
		{"remote write", s.sender.ApplyConfig, s.sender.Run},
		{"scrapes", s.scrapes.ApplyConfig, s.scrapes.Run},
		{"discovery", s.discovery.ApplyConfig, s.discovery.Run},
		{"http", nil, s.serve},
	}
	return nil
}

// checkAgent refuses a configuration with blocks an agent cannot honour:
// it keeps no store, so it evaluates no rules and sends no alerts, and
// takes no pushes or remote writes. Prometheus's agent refuses rule_files
// the same way.
func checkAgent(cfg *hclconfig.Config) error {
	var errs []error
	refuse := func(what string) {
		errs = append(errs, fmt.Errorf("%s: not available in agent mode, which only scrapes and remote-writes", what))
	}
	for _, g := range cfg.RuleGroups {
		refuse(fmt.Sprintf("rules block %q", g.Name))
	}
	if len(cfg.RuleFiles) > 0 {
		refuse("rule_files")
	}
	if cfg.Route != nil {
		refuse("route block")
	}
	if len(cfg.Inhibits) > 0 {
		refuse("inhibit block")
	}
	for _, n := range cfg.Notifiers {
		refuse(fmt.Sprintf("notifier block %q", n.Name))
	}
	if len(cfg.Alertmanagers) > 0 {
		refuse("alertmanager block")
	}
	if cfg.Server.EnablePush {
		refuse("server block's enable_push")
	}
	if cfg.Server.EnableRemoteWriteReceiver {
		refuse("server block's enable_remote_write_receiver")
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("the configuration %q cannot run as an agent: %w", cfg.File, err)
	}
	return nil
}
