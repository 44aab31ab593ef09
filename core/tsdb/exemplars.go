package tsdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/record"
)

// DefaultMaxExemplars is Prometheus's default for
// storage.exemplars.max_exemplars, for callers that want it; the zero
// Options keep no exemplars, as upstream's tsdb.Options.
const DefaultMaxExemplars = 100000

// pendingExemplar is an exemplar accepted by Append, waiting for Commit.
type pendingExemplar struct {
	s *memSeries
	e exemplar.Exemplar
}

// initialExemplars is the size the exemplar buffer starts with; it
// doubles as it fills, up to the store's MaxExemplars.
const initialExemplars = 1024

// exemplarStore holds the exemplars of the store: upstream's circular
// exemplar storage, one buffer shared by every series, with its metrics.
// The buffer starts small and grows, before it would drop an exemplar,
// up to max entries: a store that receives few exemplars, or none, does
// not hold the memory of max of them (6 MB for the default 100,000).
type exemplarStore struct {
	tsdb.ExemplarStorage
	storage *tsdb.CircularExemplarStorage
	// metrics are upstream's prometheus_tsdb_exemplar_* metrics, forwarded
	// by the store's collector, but for max_exemplars, which is max here
	// rather than the buffer's size.
	metrics collectorList

	// mu orders additions with the growth of the buffer. max is the
	// bound, size the buffer's length, and held counts the exemplars it
	// holds, at most size (duplicates, which upstream drops silently,
	// count too, so that it grows early rather than late).
	mu              sync.Mutex
	max, size, held int64
}

// newExemplarStore makes an exemplar storage of up to capacity entries
// that accepts exemplars up to oooWindowMillis older than a series'
// newest, as upstream's head makes one with its out-of-order window.
func newExemplarStore(capacity, oooWindowMillis int64) (*exemplarStore, error) {
	es := &exemplarStore{max: max(capacity, 0)}
	es.size = min(es.max, initialExemplars)
	var upstream collectorList
	m := tsdb.NewExemplarMetrics(&upstream)
	s, err := tsdb.NewCircularExemplarStorage(es.size, m, oooWindowMillis)
	if err != nil {
		return nil, fmt.Errorf("cannot create the exemplar storage: %w", err)
	}
	es.ExemplarStorage = s
	es.storage = s.(*tsdb.CircularExemplarStorage)
	es.metrics = collectorList{maxExemplarsCollector{es: es, upstream: upstream}}
	return es, nil
}

// AddExemplar adds e to the exemplars of the series l, first growing the
// buffer when it is full and smaller than max.
func (es *exemplarStore) AddExemplar(l labels.Labels, e exemplar.Exemplar) error {
	es.mu.Lock()
	defer es.mu.Unlock()
	if es.held >= es.size && es.size < es.max {
		es.size = min(es.max, max(2*es.size, initialExemplars))
		es.storage.Resize(es.size)
	}
	err := es.ExemplarStorage.AddExemplar(l, e)
	if err == nil {
		es.held = min(es.held+1, es.size)
	}
	return err
}

// resize makes n the bound, keeping the newest exemplars that fit, and
// returns how many of those held were moved to a new buffer. The buffer
// shrinks to n at once, and grows only as exemplars come.
func (es *exemplarStore) resize(n int64) int {
	es.mu.Lock()
	defer es.mu.Unlock()
	es.max = max(n, 0)
	size := min(es.size, es.max)
	if size == 0 {
		size = min(es.max, initialExemplars)
	}
	if size == es.size {
		return 0
	}
	es.size, es.held = size, min(es.held, size)
	return es.storage.Resize(size)
}

// maxExemplarsCollector forwards upstream's exemplar metrics, with
// prometheus_tsdb_exemplar_max_exemplars the store's bound rather than
// the size of the buffer so far.
type maxExemplarsCollector struct {
	es       *exemplarStore
	upstream collectorList
}

// Describe implements prometheus.Collector.
func (c maxExemplarsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.upstream {
		m.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (c maxExemplarsCollector) Collect(ch chan<- prometheus.Metric) {
	c.es.mu.Lock()
	bound := c.es.max
	c.es.mu.Unlock()
	metrics := make(chan prometheus.Metric)
	go func() {
		for _, m := range c.upstream {
			m.Collect(metrics)
		}
		close(metrics)
	}()
	for m := range metrics {
		if strings.Contains(m.Desc().String(), `fqName: "prometheus_tsdb_exemplar_max_exemplars"`) {
			m = prometheus.MustNewConstMetric(m.Desc(), prometheus.GaugeValue, float64(bound))
		}
		ch <- m
	}
}

// collectorList is a prometheus.Registerer that keeps the collectors
// registered with it, for the store's collector to forward.
type collectorList []prometheus.Collector

func (l *collectorList) Register(c prometheus.Collector) error {
	*l = append(*l, c)
	return nil
}

func (l *collectorList) MustRegister(cs ...prometheus.Collector) { *l = append(*l, cs...) }

func (l *collectorList) Unregister(prometheus.Collector) bool { return false }

// ExemplarQuerier returns a querier of the exemplars kept in memory. It
// implements storage.ExemplarQueryable.
func (db *DB) ExemplarQuerier(ctx context.Context) (storage.ExemplarQuerier, error) {
	if db.closed.Load() {
		return nil, ErrClosed
	}
	return db.exemplars.ExemplarQuerier(ctx)
}

// SetMaxExemplars changes how many exemplars are kept in memory, keeping
// the newest ones that fit, as Prometheus does when its configuration is
// reloaded with another storage.exemplars.max_exemplars; 0 drops them all
// and keeps no more. A negative n is refused.
func (db *DB) SetMaxExemplars(n int64) error {
	if n < 0 {
		return fmt.Errorf("invalid MaxExemplars=%d: must not be negative", n)
	}
	if db.closed.Load() {
		return ErrClosed
	}
	db.maxExemplars.Store(n)
	migrated := db.exemplars.resize(n)
	db.logger.Info("exemplar storage resized", "max_exemplars", n, "kept", migrated)
	return nil
}

var _ storage.ExemplarQueryable = (*DB)(nil)

// checkExemplars validates the exemplars of a sample of s against those
// kept, as upstream's head does when they are appended: a duplicate of the
// newest exemplar of the series is dropped silently, others that cannot
// be stored (out of order, labels too long or repeated) are reported in a
// storage.AppendPartialError; the rest are kept for Commit. s.mu need not
// be held: the labels of a series never change.
func (a *appender) checkExemplars(s *memSeries, exemplars []exemplar.Exemplar) error {
	if len(exemplars) == 0 || a.db.maxExemplars.Load() <= 0 {
		return nil
	}
	var errs []storage.ExemplarError
	for i, e := range exemplars {
		e.Labels = e.Labels.WithoutEmpty()
		if err := a.db.exemplars.ValidateExemplar(s.lset, e); err != nil {
			if !errors.Is(err, storage.ErrDuplicateExemplar) && !errors.Is(err, storage.ErrExemplarsDisabled) {
				errs = append(errs, storage.ExemplarError{Index: i, Err: err})
			}
			continue
		}
		a.exemplars = append(a.exemplars, pendingExemplar{s: s, e: e})
	}
	if len(errs) > 0 {
		return &storage.AppendPartialError{ExemplarErrors: errs}
	}
	return nil
}

// addExemplars adds the exemplars of a commit that the write-ahead log
// holds to the exemplar storage. One that another commit made out of order
// or a duplicate in the meantime is dropped, as upstream's head drops it.
func (db *DB) addExemplars(exemplars []pendingExemplar) {
	for _, p := range exemplars {
		if err := db.exemplars.AddExemplar(p.s.lset, p.e); err != nil && !errors.Is(err, storage.ErrOutOfOrderExemplar) {
			db.logger.Debug("exemplar not added", "series", p.s.lset, "error", err)
		}
	}
}

// replayExemplars adds exemplars read from the write-ahead log or its
// checkpoint; those of series the head no longer holds are skipped.
func (db *DB) replayExemplars(exemplars []record.RefExemplar) {
	for _, e := range exemplars {
		s := db.series.getByRef(uint64(e.Ref))
		if s == nil {
			continue
		}
		// Refused ones (out of order, the storage off) are dropped, as
		// upstream's replay drops them.
		_ = db.exemplars.AddExemplar(s.lset, exemplar.Exemplar{Labels: e.Labels.Copy(), Value: e.V, Ts: e.T})
	}
}

// encodeExemplarRecords encodes exemplars as upstream Exemplars records,
// preceded by a Series record of series when there are any, each record
// under maxBytes (halving the run of exemplars until it fits), and returns
// the records and their total size.
func encodeExemplarRecords(series []*memSeries, exemplars []pendingExemplar, maxBytes int) ([][]byte, int) {
	var recs [][]byte
	size := 0
	if len(series) > 0 {
		rec := seriesRecord(nil, series)
		recs, size = append(recs, rec), len(rec)
	}
	refs := make([]record.RefExemplar, len(exemplars))
	for i, p := range exemplars {
		refs[i] = record.RefExemplar{Ref: chunks.HeadSeriesRef(p.s.ref), T: p.e.Ts, V: p.e.Value, Labels: p.e.Labels}
	}
	var enc record.Encoder
	var encode func(refs []record.RefExemplar)
	encode = func(refs []record.RefExemplar) {
		rec := enc.Exemplars(refs, nil)
		if len(rec) > maxBytes && len(refs) > 1 {
			encode(refs[:len(refs)/2])
			encode(refs[len(refs)/2:])
			return
		}
		recs, size = append(recs, rec), size+len(rec)
	}
	encode(refs)
	return recs, size
}
