//go:build linux

package main

import (
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

var (
	intr            = newFamily("node_intr_total", "Total number of interrupts serviced.", prometheus.CounterValue)
	contextSwitches = newFamily("node_context_switches_total", "Total number of context switches.", prometheus.CounterValue)
	forks           = newFamily("node_forks_total", "Total number of forks.", prometheus.CounterValue)
	bootTime        = newFamily("node_boot_time_seconds", "Node boot time, in unixtime.", prometheus.GaugeValue)
	procsRunning    = newFamily("node_procs_running", "Number of processes in runnable state.", prometheus.GaugeValue)
	procsBlocked    = newFamily("node_procs_blocked", "Number of processes blocked waiting for I/O to complete.", prometheus.GaugeValue)
)

// statCollector reports the kernel's counters of /proc/stat other than
// the CPUs' times: interrupts, context switches, forks, boot time and
// processes running or blocked.
type statCollector struct{ fs procfs.FS }

func newStatCollector(cfg *config, _ hclog.Logger) (collector, error) {
	fs, err := openProcfs(cfg)
	if err != nil {
		return nil, err
	}
	return statCollector{fs: fs}, nil
}

func (c statCollector) update(s *sink) error {
	st, err := c.fs.Stat()
	if err != nil {
		return fmt.Errorf("reading kernel statistics: %w", err)
	}
	s.send(intr, float64(st.IRQTotal))
	s.send(contextSwitches, float64(st.ContextSwitches))
	s.send(forks, float64(st.ProcessCreated))
	s.send(bootTime, float64(st.BootTime))
	s.send(procsRunning, float64(st.ProcessesRunning))
	s.send(procsBlocked, float64(st.ProcessesBlocked))
	return nil
}
