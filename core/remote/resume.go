package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage/remote"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/hclogslog"
)

// ProgressFile is the file in the data directory where a sender with
// SenderOptions.Resume keeps the newest timestamp each queue has sent.
const ProgressFile = "remote_write_progress.json"

// highestSentMetric is upstream's gauge of the newest timestamp a queue
// has sent, in whole seconds, by remote_name.
const highestSentMetric = "prometheus_remote_storage_queue_highest_sent_timestamp_seconds"

// progressInterval is how often the progress file is written.
const progressInterval = 5 * time.Second

// progress is the content of ProgressFile.
type progress struct {
	// Sent is, by remote_write block name, the newest timestamp (in
	// milliseconds) up to which the queue sent everything but for at most
	// its batch_send_deadline.
	Sent map[string]int64 `json:"sent"`
}

// resume sends, when a sender starts, what its queues had not sent when
// it stopped, then starts the queues, and keeps the progress file.
type resume struct {
	path   string
	walDir string
	hold   *sync.RWMutex
	logger hclog.Logger
	// start is when the sender was made, before anything this run
	// scrapes is written.
	start int64

	mu      sync.Mutex
	started bool              // the queues started
	pending *hclconfig.Config // the configuration they start with
	sent    map[string]int64
}

func newResume(dataDir string, hold *sync.RWMutex, logger hclog.Logger) *resume {
	r := &resume{
		path: filepath.Join(dataDir, ProgressFile), walDir: filepath.Join(dataDir, "wal"), hold: hold, logger: logger,
		start: time.Now().UnixMilli(), sent: map[string]int64{},
	}
	data, err := os.ReadFile(r.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		logger.Warn("cannot read the remote-write progress; sending only what is scraped from now on", "file", r.path, "error", err)
	default:
		var p progress
		if err := json.Unmarshal(data, &p); err != nil {
			logger.Warn("cannot read the remote-write progress; sending only what is scraped from now on", "file", r.path, "error", err)
		} else if p.Sent != nil {
			r.sent = p.Sent
		}
	}
	return r
}

// wait keeps cfg for the queues to start with, and reports whether they
// have not started yet.
func (r *resume) wait(cfg *hclconfig.Config) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return false
	}
	r.pending = cfg
	return true
}

// run sends the backlog of each remote_write block, starts the queues,
// and then writes the progress file every progressInterval until ctx
// ends.
func (r *resume) run(ctx context.Context, s *Sender) {
	r.mu.Lock()
	cfg := r.pending
	r.mu.Unlock()
	if cfg == nil {
		return
	}
	backlogs := r.backlogs(cfg)
	defer func() {
		for _, b := range backlogs {
			b.Close()
		}
	}()
	for ctx.Err() == nil && !r.handOver(ctx, s, backlogs) {
	}
	ticker := time.NewTicker(progressInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			r.save(s)
		}
	}
}

// backlogs makes the backlog of each remote_write block: the samples of
// the log after what its queue sent, less its batch_send_deadline, and
// all those of this run.
func (r *resume) backlogs(cfg *hclconfig.Config) []*backlog {
	var out []*backlog
	for _, rw := range cfg.RemoteWrites {
		after := r.start - 1
		if sent, ok := r.sent[rw.Name]; ok {
			after = min(after, sent-rw.Queue.BatchSendDeadline.Milliseconds()-time.Second.Milliseconds())
		}
		c, err := remoteWriteConfig(rw)
		if err == nil {
			var client remote.WriteClient
			client, err = remote.NewWriteClient("backlog-"+rw.Name, &remote.ClientConfig{
				URL: &commoncfg.URL{URL: rw.URL}, Timeout: model.Duration(rw.RemoteTimeout), HTTPClientConfig: c.HTTPClientConfig,
				Headers: rw.Headers, RetryOnRateLimit: rw.Queue.RetryOnHTTP429, WriteProtoMsg: "prometheus.WriteRequest",
			})
			if err == nil {
				out = append(out, newBacklog(backlogOptions{
					name: rw.Name, walDir: r.walDir, client: client, externalLabels: labels.FromMap(cfg.Global.ExternalLabels),
					writeRelabel: rw.WriteRelabel, after: after, minBackoff: rw.Queue.MinBackoff, maxBackoff: rw.Queue.MaxBackoff,
					logger: r.logger.Named("backlog"), slog: hclogslog.New(r.logger.Named("backlog")),
				}))
				continue
			}
		}
		r.logger.Error("cannot send the backlog of a remote_write block; it is lost", "remote_write", rw.Name, "error", err)
	}
	return out
}

// catchUp has every backlog send what the log holds now.
func catchUp(ctx context.Context, backlogs []*backlog) error {
	errs := make([]error, len(backlogs))
	var wg sync.WaitGroup
	for i, b := range backlogs {
		wg.Go(func() { errs[i] = b.CatchUp(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// handOver sends the backlogs, then holds the scrapes back, sends what
// they wrote meanwhile, starts the queues and lets the scrapes go on once
// the queues' watchers started: what the watchers skip, written before
// they started, was sent. It reports whether the queues started; it does
// not when a receiver could not take the backlog within a few seconds of
// holding the scrapes back.
func (r *resume) handOver(ctx context.Context, s *Sender, backlogs []*backlog) bool {
	if err := catchUp(ctx, backlogs); err != nil {
		if ctx.Err() != nil {
			return false
		}
		r.logger.Error("cannot send the backlog; what is left of it is lost", "error", err)
	}
	r.hold.Lock()
	defer r.hold.Unlock()
	held, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := catchUp(held, backlogs)
	cancel()
	if err != nil && ctx.Err() == nil && held.Err() != nil {
		return false // the scrapes go on; try again
	}
	if err != nil && ctx.Err() == nil {
		r.logger.Error("cannot send the backlog; what is left of it is lost", "error", err)
	}
	if ctx.Err() != nil {
		return false
	}
	r.mu.Lock()
	cfg := r.pending
	r.started = true
	for _, b := range backlogs {
		r.sent[b.name] = max(r.sent[b.name], b.sent)
	}
	r.mu.Unlock()
	conf, err := upstreamConfig(cfg)
	if err == nil {
		err = s.applyConfig(cfg, conf)
	}
	if err != nil {
		r.logger.Error("cannot start the remote-write queues", "error", err)
		return true
	}
	// The watchers take their start time before they report a segment;
	// a scrape after that takes a newer one.
	for deadline := time.Now().Add(10 * time.Second); !s.watchersStarted() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(2 * time.Millisecond)
	r.logger.Info("sent the backlog; the remote-write queues started")
	return true
}

// save writes the progress file, with the newest timestamp each queue
// sent.
func (r *resume) save(s *Sender) {
	highest := map[string]int64{}
	families, err := s.reg.Gather()
	if err != nil {
		r.logger.Warn("cannot read what the remote-write queues sent", "error", err)
		return
	}
	for _, mf := range families {
		if mf.GetName() != highestSentMetric {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "remote_name" {
					highest[l.GetValue()] = int64(m.GetGauge().GetValue() * 1000)
				}
			}
		}
	}
	r.mu.Lock()
	if !r.started {
		r.mu.Unlock()
		return // the file says what it said when the sender started
	}
	for name, t := range highest {
		r.sent[name] = max(r.sent[name], t)
	}
	data, err := json.Marshal(progress{Sent: r.sent})
	r.mu.Unlock()
	if err == nil {
		err = writeFileAtomic(r.path, data)
	}
	if err != nil {
		r.logger.Warn("cannot write the remote-write progress", "file", r.path, "error", err)
	}
}

// writeFileAtomic writes data to path through a temporary file renamed
// over it, so that a crash leaves the old content or the new one.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("cannot rename %q: %w", tmp, err)
	}
	return nil
}

// watchersStarted reports whether the watcher of every queue in effect
// reports the segment it reads.
func (s *Sender) watchersStarted() bool {
	seen, err := s.watcherSegments()
	if err != nil {
		return false
	}
	for _, name := range *s.queues.Load() {
		if _, ok := seen[name]; !ok {
			return false
		}
	}
	return true
}
