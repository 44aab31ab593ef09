//go:build linux

package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"

	"github.com/vigilmon/vigil/sdk"
)

// collector is one of node_exporter's collectors: it reads one source
// and sends its metrics.
type collector interface {
	// update sends the collector's metrics to s, and returns why it could
	// not send them all.
	update(s *sink) error
}

// factories make each collector from the config; a path the collector
// cannot use is an *sdk.AttributeError naming its attribute.
var factories = map[string]func(*config, hclog.Logger) (collector, error){
	"cpu":        newCPUCollector,
	"loadavg":    newLoadavgCollector,
	"meminfo":    newMeminfoCollector,
	"filesystem": newFilesystemCollector,
	"netdev":     newNetdevCollector,
	"diskstats":  newDiskstatsCollector,
	"stat":       newStatCollector,
	"uname":      newUnameCollector,
	"time":       newTimeCollector,
}

// newExporter is the plugin's constructor: it checks the config and
// serves the chosen collectors through a client_golang registry.
func newExporter(cfg sdk.Config) (sdk.Exporter, error) {
	reg, err := newRegistry(cfg, sdk.Logger())
	if err != nil {
		return nil, err
	}
	return sdk.GathererExporter(reg), nil
}

// newRegistry returns a registry holding the collectors cfg asks for.
func newRegistry(cfg sdk.Config, logger hclog.Logger) (*prometheus.Registry, error) {
	c, err := parseConfig(cfg)
	if err != nil {
		return nil, err
	}
	node, err := newNodeCollector(c, logger)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(node); err != nil {
		return nil, fmt.Errorf("registering the collectors: %w", err)
	}
	return reg, nil
}

// The metrics node_exporter reports about each of its collectors.
var (
	scrapeDuration = newFamily("node_scrape_collector_duration_seconds", "Duration of a collector scrape.",
		prometheus.GaugeValue, "collector")
	scrapeSuccess = newFamily("node_scrape_collector_success", "Whether a collector succeeded.",
		prometheus.GaugeValue, "collector")
)

// nodeCollector runs the chosen collectors in parallel on each
// collection, as node_exporter does: a collector that fails reports
// node_scrape_collector_success 0 and the others are not affected.
type nodeCollector struct {
	collectors []namedCollector
	logger     hclog.Logger
}

// namedCollector is a collector under the name configs give it.
type namedCollector struct {
	name string
	c    collector
}

// newNodeCollector makes the collectors cfg lists.
func newNodeCollector(cfg *config, logger hclog.Logger) (*nodeCollector, error) {
	n := &nodeCollector{logger: logger}
	for _, name := range cfg.collectors {
		c, err := factories[name](cfg, logger.Named(name))
		if err != nil {
			return nil, fmt.Errorf("collector %s: %w", name, err)
		}
		n.collectors = append(n.collectors, namedCollector{name: name, c: c})
	}
	return n, nil
}

// Describe implements prometheus.Collector. It describes only the scrape
// metrics: what the collectors report depends on the host.
func (n *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- scrapeDuration.desc
	ch <- scrapeSuccess.desc
}

// Collect implements prometheus.Collector.
func (n *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, nc := range n.collectors {
		wg.Go(func() {
			start := time.Now()
			err := run(nc.c, ch)
			duration := time.Since(start).Seconds()
			success := 1.0
			if err != nil {
				success = 0
				n.logger.Warn("collector failed", "collector", nc.name, "duration_seconds", duration, "error", err)
			}
			ch <- prometheus.MustNewConstMetric(scrapeDuration.desc, scrapeDuration.typ, duration, nc.name)
			ch <- prometheus.MustNewConstMetric(scrapeSuccess.desc, scrapeSuccess.typ, success, nc.name)
		})
	}
	wg.Wait()
}

// run runs one collector's update. A panic, such as procfs indexing a
// malformed line, fails the collector rather than the plugin.
func run(c collector, ch chan<- prometheus.Metric) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	s := &sink{ch: ch}
	if err := c.update(s); err != nil {
		return err
	}
	return s.failed()
}

// family is a metric family as a collector sends it.
type family struct {
	name string
	desc *prometheus.Desc
	typ  prometheus.ValueType
}

// newFamily describes a family of metrics with the given labels.
func newFamily(name, help string, typ prometheus.ValueType, labels ...string) family {
	return family{name: name, desc: prometheus.NewDesc(name, help, labels, nil), typ: typ}
}

// sink passes one collector's metrics on; several goroutines may send to
// it. A metric that cannot be made, for a label value that is not UTF-8
// say, is left out and fails the collector, not the whole collection.
type sink struct {
	ch chan<- prometheus.Metric

	mu  sync.Mutex
	err error // the first metric that could not be made
}

// send sends a sample of f with the values of f's labels.
func (s *sink) send(f family, value float64, labelValues ...string) {
	m, err := prometheus.NewConstMetric(f.desc, f.typ, value, labelValues...)
	if err != nil {
		s.mu.Lock()
		if s.err == nil {
			s.err = fmt.Errorf("%s: %w", f.name, err)
		}
		s.mu.Unlock()
		return
	}
	s.ch <- m
}

// failed returns the error of the first metric that could not be made.
func (s *sink) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// openProcfs opens the config's proc filesystem.
func openProcfs(cfg *config) (procfs.FS, error) {
	fs, err := procfs.NewFS(cfg.procPath)
	if err != nil {
		return procfs.FS{}, pathError(attrProcfsPath, cfg.procPath, err)
	}
	return fs, nil
}
