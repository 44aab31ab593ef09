package server

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

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
	// A server's store keeps its own log in the same wal folder, with
	// records upstream's agent DB would take for damage and cut away.
	if _, err := os.Stat(filepath.Join(dataDir, "MANIFEST")); err == nil {
		return fmt.Errorf("the data directory %q holds a server's store: an agent needs a directory of its own", dataDir)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The sender sends, when it starts, what the queues had not sent when
	// the agent stopped, holding the scrapes back while its queues start.
	hold := &sync.RWMutex{}
	s.sender = remote.NewSender(remote.SenderOptions{DataDir: dataDir, Logger: s.logger.Named("remote_write"), Resume: true, Hold: hold})
	db, err := agent.Open(hclogslog.New(s.logger.Named("wal")), reg, s.sender.Storage(), dataDir, agent.DefaultOptions())
	if err != nil {
		s.sender.Close()
		return fmt.Errorf("cannot open the write-ahead log in %q: %w", dataDir, err)
	}
	db.SetWriteNotified(s.sender)
	s.agentDB = db
	s.closers = append(s.closers, db.Close, s.sender.Close)
	s.reloads = newReloadMetrics(reg)

	s.plugins = pluginhost.New(pluginhost.Options{Logger: s.logger, CacheDir: filepath.Join(dataDir, "wasm-cache"), KeepCheckedPlugins: true})
	s.closers = append(s.closers, s.plugins.Close) // as in a server
	s.scrapes = scrape.New(scrape.Options{Store: db, Exporters: s.plugins.Exporter, Logger: s.logger, Hold: hold})
	s.discovery = discovery.New(discovery.Options{Sink: s.scrapes, Discoverers: s.plugins.Discoverer, Logger: s.logger})
	reg.MustRegister(s.scrapes.Collector(), s.plugins.Metrics())
	h, err := s.agentHandler(cfg, reg)
	if err != nil {
		return err
	}
	if err := s.setHTTP(h, cfg); err != nil {
		return err
	}
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
