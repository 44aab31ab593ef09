//go:build linux

package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigilmon/vigil/sdk"
)

// TestFlags checks what the plugin reads of node_exporter's flags: its
// collectors with their defaults, and options named after their flags.
func TestFlags(t *testing.T) {
	on, off := map[string]bool{}, map[string]bool{}
	for _, c := range collectorSwitches {
		if c.enabled {
			on[c.name] = true
		} else {
			off[c.name] = true
		}
	}
	// The plugin's first collectors, and those the issue of parity names,
	// run by default; a few of node_exporter's do not.
	for _, name := range []string{"cpu", "loadavg", "meminfo", "filesystem", "netdev", "diskstats", "stat", "uname", "time",
		"netstat", "sockstat", "timex", "conntrack", "netclass", "vmstat", "pressure", "softnet", "os", "filefd", "entropy",
		"udp_queues", "arp", "selinux", "textfile"} {
		if !on[name] {
			t.Errorf("collector %s is not on by default", name)
		}
	}
	for _, name := range []string{"systemd", "processes", "interrupts", "tcpstat", "wifi"} {
		if !off[name] {
			t.Errorf("collector %s is not off by default", name)
		}
	}

	valid := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	seen := map[string]bool{attrCollectors: true, attrEnableCollectors: true, attrDisableCollectors: true, attrExporterMetrics: true}
	byAttr := map[string]option{}
	for _, o := range options {
		if !valid.MatchString(o.attr) || seen[o.attr] {
			t.Errorf("option %s: attribute %q is not a valid new name", o.flag, o.attr)
		}
		seen[o.attr] = true
		byAttr[o.attr] = o
	}
	for attr, want := range map[string]option{
		"procfs_path":                     {flag: "path.procfs", kind: kindString, def: "/proc"},
		"sysfs_path":                      {flag: "path.sysfs", kind: kindString, def: "/sys"},
		"rootfs_path":                     {flag: "path.rootfs", kind: kindString, def: "/"},
		"filesystem_mount_points_exclude": {flag: "collector.filesystem.mount-points-exclude", kind: kindRegexp, def: `^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)`},
		"netdev_device_exclude":           {flag: "collector.netdev.device-exclude", kind: kindRegexp},
		"diskstats_device_exclude":        {flag: "collector.diskstats.device-exclude", kind: kindRegexp, def: `^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$`},
		"textfile_directory":              {flag: "collector.textfile.directory", kind: kindList},
		"filesystem_mount_timeout":        {flag: "collector.filesystem.mount-timeout", kind: kindDuration, def: "5s"},
		"ntp_server_port":                 {flag: "collector.ntp.server-port", kind: kindInt, def: 123.0},
		"cpu_guest":                       {flag: "collector.cpu.guest", kind: kindBool, def: true},
		"bcache_priority_stats":           {flag: "collector.bcache.priorityStats", kind: kindBool, def: false},
	} {
		got, ok := byAttr[attr]
		if !ok {
			t.Errorf("no option %s", attr)
			continue
		}
		if got.flag != want.flag || got.kind != want.kind || !equalDefaults(got.def, want.def) {
			t.Errorf("%s: flag %s, kind %d, default %#v; want %s, %d, %#v", attr, got.flag, got.kind, got.def, want.flag, want.kind, want.def)
		}
	}
	for _, name := range hiddenOptions {
		if !slices.ContainsFunc(options, func(o option) bool { return o.flag == name }) {
			t.Errorf("node_exporter has no flag %s", name)
		}
	}
	for _, o := range options {
		if strings.HasSuffix(o.flag, ".fixtures") || strings.HasPrefix(o.help, "DEPRECATED") {
			t.Errorf("option %s is for node_exporter's tests or an old name", o.flag)
		}
	}
}

func equalDefaults(a, b any) bool {
	al, aok := a.([]string)
	bl, bok := b.([]string)
	if aok || bok {
		return slices.Equal(al, bl)
	}
	return a == b
}

// TestConfigArgs checks the flags configs become.
func TestConfigArgs(t *testing.T) {
	// Every default collector but cpu and loadavg, switched off.
	var offButTwo []string
	for _, name := range defaultCollectors() {
		if name != "cpu" && name != "loadavg" {
			offButTwo = append(offButTwo, "--no-collector."+name)
		}
	}
	for _, tc := range []struct {
		name       string
		config     map[string]any
		args       []string
		collectors []string
	}{
		{"defaults", nil, nil, defaultCollectors()},
		{"defaults given", map[string]any{"collectors": defaultCollectors(), "procfs_path": "/proc", "cpu_guest": true,
			"filesystem_mount_points_exclude": `^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)`},
			nil, defaultCollectors()},
		{"two collectors", map[string]any{"collectors": []string{"loadavg", "cpu"}}, offButTwo, []string{"cpu", "loadavg"}},
		{"no exporter metrics", map[string]any{"exporter_metrics": false}, []string{"--web.disable-exporter-metrics"}, defaultCollectors()},
		{"enable and disable", map[string]any{"enable_collectors": []string{"systemd"}, "disable_collectors": []string{"zfs", "xfs"}},
			[]string{"--collector.systemd", "--no-collector.xfs", "--no-collector.zfs"}, nil},
		{"options", map[string]any{
			"collectors":                      []string{"cpu"},
			"enable_collectors":               []string{"filesystem"},
			"cpu_guest":                       false,
			"cpu_info":                        true,
			"filesystem_mount_points_exclude": "",
			"filesystem_mount_timeout":        "1.5s",
			"netdev_device_exclude":           "^veth",
			"ntp_server_port":                 1123,
			"textfile_directory":              []string{"/a", "/b/*"},
			"sysfs_path":                      ".",
		}, nil, []string{"cpu", "filesystem"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := schema.Values(tc.config)
			if err != nil {
				t.Fatal(err)
			}
			c, err := parseConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			switch tc.name {
			case "enable and disable":
				if !slices.Contains(c.collectors, "systemd") || slices.Contains(c.collectors, "zfs") || len(c.collectors) != len(defaultCollectors())-1 {
					t.Errorf("collectors %v", c.collectors)
				}
			case "options":
				want := []string{"--collector.cpu.info", "--no-collector.cpu.guest", "--collector.filesystem.mount-points-exclude=",
					"--collector.filesystem.mount-timeout=1.5s", "--collector.netdev.device-exclude=^veth",
					"--collector.ntp.server-port=1123", "--collector.textfile.directory=/a", "--collector.textfile.directory=/b/*",
					"--path.sysfs=."}
				for _, arg := range want {
					if !slices.Contains(c.args, arg) {
						t.Errorf("no %s in %q", arg, c.args)
					}
				}
				if n := len(c.args) - len(want); n != len(defaultCollectors())-2 {
					t.Errorf("%d flags besides the options, want one for each default collector switched off: %q", n, c.args)
				}
			default:
				if !slices.Equal(c.args, tc.args) {
					t.Errorf("flags %q, want %q", c.args, tc.args)
				}
			}
			if tc.collectors != nil && !slices.Equal(c.collectors, tc.collectors) {
				t.Errorf("collectors %v, want %v", c.collectors, tc.collectors)
			}
		})
	}
}

// TestConfigErrors checks that a bad config fails with an error naming
// its attribute.
func TestConfigErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		config    map[string]any
		attribute string
		message   string
	}{
		{map[string]any{"collectors": []string{"cpu", "nosuch"}}, "collectors", `no collector is called "nosuch"`},
		{map[string]any{"collectors": []string{"cpu", "cpu"}}, "collectors", "twice"},
		{map[string]any{"enable_collectors": []string{"gpu"}}, "enable_collectors", `"gpu"`},
		{map[string]any{"enable_collectors": []string{"systemd"}, "disable_collectors": []string{"systemd"}}, "disable_collectors", "also in enable_collectors"},
		{map[string]any{"filesystem_mount_points_exclude": "(dev"}, "filesystem_mount_points_exclude", "not a regular expression"},
		{map[string]any{"cpu_info_flags_include": "[a"}, "cpu_info_flags_include", "not a regular expression"},
		{map[string]any{"ntp_max_distance": "far"}, "ntp_max_distance", "not a duration"},
		{map[string]any{"filesystem_stat_workers": 2.5}, "filesystem_stat_workers", "whole number"},
		{map[string]any{"procfs_path": filepath.Join(t.TempDir(), "missing")}, "procfs_path", "no such file"},
		{map[string]any{"sysfs_path": file}, "sysfs_path", "not a folder"},
		{map[string]any{"rootfs_path": ""}, "rootfs_path", "cannot use"},
	} {
		cfg, err := schema.Values(tc.config)
		if err == nil {
			_, err = parseConfig(cfg)
		}
		var ae *sdk.AttributeError
		if !errors.As(err, &ae) || ae.Attribute != tc.attribute || !strings.Contains(ae.Err.Error(), tc.message) {
			t.Errorf("%v: %v, want an error naming %s saying %q", tc.config, err, tc.attribute, tc.message)
		}
	}
}
