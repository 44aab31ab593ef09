//go:build linux

package main

import (
	"fmt"
	"regexp"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

// netdevCollector reports each network device's counters, from
// /proc/net/dev, as node_network_<statistic>_total{device}.
type netdevCollector struct {
	fs      procfs.FS
	exclude *regexp.Regexp
}

func newNetdevCollector(cfg *config, _ hclog.Logger) (collector, error) {
	fs, err := openProcfs(cfg)
	if err != nil {
		return nil, err
	}
	return netdevCollector{fs: fs, exclude: cfg.netdevDeviceExclude}, nil
}

// netdevStatistics are the columns of /proc/net/dev under node_exporter's
// names.
var netdevStatistics = []struct {
	family family
	value  func(*procfs.NetDevLine) uint64
}{
	{netdevFamily("receive_bytes"), func(l *procfs.NetDevLine) uint64 { return l.RxBytes }},
	{netdevFamily("receive_packets"), func(l *procfs.NetDevLine) uint64 { return l.RxPackets }},
	{netdevFamily("receive_errs"), func(l *procfs.NetDevLine) uint64 { return l.RxErrors }},
	{netdevFamily("receive_drop"), func(l *procfs.NetDevLine) uint64 { return l.RxDropped }},
	{netdevFamily("receive_fifo"), func(l *procfs.NetDevLine) uint64 { return l.RxFIFO }},
	{netdevFamily("receive_frame"), func(l *procfs.NetDevLine) uint64 { return l.RxFrame }},
	{netdevFamily("receive_compressed"), func(l *procfs.NetDevLine) uint64 { return l.RxCompressed }},
	{netdevFamily("receive_multicast"), func(l *procfs.NetDevLine) uint64 { return l.RxMulticast }},
	{netdevFamily("transmit_bytes"), func(l *procfs.NetDevLine) uint64 { return l.TxBytes }},
	{netdevFamily("transmit_packets"), func(l *procfs.NetDevLine) uint64 { return l.TxPackets }},
	{netdevFamily("transmit_errs"), func(l *procfs.NetDevLine) uint64 { return l.TxErrors }},
	{netdevFamily("transmit_drop"), func(l *procfs.NetDevLine) uint64 { return l.TxDropped }},
	{netdevFamily("transmit_fifo"), func(l *procfs.NetDevLine) uint64 { return l.TxFIFO }},
	{netdevFamily("transmit_colls"), func(l *procfs.NetDevLine) uint64 { return l.TxCollisions }},
	{netdevFamily("transmit_carrier"), func(l *procfs.NetDevLine) uint64 { return l.TxCarrier }},
	{netdevFamily("transmit_compressed"), func(l *procfs.NetDevLine) uint64 { return l.TxCompressed }},
}

// netdevFamily describes the counter of one statistic of /proc/net/dev.
func netdevFamily(statistic string) family {
	return newFamily("node_network_"+statistic+"_total", "Network device statistic "+statistic+".",
		prometheus.CounterValue, "device")
}

func (c netdevCollector) update(s *sink) error {
	devices, err := c.fs.NetDev()
	if err != nil {
		return fmt.Errorf("reading network device statistics: %w", err)
	}
	for name, line := range devices {
		if excluded(c.exclude, name) {
			continue
		}
		for _, st := range netdevStatistics {
			s.send(st.family, float64(st.value(&line)), name)
		}
	}
	return nil
}
