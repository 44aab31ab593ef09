package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/scrape"
	"github.com/prometheus/prometheus/storage"
	promtsdb "github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/compression"

	"github.com/vigilmon/vigil/bench/harness"
)

// prometheusSide is the upstream scrape path: the scrape.Manager of the
// Prometheus module, fed static target groups over its channel as the
// discovery manager feeds it, configured from YAML with the server's
// defaults, appending through AppenderV2 to the upstream TSDB opened as the
// Prometheus server opens it.
var prometheusSide = side{
	name:           "prometheus",
	open:           openUpstream,
	start:          startUpstream,
	appendedMetric: "prometheus_tsdb_head_samples_appended_total",
	seriesMetric:   "prometheus_tsdb_head_series",
}

// openUpstream opens an upstream TSDB in dir with the defaults of the
// Prometheus server: tsdb.DefaultOptions plus snappy WAL compression.
func openUpstream(dir string) (storage.Storage, *prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	opts := promtsdb.DefaultOptions()
	opts.WALCompression = compression.Snappy
	db, err := promtsdb.Open(dir, slog.New(slog.DiscardHandler), reg, opts, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("open upstream tsdb in %s: %w", dir, err)
	}
	return db, reg, nil
}

// upstreamConfig is the YAML configuration of the benchmark's one scrape
// job; its targets come from the target group channel.
func upstreamConfig(spec childSpec) string {
	return fmt.Sprintf(`global:
  scrape_interval: %s
  scrape_timeout: %s
scrape_configs:
  - job_name: %s
`, model.Duration(spec.Interval), model.Duration(spec.Timeout), jobName)
}

// startUpstream sets GOGC as the Prometheus server does, starts an upstream
// scrape.Manager, sends it one static target group holding the spec's
// targets and waits until every target is active. Warnings and errors are
// logged to stderr.
func startUpstream(spec childSpec, db storage.Storage, reg *prometheus.Registry) (func(), error) {
	appendable, ok := db.(storage.AppendableV2)
	if !ok {
		return nil, fmt.Errorf("upstream tsdb %T is not a storage.AppendableV2", db)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := promconfig.Load(upstreamConfig(spec), logger)
	if err != nil {
		return nil, fmt.Errorf("load upstream scrape configuration: %w", err)
	}
	// The Prometheus server applies its runtime configuration's GOGC (75
	// unless the GOGC variable says otherwise) at start.
	debug.SetGCPercent(cfg.Runtime.GoGC)
	m, err := scrape.NewManager(&scrape.Options{DiscoveryReloadOnStartup: true}, logger, nil, nil, appendable, reg)
	if err != nil {
		return nil, fmt.Errorf("create upstream scrape manager: %w", err)
	}
	if err := m.ApplyConfig(cfg); err != nil {
		return nil, fmt.Errorf("apply upstream scrape configuration: %w", err)
	}
	group := &targetgroup.Group{Source: "bench"}
	for _, t := range spec.Targets {
		group.Targets = append(group.Targets, model.LabelSet{model.AddressLabel: model.LabelValue(t)})
	}
	tsets := make(chan map[string][]*targetgroup.Group, 1)
	tsets <- map[string][]*targetgroup.Group{jobName: {group}}
	done := make(chan error, 1)
	go func() { done <- m.Run(tsets) }()
	stop := func() {
		m.Stop()
		if err := <-done; err != nil {
			harness.Logf("prometheus: scrape manager: %v", err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(m.TargetsActive()[jobName]) < len(spec.Targets) {
		if time.Now().After(deadline) {
			n := len(m.TargetsActive()[jobName])
			stop()
			return nil, fmt.Errorf("upstream scrape manager runs %d targets after 10s, want %d", n, len(spec.Targets))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return stop, nil
}
