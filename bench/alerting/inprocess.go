package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/bench/harness"
	"github.com/vigilmon/vigil/core/alert"
	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/sdk"
)

// inProcessResult is what part 1 measured.
type inProcessResult struct {
	alerts int
	// receive is the time spent in Receive, all batches together.
	receive time.Duration
	// complete is the time from the first Receive until the last alert
	// was first notified.
	complete time.Duration
	// notifications and notified are the Notify calls and the firing
	// alerts they carried, repeats included.
	notifications, notified int
	cpu                     time.Duration // of this process, over complete
	// heapBefore is the heap in use with the dispatcher configured and no
	// alert; heapAfter that with every alert received and notified (after
	// a GC both times).
	heapBefore, heapAfter uint64
	groups                int // the dispatcher's groups with every alert held
}

// countingNotifier is the no-op notifier of part 1: it counts the alerts
// it is given and remembers when each was first notified.
type countingNotifier struct {
	mu            sync.Mutex
	seen          map[string]bool // by fingerprint
	notifications int
	notified      int
	last          time.Time     // when the last alert was first notified
	all           chan struct{} // closed when every alert was notified
	want          int
}

// Notify counts n's firing alerts.
func (c *countingNotifier) Notify(_ context.Context, n *sdk.Notification) error {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notifications++
	for _, a := range n.Alerts {
		if a.Status != "firing" {
			continue
		}
		c.notified++
		if !c.seen[a.Fingerprint] {
			c.seen[a.Fingerprint] = true
			c.last = now
			if len(c.seen) == c.want {
				close(c.all)
			}
		}
	}
	return nil
}

// inProcessConfig is the configuration of part 1: the route of part 2,
// to a notifier block whose plugin is never started (the dispatcher is
// handed the counting notifier instead).
func inProcessConfig(cfg config) string {
	return `plugin "noop" { source = "noop" }

notifier "bench" { plugin = "noop" }

` + vigilRoute(cfg)
}

// runInProcess runs part 1: w's alerts through core/alert.Dispatcher into
// a counting notifier.
func runInProcess(ctx context.Context, cfg config, w *workload) (*inProcessResult, error) {
	dir, err := os.MkdirTemp(cfg.dir, "alerting-bench-inprocess-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	st, err := alert.OpenStore(alert.StoreOptions{Dir: dir, Logger: hclog.NewNullLogger()})
	if err != nil {
		return nil, fmt.Errorf("open the alert store: %w", err)
	}
	defer st.Close()
	hcl, diags := hclconfig.Parse("bench.hcl", []byte(inProcessConfig(cfg)))
	if diags.HasErrors() {
		return nil, fmt.Errorf("parse the configuration: %s", diags.Error())
	}
	n := &countingNotifier{seen: map[string]bool{}, all: make(chan struct{}), want: w.len()}
	d := alert.NewDispatcher(alert.Options{
		Store:     st,
		Notifiers: func(string) (sdk.Notifier, bool) { return n, true },
		Logger:    hclog.NewNullLogger(),
	})
	defer d.Stop() // before the store closes
	if err := d.ApplyConfig(context.Background(), hcl); err != nil {
		return nil, fmt.Errorf("apply the configuration: %w", err)
	}
	harness.Logf("in process: %d alerts through core/alert.Dispatcher into a no-op notifier", w.len())

	res := &inProcessResult{alerts: w.len()}
	res.heapBefore = heapInUse()
	stopProfile, err := harness.StartCPUProfile(cfg.profileDir, "inprocess")
	if err != nil {
		return nil, err
	}
	defer stopProfile()
	cpu0, err := harness.SelfUsage()
	if err != nil {
		return nil, err
	}
	began := time.Now()
	for lo := 0; lo < w.len(); lo += cfg.batch {
		hi := min(lo+cfg.batch, w.len())
		// Alerts are built per batch, as the API decodes them.
		now := time.Now()
		batch := make([]*alert.Alert, 0, hi-lo)
		for i := lo; i < hi; i++ {
			batch = append(batch, &alert.Alert{
				Labels: labels.FromMap(w.labels(i)), Annotations: labels.FromMap(w.annotations(i)),
				StartsAt: now, EndsAt: now.Add(firingFor), GeneratorURL: generatorURL,
			})
		}
		t := time.Now()
		d.Receive(batch)
		res.receive += time.Since(t)
	}
	deadline := time.NewTimer(cfg.deliverTimeout)
	defer deadline.Stop()
	select {
	case <-n.all:
	case <-deadline.C:
		n.mu.Lock()
		defer n.mu.Unlock()
		return nil, fmt.Errorf("only %d of %d alerts notified within %s", len(n.seen), w.len(), cfg.deliverTimeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	cpu1, err := harness.SelfUsage()
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	res.complete = n.last.Sub(began)
	res.notifications, res.notified = n.notifications, n.notified
	n.mu.Unlock()
	res.cpu = cpu1.CPU() - cpu0.CPU()
	if err := stopProfile(); err != nil {
		return nil, err
	}
	res.heapAfter = heapInUse()
	res.groups = len(d.Groups(time.Now()))
	harness.Logf("in process: every alert notified %s after the first Receive", res.complete.Round(time.Millisecond))
	return res, nil
}

// heapInUse returns the bytes of the heap in use after a garbage
// collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
