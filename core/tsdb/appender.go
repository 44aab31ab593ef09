package tsdb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
)

// pendingSample is a sample accepted by Append and waiting for Commit.
type pendingSample struct {
	s *memSeries
	oooSample
}

// appender buffers samples until Commit writes them to the write-ahead log
// and adds them to the head. It implements storage.AppenderV2.
type appender struct {
	db        *DB
	id        uint64
	samples   []pendingSample
	exemplars []pendingExemplar
	rejectOOO bool
	done      bool
}

// samplePool keeps the sample buffers of finished appenders.
var samplePool = sync.Pool{New: func() any { return new([]pendingSample) }}

func (db *DB) newAppender(context.Context) *appender {
	return &appender{db: db, id: db.appenderIDs.Add(1), samples: (*samplePool.Get().(*[]pendingSample))[:0]}
}

// Append implements storage.AppenderV2. The exemplars of opts are checked
// as upstream's head checks them and stored with the sample at Commit; those
// refused are reported in a *storage.AppendPartialError, returned with the
// sample's reference: the sample itself was appended. Metadata is not
// stored and is ignored.
func (a *appender) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AppendV2Options) (storage.SeriesRef, error) {
	if a.done {
		return 0, errors.New("appender was already committed or rolled back")
	}
	if a.db.closed.Load() {
		return 0, ErrClosed
	}
	if h != nil {
		if err := h.Validate(); err != nil {
			a.db.counters.samplesInvalid.Add(1)
			return 0, fmt.Errorf("invalid histogram for series %s at %d: %w", ls, t, err)
		}
	}
	if fh != nil {
		if err := fh.Validate(); err != nil {
			a.db.counters.samplesInvalid.Add(1)
			return 0, fmt.Errorf("invalid float histogram for series %s at %d: %w", ls, t, err)
		}
	}
	for {
		s, err := a.db.lookupSeries(uint64(ref), ls)
		if err != nil {
			a.db.counters.countRefusal(err)
			return 0, err
		}
		s.mu.Lock()
		if s.deleted {
			s.mu.Unlock()
			ref = 0
			continue
		}
		smp := oooSample{st: st, t: t, v: v, h: h, fh: fh}
		_, skip, err := a.db.appendable(s, smp, a.db.maxT.Load(), a.id, a.rejectOOO || opts.RejectOutOfOrder)
		if err != nil {
			newest := s.maxT
			if s.pendingApp == a.id {
				newest = max(newest, s.pendingT)
			}
			s.mu.Unlock()
			a.db.counters.countRefusal(err)
			return storage.SeriesRef(s.ref), fmt.Errorf("series %s at %d, newest sample at %d: %w", s.lset, t, newest, err)
		}
		if !skip {
			if s.pendingApp != a.id || t > s.pendingT {
				s.pendingT = t
			}
			s.pendingApp = a.id
			a.samples = append(a.samples, pendingSample{s: s, oooSample: smp})
		}
		s.mu.Unlock()
		if h == nil && fh == nil && value.IsStaleNaN(v) {
			// As upstream: a stale marker carries no exemplars.
			return storage.SeriesRef(s.ref), nil
		}
		return storage.SeriesRef(s.ref), a.checkExemplars(s, opts.Exemplars)
	}
}

// AppendExemplars implements storage.ExemplarAppenderV2: it adds exemplars
// to a series that exists already (given by ref or by its labels), stored
// at Commit with the appender's samples, as upstream's head does. The
// remote-write receiver gives exemplars this way. A duplicate of the
// series' newest exemplar is dropped silently, and with MaxExemplars 0
// every exemplar is; the others that cannot be stored are reported in a
// *storage.AppendPartialError, and the rest are kept. A series that does
// not exist is storage.ErrNotFound.
func (a *appender) AppendExemplars(ref storage.SeriesRef, l labels.Labels, exemplars []exemplar.Exemplar) (storage.SeriesRef, error) {
	if a.done {
		return 0, errors.New("appender was already committed or rolled back")
	}
	s := a.db.series.getByRef(uint64(ref))
	if s == nil {
		if lset, err := validateLabels(l); err == nil {
			s = a.db.series.getByLabels(lset.Hash(), lset)
		}
	}
	if s == nil {
		return 0, fmt.Errorf("unknown series %s (reference %d) for an exemplar: %w", l, ref, storage.ErrNotFound)
	}
	return storage.SeriesRef(s.ref), a.checkExemplars(s, exemplars)
}

var _ storage.ExemplarAppenderV2 = (*appender)(nil)

// lookupSeries finds the series for ref, or for ls when ref is unknown,
// creating it in the head (not yet in badger) when needed.
func (db *DB) lookupSeries(ref uint64, ls labels.Labels) (*memSeries, error) {
	if ref != 0 {
		if s := db.series.getByRef(ref); s != nil {
			return s, nil
		}
	}
	lset, err := validateLabels(ls)
	if err != nil {
		return nil, err
	}
	hash := lset.Hash()
	if s := db.series.getByLabels(hash, lset); s != nil {
		return s, nil
	}
	// Series are created one at a time so that references reach the
	// postings in increasing order, which their lists rely on.
	db.createMu.Lock()
	defer db.createMu.Unlock()
	if s, err := db.lookupEvicted(hash, lset); s != nil || err != nil {
		return s, err
	}
	s, created := db.series.getOrCreate(hash, lset, func() uint64 { return db.nextRef.Add(1) })
	if created {
		db.postings.Add(storage.SeriesRef(s.ref), lset)
	}
	return s, nil
}

// appendable checks a sample against its series. It reports whether the
// sample goes to the out-of-order buffer, and whether it repeats the newest
// sample exactly and is to be skipped. headMaxT is the newest sample of the
// store, which the out-of-order window trails. appID, when not 0, also
// checks against the samples that appender holds. The error is one of storage's
// sentinel errors, without context: the replay meets many of them and
// Append adds the context. s.mu must be held.
func (db *DB) appendable(s *memSeries, smp oooSample, headMaxT int64, appID uint64, rejectOOO bool) (ooo, skip bool, err error) {
	if err := db.ensureMaxT(s); err != nil {
		return false, false, err
	}
	maxT := s.maxT
	if appID != 0 && s.pendingApp == appID && s.pendingT > maxT {
		maxT = s.pendingT
	}
	if smp.t > maxT {
		return false, false, nil
	}
	if smp.t == maxT && maxT == s.maxT {
		if !sameValue(smp, s) {
			return false, false, storage.ErrDuplicateSampleForTimestamp
		}
		return false, true, nil
	}
	window := db.opts.OutOfOrderWindow.Milliseconds()
	if window > 0 && !rejectOOO && smp.t >= headMaxT-window {
		for _, o := range s.ooo {
			if o.t == smp.t {
				if !sameOOOValue(o, smp) {
					return true, false, storage.ErrDuplicateSampleForTimestamp
				}
				return true, true, nil
			}
		}
		return true, false, nil
	}
	if window > 0 && !rejectOOO {
		return false, false, storage.ErrTooOldSample
	}
	return false, false, storage.ErrOutOfOrderSample
}

func sameValue(smp oooSample, s *memSeries) bool {
	switch {
	case smp.h != nil:
		return s.lastH != nil && smp.h.Equals(s.lastH)
	case smp.fh != nil:
		return s.lastFH != nil && smp.fh.Equals(s.lastFH)
	default:
		return s.lastH == nil && s.lastFH == nil && math.Float64bits(smp.v) == math.Float64bits(s.lastValue)
	}
}

func sameOOOValue(a, b oooSample) bool {
	switch {
	case a.h != nil || b.h != nil:
		return a.h != nil && b.h != nil && a.h.Equals(b.h)
	case a.fh != nil || b.fh != nil:
		return a.fh != nil && b.fh != nil && a.fh.Equals(b.fh)
	default:
		return math.Float64bits(a.v) == math.Float64bits(b.v)
	}
}

// Commit writes the samples to the write-ahead log (one write, however
// large) and adds them to the head. When it returns nil, the samples survive
// a crash of the process.
func (a *appender) Commit() error {
	if a.done {
		return errors.New("appender was already committed or rolled back")
	}
	a.done = true
	defer a.clearPending()
	if len(a.samples) == 0 && len(a.exemplars) == 0 {
		return nil
	}
	if a.db.closed.Load() {
		return ErrClosed
	}
	if err := a.db.spaceCheck(); err != nil {
		a.db.counters.samplesDiskFull.Add(uint64(len(a.samples)))
		return fmt.Errorf("cannot commit %d samples: %w", len(a.samples), err)
	}
	err := a.db.commit(a.id, a.samples, a.exemplars)
	if err == nil {
		// commit cleared the pending marks while it held each series.
		a.samples = a.samples[:0]
	}
	return err
}

// Rollback drops the samples.
func (a *appender) Rollback() error {
	if a.done {
		return errors.New("appender was already committed or rolled back")
	}
	a.done = true
	a.clearPending()
	return nil
}

func (a *appender) clearPending() {
	for _, p := range a.samples {
		p.s.mu.Lock()
		if p.s.pendingApp == a.id {
			p.s.pendingApp = 0
		}
		p.s.mu.Unlock()
	}
	buf := a.samples[:cap(a.samples)]
	clear(buf)
	buf = buf[:0]
	samplePool.Put(&buf)
	a.samples = nil
	a.exemplars = nil
}

// commit logs samples and exemplars to the write-ahead log and applies them
// to the head and the exemplar storage. The records of a commit (the series
// it creates, its floats, histograms and float histograms, its exemplars)
// go to the log in one write followed by the commit marker; a commit whose
// records would exceed Options.maxRecordBytes is cut into parts
// (splitWALRecord), all in the same write. No badger transaction is
// involved: the sealing writes the series records to badger.
func (db *DB) commit(appID uint64, samples []pendingSample, exemplars []pendingExemplar) error {
	newSeries := newSeriesOf(samples)
	// Series given exemplars by AppendExemplar without a sample in this
	// commit may not be in the log yet either.
	exSeries := unloggedSeriesOf(exemplars, newSeries)
	// A commit that creates series, which allocates for each of them
	// anyway, encodes into buffers of its own: the pooled ones stay the size
	// of ordinary sample records, and the commits of many targets starting
	// at once leave no oversized buffers behind.
	buf := &walBuffers{}
	if len(newSeries) == 0 {
		buf = walBufferPool.Get().(*walBuffers)
	}
	recs, size := encodeWALRecords(buf, newSeries, samples)
	if size > db.opts.maxRecordBytes {
		// The oversized buffers are left to the garbage collector.
		parts := splitWALRecord(samples, size, db.opts.maxRecordBytes)
		recs, size = recs[:0], 0
		for _, part := range parts {
			recs = append(recs, part.recs...)
			size += part.size
		}
	} else if len(newSeries) == 0 {
		defer walBufferPool.Put(buf)
	}
	if len(exemplars) > 0 {
		// After the samples, before the commit marker; in buffers of their
		// own, as exemplars are rare next to samples.
		exRecs, exSize := encodeExemplarRecords(exSeries, exemplars, db.opts.maxRecordBytes)
		recs, size = append(recs, exRecs...), size+exSize
		newSeries = append(newSeries, exSeries...)
	}

	db.commitMu.RLock()
	defer db.commitMu.RUnlock()
	seq, err := db.wal.write(recs, size, db.opts.SyncWrites)
	if err != nil {
		return err
	}
	if db.opts.WALReader != nil {
		db.opts.WALReader.Notify()
	}
	for _, s := range newSeries {
		s.logged.Store(true)
	}

	mint, maxt := int64(math.MaxInt64), int64(math.MinInt64)
	applied := 0
	headMaxT := db.maxT.Load()
	ci := db.iso.beginCommit()
	for _, p := range samples {
		s := db.lockLive(p.s)
		if s == nil {
			continue
		}
		if s.pendingApp == appID {
			s.pendingApp = 0
		}
		if db.applySample(s, p.oooSample, seq, headMaxT, ci) {
			mint, maxt = min(mint, p.t), max(maxt, p.t)
			applied++
		}
		s.mu.Unlock()
	}
	db.iso.endCommit()
	if mint <= maxt {
		db.updateBounds(mint, maxt)
	}
	db.counters.samplesAppended.Add(uint64(applied))
	db.addExemplars(exemplars)
	return nil
}

// unloggedSeriesOf returns the series of exemplars whose series record is
// not in the write-ahead log yet, once each, leaving out those of
// newSeries (sorted by reference), which the commit logs with its samples.
func unloggedSeriesOf(exemplars []pendingExemplar, newSeries []*memSeries) []*memSeries {
	var series []*memSeries
	for _, p := range exemplars {
		if p.s.logged.Load() || slices.Contains(series, p.s) {
			continue
		}
		if _, found := slices.BinarySearchFunc(newSeries, p.s.ref, func(s *memSeries, ref uint64) int { return cmp.Compare(s.ref, ref) }); !found {
			series = append(series, p.s)
		}
	}
	return series
}

// newSeriesOf returns the series of samples whose series record is not in
// the write-ahead log or badger yet, once each, by reference.
func newSeriesOf(samples []pendingSample) []*memSeries {
	var series []*memSeries
	for _, p := range samples {
		if !p.s.logged.Load() {
			series = append(series, p.s)
		}
	}
	if len(series) > 1 {
		slices.SortFunc(series, func(a, b *memSeries) int { return cmp.Compare(a.ref, b.ref) })
		series = slices.Compact(series)
	}
	return series
}

// writeSeries writes series records, with their index keys, to badger in
// a write batch.
func (db *DB) writeSeries(series []*memSeries) error {
	if len(series) == 0 {
		return nil
	}
	wb := db.kv.NewWriteBatch()
	defer wb.Cancel()
	for _, s := range series {
		if err := indexSeries(wb, s.ref, s.lset); err != nil {
			return err
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("cannot write %d series: %w", len(series), err)
	}
	version := db.badgerVersion()
	for _, s := range series {
		s.indexedAt.Store(version)
		s.indexed.Store(true)
	}
	return nil
}

// applySample adds a sample of the commit numbered seq to the
// head, and reports whether it was added. A sample that a concurrent commit
// made out of order in the meantime is dropped, as upstream does. ci tells
// whether the sample must be hidden from the open queries (isolation.go).
// s.mu must be held.
func (db *DB) applySample(s *memSeries, smp oooSample, seq uint64, headMaxT int64, ci commitIsolation) bool {
	ooo, skip, err := db.appendable(s, smp, headMaxT, 0, false)
	if err != nil || skip {
		return false
	}
	if ci.mark {
		s.addMark(ci, smp.t, ooo)
	} else if s.marks != nil {
		s.pruneMarks(ci.low)
	}
	sealedBefore := len(s.sealed)
	if ooo {
		if len(s.ooo) == 0 {
			s.oooSeq = seq
		}
		s.ooo = append(s.ooo, smp)
		if len(s.ooo) >= db.chunkO.samplesPerChunk {
			s.sealOOO(db.chunkO)
		}
	} else {
		s.appendInOrder(smp.st, smp.t, smp.v, smp.h, smp.fh, seq, db.chunkO)
	}
	if len(s.sealed) > sealedBefore {
		db.enqueueLocked(s)
	}
	return true
}

// appenderV1 adapts an appender to the version 1 interface.
type appenderV1 struct{ a *appender }

func (a *appenderV1) Append(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	return a.a.Append(ref, l, 0, t, v, nil, nil, storage.AppendV2Options{})
}

func (a *appenderV1) AppendHistogram(ref storage.SeriesRef, l labels.Labels, t int64, h *histogram.Histogram, fh *histogram.FloatHistogram) (storage.SeriesRef, error) {
	return a.a.Append(ref, l, 0, t, 0, h, fh, storage.AppendV2Options{})
}

// AppendSTZeroSample appends a zero sample at the start timestamp st of the
// sample at t, as upstream does.
func (a *appenderV1) AppendSTZeroSample(ref storage.SeriesRef, l labels.Labels, t, st int64) (storage.SeriesRef, error) {
	if st >= t {
		return 0, storage.ErrSTNewerThanSample
	}
	r, err := a.a.Append(ref, l, 0, st, 0, nil, nil, storage.AppendV2Options{RejectOutOfOrder: true})
	if errors.Is(err, storage.ErrOutOfOrderSample) || errors.Is(err, storage.ErrDuplicateSampleForTimestamp) {
		return r, storage.ErrOutOfOrderST
	}
	return r, err
}

// AppendHistogramSTZeroSample appends a zero histogram at st.
func (a *appenderV1) AppendHistogramSTZeroSample(ref storage.SeriesRef, l labels.Labels, t, st int64, h *histogram.Histogram, fh *histogram.FloatHistogram) (storage.SeriesRef, error) {
	if st >= t {
		return 0, storage.ErrSTNewerThanSample
	}
	var zh *histogram.Histogram
	var zfh *histogram.FloatHistogram
	switch {
	case h != nil:
		zh = &histogram.Histogram{Schema: h.Schema, ZeroThreshold: h.ZeroThreshold, CustomValues: h.CustomValues, CounterResetHint: histogram.CounterReset}
	case fh != nil:
		zfh = &histogram.FloatHistogram{Schema: fh.Schema, ZeroThreshold: fh.ZeroThreshold, CustomValues: fh.CustomValues, CounterResetHint: histogram.CounterReset}
	default:
		return 0, errors.New("AppendHistogramSTZeroSample needs a histogram")
	}
	r, err := a.a.Append(ref, l, 0, st, 0, zh, zfh, storage.AppendV2Options{RejectOutOfOrder: true})
	if errors.Is(err, storage.ErrOutOfOrderSample) || errors.Is(err, storage.ErrDuplicateSampleForTimestamp) {
		return r, storage.ErrOutOfOrderST
	}
	return r, err
}

// AppendExemplar adds an exemplar to a series that exists already (given
// by ref or by its labels), stored at Commit, as upstream's head does: a
// duplicate of the series' newest exemplar is dropped silently, and with
// MaxExemplars 0 every exemplar is.
func (a *appenderV1) AppendExemplar(ref storage.SeriesRef, l labels.Labels, e exemplar.Exemplar) (storage.SeriesRef, error) {
	if !a.a.done && a.a.db.maxExemplars.Load() <= 0 {
		return 0, nil
	}
	r, err := a.a.AppendExemplars(ref, l, []exemplar.Exemplar{e})
	if perr, ok := errors.AsType[*storage.AppendPartialError](err); ok {
		return 0, perr.ExemplarErrors[0].Err
	}
	if err != nil {
		return 0, err
	}
	return r, nil
}

// UpdateMetadata accepts metadata without storing it; the scrape layer keeps it.
func (a *appenderV1) UpdateMetadata(ref storage.SeriesRef, _ labels.Labels, _ metadata.Metadata) (storage.SeriesRef, error) {
	return ref, nil
}

func (a *appenderV1) SetOptions(opts *storage.AppendOptions) {
	a.a.rejectOOO = opts != nil && opts.DiscardOutOfOrder
}

func (a *appenderV1) Commit() error   { return a.a.Commit() }
func (a *appenderV1) Rollback() error { return a.a.Rollback() }
