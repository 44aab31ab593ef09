//go:build linux

package main

import (
	"fmt"
	"regexp"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/blockdevice"
)

// sectorBytes is the size of the sectors /proc/diskstats counts, whatever
// the device's own.
const sectorBytes = 512

// diskstatsFamilies are node_exporter's disk metrics, in the order of the
// statistics of a line of /proc/diskstats. Older kernels write fewer
// statistics; those they lack are not reported.
var diskstatsFamilies = []family{
	diskFamily("reads_completed_total", "The total number of reads completed successfully.", prometheus.CounterValue),
	diskFamily("reads_merged_total", "The total number of reads merged.", prometheus.CounterValue),
	diskFamily("read_bytes_total", "The total number of bytes read successfully.", prometheus.CounterValue),
	diskFamily("read_time_seconds_total", "The total number of seconds spent by all reads.", prometheus.CounterValue),
	diskFamily("writes_completed_total", "The total number of writes completed successfully.", prometheus.CounterValue),
	diskFamily("writes_merged_total", "The number of writes merged.", prometheus.CounterValue),
	diskFamily("written_bytes_total", "The total number of bytes written successfully.", prometheus.CounterValue),
	diskFamily("write_time_seconds_total", "This is the total number of seconds spent by all writes.", prometheus.CounterValue),
	diskFamily("io_now", "The number of I/Os currently in progress.", prometheus.GaugeValue),
	diskFamily("io_time_seconds_total", "Total seconds spent doing I/Os.", prometheus.CounterValue),
	diskFamily("io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", prometheus.CounterValue),
	diskFamily("discards_completed_total", "The total number of discards completed successfully.", prometheus.CounterValue),
	diskFamily("discards_merged_total", "The total number of discards merged.", prometheus.CounterValue),
	diskFamily("discarded_sectors_total", "The total number of sectors discarded successfully.", prometheus.CounterValue),
	diskFamily("discard_time_seconds_total", "This is the total number of seconds spent by all discards.", prometheus.CounterValue),
	diskFamily("flush_requests_total", "The total number of flush requests completed successfully", prometheus.CounterValue),
	diskFamily("flush_requests_time_seconds_total", "This is the total number of seconds spent by all flush requests.", prometheus.CounterValue),
}

// diskFamily describes a disk metric, labelled by device.
func diskFamily(name, help string, typ prometheus.ValueType) family {
	return newFamily("node_disk_"+name, help, typ, "device")
}

// diskstatsCollector reports each block device's I/O statistics, from
// /proc/diskstats.
type diskstatsCollector struct {
	fs      blockdevice.FS
	exclude *regexp.Regexp
}

func newDiskstatsCollector(cfg *config, _ hclog.Logger) (collector, error) {
	if _, err := openProcfs(cfg); err != nil {
		return nil, err
	}
	fs, err := blockdevice.NewFS(cfg.procPath, cfg.sysPath)
	if err != nil {
		return nil, pathError(attrSysfsPath, cfg.sysPath, err)
	}
	return diskstatsCollector{fs: fs, exclude: cfg.diskstatsDeviceExclude}, nil
}

func (c diskstatsCollector) update(s *sink) error {
	disks, err := c.fs.ProcDiskstats()
	if err != nil {
		return fmt.Errorf("reading disk statistics: %w", err)
	}
	for _, d := range disks {
		if excluded(c.exclude, d.DeviceName) {
			continue
		}
		seconds := func(ms uint64) float64 { return float64(ms) / 1000 }
		values := []float64{
			float64(d.ReadIOs),
			float64(d.ReadMerges),
			float64(d.ReadSectors) * sectorBytes,
			seconds(d.ReadTicks),
			float64(d.WriteIOs),
			float64(d.WriteMerges),
			float64(d.WriteSectors) * sectorBytes,
			seconds(d.WriteTicks),
			float64(d.IOsInProgress),
			seconds(d.IOsTotalTicks),
			seconds(d.WeightedIOTicks),
			float64(d.DiscardIOs),
			float64(d.DiscardMerges),
			float64(d.DiscardSectors),
			seconds(d.DiscardTicks),
			float64(d.FlushRequestsCompleted),
			seconds(d.TimeSpentFlushing),
		}
		// The line's fields less major, minor and name.
		n := min(d.IoStatsCount-3, len(values))
		for i, v := range values[:n] {
			s.send(diskstatsFamilies[i], v, d.DeviceName)
		}
	}
	return nil
}
