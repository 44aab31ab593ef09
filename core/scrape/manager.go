package scrape

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/diskguard"
	"github.com/vigilmon/vigil/sdk"
)

// Manager runs one loop per target of the configuration's scrape blocks.
// ApplyConfig starts, keeps and stops loops; Run ends them all when its
// context ends.
type Manager struct {
	store   storage.AppendableV2
	hold    *sync.RWMutex // nil: scrapes are never held back
	logger  hclog.Logger
	metrics *metrics

	mu         sync.Mutex
	cfg        *hclconfig.Config // the last one applied
	exporters  Exporters
	sources    []Source
	discovered map[string]map[string]sdk.TargetGroup // by discovery block name, then group source
	loops      map[string]*loop
	parked     map[string]*parked // by loop key
	stopped    bool               // Run has ended the loops
	dropped    []DroppedTarget
}

// parked is the scraper of a loop that ended because its target left
// the configuration or its scrape block changed. As in Prometheus, the
// series of its last scrape are marked stale only at staleAt, when its
// next scrape would have been, and only once another interval and a
// tenth have passed: a target that comes back by then, as one whose
// block changed does at once, goes on from the series of that scrape, so
// that neither a reload nor a discovery that loses a target for a moment
// leaves a gap in its series.
type parked struct {
	scraper *scraper
	staleAt time.Time
	timer   *time.Timer
}

// Options are what a Manager needs.
type Options struct {
	// Store receives the samples; required.
	Store storage.AppendableV2
	// Exporters gives the exporter plugin instances; without it, exporter
	// blocks have no target.
	Exporters Exporters
	// Sources are targets collected in the process, in every
	// configuration.
	Sources []Source
	// Logger receives the manager's log lines; none when nil.
	Logger hclog.Logger
	// Hold, when set, is read-locked by each scrape from the moment it
	// takes its timestamp until its samples are committed, and by the
	// stale markers of a target that goes: whoever write-locks it holds
	// the scrapes back, and knows that every sample committed after it
	// unlocks is newer than the moment it did.
	Hold *sync.RWMutex
}

// TargetStatus is a running target and the health of its last scrape.
type TargetStatus struct {
	ScrapePool string
	Labels     labels.Labels // after relabeling, __-prefixed ones included
	Discovered labels.Labels // before relabeling
	URL        *url.URL
	Interval   time.Duration
	Timeout    time.Duration
	Health     Health
	// Metadata is the metric metadata of the last good scrape, by metric
	// family name.
	Metadata map[string]Metadata
}

// SeriesLabels are the labels the target adds to its samples.
func (t TargetStatus) SeriesLabels() labels.Labels { return withoutReserved(t.Labels) }

// DroppedTarget is a target that relabeling dropped or that could not be
// built, with the reason.
type DroppedTarget struct {
	ScrapePool string
	Labels     labels.Labels // before relabeling, as DiscoveredLabels gives them
	Reason     string
}

// New returns a manager that appends to opts.Store.
func New(opts Options) *Manager {
	logger := opts.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Manager{
		store: opts.Store, exporters: opts.Exporters, sources: opts.Sources, logger: logger.Named("scrape"), metrics: newMetrics(),
		hold:  opts.Hold,
		loops: map[string]*loop{}, parked: map[string]*parked{}, discovered: map[string]map[string]sdk.TargetGroup{},
	}
}

// SetDiscovered takes an update of the discovery block name: groups are
// new or changed, and a group without targets is gone. The targets of
// the scrapes that use the discovery follow at once.
func (m *Manager) SetDiscovered(name string, groups []sdk.TargetGroup) error {
	return m.updateDiscovered(name, groups, false)
}

// ReplaceDiscovered makes groups all the groups of the discovery block
// name, as the first update of a new stream gives them.
func (m *Manager) ReplaceDiscovered(name string, groups []sdk.TargetGroup) error {
	return m.updateDiscovered(name, groups, true)
}

func (m *Manager) updateDiscovered(name string, groups []sdk.TargetGroup, replace bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	known := m.discovered[name]
	if known == nil || replace {
		known = map[string]sdk.TargetGroup{}
		m.discovered[name] = known
	}
	for _, g := range groups {
		if len(g.Targets) == 0 {
			delete(known, g.Source)
			continue
		}
		known[g.Source] = g
	}
	if m.cfg == nil {
		return nil
	}
	return m.sync()
}

// Collector returns the scrape metrics, for the server's /metrics.
func (m *Manager) Collector() prometheus.Collector { return m.metrics }

// ApplyConfig makes the running loops those of cfg: loops of targets that
// are gone stop (their series are marked stale two intervals later, see
// parked), loops whose scrape block changed restart where they were, new
// targets start.
func (m *Manager) ApplyConfig(_ context.Context, cfg *hclconfig.Config) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg = cfg
	return m.sync()
}

// wantedTarget is a target the configuration asks for, with its job.
type wantedTarget struct {
	target *Target
	cfg    *hclconfig.Scrape
	// source is collected for a target of Sources.
	source sdk.Exporter
}

// targets builds every target of the configuration: the sources, static
// ones, discovered ones and exporters.
func (m *Manager) targets() (map[string]wantedTarget, []DroppedTarget) {
	want := map[string]wantedTarget{}
	var dropped []DroppedTarget
	addSource := func(sc *hclconfig.Scrape, tl, gl labels.Labels, t *Target, err error, source sdk.Exporter) {
		switch {
		case err != nil:
			m.logger.Warn("target dropped", "scrape", sc.Name, "labels", tl.String(), "error", err)
			dropped = append(dropped, DroppedTarget{ScrapePool: sc.Name, Labels: DiscoveredLabels(sc, tl, gl), Reason: err.Error()})
		case t == nil:
			dropped = append(dropped, DroppedTarget{ScrapePool: sc.Name, Labels: DiscoveredLabels(sc, tl, gl), Reason: "dropped by relabeling"})
		default:
			want[sc.Name+"/"+t.Labels.String()] = wantedTarget{t, sc, source}
		}
	}
	add := func(sc *hclconfig.Scrape, tl, gl labels.Labels, t *Target, err error) {
		addSource(sc, tl, gl, t, err, nil)
	}
	for _, src := range m.sources {
		sc := src.scrapeConfig(m.cfg)
		t, err := sourceTarget(src, sc)
		addSource(sc, labels.FromStrings("__address__", src.Address), labels.EmptyLabels(), t, err, src.Exporter)
	}
	for _, sc := range m.cfg.Scrapes {
		makeTarget := NewTarget
		if sc.Exporter != nil && sc.Exporter.MultiTarget {
			if m.exporters == nil {
				add(sc, labels.FromStrings("__address__", sc.Name), labels.EmptyLabels(), nil, fmt.Errorf("exporter %q has no plugin host", sc.Name))
				continue
			}
			makeTarget = func(sc *hclconfig.Scrape, tl, gl labels.Labels) (*Target, error) { return newTarget(sc, tl, gl, true) }
		} else if sc.Exporter != nil {
			t, err := exporterTarget(sc)
			if err == nil && m.exporters == nil {
				err = fmt.Errorf("exporter %q has no plugin host", sc.Name)
			}
			add(sc, labels.FromStrings("__address__", sc.Name), labels.EmptyLabels(), t, err)
			continue
		}
		for _, addr := range sc.Targets {
			tl := labels.FromStrings("__address__", addr)
			t, err := makeTarget(sc, tl, labels.EmptyLabels())
			add(sc, tl, labels.EmptyLabels(), t, err)
		}
		for _, name := range sc.Discovery {
			groups := m.discovered[name]
			sources := make([]string, 0, len(groups))
			for src := range groups {
				sources = append(sources, src)
			}
			sort.Strings(sources)
			for _, src := range sources {
				g := groups[src]
				gl := labels.FromMap(g.Labels)
				for _, tm := range g.Targets {
					tl := labels.FromMap(tm)
					t, err := makeTarget(sc, tl, gl)
					add(sc, tl, gl, t, err)
				}
			}
		}
	}
	return want, dropped
}

// sync starts, keeps and stops loops to match the wanted targets. It is
// called with mu held.
func (m *Manager) sync() error {
	want, dropped := m.targets()
	for key, l := range m.loops {
		w, ok := want[key]
		if ok && sameJob(w.cfg, l.cfg) {
			delete(want, key)
			continue
		}
		l.stop()
		delete(m.loops, key)
		m.park(key, l.scraper)
	}
	var errs []error
	for key, w := range want {
		client, err := newClient(w.cfg)
		if err != nil {
			errs = append(errs, fmt.Errorf("cannot start target %s: %w", w.target.URL, err))
			continue
		}
		sc := newScraper(w.target, w.cfg, client, m.store)
		if p := m.parked[key]; p != nil {
			p.timer.Stop()
			delete(m.parked, key)
			sc.cache.inherit(p.scraper.cache)
		}
		sc.metrics = m.metrics
		sc.exporter = w.source
		if w.cfg.Exporter != nil {
			e, ok := m.exporters(w.cfg.Name)
			if !ok {
				errs = append(errs, fmt.Errorf("exporter %q is not running", w.cfg.Name))
				continue
			}
			sc.exporter = e
		}
		l := newLoop(key, sc, w.cfg, m.logger)
		l.hold = m.hold
		m.loops[key] = l
		go l.run()
	}
	m.dropped = dropped
	m.metrics.targets.Set(float64(len(m.loops)))
	return errors.Join(errs...)
}

// sameJob says whether two versions of a job scrape alike, so that a
// reload keeps its loops. An exporter's config is compared as decoded,
// not where it stands in the file.
func sameJob(a, b *hclconfig.Scrape) bool {
	ac, bc := *a, *b
	ac.Exporter, bc.Exporter = nil, nil
	if !reflect.DeepEqual(ac, bc) {
		return false
	}
	if a.Exporter == nil || b.Exporter == nil {
		return a.Exporter == b.Exporter
	}
	ap, bp := *a.Exporter.Plugin, *b.Exporter.Plugin
	ap.Range, bp.Range = hcl.Range{}, hcl.Range{}
	return reflect.DeepEqual(ap, bp) && reflect.DeepEqual(a.Exporter.Values, b.Exporter.Values)
}

// Targets returns the running targets, sorted by pool and labels.
func (m *Manager) Targets() []TargetStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]TargetStatus, 0, len(m.loops))
	for _, l := range m.loops {
		t := l.scraper.target
		out = append(out, TargetStatus{ScrapePool: l.cfg.Name, Labels: t.Labels, Discovered: t.Discovered, URL: t.URL, Interval: t.Interval, Timeout: t.Timeout, Health: l.scraper.Health(), Metadata: l.scraper.Metadata()})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ScrapePool != out[j].ScrapePool {
			return out[i].ScrapePool < out[j].ScrapePool
		}
		return labels.Compare(out[i].Labels, out[j].Labels) < 0
	})
	return out
}

// DroppedTargets returns the targets of the configuration that do not run.
func (m *Manager) DroppedTargets() []DroppedTarget {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]DroppedTarget(nil), m.dropped...)
}

// Run waits for ctx to end, then ends every loop, cancelling scrapes in
// flight, and waits for them. Series are not marked stale: the data stays
// valid until the server scrapes again.
func (m *Manager) Run(ctx context.Context) error {
	<-ctx.Done()
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, l := range m.loops {
		l.stop()
		delete(m.loops, key)
	}
	for key, p := range m.parked {
		p.timer.Stop()
		delete(m.parked, key)
	}
	m.stopped = true
	return nil
}

// park keeps the scraper of a loop that ended, which was scraped, until
// its series are to be marked stale or its target comes back. It is
// called with mu held.
func (m *Manager) park(key string, s *scraper) {
	last := s.Health().LastScrape
	if last.IsZero() {
		return
	}
	interval := s.target.Interval
	p := &parked{scraper: s, staleAt: last.Add(interval)}
	wait := time.Until(p.staleAt.Add(interval + interval/10))
	p.timer = time.AfterFunc(max(wait, 0), func() { m.markParkedStale(key, p) })
	m.parked[key] = p
}

// markParkedStale marks the series of the last scrape of a parked
// scraper stale at its staleAt, and its report series (up and the
// others), unless its target came back or the manager has stopped.
func (m *Manager) markParkedStale(key string, p *parked) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped || m.parked[key] != p {
		return
	}
	delete(m.parked, key)
	if m.hold != nil {
		m.hold.RLock()
		defer m.hold.RUnlock()
	}
	app := m.store.AppenderV2(context.Background())
	p.scraper.markAllStale(app, p.staleAt)
	p.scraper.markReportStale(app, p.staleAt)
	if err := app.Commit(); err != nil {
		m.logger.Error("cannot mark the series of a removed target stale", "target", p.scraper.target.URL.String(), "error", err)
	}
}

// loop scrapes one target on its interval.
type loop struct {
	key     string
	scraper *scraper
	cfg     *hclconfig.Scrape
	logger  hclog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	hold   *sync.RWMutex // Options.Hold
}

func newLoop(key string, s *scraper, cfg *hclconfig.Scrape, logger hclog.Logger) *loop {
	ctx, cancel := context.WithCancel(context.Background())
	return &loop{key: key, scraper: s, cfg: cfg, logger: logger.With("target", s.target.URL.String()), ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// offset spreads targets over the interval: every target scrapes at its
// own, stable point of it, as in Prometheus.
func (l *loop) offset(now time.Time) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(l.key))
	interval := l.scraper.target.Interval
	phase := time.Duration(h.Sum64() % uint64(interval))
	return (phase - time.Duration(now.UnixNano())%interval + interval) % interval
}

func (l *loop) run() {
	defer close(l.done)
	interval := l.scraper.target.Interval
	timer := time.NewTimer(l.offset(time.Now()))
	defer timer.Stop()
	select {
	case <-l.ctx.Done():
		return
	case <-timer.C:
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		switch err := l.scrapeOnce(); {
		case err == nil || l.ctx.Err() != nil:
		case errors.Is(err, diskguard.ErrDiskFull):
			// The disk guard said so once for every writer.
			l.logger.Debug("scrape failed to store: the disk is full", "error", err)
		default:
			l.logger.Error("scrape failed to store", "error", err)
		}
		select {
		case <-l.ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// scrapeOnce scrapes the target now, unless held back.
func (l *loop) scrapeOnce() error {
	if l.hold != nil {
		l.hold.RLock()
		defer l.hold.RUnlock()
	}
	return l.scraper.scrapeOnce(l.ctx, time.Now())
}

// stop ends the loop and waits for it.
func (l *loop) stop() {
	l.cancel()
	<-l.done
}
