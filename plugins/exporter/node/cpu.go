//go:build linux

package main

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

var (
	cpuSeconds = newFamily("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.",
		prometheus.CounterValue, "cpu", "mode")
	cpuGuestSeconds = newFamily("node_cpu_guest_seconds_total", "Seconds the CPUs spent in guests (VMs) for each mode.",
		prometheus.CounterValue, "cpu", "mode")
)

// cpuJumpBackSeconds is how far a CPU's idle time may fall before the CPU
// counts as a new one (hot-plugged) whose counters start again.
const cpuJumpBackSeconds = 3.0

// cpuCollector reports the time each CPU spent in each mode, from
// /proc/stat.
type cpuCollector struct {
	fs procfs.FS

	mu sync.Mutex
	// last are the values reported last, per CPU: the kernel's counters
	// can go back a little (iowait and idle notably), and counters must
	// not.
	last map[int64]procfs.CPUStat
}

func newCPUCollector(cfg *config, _ hclog.Logger) (collector, error) {
	fs, err := openProcfs(cfg)
	if err != nil {
		return nil, err
	}
	return &cpuCollector{fs: fs}, nil
}

func (c *cpuCollector) update(s *sink) error {
	stat, err := c.fs.Stat()
	if err != nil {
		return fmt.Errorf("reading CPU statistics: %w", err)
	}
	for id, cpu := range c.monotonic(stat.CPU) {
		label := strconv.FormatInt(id, 10)
		for _, m := range []struct {
			mode  string
			value float64
		}{
			{"user", cpu.User}, {"nice", cpu.Nice}, {"system", cpu.System}, {"idle", cpu.Idle},
			{"iowait", cpu.Iowait}, {"irq", cpu.IRQ}, {"softirq", cpu.SoftIRQ}, {"steal", cpu.Steal},
		} {
			s.send(cpuSeconds, m.value, label, m.mode)
		}
		s.send(cpuGuestSeconds, cpu.Guest, label, "user")
		s.send(cpuGuestSeconds, cpu.GuestNice, label, "nice")
	}
	return nil
}

// monotonic returns the CPUs' times, each no lower than reported last
// unless idle time fell by cpuJumpBackSeconds or more, which means the
// CPU was replaced. CPUs no longer there are forgotten.
func (c *cpuCollector) monotonic(now map[int64]procfs.CPUStat) map[int64]procfs.CPUStat {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := make(map[int64]procfs.CPUStat, len(now))
	for id, n := range now {
		prev := c.last[id]
		if prev.Idle-n.Idle >= cpuJumpBackSeconds {
			prev = procfs.CPUStat{}
		}
		next[id] = procfs.CPUStat{
			User:      max(prev.User, n.User),
			Nice:      max(prev.Nice, n.Nice),
			System:    max(prev.System, n.System),
			Idle:      max(prev.Idle, n.Idle),
			Iowait:    max(prev.Iowait, n.Iowait),
			IRQ:       max(prev.IRQ, n.IRQ),
			SoftIRQ:   max(prev.SoftIRQ, n.SoftIRQ),
			Steal:     max(prev.Steal, n.Steal),
			Guest:     max(prev.Guest, n.Guest),
			GuestNice: max(prev.GuestNice, n.GuestNice),
		}
	}
	c.last = next
	return next
}
