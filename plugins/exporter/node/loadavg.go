//go:build linux

package main

import (
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

var (
	load1  = newFamily("node_load1", "1m load average.", prometheus.GaugeValue)
	load5  = newFamily("node_load5", "5m load average.", prometheus.GaugeValue)
	load15 = newFamily("node_load15", "15m load average.", prometheus.GaugeValue)
)

// loadavgCollector reports the load averages, from /proc/loadavg.
type loadavgCollector struct{ fs procfs.FS }

func newLoadavgCollector(cfg *config, _ hclog.Logger) (collector, error) {
	fs, err := openProcfs(cfg)
	if err != nil {
		return nil, err
	}
	return loadavgCollector{fs: fs}, nil
}

func (c loadavgCollector) update(s *sink) error {
	load, err := c.fs.LoadAvg()
	if err != nil {
		return fmt.Errorf("reading load averages: %w", err)
	}
	s.send(load1, load.Load1)
	s.send(load5, load.Load5)
	s.send(load15, load.Load15)
	return nil
}
