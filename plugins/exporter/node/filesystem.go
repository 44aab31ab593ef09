//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

var (
	fsLabels      = []string{"device", "fstype", "mountpoint"}
	fsSize        = newFamily("node_filesystem_size_bytes", "Filesystem size in bytes.", prometheus.GaugeValue, fsLabels...)
	fsFree        = newFamily("node_filesystem_free_bytes", "Filesystem free space in bytes.", prometheus.GaugeValue, fsLabels...)
	fsAvail       = newFamily("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.", prometheus.GaugeValue, fsLabels...)
	fsFiles       = newFamily("node_filesystem_files", "Filesystem total file nodes.", prometheus.GaugeValue, fsLabels...)
	fsFilesFree   = newFamily("node_filesystem_files_free", "Filesystem total free file nodes.", prometheus.GaugeValue, fsLabels...)
	fsReadonly    = newFamily("node_filesystem_readonly", "Filesystem read-only status.", prometheus.GaugeValue, fsLabels...)
	fsDeviceError = newFamily("node_filesystem_device_error", "Whether an error occurred while getting statistics for the given device.",
		prometheus.GaugeValue, fsLabels...)
)

// As node_exporter: statfs calls at once, and how long one may take.
const (
	statfsWorkers = 4
	statfsTimeout = 5 * time.Second
)

// filesystemCollector reports the size and use of the mounted
// filesystems, from the mount table of /proc/1/mountinfo (the host's,
// /proc/self/mountinfo when that cannot be read) and statfs.
type filesystemCollector struct {
	fs                 procfs.FS
	rootfs             string
	mountPointsExclude *regexp.Regexp
	fsTypesExclude     *regexp.Regexp
	logger             hclog.Logger
	// statfs and timeout are unix.Statfs and statfsTimeout, but for tests.
	statfs  func(path string, buf *unix.Statfs_t) error
	timeout time.Duration

	mu sync.Mutex
	// stuck are the paths whose statfs has not returned yet, an NFS
	// server gone say: they are not tried again until it has.
	stuck map[string]bool
}

func newFilesystemCollector(cfg *config, logger hclog.Logger) (collector, error) {
	fs, err := openProcfs(cfg)
	if err != nil {
		return nil, err
	}
	if info, err := os.Stat(cfg.rootfsPath); err != nil {
		return nil, pathError(attrRootfsPath, cfg.rootfsPath, err)
	} else if !info.IsDir() {
		return nil, pathError(attrRootfsPath, cfg.rootfsPath, errors.New("not a directory"))
	}
	return &filesystemCollector{
		fs:                 fs,
		rootfs:             cfg.rootfsPath,
		mountPointsExclude: cfg.mountPointsExclude,
		fsTypesExclude:     cfg.fsTypesExclude,
		logger:             logger,
		statfs:             unix.Statfs,
		timeout:            statfsTimeout,
		stuck:              map[string]bool{},
	}, nil
}

// mount is a mounted filesystem as its metrics label it.
type mount struct {
	device, fstype, mountpoint string
	readonly                   bool
}

func (c *filesystemCollector) update(s *sink) error {
	mounts, err := c.mounts()
	if err != nil {
		return err
	}
	work := make(chan mount)
	var wg sync.WaitGroup
	for range min(statfsWorkers, len(mounts)) {
		wg.Go(func() {
			for m := range work {
				c.report(s, m)
			}
		})
	}
	for _, m := range mounts {
		work <- m
	}
	close(work)
	wg.Wait()
	return nil
}

// report sends the metrics of one mounted filesystem.
func (c *filesystemCollector) report(s *sink, m mount) {
	labels := []string{m.device, m.fstype, m.mountpoint}
	ro := 0.0
	if m.readonly {
		ro = 1
	}
	buf, err := c.stat(filepath.Join(c.rootfs, m.mountpoint))
	if err != nil {
		c.logger.Debug("no statistics of a filesystem", "mountpoint", m.mountpoint, "error", err)
		s.send(fsDeviceError, 1, labels...)
		s.send(fsReadonly, ro, labels...)
		return
	}
	bsize := float64(buf.Bsize)
	s.send(fsDeviceError, 0, labels...)
	s.send(fsReadonly, ro, labels...)
	s.send(fsSize, float64(buf.Blocks)*bsize, labels...)
	s.send(fsFree, float64(buf.Bfree)*bsize, labels...)
	s.send(fsAvail, float64(buf.Bavail)*bsize, labels...)
	s.send(fsFiles, float64(buf.Files), labels...)
	s.send(fsFilesFree, float64(buf.Ffree), labels...)
}

// mounts returns the filesystems to report, each once.
func (c *filesystemCollector) mounts() ([]mount, error) {
	infos, err := c.fs.GetProcMounts(1)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		infos, err = c.fs.GetMounts()
	}
	if err != nil {
		return nil, fmt.Errorf("reading the mount table: %w", err)
	}
	var out []mount
	seen := map[mount]bool{}
	for _, info := range infos {
		m := mount{
			device:     info.Source,
			fstype:     info.FSType,
			mountpoint: c.stripRootfs(unescapeMountPath(info.MountPoint)),
		}
		if excluded(c.mountPointsExclude, m.mountpoint) || excluded(c.fsTypesExclude, m.fstype) || seen[m] {
			continue
		}
		seen[m] = true
		_, ro := info.Options["ro"]
		_, superRO := info.SuperOptions["ro"]
		m.readonly = ro || superRO
		out = append(out, m)
	}
	return out, nil
}

// stripRootfs returns a mount point as seen from the root filesystem:
// without the rootfs path it may be under.
func (c *filesystemCollector) stripRootfs(path string) string {
	if c.rootfs == "/" {
		return path
	}
	rest, ok := strings.CutPrefix(path, strings.TrimSuffix(c.rootfs, "/"))
	switch {
	case !ok:
		return path
	case rest == "":
		return "/"
	case rest[0] != '/':
		return path // a sibling such as /hostfs of /host
	}
	return rest
}

// unescapeMountPath undoes the octal escapes (\040 for a space) the
// kernel writes into mount paths.
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// errStuck is the error of a path whose earlier statfs has not returned.
var errStuck = errors.New("an earlier statfs has not returned yet")

// stat runs statfs on path, giving up after the timeout; the path is
// then stuck until that call returns.
func (c *filesystemCollector) stat(path string) (unix.Statfs_t, error) {
	c.mu.Lock()
	stuck := c.stuck[path]
	c.mu.Unlock()
	if stuck {
		return unix.Statfs_t{}, errStuck
	}
	type result struct {
		buf unix.Statfs_t
		err error
	}
	done := make(chan result, 1)
	finished := false // guarded by c.mu
	go func() {
		var r result
		r.err = c.statfs(path, &r.buf)
		c.mu.Lock()
		finished = true
		delete(c.stuck, path)
		c.mu.Unlock()
		done <- r
	}()
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.err != nil {
			return unix.Statfs_t{}, fmt.Errorf("statfs %s: %w", path, r.err)
		}
		return r.buf, nil
	case <-timer.C:
		c.mu.Lock()
		if !finished {
			c.stuck[path] = true
		}
		c.mu.Unlock()
		return unix.Statfs_t{}, fmt.Errorf("statfs %s did not return within %s", path, c.timeout)
	}
}
