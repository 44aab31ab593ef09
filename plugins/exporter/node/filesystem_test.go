//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"
)

// samples gathers n and returns its samples by series, written as the
// text format writes them: name{label="value",...}.
func samples(t *testing.T, n *nodeCollector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(n)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			key := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			out[key] = m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
		}
	}
	return out
}

// fsSeries is the series of a filesystem metric.
func fsSeries(name, device, fstype, mountpoint string) string {
	return name + `{device="` + device + `",fstype="` + fstype + `",mountpoint="` + mountpoint + `"}`
}

// rootfs makes a root filesystem with the mount points of the fixture's
// mount table, less /srv/gone.
func rootfs(t *testing.T) string {
	dir := t.TempDir()
	for _, d := range []string{"boot", "run", "mnt/my disk"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFilesystem(t *testing.T) {
	root := rootfs(t)
	var want unix.Statfs_t
	if err := unix.Statfs(root, &want); err != nil {
		t.Fatal(err)
	}
	n := newTestNode(t, only("filesystem", map[string]any{"rootfs_path": root}))
	got := samples(t, n)

	if got[`node_scrape_collector_success{collector="filesystem"}`] != 1 {
		t.Errorf("the collector failed: %v", got)
	}
	// The fixture mounts /dev/sda1 on / twice: it is reported once. /proc
	// and /sys, the overlay of a container and the CD are left out by
	// node_exporter's filters.
	mounts := []struct {
		device, fstype, mountpoint string
		readonly                   float64
	}{
		{"/dev/sda1", "ext4", "/", 0},
		{"/dev/sda2", "ext4", "/boot", 1}, // mounted ro
		{"tmpfs", "tmpfs", "/run", 0},
		{"/dev/sdb1", "xfs", "/mnt/my disk", 1}, // \040 is a space; the superblock is ro
	}
	for _, m := range mounts {
		series := func(name string) string { return fsSeries(name, m.device, m.fstype, m.mountpoint) }
		if v, ok := got[series("node_filesystem_device_error")]; !ok || v != 0 {
			t.Errorf("%s: device_error %v (present %v), want 0", m.mountpoint, v, ok)
		}
		if v := got[series("node_filesystem_readonly")]; v != m.readonly {
			t.Errorf("%s: readonly %v, want %v", m.mountpoint, v, m.readonly)
		}
		// The mount points are directories of one filesystem here: that
		// of the temporary directory.
		if v, want := got[series("node_filesystem_size_bytes")], float64(want.Blocks)*float64(want.Bsize); v != want {
			t.Errorf("%s: size %v, want %v", m.mountpoint, v, want)
		}
		if v, want := got[series("node_filesystem_files")], float64(want.Files); v != want {
			t.Errorf("%s: files %v, want %v", m.mountpoint, v, want)
		}
		size := got[series("node_filesystem_size_bytes")]
		free, avail := got[series("node_filesystem_free_bytes")], got[series("node_filesystem_avail_bytes")]
		if _, ok := got[series("node_filesystem_free_bytes")]; !ok || free > size || avail > free {
			t.Errorf("%s: size %v, free %v, avail %v", m.mountpoint, size, free, avail)
		}
		if v, ok := got[series("node_filesystem_files_free")]; !ok || v > float64(want.Files) {
			t.Errorf("%s: files_free %v (present %v)", m.mountpoint, v, ok)
		}
	}

	// /srv/gone cannot be statted: an error, its read-only status, no more.
	gone := func(name string) string { return fsSeries(name, "server:/export", "nfs4", "/srv/gone") }
	if got[gone("node_filesystem_device_error")] != 1 {
		t.Errorf("/srv/gone: no device error")
	}
	if _, ok := got[gone("node_filesystem_readonly")]; !ok {
		t.Errorf("/srv/gone: no readonly")
	}
	if _, ok := got[gone("node_filesystem_size_bytes")]; ok {
		t.Errorf("/srv/gone: a size")
	}

	// Five filesystems of seven metrics, less five for /srv/gone, and the
	// collector's two.
	if len(got) != 5*7-5+2 {
		t.Errorf("%d series, want %d:", len(got), 5*7-5+2)
		for k, v := range got {
			t.Logf("%s %v", k, v)
		}
	}
}

func TestFilesystemFilters(t *testing.T) {
	root := rootfs(t)
	n := newTestNode(t, only("filesystem", map[string]any{
		"rootfs_path":                     root,
		"filesystem_mount_points_exclude": "^/(boot|srv)($|/)",
		"filesystem_fs_types_exclude":     "^(proc|sysfs|tmpfs)$",
	}))
	var mountpoints []string
	for series := range samples(t, n) {
		if strings.HasPrefix(series, "node_filesystem_device_error{") {
			mountpoints = append(mountpoints, series[strings.Index(series, "mountpoint="):])
		}
	}
	// The overlay and iso9660 mounts are in now; /boot, /srv/gone and /run
	// are out.
	want := map[string]bool{
		`mountpoint="/"}`: true, `mountpoint="/mnt/my disk"}`: true,
		`mountpoint="/var/lib/docker/overlay2/0123abcd/merged"}`: true, `mountpoint="/media/cdrom"}`: true,
	}
	if len(mountpoints) != len(want) {
		t.Errorf("mount points %v, want %v", mountpoints, want)
	}
	for _, m := range mountpoints {
		if !want[m] {
			t.Errorf("unexpected %s", m)
		}
	}
}

// A statfs that does not return (an NFS server gone) is given up after
// the timeout, and the mount point is not tried again until it returns.
func TestFilesystemStuckMount(t *testing.T) {
	n := newTestNode(t, only("filesystem", map[string]any{"rootfs_path": rootfs(t)}))
	fc := n.collectors[0].c.(*filesystemCollector)
	fc.timeout = 50 * time.Millisecond
	release := make(chan struct{})
	var calls atomic.Int32
	fc.statfs = func(path string, buf *unix.Statfs_t) error {
		if strings.HasSuffix(path, "/run") {
			if calls.Add(1) == 1 {
				<-release
			}
		}
		return unix.Statfs(path, buf)
	}
	run := fsSeries("node_filesystem_device_error", "tmpfs", "tmpfs", "/run")

	if got := samples(t, n); got[run] != 1 {
		t.Fatalf("a stuck statfs: device_error %v, want 1", got[run])
	}
	if got := samples(t, n); got[run] != 1 || calls.Load() != 1 {
		t.Fatalf("while stuck: device_error %v after %d calls, want 1 after 1", got[run], calls.Load())
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for {
		fc.mu.Lock()
		stuck := fc.stuck[filepath.Join(fc.rootfs, "/run")]
		fc.mu.Unlock()
		if !stuck {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the mount point stays stuck after its statfs returned")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := samples(t, n); got[run] != 0 || calls.Load() != 2 {
		t.Fatalf("recovered: device_error %v after %d calls, want 0 after 2", got[run], calls.Load())
	}
}

func TestStripRootfs(t *testing.T) {
	for _, tc := range []struct{ rootfs, path, want string }{
		{"/", "/boot", "/boot"},
		{"/host", "/host", "/"},
		{"/host", "/host/boot", "/boot"},
		{"/host/", "/host/boot", "/boot"},
		{"/host", "/hostfs/boot", "/hostfs/boot"},
		{"/host", "/boot", "/boot"},
	} {
		c := &filesystemCollector{rootfs: tc.rootfs}
		if got := c.stripRootfs(tc.path); got != tc.want {
			t.Errorf("rootfs %q, %q: %q, want %q", tc.rootfs, tc.path, got, tc.want)
		}
	}
}

func TestUnescapeMountPath(t *testing.T) {
	for in, want := range map[string]string{
		`/mnt/plain`:          `/mnt/plain`,
		`/mnt/my\040disk`:     `/mnt/my disk`,
		`/mnt/tab\011and\134`: "/mnt/tab\tand\\",
		`/mnt/trailing\04`:    `/mnt/trailing\04`,
		`/mnt/not\999octal`:   `/mnt/not\999octal`,
	} {
		if got := unescapeMountPath(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
