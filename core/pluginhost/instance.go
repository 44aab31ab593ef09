package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/sdk"
)

// Backoff bounds between restarts of a plugin that keeps failing.
const (
	minBackoff = 500 * time.Millisecond
	maxBackoff = 30 * time.Second
	// healthTimeout bounds a health check: a plugin that does not answer
	// within it is taken as hung and restarted.
	healthTimeout = 3 * time.Second
	// startTimeout bounds starting and configuring a plugin; compiling a
	// Wasm module without a cache may take a while on a loaded machine.
	startTimeout = 2 * time.Minute
)

// Opener starts a plugin: a program or a module, not yet configured.
type Opener func(ctx context.Context) (Conn, error)

// healthChecker is a Conn that can say it has died or hangs; a gRPC
// plugin can, a Wasm plugin recovers inside its pool instead.
type healthChecker interface {
	Healthy(ctx context.Context) error
	// Kill stops a plugin that died or hangs. Unlike Close, an orderly
	// stop, it leaves the end of the plugin to be logged as the failure
	// it is.
	Kill()
}

// ErrClosed is returned by the calls of an instance that was closed.
var ErrClosed = errors.New("plugin instance is closed")

// Instance is one configured use of a plugin: an exporter, discovery or
// notifier block. It starts and configures its plugin on first use and
// restarts it, with exponential backoff, when it dies or hangs. It
// implements sdk.Exporter, sdk.Discoverer and sdk.Notifier; the plugin
// answers the one of its kind.
type Instance struct {
	name, plugin string
	kind         sdk.Kind
	open         Opener
	logger       hclog.Logger
	metrics      *Metrics

	mu      sync.Mutex
	config  []byte // the JSON object Configure takes
	conn    Conn
	lastErr error
	nextTry time.Time
	backoff time.Duration
	closed  bool
	// ran says the plugin ran once; down that it failed since it last
	// ran, and attempts counts the starts tried since.
	ran, down bool
	attempts  int
	// What Status reports: the plugin's own word on itself, from its
	// last start; when that start was; the restarts of a plugin that
	// died or hung; and each call's figures, by call name.
	info      sdk.Info
	startedAt time.Time
	restarts  int
	calls     map[string]*CallStats
}

// CallStats are the figures of one call of a plugin (collect, discover or
// notify) since its instance was made.
type CallStats struct {
	// Count is how many calls were made, Errors how many of them failed.
	Count, Errors uint64
	// Total is their summed duration, Last the duration of the last one.
	Total, Last time.Duration
}

// Status is what an instance is doing, for the plugins page.
type Status struct {
	// Name is the block's label, Plugin the plugin block it uses and
	// Kind the block's kind.
	Name, Plugin string
	Kind         sdk.Kind
	// Up says the plugin runs; LastError is why it does not.
	Up        bool
	LastError string
	// Info is what the plugin said of itself at its last start; empty
	// before it started once.
	Info sdk.Info
	// StartedAt is when it last started; zero before it started.
	StartedAt time.Time
	// Restarts counts the times the plugin died or hung and was stopped
	// to be started again (vigil_plugin_restarts_total).
	Restarts int
	// Calls are the figures of each call the instance made, by name.
	Calls map[string]CallStats
}

// NewInstance returns an instance of the plugin called plugin, for the
// block called name, with config as its JSON config. Nothing starts
// until the first call or Check.
func NewInstance(name, plugin string, kind sdk.Kind, config []byte, open Opener, logger hclog.Logger, metrics *Metrics) *Instance {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	if metrics == nil {
		metrics = NewMetrics()
	}
	i := &Instance{name: name, plugin: plugin, kind: kind, config: config, open: open, metrics: metrics,
		logger: logger.With("plugin", plugin, "instance", name)}
	metrics.up.WithLabelValues(plugin, name, kind.String()).Set(0)
	return i
}

// Name returns the name of the instance's block.
func (i *Instance) Name() string { return i.name }

// get returns the running plugin, starting and configuring it when it is
// not running and its backoff has passed.
func (i *Instance) get(ctx context.Context) (Conn, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return nil, ErrClosed
	}
	if i.conn != nil {
		return i.conn, nil
	}
	if wait := time.Until(i.nextTry); wait > 0 {
		return nil, fmt.Errorf("plugin %s is down (%v); next start in %s", i.plugin, i.lastErr, wait.Round(time.Millisecond))
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	i.attempts++
	conn, err := i.open(ctx)
	if err == nil {
		if err = conn.Configure(ctx, i.config); err != nil {
			conn.Close()
			err = fmt.Errorf("configure: %w", err)
		}
	}
	if err != nil {
		i.setDown(err)
		return nil, fmt.Errorf("plugin %s is down: %w", i.plugin, err)
	}
	i.conn, i.lastErr, i.backoff = conn, nil, 0
	i.startedAt = time.Now()
	if info, _, err := conn.Info(ctx); err == nil {
		i.info = info
	} else {
		i.logger.Debug("the plugin does not say what it is", "error", err)
	}
	i.metrics.up.WithLabelValues(i.plugin, i.name, i.kind.String()).Set(1)
	switch {
	case i.ran && i.down:
		i.logger.Info("plugin restarted", "attempt", i.attempts)
	case i.down:
		i.logger.Info("plugin started", "attempt", i.attempts)
	default:
		i.logger.Debug("plugin started")
	}
	i.ran, i.down, i.attempts = true, false, 0
	return conn, nil
}

// setDown records a failure and when to try again. It is called with mu
// held.
func (i *Instance) setDown(err error) {
	i.lastErr, i.down = err, true
	if i.backoff == 0 {
		i.backoff = minBackoff
	} else {
		i.backoff = min(2*i.backoff, maxBackoff)
	}
	i.nextTry = time.Now().Add(i.backoff)
	i.metrics.up.WithLabelValues(i.plugin, i.name, i.kind.String()).Set(0)
	i.logger.Warn("plugin is down", "error", err, "retry_in", i.backoff)
}

// Check makes sure the plugin runs: it restarts one that died or hangs,
// or starts one whose backoff has passed. The host calls it every few
// seconds, so a crashed plugin is back without waiting for a call.
func (i *Instance) Check(ctx context.Context) error {
	conn, err := i.get(ctx)
	if err != nil {
		return err
	}
	return i.checkHealth(conn)
}

// checkHealth kills and forgets conn when it has died or hangs, so the
// next call starts the plugin again.
func (i *Instance) checkHealth(conn Conn) error {
	hc, ok := conn.(healthChecker)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
	defer cancel()
	err := hc.Healthy(ctx)
	if err == nil {
		return nil
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.conn != conn {
		return err // someone else restarted it already
	}
	hc.Kill()
	i.conn = nil
	i.restarts++
	i.metrics.restarts.WithLabelValues(i.plugin, i.name, i.kind.String()).Inc()
	i.setDown(fmt.Errorf("the plugin died or hangs: %w", err))
	return err
}

// call runs f on the running plugin and records its duration; when f
// fails, the plugin's health is checked so that a dead one restarts.
func (i *Instance) call(ctx context.Context, name string, f func(Conn) error) error {
	conn, err := i.get(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	err = f(conn)
	took := time.Since(start)
	i.metrics.calls.WithLabelValues(i.plugin, i.name, name).Observe(took.Seconds())
	// A collection that reports its target down is a call that worked:
	// the plugin is healthy, only what it collects is not.
	failed := err
	if sdk.AsTargetError(err) != nil {
		failed = nil
	}
	i.countCall(name, took, failed)
	if failed != nil && !sdk.IsPermanent(failed) {
		if herr := i.checkHealth(conn); herr != nil {
			return fmt.Errorf("%w (the plugin is restarted: %v)", err, herr)
		}
	}
	if failed == nil {
		i.mu.Lock()
		i.backoff = 0
		i.mu.Unlock()
	}
	return err
}

// countCall adds a call that took took, and failed when err is set, to
// the figures Status reports.
func (i *Instance) countCall(name string, took time.Duration, err error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.calls == nil {
		i.calls = map[string]*CallStats{}
	}
	c := i.calls[name]
	if c == nil {
		c = &CallStats{}
		i.calls[name] = c
	}
	c.Count++
	if err != nil {
		c.Errors++
	}
	c.Total += took
	c.Last = took
}

// Status returns what the instance is doing: whether its plugin runs,
// what it said of itself, its restarts and the figures of its calls.
func (i *Instance) Status() Status {
	i.mu.Lock()
	defer i.mu.Unlock()
	st := Status{
		Name: i.name, Plugin: i.plugin, Kind: i.kind,
		Up: i.conn != nil, Info: i.info, StartedAt: i.startedAt, Restarts: i.restarts,
		Calls: make(map[string]CallStats, len(i.calls)),
	}
	if i.lastErr != nil {
		st.LastError = i.lastErr.Error()
	}
	for name, c := range i.calls {
		st.Calls[name] = *c
	}
	return st
}

// Reconfigure hands the plugin a new config: at once when it runs, and
// at every later start. On failure the plugin keeps its old config.
func (i *Instance) Reconfigure(ctx context.Context, config []byte) error {
	i.mu.Lock()
	conn := i.conn
	i.mu.Unlock()
	if conn != nil {
		if err := conn.Configure(ctx, config); err != nil {
			return fmt.Errorf("plugin %s: configure: %w", i.plugin, err)
		}
	}
	i.mu.Lock()
	i.config = config
	i.mu.Unlock()
	return nil
}

// Collect implements sdk.Exporter.
func (i *Instance) Collect(ctx context.Context) ([]*dto.MetricFamily, error) {
	var out []*dto.MetricFamily
	err := i.call(ctx, "collect", func(c Conn) error {
		var err error
		out, err = c.Collect(ctx)
		return err
	})
	return out, err
}

// CollectDelimited is Collect in the delimited protobuf exposition
// format, as the plugin sends it; the scraper parses it as it parses an
// HTTP body, without decoding it first.
func (i *Instance) CollectDelimited(ctx context.Context) ([]byte, error) {
	var out []byte
	err := i.call(ctx, "collect", func(c Conn) error {
		var err error
		out, err = c.CollectDelimited(ctx)
		return err
	})
	return out, err
}

// CollectTarget implements sdk.TargetCollector.
func (i *Instance) CollectTarget(ctx context.Context, t sdk.Target) ([]*dto.MetricFamily, error) {
	b, err := i.CollectTargetDelimited(ctx, t)
	if err != nil && sdk.AsTargetError(err) == nil {
		return nil, err
	}
	families, derr := client.DecodeFamilies(b)
	if derr != nil {
		return nil, derr
	}
	return families, err
}

// CollectTargetDelimited is CollectTarget in the delimited protobuf
// exposition format, as CollectDelimited.
func (i *Instance) CollectTargetDelimited(ctx context.Context, t sdk.Target) ([]byte, error) {
	var out []byte
	err := i.call(ctx, "collect", func(c Conn) error {
		var err error
		out, err = c.CollectTargetDelimited(ctx, t)
		return err
	})
	return out, err
}

// Notify implements sdk.Notifier.
func (i *Instance) Notify(ctx context.Context, n *sdk.Notification) error {
	return i.call(ctx, "notify", func(c Conn) error { return c.Notify(ctx, n) })
}

// Discover implements sdk.Discoverer: it keeps the plugin's stream of
// updates going until ctx ends, restarting the plugin when the stream
// breaks. After a restart, the groups of the old stream that the new one
// does not send again are sent as gone.
func (i *Instance) Discover(ctx context.Context, send func([]sdk.TargetGroup) error) error {
	known := map[string]bool{}
	for ctx.Err() == nil {
		fresh := true
		err := i.call(ctx, "discover", func(c Conn) error {
			return c.Discover(ctx, func(groups []sdk.TargetGroup) error {
				if fresh {
					fresh = false
					groups = withVanished(groups, known)
				}
				for _, g := range groups {
					known[g.Source] = len(g.Targets) > 0
				}
				return send(groups)
			})
		})
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			i.logger.Warn("discovery stream broke", "error", err)
		}
		// Wait for the backoff of a plugin that is down, or a moment
		// before asking a running plugin to stream again.
		i.mu.Lock()
		wait := max(time.Until(i.nextTry), minBackoff)
		i.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	return nil
}

// withVanished adds, to the first update of a new stream, an empty group
// for every group the old stream had that the new one lacks.
func withVanished(groups []sdk.TargetGroup, known map[string]bool) []sdk.TargetGroup {
	sent := map[string]bool{}
	for _, g := range groups {
		sent[g.Source] = true
	}
	for src, live := range known {
		if live && !sent[src] {
			groups = append(groups, sdk.TargetGroup{Source: src})
		}
	}
	return groups
}

// Close stops the plugin; later calls fail with ErrClosed.
func (i *Instance) Close() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.closed = true
	i.metrics.up.DeleteLabelValues(i.plugin, i.name, i.kind.String())
	if i.conn == nil {
		return nil
	}
	err := i.conn.Close()
	i.conn = nil
	return err
}
