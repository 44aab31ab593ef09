// Package remote connects Vigil's store to other stores through
// Prometheus's remote protocols, with upstream's code
// (github.com/prometheus/prometheus/storage/remote):
//
//   - Sender (remote_write blocks) sends the samples of the store to
//     remote-write receivers: upstream's WriteStorage, whose queue managers
//     follow the store's write-ahead log with upstream's wlog.Watcher.
//     It is the store's tsdb.Options.WALReader, so the store keeps the
//     segments the watchers have not read. For an agent (Resume) it also
//     sends, when it starts, what the queues had not sent when the process
//     stopped (backlog.go, resume.go).
//   - NewWriteHandler serves POST /api/v1/write into the store, whole
//     requests or nothing.
//   - NewReadHandler serves POST /api/v1/read from the store.
//   - NewOTLPHandler serves POST /api/v1/otlp/v1/metrics into the store:
//     OpenTelemetry metrics translated by upstream's OTLP write handler,
//     whole requests or nothing.
package remote

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/storage/remote"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/hclogslog"
)

// FlushDeadline is how long a stopping sender tries to send what it has
// queued, as Prometheus's storage.remote.flush-deadline.
const FlushDeadline = time.Minute

// currentSegmentMetric is the gauge of upstream's watcher that names the
// segment it reads, by consumer (the remote_write block's name).
const currentSegmentMetric = "prometheus_wal_watcher_current_segment"

// SenderOptions say where a Sender reads from and where it reports.
type SenderOptions struct {
	// DataDir is the store's data directory; the write-ahead log is its
	// wal folder.
	DataDir string
	// Logger receives the sender's log lines; none when nil.
	Logger hclog.Logger
	// Resume makes the sender keep, in DataDir, the newest timestamp each
	// queue has sent, and, when it starts, send each queue what the log
	// holds after it before the queues start: upstream's watchers read
	// only what is written after they start. Hold is then required: the
	// scrapes' Options.Hold, which the sender write-locks while the queues
	// start, so that what it sent and what they send meet exactly.
	Resume bool
	Hold   *sync.RWMutex
}

// Sender sends the samples of the store to the remote_write blocks of the
// configuration, with upstream's remote.WriteStorage: one queue manager per
// block, each following the write-ahead log with its own watcher. It
// implements tsdb.WALReader: Notify wakes the watchers after each commit,
// and LowestSegment names the oldest segment a watcher still reads.
type Sender struct {
	logger  hclog.Logger
	reg     *prometheus.Registry
	storage *remote.Storage
	// queues are the names of the queues in effect, from the last
	// configuration the storage took.
	queues atomic.Pointer[[]string]
	// notify takes Notify's calls to the forwarding goroutine, which ends
	// when stop closes and then closes forwarded.
	notify          chan struct{}
	stop, forwarded chan struct{}
	closeOnce       sync.Once
	closeErr        error

	// resume is set with SenderOptions.Resume.
	resume *resume
}

// NewSender makes a sender without queues; ApplyConfig starts them.
func NewSender(opts SenderOptions) *Sender {
	logger := opts.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	reg := prometheus.NewRegistry()
	s := &Sender{logger: logger, reg: reg, notify: make(chan struct{}, 1), stop: make(chan struct{}), forwarded: make(chan struct{})}
	// No scrape manager: metadata is not sent (metadata_config.send is
	// off), which is the only use upstream has for one.
	// Upstream's Storage holds the WriteStorage; it has no remote_read
	// configured, and so no use for the start time of the local store.
	noStartTime := func() (int64, error) { return 0, nil }
	s.storage = remote.NewStorage(hclogslog.New(logger), reg, noStartTime, opts.DataDir, FlushDeadline, nil, false)
	s.queues.Store(&[]string{})
	if opts.Resume {
		s.resume = newResume(opts.DataDir, opts.Hold, logger)
	}
	go s.forward()
	return s
}

// forward passes notifications on to the watchers until stop closes.
// Upstream's WriteStorage.Notify takes the lock that ApplyConfig holds
// while it stops queues, for up to FlushDeadline; the store's commits,
// which call Notify, must not wait for it.
func (s *Sender) forward() {
	defer close(s.forwarded)
	for {
		select {
		case <-s.notify:
			s.storage.Notify()
		case <-s.stop:
			return
		}
	}
}

// Storage is upstream's remote storage the queues run in, for upstream's
// agent DB (tsdb/agent), which keeps in its log what the queues have not
// sent by the lowest timestamp they sent.
func (s *Sender) Storage() *remote.Storage { return s.storage }

// Gatherer gathers the sender's metrics, upstream's
// prometheus_remote_storage_* and prometheus_wal_watcher_*, for the
// server's /metrics.
func (s *Sender) Gatherer() prometheus.Gatherer { return s.reg }

// ApplyConfig starts a queue for each new or changed remote_write block,
// stops those of removed or changed ones, and leaves the others running,
// as upstream's WriteStorage.ApplyConfig does. A change of the external
// labels restarts every queue.
func (s *Sender) ApplyConfig(_ context.Context, cfg *hclconfig.Config) error {
	conf, err := upstreamConfig(cfg)
	if err != nil {
		return err
	}
	if s.resume != nil && s.resume.wait(cfg) {
		return nil // the queues start once the backlogs are sent
	}
	return s.applyConfig(cfg, conf)
}

// applyConfig has upstream's storage take conf, made of cfg.
func (s *Sender) applyConfig(cfg *hclconfig.Config, conf *config.Config) error {
	if err := s.storage.ApplyConfig(conf); err != nil {
		return fmt.Errorf("cannot apply the remote_write blocks: %w", err)
	}
	names := make([]string, len(cfg.RemoteWrites))
	for i, rw := range cfg.RemoteWrites {
		names[i] = rw.Name
	}
	s.queues.Store(&names)
	return nil
}

// Run waits until ctx ends, then stops the queues, giving them
// FlushDeadline to send what they hold. With SenderOptions.Resume, it
// first sends the backlogs and starts the queues, then keeps the newest
// timestamp each queue sent.
func (s *Sender) Run(ctx context.Context) error {
	if s.resume != nil {
		s.resume.run(ctx, s)
	}
	<-ctx.Done()
	return s.Close()
}

// Close stops the queues; later calls do nothing.
func (s *Sender) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.forwarded
		if err := s.storage.Close(); err != nil {
			s.closeErr = fmt.Errorf("cannot stop the remote-write queues: %w", err)
		}
		if s.resume != nil {
			s.resume.save(s)
		}
	})
	return s.closeErr
}

// Notify implements tsdb.WALReader: it wakes the watchers, which read the
// new commit at once instead of at their next poll. It never blocks.
func (s *Sender) Notify() {
	select {
	case s.notify <- struct{}{}:
	default: // a notification is on its way already
	}
}

// watcherSegments returns the segment each queue's watcher reads, by
// queue name, from upstream's gauge of it; a watcher that is starting
// has not reported one yet.
func (s *Sender) watcherSegments() (map[string]int, error) {
	families, err := s.reg.Gather()
	if err != nil {
		return nil, err
	}
	current := map[string]int{}
	for _, mf := range families {
		if mf.GetName() != currentSegmentMetric {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "consumer" {
					current[l.GetValue()] = int(m.GetGauge().GetValue())
				}
			}
		}
	}
	return current, nil
}

// LowestSegment implements tsdb.WALReader: the lowest segment any queue's
// watcher reads, from upstream's gauge of it, or math.MaxInt without
// queues. A queue whose watcher has not reported a segment yet (it is
// starting) keeps every segment.
func (s *Sender) LowestSegment() int {
	names := *s.queues.Load()
	if len(names) == 0 {
		return math.MaxInt
	}
	current, err := s.watcherSegments()
	if err != nil {
		s.logger.Warn("cannot read the segments the remote-write watchers read; keeping every segment", "error", err)
		return 0
	}
	lowest := math.MaxInt
	for _, name := range names {
		seg, ok := current[name]
		if !ok {
			return 0
		}
		lowest = min(lowest, seg)
	}
	return lowest
}
