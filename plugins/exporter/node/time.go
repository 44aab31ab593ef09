//go:build linux

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/sysfs"
)

var (
	timeSeconds    = newFamily("node_time_seconds", "System time in seconds since epoch (1970).", prometheus.GaugeValue)
	timeZoneOffset = newFamily("node_time_zone_offset_seconds", "System time zone offset in seconds.",
		prometheus.GaugeValue, "time_zone")
	clocksourceAvailable = newFamily("node_time_clocksource_available_info",
		"Available clocksources read from '/sys/devices/system/clocksource'.", prometheus.GaugeValue, "clocksource", "device")
	clocksourceCurrent = newFamily("node_time_clocksource_current_info",
		"Current clocksource read from '/sys/devices/system/clocksource'.", prometheus.GaugeValue, "clocksource", "device")
)

// timeCollector reports the system time, its zone, and the kernel's
// clock sources from /sys/devices/system/clocksource.
type timeCollector struct {
	fs sysfs.FS
	// now is time.Now, but for tests.
	now func() time.Time
}

func newTimeCollector(cfg *config, _ hclog.Logger) (collector, error) {
	sys, err := sysfs.NewFS(cfg.sysPath)
	if err != nil {
		return nil, pathError(attrSysfsPath, cfg.sysPath, err)
	}
	return &timeCollector{fs: sys, now: time.Now}, nil
}

func (c *timeCollector) update(s *sink) error {
	now := c.now()
	s.send(timeSeconds, float64(now.Unix())+float64(now.Nanosecond())/1e9)
	zone, offset := now.Zone()
	s.send(timeZoneOffset, float64(offset), zone)

	sources, err := c.fs.ClockSources()
	if errors.Is(err, fs.ErrNotExist) {
		return nil // a kernel without clock sources in sysfs
	}
	if err != nil {
		return fmt.Errorf("reading clock sources: %w", err)
	}
	for _, src := range sources {
		for _, name := range src.Available {
			s.send(clocksourceAvailable, 1, name, src.Name)
		}
		s.send(clocksourceCurrent, 1, src.Current, src.Name)
	}
	return nil
}
