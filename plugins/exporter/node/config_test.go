//go:build linux

package main

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilmon/vigil/sdk"
)

func TestCollectorNamesHaveFactories(t *testing.T) {
	if got, want := slices.Sorted(maps.Keys(factories)), slices.Sorted(slices.Values(collectorNames)); !slices.Equal(got, want) {
		t.Errorf("factories %v, collector names %v", got, want)
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := schema.Values(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.collectors, collectorNames) || c.procPath != "/proc" || c.sysPath != "/sys" || c.rootfsPath != "/" {
		t.Errorf("defaults %+v", c)
	}
	if c.netdevDeviceExclude != nil {
		t.Errorf("netdev devices are filtered by default: %v", c.netdevDeviceExclude)
	}
	for _, tc := range []struct {
		filter    *regexp.Regexp
		excluded  []string
		reported  []string
		attribute string
	}{
		{c.mountPointsExclude, []string{"/proc", "/sys/fs/cgroup", "/dev", "/run/credentials/x.service", "/var/lib/docker/overlay2/a/merged"},
			[]string{"/", "/home", "/run", "/var/lib/docker", "/devices"}, attrMountPointsExclude},
		{c.fsTypesExclude, []string{"proc", "sysfs", "cgroup2", "overlay", "tracefs", "squashfs"},
			[]string{"ext4", "xfs", "tmpfs", "nfs4", "btrfs"}, attrFSTypesExclude},
		{c.diskstatsDeviceExclude, []string{"sda1", "nvme0n1p2", "loop0", "ram0", "zram0", "xvda1", "vdb3"},
			[]string{"sda", "nvme0n1", "dm-0", "md0", "vda"}, attrDiskstatsDeviceExclude},
	} {
		for _, s := range tc.excluded {
			if !excluded(tc.filter, s) {
				t.Errorf("%s: %q is not left out", tc.attribute, s)
			}
		}
		for _, s := range tc.reported {
			if excluded(tc.filter, s) {
				t.Errorf("%s: %q is left out", tc.attribute, s)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		config    map[string]any
		attribute string
		message   string
	}{
		{map[string]any{"collectors": []string{"cpu", "nosuch"}}, "collectors", `"nosuch"`},
		{map[string]any{"collectors": []string{"cpu", "cpu"}}, "collectors", "twice"},
		{map[string]any{"filesystem_mount_points_exclude": "("}, "filesystem_mount_points_exclude", "regular expression"},
		{map[string]any{"filesystem_fs_types_exclude": "[a-"}, "filesystem_fs_types_exclude", "regular expression"},
		{map[string]any{"netdev_device_exclude": "*"}, "netdev_device_exclude", "regular expression"},
		{map[string]any{"diskstats_device_exclude": `\`}, "diskstats_device_exclude", "regular expression"},
		{map[string]any{"procfs_path": ""}, "procfs_path", "empty"},
		{map[string]any{"procfs_path": missing, "collectors": []string{"loadavg"}}, "procfs_path", missing},
		{map[string]any{"sysfs_path": missing, "collectors": []string{"time"}}, "sysfs_path", missing},
		{map[string]any{"sysfs_path": missing, "collectors": []string{"diskstats"}}, "sysfs_path", missing},
		{map[string]any{"rootfs_path": missing, "collectors": []string{"filesystem"}}, "rootfs_path", missing},
		{map[string]any{"rootfs_path": file, "collectors": []string{"filesystem"}}, "rootfs_path", "not a directory"},
	} {
		cfg, err := schema.Values(fixtureConfig(tc.config))
		if err == nil {
			_, err = newRegistry(cfg, hclog.NewNullLogger())
		}
		var ae *sdk.AttributeError
		if !errors.As(err, &ae) || ae.Attribute != tc.attribute || !strings.Contains(err.Error(), tc.message) {
			t.Errorf("%v: %v, want an error about %s saying %q", tc.config, err, tc.attribute, tc.message)
		}
	}
}

// A collector that fails, or panics on a malformed file, reports
// node_scrape_collector_success 0; the others are not affected.
func TestFailingCollector(t *testing.T) {
	proc := t.TempDir()
	files := map[string]string{
		"loadavg": "1.5 1.25 1.0 1/100 42\n",
		"meminfo": "MemTotal:\n", // procfs indexes a value that is not there
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(proc, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n := newTestNode(t, fixtureConfig(map[string]any{"procfs_path": proc, "collectors": []string{"cpu", "loadavg", "meminfo"}}))
	expectText(t, gatherText(t, n), `
		# HELP node_load1 1m load average.
		# TYPE node_load1 gauge
		node_load1 1.5
		# HELP node_load15 15m load average.
		# TYPE node_load15 gauge
		node_load15 1
		# HELP node_load5 5m load average.
		# TYPE node_load5 gauge
		node_load5 1.25
		# HELP node_scrape_collector_success Whether a collector succeeded.
		# TYPE node_scrape_collector_success gauge
		node_scrape_collector_success{collector="cpu"} 0
		node_scrape_collector_success{collector="loadavg"} 1
		node_scrape_collector_success{collector="meminfo"} 0
	`)

	// The meminfo collector failed by a panic, which was recovered.
	ch := make(chan prometheus.Metric, 100)
	if err := run(n.collectors[2].c, ch); err == nil || !strings.Contains(err.Error(), "panic") {
		t.Errorf("meminfo: %v, want a recovered panic", err)
	}
}

// A label value that is not UTF-8 fails the collector, not the whole
// collection: the other series are still reported.
func TestInvalidLabelValue(t *testing.T) {
	proc := t.TempDir()
	if err := os.Mkdir(filepath.Join(proc, "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	dev := "Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n" +
		"  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n" +
		"  bad\xff: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
	if err := os.WriteFile(filepath.Join(proc, "net", "dev"), []byte(dev), 0o644); err != nil {
		t.Fatal(err)
	}
	n := newTestNode(t, fixtureConfig(map[string]any{"procfs_path": proc, "collectors": []string{"netdev"}}))
	got := samples(t, n)
	if got[`node_scrape_collector_success{collector="netdev"}`] != 0 {
		t.Errorf("the collector did not fail")
	}
	if got[`node_network_receive_bytes_total{device="eth0"}`] != 1 || got[`node_network_transmit_compressed_total{device="eth0"}`] != 16 {
		t.Errorf("eth0 is missing: %v", got)
	}
}
