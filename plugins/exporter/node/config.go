//go:build linux

package main

import (
	"regexp"
	"slices"
	"strings"

	"github.com/vigilmon/vigil/sdk"
)

// node_exporter's defaults of its filters, so that the same filesystems
// and disks are reported.
const (
	defaultMountPointsExclude     = `^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)`
	defaultFSTypesExclude         = `^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$`
	defaultDiskstatsDeviceExclude = `^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$`
)

// collectorNames are the collectors there are, all enabled by default.
var collectorNames = []string{"cpu", "loadavg", "meminfo", "filesystem", "netdev", "diskstats", "stat", "uname", "time"}

// The config attributes.
const (
	attrCollectors             = "collectors"
	attrProcfsPath             = "procfs_path"
	attrSysfsPath              = "sysfs_path"
	attrRootfsPath             = "rootfs_path"
	attrMountPointsExclude     = "filesystem_mount_points_exclude"
	attrFSTypesExclude         = "filesystem_fs_types_exclude"
	attrNetdevDeviceExclude    = "netdev_device_exclude"
	attrDiskstatsDeviceExclude = "diskstats_device_exclude"
)

// schema declares the config attributes.
var schema = sdk.Schema{
	sdk.StringList(attrCollectors, "The collectors to run, of: "+strings.Join(collectorNames, ", ")+".",
		sdk.Default(slices.Clone(collectorNames))),
	sdk.String(attrProcfsPath, "Where the proc filesystem is mounted.", sdk.Default("/proc")),
	sdk.String(attrSysfsPath, "Where the sys filesystem is mounted.", sdk.Default("/sys")),
	sdk.String(attrRootfsPath, "Where the host's root filesystem is, for statfs on its mount points and to strip from them.",
		sdk.Default("/")),
	sdk.String(attrMountPointsExclude, "Regular expression of mount points the filesystem collector leaves out; an empty one leaves out none.",
		sdk.Default(defaultMountPointsExclude)),
	sdk.String(attrFSTypesExclude, "Regular expression of filesystem types the filesystem collector leaves out; an empty one leaves out none.",
		sdk.Default(defaultFSTypesExclude)),
	sdk.String(attrNetdevDeviceExclude, "Regular expression of network devices the netdev collector leaves out; none when unset."),
	sdk.String(attrDiskstatsDeviceExclude, "Regular expression of block devices the diskstats collector leaves out (by default partitions, loop and RAM disks); an empty one leaves out none.",
		sdk.Default(defaultDiskstatsDeviceExclude)),
}

// config is the plugin's config, checked.
type config struct {
	collectors []string
	procPath   string
	sysPath    string
	rootfsPath string
	// The filters: a nil one leaves out nothing.
	mountPointsExclude     *regexp.Regexp
	fsTypesExclude         *regexp.Regexp
	netdevDeviceExclude    *regexp.Regexp
	diskstatsDeviceExclude *regexp.Regexp
}

// parseConfig checks cfg: every collector must exist, once, and every
// filter must be a regular expression.
func parseConfig(cfg sdk.Config) (*config, error) {
	c := &config{
		collectors: cfg.StringList(attrCollectors),
		procPath:   cfg.String(attrProcfsPath),
		sysPath:    cfg.String(attrSysfsPath),
		rootfsPath: cfg.String(attrRootfsPath),
	}
	seen := map[string]bool{}
	for _, name := range c.collectors {
		if !slices.Contains(collectorNames, name) {
			return nil, sdk.AttributeErrorf(attrCollectors, "no collector is called %q; there are %s", name, strings.Join(collectorNames, ", "))
		}
		if seen[name] {
			return nil, sdk.AttributeErrorf(attrCollectors, "collector %q is listed twice", name)
		}
		seen[name] = true
	}
	for _, p := range []struct {
		attr, path string
	}{{attrProcfsPath, c.procPath}, {attrSysfsPath, c.sysPath}, {attrRootfsPath, c.rootfsPath}} {
		if p.path == "" {
			return nil, sdk.AttributeErrorf(p.attr, "must not be empty")
		}
	}
	for _, f := range []struct {
		attr string
		dst  **regexp.Regexp
	}{
		{attrMountPointsExclude, &c.mountPointsExclude},
		{attrFSTypesExclude, &c.fsTypesExclude},
		{attrNetdevDeviceExclude, &c.netdevDeviceExclude},
		{attrDiskstatsDeviceExclude, &c.diskstatsDeviceExclude},
	} {
		expr := cfg.String(f.attr)
		if expr == "" {
			continue
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, sdk.AttributeErrorf(f.attr, "not a regular expression: %v", err)
		}
		*f.dst = re
	}
	return c, nil
}

// excluded says whether filter leaves s out.
func excluded(filter *regexp.Regexp, s string) bool {
	return filter != nil && filter.MatchString(s)
}

// pathError is the error of a path attribute that cannot be used.
func pathError(attr, path string, err error) error {
	return sdk.AttributeErrorf(attr, "cannot use %q: %v", path, err)
}
