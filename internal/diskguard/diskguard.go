// Package diskguard keeps Vigil from filling the disk of its data folder.
// The stores keep their files in badger, which maps them into memory: a
// write into a mapped page of a file the full disk cannot hold kills the
// process with SIGBUS, and it cannot start again while the disk stays
// full. A Guard says, before a store writes, whether the filesystem of
// the data folder still has a reserve of free space (Options.MinFree),
// so that the stores refuse new data instead, and take it again once
// space is back. Start with New; Check is what the writers ask.
package diskguard

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrDiskFull is wrapped by the errors of Check when the free space of
// the data folder's filesystem is below the reserve.
var ErrDiskFull = errors.New("disk full")

// Options say what a Guard watches.
type Options struct {
	// Dir is the data folder whose filesystem is watched.
	Dir string
	// MinFree is the reserve: below it, in bytes free, the disk counts
	// as full. 0 turns the check off; the metrics still show the free
	// space.
	MinFree uint64
	// FreeSpace returns the bytes free for an unprivileged user on the
	// filesystem of dir; nil reads them from the system (statfs), where
	// the system offers it. Tests set it.
	FreeSpace func(dir string) (uint64, error)
	// Logger receives a line when the disk becomes full and when space
	// is back; none when nil.
	Logger hclog.Logger
}

// refreshEvery is how long Check trusts the free space it read last: the
// writers ask on every commit, the system is asked at most this often.
const refreshEvery = time.Second

// Guard watches the free space of a data folder. Its methods are safe
// for concurrent use; a nil *Guard lets every write through.
type Guard struct {
	opts   Options
	logger hclog.Logger

	mu      sync.Mutex
	checked time.Time // when free was read; zero before the first time
	free    uint64
	full    bool
	readErr error // the last error of FreeSpace, logged once
}

// New returns a Guard of opts.Dir. When the system cannot tell the free
// space (FreeSpace is nil and the platform has no statfs) the guard is
// off.
func New(opts Options) *Guard {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.FreeSpace == nil {
		opts.FreeSpace = systemFreeSpace
	}
	return &Guard{opts: opts, logger: opts.Logger}
}

// Check says whether the data folder may grow: nil while its filesystem
// has at least MinFree bytes free, else an error wrapping ErrDiskFull
// that names the folder, the free bytes and the reserve. It reads the
// free space again when its last reading is more than a second old. A
// free space it cannot read lets writes through, logged once.
func (g *Guard) Check() error {
	if g == nil || g.opts.FreeSpace == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if time.Since(g.checked) >= refreshEvery {
		g.refreshLocked()
	}
	return g.errLocked()
}

// Refresh reads the free space now and returns what Check then returns.
func (g *Guard) Refresh() error {
	if g == nil || g.opts.FreeSpace == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refreshLocked()
	return g.errLocked()
}

func (g *Guard) refreshLocked() {
	g.checked = time.Now()
	free, err := g.opts.FreeSpace(g.opts.Dir)
	if err != nil {
		if g.readErr == nil {
			g.logger.Warn("cannot read the free space of the data folder; writes go on unchecked", "dir", g.opts.Dir, "error", err)
		}
		g.readErr, g.full = err, false
		return
	}
	g.readErr, g.free = nil, free
	switch full := g.opts.MinFree > 0 && free < g.opts.MinFree; {
	case full && !g.full:
		g.logger.Error("disk full: the data folder's free space is below min_free_disk; new samples are refused until space is freed",
			"dir", g.opts.Dir, "free_bytes", free, "min_free_bytes", g.opts.MinFree)
		g.full = true
	case !full && g.full:
		g.logger.Info("disk space is back: new samples are taken again", "dir", g.opts.Dir, "free_bytes", free, "min_free_bytes", g.opts.MinFree)
		g.full = false
	}
}

func (g *Guard) errLocked() error {
	if !g.full {
		return nil
	}
	return fmt.Errorf("%w: %d bytes free in the data folder %q, less than min_free_disk (%d bytes)", ErrDiskFull, g.free, g.opts.Dir, g.opts.MinFree)
}

var (
	descFull    = prometheus.NewDesc("vigil_storage_disk_full", "1 while the free space of the data folder's filesystem is below server { min_free_disk } and new samples are refused, else 0.", nil, nil)
	descFree    = prometheus.NewDesc("vigil_storage_disk_free_bytes", "Bytes free on the filesystem of the data folder, as last read.", nil, nil)
	descMinFree = prometheus.NewDesc("vigil_storage_disk_min_free_bytes", "The reserve of free space, server { min_free_disk }, below which new samples are refused; 0 when the check is off.", nil, nil)
)

// Collector returns the guard's metrics: whether the disk is full, the
// free bytes and the reserve. Collecting reads the free space again.
func (g *Guard) Collector() prometheus.Collector { return collector{g} }

type collector struct{ g *Guard }

// Describe implements prometheus.Collector.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descFull
	ch <- descFree
	ch <- descMinFree
}

// Collect implements prometheus.Collector.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	g := c.g
	full := 0.0
	if g.Refresh() != nil {
		full = 1
	}
	g.mu.Lock()
	free := g.free
	g.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descFull, prometheus.GaugeValue, full)
	ch <- prometheus.MustNewConstMetric(descFree, prometheus.GaugeValue, float64(free))
	ch <- prometheus.MustNewConstMetric(descMinFree, prometheus.GaugeValue, float64(g.opts.MinFree))
}
