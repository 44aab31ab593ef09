package tsdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/exemplar"
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

// exemplarStore holds the exemplars of the store: upstream's circular
// exemplar storage, one buffer shared by every series, with its metrics.
type exemplarStore struct {
	tsdb.ExemplarStorage
	resize func(int64) int
	// metrics are upstream's prometheus_tsdb_exemplar_* metrics, forwarded
	// by the store's collector.
	metrics collectorList
}

// newExemplarStore makes an exemplar storage of capacity entries that
// accepts exemplars up to oooWindowMillis older than a series' newest, as
// upstream's head makes one with its out-of-order window.
func newExemplarStore(capacity, oooWindowMillis int64) (*exemplarStore, error) {
	es := &exemplarStore{}
	m := tsdb.NewExemplarMetrics(&es.metrics)
	s, err := tsdb.NewCircularExemplarStorage(capacity, m, oooWindowMillis)
	if err != nil {
		return nil, fmt.Errorf("cannot create the exemplar storage: %w", err)
	}
	es.ExemplarStorage = s
	es.resize = s.(*tsdb.CircularExemplarStorage).Resize
	return es, nil
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
