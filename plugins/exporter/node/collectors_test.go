//go:build linux

package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

// only is the config of the fixtures running one collector.
func only(name string, attrs map[string]any) map[string]any {
	if attrs == nil {
		attrs = map[string]any{}
	}
	attrs["collectors"] = []string{name}
	return fixtureConfig(attrs)
}

func TestCPU(t *testing.T) {
	n := newTestNode(t, only("cpu", nil))
	// /proc/stat counts in 1/100 s.
	expectText(t, gatherText(t, n), `
		# HELP node_cpu_guest_seconds_total Seconds the CPUs spent in guests (VMs) for each mode.
		# TYPE node_cpu_guest_seconds_total counter
		node_cpu_guest_seconds_total{cpu="0",mode="nice"} 0.36
		node_cpu_guest_seconds_total{cpu="0",mode="user"} 0.44
		node_cpu_guest_seconds_total{cpu="1",mode="nice"} 0
		node_cpu_guest_seconds_total{cpu="1",mode="user"} 0
		# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
		# TYPE node_cpu_seconds_total counter
		node_cpu_seconds_total{cpu="0",mode="idle"} 10870.69
		node_cpu_seconds_total{cpu="0",mode="iowait"} 2.2
		node_cpu_seconds_total{cpu="0",mode="irq"} 0.01
		node_cpu_seconds_total{cpu="0",mode="nice"} 0.19
		node_cpu_seconds_total{cpu="0",mode="softirq"} 34.1
		node_cpu_seconds_total{cpu="0",mode="steal"} 0
		node_cpu_seconds_total{cpu="0",mode="system"} 210.45
		node_cpu_seconds_total{cpu="0",mode="user"} 444.9
		node_cpu_seconds_total{cpu="1",mode="idle"} 11107.87
		node_cpu_seconds_total{cpu="1",mode="iowait"} 5.91
		node_cpu_seconds_total{cpu="1",mode="irq"} 0
		node_cpu_seconds_total{cpu="1",mode="nice"} 0.23
		node_cpu_seconds_total{cpu="1",mode="softirq"} 0.46
		node_cpu_seconds_total{cpu="1",mode="steal"} 0
		node_cpu_seconds_total{cpu="1",mode="system"} 164.74
		node_cpu_seconds_total{cpu="1",mode="user"} 478.69
		# HELP node_scrape_collector_success Whether a collector succeeded.
		# TYPE node_scrape_collector_success gauge
		node_scrape_collector_success{collector="cpu"} 1
	`)
}

// The kernel's CPU times can go back a little; the counters stay put,
// unless idle time went back so far that the CPU must be a new one.
func TestCPUCountersDoNotGoBack(t *testing.T) {
	c := &cpuCollector{}
	c.monotonic(map[int64]procfs.CPUStat{0: {User: 10, Idle: 100, Iowait: 5}, 1: {User: 1, Idle: 50}})

	got := c.monotonic(map[int64]procfs.CPUStat{0: {User: 11, Idle: 99.5, Iowait: 4.9}, 1: {User: 2, Idle: 51}})
	if want := (procfs.CPUStat{User: 11, Idle: 100, Iowait: 5}); got[0] != want {
		t.Errorf("cpu 0 after a small step back: %+v, want %+v", got[0], want)
	}
	if want := (procfs.CPUStat{User: 2, Idle: 51}); got[1] != want {
		t.Errorf("cpu 1: %+v, want %+v", got[1], want)
	}

	// CPU 1 went away; CPU 0 was replaced (idle fell by 3s or more).
	got = c.monotonic(map[int64]procfs.CPUStat{0: {User: 1, Idle: 2}})
	if want := (procfs.CPUStat{User: 1, Idle: 2}); len(got) != 1 || got[0] != want {
		t.Errorf("after a hot-plug: %+v, want only cpu 0 at %+v", got, want)
	}
}

func TestLoadavg(t *testing.T) {
	n := newTestNode(t, only("loadavg", nil))
	expectText(t, gatherText(t, n), `
		# HELP node_load1 1m load average.
		# TYPE node_load1 gauge
		node_load1 0.21
		# HELP node_load15 15m load average.
		# TYPE node_load15 gauge
		node_load15 0.39
		# HELP node_load5 5m load average.
		# TYPE node_load5 gauge
		node_load5 0.37
		# HELP node_scrape_collector_success Whether a collector succeeded.
		# TYPE node_scrape_collector_success gauge
		node_scrape_collector_success{collector="loadavg"} 1
	`)
}

func TestMeminfo(t *testing.T) {
	n := newTestNode(t, only("meminfo", nil))
	// Fields in kB are given in bytes; HugePages_* are counts.
	expectText(t, gatherText(t, n), `
		# HELP node_memory_Active_anon_bytes Memory information field Active_anon_bytes.
		# TYPE node_memory_Active_anon_bytes gauge
		node_memory_Active_anon_bytes 5493895168
		# HELP node_memory_Active_bytes Memory information field Active_bytes.
		# TYPE node_memory_Active_bytes gauge
		node_memory_Active_bytes 6923546624
		# HELP node_memory_Buffers_bytes Memory information field Buffers_bytes.
		# TYPE node_memory_Buffers_bytes gauge
		node_memory_Buffers_bytes 1044611072
		# HELP node_memory_Cached_bytes Memory information field Cached_bytes.
		# TYPE node_memory_Cached_bytes gauge
		node_memory_Cached_bytes 7028477952
		# HELP node_memory_Committed_AS_bytes Memory information field Committed_AS_bytes.
		# TYPE node_memory_Committed_AS_bytes gauge
		node_memory_Committed_AS_bytes 12398710784
		# HELP node_memory_HugePages_Free Memory information field HugePages_Free.
		# TYPE node_memory_HugePages_Free gauge
		node_memory_HugePages_Free 2
		# HELP node_memory_HugePages_Total Memory information field HugePages_Total.
		# TYPE node_memory_HugePages_Total gauge
		node_memory_HugePages_Total 4
		# HELP node_memory_Hugepagesize_bytes Memory information field Hugepagesize_bytes.
		# TYPE node_memory_Hugepagesize_bytes gauge
		node_memory_Hugepagesize_bytes 2097152
		# HELP node_memory_Inactive_anon_bytes Memory information field Inactive_anon_bytes.
		# TYPE node_memory_Inactive_anon_bytes gauge
		node_memory_Inactive_anon_bytes 226521088
		# HELP node_memory_Inactive_bytes Memory information field Inactive_bytes.
		# TYPE node_memory_Inactive_bytes gauge
		node_memory_Inactive_bytes 6689492992
		# HELP node_memory_MemAvailable_bytes Memory information field MemAvailable_bytes.
		# TYPE node_memory_MemAvailable_bytes gauge
		node_memory_MemAvailable_bytes 8780476416
		# HELP node_memory_MemFree_bytes Memory information field MemFree_bytes.
		# TYPE node_memory_MemFree_bytes gauge
		node_memory_MemFree_bytes 450891776
		# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes.
		# TYPE node_memory_MemTotal_bytes gauge
		node_memory_MemTotal_bytes 16042172416
		# HELP node_memory_SwapCached_bytes Memory information field SwapCached_bytes.
		# TYPE node_memory_SwapCached_bytes gauge
		node_memory_SwapCached_bytes 0
		# HELP node_memory_SwapFree_bytes Memory information field SwapFree_bytes.
		# TYPE node_memory_SwapFree_bytes gauge
		node_memory_SwapFree_bytes 8409575424
		# HELP node_memory_SwapTotal_bytes Memory information field SwapTotal_bytes.
		# TYPE node_memory_SwapTotal_bytes gauge
		node_memory_SwapTotal_bytes 8409575424
		# HELP node_scrape_collector_success Whether a collector succeeded.
		# TYPE node_scrape_collector_success gauge
		node_scrape_collector_success{collector="meminfo"} 1
	`)
}

func TestNetdev(t *testing.T) {
	n := newTestNode(t, only("netdev", map[string]any{"netdev_device_exclude": "^docker"}))
	expectText(t, gatherText(t, n), `
		# HELP node_network_receive_bytes_total Network device statistic receive_bytes.
		# TYPE node_network_receive_bytes_total counter
		node_network_receive_bytes_total{device="eth0"} 68210035552
		node_network_receive_bytes_total{device="lo"} 435303245
		# HELP node_network_receive_compressed_total Network device statistic receive_compressed.
		# TYPE node_network_receive_compressed_total counter
		node_network_receive_compressed_total{device="eth0"} 5
		node_network_receive_compressed_total{device="lo"} 0
		# HELP node_network_receive_drop_total Network device statistic receive_drop.
		# TYPE node_network_receive_drop_total counter
		node_network_receive_drop_total{device="eth0"} 12
		node_network_receive_drop_total{device="lo"} 0
		# HELP node_network_receive_errs_total Network device statistic receive_errs.
		# TYPE node_network_receive_errs_total counter
		node_network_receive_errs_total{device="eth0"} 1
		node_network_receive_errs_total{device="lo"} 0
		# HELP node_network_receive_fifo_total Network device statistic receive_fifo.
		# TYPE node_network_receive_fifo_total counter
		node_network_receive_fifo_total{device="eth0"} 3
		node_network_receive_fifo_total{device="lo"} 0
		# HELP node_network_receive_frame_total Network device statistic receive_frame.
		# TYPE node_network_receive_frame_total counter
		node_network_receive_frame_total{device="eth0"} 4
		node_network_receive_frame_total{device="lo"} 0
		# HELP node_network_receive_multicast_total Network device statistic receive_multicast.
		# TYPE node_network_receive_multicast_total counter
		node_network_receive_multicast_total{device="eth0"} 1234
		node_network_receive_multicast_total{device="lo"} 0
		# HELP node_network_receive_packets_total Network device statistic receive_packets.
		# TYPE node_network_receive_packets_total counter
		node_network_receive_packets_total{device="eth0"} 520993275
		node_network_receive_packets_total{device="lo"} 1832522
		# HELP node_network_transmit_bytes_total Network device statistic transmit_bytes.
		# TYPE node_network_transmit_bytes_total counter
		node_network_transmit_bytes_total{device="eth0"} 9315587528
		node_network_transmit_bytes_total{device="lo"} 435303245
		# HELP node_network_transmit_carrier_total Network device statistic transmit_carrier.
		# TYPE node_network_transmit_carrier_total counter
		node_network_transmit_carrier_total{device="eth0"} 10
		node_network_transmit_carrier_total{device="lo"} 0
		# HELP node_network_transmit_colls_total Network device statistic transmit_colls.
		# TYPE node_network_transmit_colls_total counter
		node_network_transmit_colls_total{device="eth0"} 9
		node_network_transmit_colls_total{device="lo"} 0
		# HELP node_network_transmit_compressed_total Network device statistic transmit_compressed.
		# TYPE node_network_transmit_compressed_total counter
		node_network_transmit_compressed_total{device="eth0"} 11
		node_network_transmit_compressed_total{device="lo"} 0
		# HELP node_network_transmit_drop_total Network device statistic transmit_drop.
		# TYPE node_network_transmit_drop_total counter
		node_network_transmit_drop_total{device="eth0"} 7
		node_network_transmit_drop_total{device="lo"} 0
		# HELP node_network_transmit_errs_total Network device statistic transmit_errs.
		# TYPE node_network_transmit_errs_total counter
		node_network_transmit_errs_total{device="eth0"} 6
		node_network_transmit_errs_total{device="lo"} 0
		# HELP node_network_transmit_fifo_total Network device statistic transmit_fifo.
		# TYPE node_network_transmit_fifo_total counter
		node_network_transmit_fifo_total{device="eth0"} 8
		node_network_transmit_fifo_total{device="lo"} 0
		# HELP node_network_transmit_packets_total Network device statistic transmit_packets.
		# TYPE node_network_transmit_packets_total counter
		node_network_transmit_packets_total{device="eth0"} 43451486
		node_network_transmit_packets_total{device="lo"} 1832522
		# HELP node_scrape_collector_success Whether a collector succeeded.
		# TYPE node_scrape_collector_success gauge
		node_scrape_collector_success{collector="netdev"} 1
	`)
}

func TestDiskstats(t *testing.T) {
	n := newTestNode(t, only("diskstats", nil))
	// Partitions, loop devices and RAM disks are left out by default. sda
	// has the 17 statistics of recent kernels, nvme0n1 the 15 of 4.18 and
	// sdb the 11 of older ones. Sectors are 512 bytes, times milliseconds.
	expectText(t, gatherText(t, n), `
		# HELP node_disk_discard_time_seconds_total This is the total number of seconds spent by all discards.
		# TYPE node_disk_discard_time_seconds_total counter
		node_disk_discard_time_seconds_total{device="nvme0n1"} 0.32
		node_disk_discard_time_seconds_total{device="sda"} 0.005
		# HELP node_disk_discarded_sectors_total The total number of sectors discarded successfully.
		# TYPE node_disk_discarded_sectors_total counter
		node_disk_discarded_sectors_total{device="nvme0n1"} 1024000
		node_disk_discarded_sectors_total{device="sda"} 2048
		# HELP node_disk_discards_completed_total The total number of discards completed successfully.
		# TYPE node_disk_discards_completed_total counter
		node_disk_discards_completed_total{device="nvme0n1"} 8000
		node_disk_discards_completed_total{device="sda"} 7
		# HELP node_disk_discards_merged_total The total number of discards merged.
		# TYPE node_disk_discards_merged_total counter
		node_disk_discards_merged_total{device="nvme0n1"} 0
		node_disk_discards_merged_total{device="sda"} 1
		# HELP node_disk_flush_requests_time_seconds_total This is the total number of seconds spent by all flush requests.
		# TYPE node_disk_flush_requests_time_seconds_total counter
		node_disk_flush_requests_time_seconds_total{device="sda"} 6.431
		# HELP node_disk_flush_requests_total The total number of flush requests completed successfully
		# TYPE node_disk_flush_requests_total counter
		node_disk_flush_requests_total{device="sda"} 1322
		# HELP node_disk_io_now The number of I/Os currently in progress.
		# TYPE node_disk_io_now gauge
		node_disk_io_now{device="nvme0n1"} 0
		node_disk_io_now{device="sda"} 2
		node_disk_io_now{device="sdb"} 0
		# HELP node_disk_io_time_seconds_total Total seconds spent doing I/Os.
		# TYPE node_disk_io_time_seconds_total counter
		node_disk_io_time_seconds_total{device="nvme0n1"} 580.7
		node_disk_io_time_seconds_total{device="sda"} 38.936
		node_disk_io_time_seconds_total{device="sdb"} 60.73
		# HELP node_disk_io_time_weighted_seconds_total The weighted # of seconds spent doing I/Os.
		# TYPE node_disk_io_time_weighted_seconds_total counter
		node_disk_io_time_weighted_seconds_total{device="nvme0n1"} 2181.85
		node_disk_io_time_weighted_seconds_total{device="sda"} 58.836
		node_disk_io_time_weighted_seconds_total{device="sdb"} 67.07
		# HELP node_disk_read_bytes_total The total number of bytes read successfully.
		# TYPE node_disk_read_bytes_total counter
		node_disk_read_bytes_total{device="nvme0n1"} 2377714176
		node_disk_read_bytes_total{device="sda"} 751084544
		node_disk_read_bytes_total{device="sdb"} 4944782848
		# HELP node_disk_read_time_seconds_total The total number of seconds spent by all reads.
		# TYPE node_disk_read_time_seconds_total counter
		node_disk_read_time_seconds_total{device="nvme0n1"} 21.65
		node_disk_read_time_seconds_total{device="sda"} 11.36
		node_disk_read_time_seconds_total{device="sdb"} 0.084
		# HELP node_disk_reads_completed_total The total number of reads completed successfully.
		# TYPE node_disk_reads_completed_total counter
		node_disk_reads_completed_total{device="nvme0n1"} 47114
		node_disk_reads_completed_total{device="sda"} 25354
		node_disk_reads_completed_total{device="sdb"} 326552
		# HELP node_disk_reads_merged_total The total number of reads merged.
		# TYPE node_disk_reads_merged_total counter
		node_disk_reads_merged_total{device="nvme0n1"} 4
		node_disk_reads_merged_total{device="sda"} 6813
		node_disk_reads_merged_total{device="sdb"} 841
		# HELP node_disk_write_time_seconds_total This is the total number of seconds spent by all writes.
		# TYPE node_disk_write_time_seconds_total counter
		node_disk_write_time_seconds_total{device="nvme0n1"} 2124.13
		node_disk_write_time_seconds_total{device="sda"} 41.044
		node_disk_write_time_seconds_total{device="sdb"} 5.007
		# HELP node_disk_writes_completed_total The total number of writes completed successfully.
		# TYPE node_disk_writes_completed_total counter
		node_disk_writes_completed_total{device="nvme0n1"} 1235495
		node_disk_writes_completed_total{device="sda"} 12893
		node_disk_writes_completed_total{device="sdb"} 41822
		# HELP node_disk_writes_merged_total The number of writes merged.
		# TYPE node_disk_writes_merged_total counter
		node_disk_writes_merged_total{device="nvme0n1"} 14137
		node_disk_writes_merged_total{device="sda"} 14837
		node_disk_writes_merged_total{device="sdb"} 2895
		# HELP node_disk_written_bytes_total The total number of bytes written successfully.
		# TYPE node_disk_written_bytes_total counter
		node_disk_written_bytes_total{device="nvme0n1"} 33167000576
		node_disk_written_bytes_total{device="sda"} 463421440
		node_disk_written_bytes_total{device="sdb"} 1010127360
		# HELP node_scrape_collector_success Whether a collector succeeded.
		# TYPE node_scrape_collector_success gauge
		node_scrape_collector_success{collector="diskstats"} 1
	`)

	// With no filter, the partitions and loop device are there too.
	n = newTestNode(t, only("diskstats", map[string]any{"diskstats_device_exclude": ""}))
	got := gatherText(t, n)
	for _, dev := range []string{"loop0", "sda1", "nvme0n1p1"} {
		if !strings.Contains(got, `node_disk_reads_completed_total{device="`+dev+`"}`) {
			t.Errorf("no %s without a filter:\n%s", dev, got)
		}
	}
}

func TestStat(t *testing.T) {
	n := newTestNode(t, only("stat", nil))
	expectText(t, gatherText(t, n), `
		# HELP node_boot_time_seconds Node boot time, in unixtime.
		# TYPE node_boot_time_seconds gauge
		node_boot_time_seconds 1418183276
		# HELP node_context_switches_total Total number of context switches.
		# TYPE node_context_switches_total counter
		node_context_switches_total 38014093
		# HELP node_forks_total Total number of forks.
		# TYPE node_forks_total counter
		node_forks_total 26442
		# HELP node_intr_total Total number of interrupts serviced.
		# TYPE node_intr_total counter
		node_intr_total 8885917
		# HELP node_procs_blocked Number of processes blocked waiting for I/O to complete.
		# TYPE node_procs_blocked gauge
		node_procs_blocked 1
		# HELP node_procs_running Number of processes in runnable state.
		# TYPE node_procs_running gauge
		node_procs_running 2
		# HELP node_scrape_collector_success Whether a collector succeeded.
		# TYPE node_scrape_collector_success gauge
		node_scrape_collector_success{collector="stat"} 1
	`)
}

func TestTime(t *testing.T) {
	n := newTestNode(t, only("time", nil))
	n.collectors[0].c.(*timeCollector).now = func() time.Time {
		return time.Unix(1700000000, 250_000_000).In(time.FixedZone("CET", 3600))
	}
	expectText(t, gatherText(t, n), `
		# HELP node_scrape_collector_success Whether a collector succeeded.
		# TYPE node_scrape_collector_success gauge
		node_scrape_collector_success{collector="time"} 1
		# HELP node_time_clocksource_available_info Available clocksources read from '/sys/devices/system/clocksource'.
		# TYPE node_time_clocksource_available_info gauge
		node_time_clocksource_available_info{clocksource="acpi_pm",device="0"} 1
		node_time_clocksource_available_info{clocksource="hpet",device="0"} 1
		node_time_clocksource_available_info{clocksource="tsc",device="0"} 1
		# HELP node_time_clocksource_current_info Current clocksource read from '/sys/devices/system/clocksource'.
		# TYPE node_time_clocksource_current_info gauge
		node_time_clocksource_current_info{clocksource="tsc",device="0"} 1
		# HELP node_time_seconds System time in seconds since epoch (1970).
		# TYPE node_time_seconds gauge
		node_time_seconds 1700000000.25
		# HELP node_time_zone_offset_seconds System time zone offset in seconds.
		# TYPE node_time_zone_offset_seconds gauge
		node_time_zone_offset_seconds{time_zone="CET"} 3600
	`)
}

func TestUname(t *testing.T) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	n := newTestNode(t, only("uname", nil))
	expectText(t, gatherText(t, n), fmt.Sprintf(`
		# HELP node_scrape_collector_success Whether a collector succeeded.
		# TYPE node_scrape_collector_success gauge
		node_scrape_collector_success{collector="uname"} 1
		# HELP node_uname_info Labeled system information as provided by the uname system call.
		# TYPE node_uname_info gauge
		node_uname_info{domainname=%q,machine=%q,nodename=%q,release=%q,sysname="Linux",version=%q} 1
	`, unix.ByteSliceToString(u.Domainname[:]), unix.ByteSliceToString(u.Machine[:]), unix.ByteSliceToString(u.Nodename[:]),
		unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Version[:])))
}
