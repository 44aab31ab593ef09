package tsdb

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/encoding"
	"github.com/prometheus/prometheus/tsdb/record"
)

// walState tracks the write-ahead records in badger: one per Commit (or a
// few for a large one), keyed by sequence number, kept until every sample in
// it is in a sealed chunk.
type walState struct {
	nextSeq atomic.Uint64

	mu      sync.Mutex
	records []walRecordInfo
	bytes   int64
}

type walRecordInfo struct {
	seq  uint64
	size int64
}

func (w *walState) add(seq uint64, size int64) {
	w.mu.Lock()
	w.records = append(w.records, walRecordInfo{seq, size})
	w.bytes += size
	w.mu.Unlock()
}

// size returns the bytes of the live write-ahead records.
func (w *walState) size() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bytes
}

// encodeWALRecord encodes the series created by a commit and its samples
// with upstream's record encoding: a sequence of sub-records, each prefixed
// by its length.
func encodeWALRecord(buf *walBuffers, newSeries []*memSeries, samples []pendingSample) []byte {
	enc := record.Encoder{EnableSTStorage: true}
	out := buf.out[:0]
	put := func(rec []byte) {
		e := encoding.Encbuf{B: out}
		e.PutUvarint(len(rec))
		out = append(e.Get(), rec...)
		buf.sub = rec[:0]
	}
	if len(newSeries) > 0 {
		refs := make([]record.RefSeries, len(newSeries))
		for i, s := range newSeries {
			refs[i] = record.RefSeries{Ref: chunks.HeadSeriesRef(s.ref), Labels: s.lset}
		}
		put(enc.Series(refs, buf.sub))
	}
	floats, hists, fhists := buf.floats[:0], buf.hists[:0], buf.fhists[:0]
	for _, p := range samples {
		ref := chunks.HeadSeriesRef(p.s.ref)
		switch {
		case p.h != nil:
			hists = append(hists, record.RefHistogramSample{Ref: ref, ST: p.st, T: p.t, H: p.h})
		case p.fh != nil:
			fhists = append(fhists, record.RefFloatHistogramSample{Ref: ref, ST: p.st, T: p.t, FH: p.fh})
		default:
			floats = append(floats, record.RefSample{Ref: ref, ST: p.st, T: p.t, V: p.v})
		}
	}
	if len(floats) > 0 {
		put(enc.Samples(floats, buf.sub))
	}
	if len(hists) > 0 {
		rec, _ := enc.HistogramSamples(hists, buf.sub)
		put(rec)
	}
	if len(fhists) > 0 {
		rec, _ := enc.FloatHistogramSamples(fhists, buf.sub)
		put(rec)
	}
	clear(hists)
	clear(fhists)
	buf.floats, buf.hists, buf.fhists = floats, hists[:0], fhists[:0]
	buf.out = out
	return out
}

// defaultMaxRecordBytes bounds one write-ahead record, with room to spare
// under badger's limit on one value (the value log file size, 64 MiB).
const defaultMaxRecordBytes = 32 << 20

// walPart is one write-ahead record of a commit.
type walPart struct {
	samples []pendingSample
	value   []byte // the encoded record and its checksum
}

// splitWALRecord encodes the samples of a commit, whose single record would
// have size bytes, as several records of at most maxBytes: runs of about
// maxBytes/2, so that a run with more series or larger histograms than the
// average still fits, and is split again when it does not. Each record
// carries the series the commit creates that its samples use, so that it
// replays on its own. The samples are first put in time order (stably, so
// the samples of a series keep theirs): the replay lets the newest sample of
// each record move the out-of-order window of the next ones, and in time
// order that accepts every sample the commit applied.
func splitWALRecord(samples []pendingSample, size, maxBytes int) []walPart {
	byTime := func(a, b pendingSample) int { return cmp.Compare(a.t, b.t) }
	if !slices.IsSortedFunc(samples, byTime) {
		slices.SortStableFunc(samples, byTime)
	}
	return splitSorted(&walBuffers{}, samples, size, maxBytes)
}

// splitSorted splits samples, whose single record would have size bytes,
// into runs, encoding them with the scratch buffers of buf and each into an
// output buffer of its own, sized for the run.
func splitSorted(buf *walBuffers, samples []pendingSample, size, maxBytes int) []walPart {
	half := max(1, maxBytes/2)
	n := min(len(samples), max(2, (size+half-1)/half))
	parts := make([]walPart, 0, n)
	for i := 0; i < n; i++ {
		run := samples[i*len(samples)/n : (i+1)*len(samples)/n]
		// Room for the run's share of the size, a little more, and the
		// checksum, so that the record is not copied as it grows.
		buf.out = make([]byte, 0, size/n+size/(8*n)+4)
		value := withChecksum(encodeWALRecord(buf, newSeriesOf(run), run))
		if len(value) > maxBytes && len(run) > 1 {
			parts = append(parts, splitSorted(buf, run, len(value), maxBytes)...)
			continue
		}
		parts = append(parts, walPart{samples: run, value: value})
	}
	return parts
}

// walBuffers are the scratch buffers of one commit, reused across commits.
type walBuffers struct {
	out, sub []byte
	floats   []record.RefSample
	hists    []record.RefHistogramSample
	fhists   []record.RefFloatHistogramSample
}

var walBufferPool = sync.Pool{New: func() any { return &walBuffers{} }}

// walSample is one sample decoded from a write-ahead record.
type walSample struct {
	ref uint64
	oooSample
}

// decodeWALRecord decodes a record written by encodeWALRecord.
func decodeWALRecord(dec *record.Decoder, rec []byte) ([]record.RefSeries, []walSample, error) {
	var (
		series  []record.RefSeries
		samples []walSample
	)
	for len(rec) > 0 {
		buf := encoding.Decbuf{B: rec}
		n := buf.Uvarint()
		if buf.Err() != nil || n > buf.Len() {
			return nil, nil, fmt.Errorf("truncated sub-record")
		}
		sub := buf.B[:n]
		rec = buf.B[n:]
		switch typ := dec.Type(sub); typ {
		case record.Series:
			s, err := dec.Series(sub, nil)
			if err != nil {
				return nil, nil, fmt.Errorf("cannot decode series: %w", err)
			}
			series = append(series, s...)
		case record.Samples, record.SamplesV2:
			ss, err := dec.Samples(sub, nil)
			if err != nil {
				return nil, nil, fmt.Errorf("cannot decode samples: %w", err)
			}
			for _, s := range ss {
				samples = append(samples, walSample{uint64(s.Ref), oooSample{st: s.ST, t: s.T, v: s.V}})
			}
		case record.HistogramSamples, record.HistogramSamplesV2, record.CustomBucketsHistogramSamples:
			hs, err := dec.HistogramSamples(sub, nil)
			if err != nil {
				return nil, nil, fmt.Errorf("cannot decode histograms: %w", err)
			}
			for _, h := range hs {
				samples = append(samples, walSample{uint64(h.Ref), oooSample{st: h.ST, t: h.T, h: h.H}})
			}
		case record.FloatHistogramSamples, record.FloatHistogramSamplesV2, record.CustomBucketsFloatHistogramSamples:
			fhs, err := dec.FloatHistogramSamples(sub, nil)
			if err != nil {
				return nil, nil, fmt.Errorf("cannot decode float histograms: %w", err)
			}
			for _, h := range fhs {
				samples = append(samples, walSample{uint64(h.Ref), oooSample{st: h.ST, t: h.T, fh: h.FH}})
			}
		default:
			return nil, nil, fmt.Errorf("unknown sub-record type %d", typ)
		}
	}
	return series, samples, nil
}

// replayWAL adds the samples of every write-ahead record to the head, in
// the order they were committed. One goroutine reads and decodes the
// records; as many as there are CPUs apply them, each to its own share of
// the series, so the samples of a series keep their order. A record that
// fails its checksum is reported and skipped: the records around it are
// still replayed.
func (db *DB) replayWAL() error {
	start := time.Now()
	lastLog := start
	dec := record.NewDecoder(nil, nil)
	var records, samples, corrupt int
	var maxSeq uint64
	err := db.kv.View(func(txn *badger.Txn) error {
		workers := newReplayWorkers(db, txn, runtime.GOMAXPROCS(0))
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: []byte{prefixWAL}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			key := item.KeyCopy(nil)
			if len(key) != walKeyLen {
				workers.stop()
				return fmt.Errorf("malformed write-ahead key %x", key)
			}
			seq := beUint64(key[1:])
			maxSeq = max(maxSeq, seq)
			var rec []byte
			if err := item.Value(func(v []byte) error {
				payload, err := verifyChecksum(v)
				if err != nil {
					return err
				}
				rec = slices.Clone(payload)
				return nil
			}); err != nil {
				if errors.Is(err, errChecksum) {
					corrupt++
					db.reportCorruption("skipping corrupted write-ahead record", key, err)
					continue
				}
				workers.stop()
				return fmt.Errorf("cannot read write-ahead record %x: %w", key, err)
			}
			series, smps, err := decodeWALRecord(&dec, rec)
			if err != nil {
				corrupt++
				db.reportCorruption("skipping undecodable write-ahead record", key, err)
				continue
			}
			if err := db.replaySeries(series); err != nil {
				workers.stop()
				return err
			}
			workers.dispatch(seq, smps)
			db.wal.add(seq, int64(item.ValueSize()))
			records++
			samples += len(smps)
			if time.Since(lastLog) > 5*time.Second {
				lastLog = time.Now()
				db.logger.Info("replaying write-ahead records", "records", records, "samples", samples, "elapsed", time.Since(start).Round(time.Second))
			}
		}
		return workers.stop()
	})
	if err != nil {
		return fmt.Errorf("cannot replay write-ahead records: %w", err)
	}
	db.wal.nextSeq.Store(maxSeq)
	if records > 0 || corrupt > 0 {
		db.logger.Info("replayed write-ahead records", "records", records, "samples", samples, "corrupted", corrupt, "duration", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// replayWorkers apply replayed samples, each worker to the series whose
// reference falls in its share.
type replayWorkers struct {
	db       *DB
	headMaxT int64 // newest sample dispatched so far
	jobs     []chan replayJob
	wg       sync.WaitGroup
	errMu    sync.Mutex
	err      error
}

type replayJob struct {
	seq uint64
	// headMaxT is the newest sample of the records before this one: the
	// out-of-order window trails it, as it trailed the store's newest
	// sample when the record was committed.
	headMaxT int64
	samples  []walSample
}

func newReplayWorkers(db *DB, txn *badger.Txn, n int) *replayWorkers {
	w := &replayWorkers{db: db, headMaxT: db.maxT.Load(), jobs: make([]chan replayJob, n)}
	for i := range w.jobs {
		w.jobs[i] = make(chan replayJob, 64)
		// Each worker finds the newest sealed chunk of its series with its
		// own iterator; they are created here, one at a time.
		chunks := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: []byte{prefixChunk}})
		w.wg.Add(1)
		go w.run(w.jobs[i], chunks)
	}
	return w
}

func (w *replayWorkers) run(jobs <-chan replayJob, chunks *badger.Iterator) {
	defer w.wg.Done()
	defer chunks.Close()
	for job := range jobs {
		mint, maxt := int64(math.MaxInt64), int64(math.MinInt64)
		for _, smp := range job.samples {
			s := w.db.series.getByRef(smp.ref)
			if s == nil {
				continue
			}
			s.mu.Lock()
			if !s.maxTKnown {
				if err := w.db.readNewestSample(s, chunks); err != nil {
					s.mu.Unlock()
					w.fail(fmt.Errorf("cannot read the newest chunk of series %s: %w", s.lset, err))
					continue
				}
				s.maxTKnown = true
			}
			if w.db.applySample(s, smp.oooSample, job.seq, job.headMaxT) {
				mint, maxt = min(mint, smp.t), max(maxt, smp.t)
			}
			s.mu.Unlock()
		}
		if mint <= maxt {
			w.db.updateBounds(mint, maxt)
		}
	}
}

func (w *replayWorkers) fail(err error) {
	w.errMu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.errMu.Unlock()
}

// dispatch hands the samples of record seq to the workers of their series.
func (w *replayWorkers) dispatch(seq uint64, samples []walSample) {
	headMaxT := w.headMaxT
	for _, smp := range samples {
		w.headMaxT = max(w.headMaxT, smp.t)
	}
	n := uint64(len(w.jobs))
	shares := make([][]walSample, n)
	for _, smp := range samples {
		shares[smp.ref%n] = append(shares[smp.ref%n], smp)
	}
	for i, share := range shares {
		if len(share) > 0 {
			w.jobs[i] <- replayJob{seq: seq, headMaxT: headMaxT, samples: share}
		}
	}
}

// stop waits for the workers to apply what they were given and returns
// the first error one met.
func (w *replayWorkers) stop() error {
	for _, ch := range w.jobs {
		close(ch)
	}
	w.wg.Wait()
	return w.err
}

// replaySeries adds the series of a write-ahead record that have no series
// record in badger (a large commit writes those after the write-ahead
// record, so a crash can fall between) and writes their records.
func (db *DB) replaySeries(series []record.RefSeries) error {
	var missing []*memSeries
	for _, rs := range series {
		ref := uint64(rs.Ref)
		if db.series.getByRef(ref) != nil {
			continue
		}
		lset := rs.Labels.Copy()
		s := newMemSeries(ref, lset, false)
		s.persisted.Store(true)
		db.series.add(s, lset.Hash())
		db.postings.Add(storage.SeriesRef(ref), lset)
		for {
			cur := db.nextRef.Load()
			if cur >= ref || db.nextRef.CompareAndSwap(cur, ref) {
				break
			}
		}
		missing = append(missing, s)
	}
	return db.writeSeries(missing)
}

// ensureMaxT reads the newest sealed sample of a series loaded from badger,
// which the head needs to order new samples. s.mu must be held.
func (db *DB) ensureMaxT(s *memSeries) error {
	if s.maxTKnown {
		return nil
	}
	err := db.kv.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: chunkPrefix(s.ref)})
		defer it.Close()
		return db.readNewestSample(s, it)
	})
	if err != nil {
		return fmt.Errorf("cannot read the newest chunk of series %s: %w", s.lset, err)
	}
	s.maxTKnown = true
	return nil
}

// readNewestSample sets maxT and the last value of s from its newest sealed
// chunk, found with a reverse iterator over the chunk keys. s.mu must be held.
func (db *DB) readNewestSample(s *memSeries, it *badger.Iterator) error {
	prefix := chunkPrefix(s.ref)
	it.Seek(append(prefix, 0xff))
	if !it.ValidForPrefix(prefix) {
		return nil
	}
	item := it.Item()
	k, err := parseChunkKey(item.Key())
	if err != nil {
		return err
	}
	if k.maxT <= s.maxT {
		return nil
	}
	chk, err := db.readChunkValue(item)
	if err != nil {
		return err
	}
	s.maxT = k.maxT
	s.lastValue, s.lastH, s.lastFH = 0, nil, nil
	ci := chk.Iterator(nil)
	for vt := ci.Next(); vt != chunkenc.ValNone; vt = ci.Next() {
		if ci.AtT() != k.maxT {
			continue
		}
		switch vt {
		case chunkenc.ValFloat:
			_, s.lastValue = ci.At()
		case chunkenc.ValHistogram:
			_, s.lastH = ci.AtHistogram(nil)
		case chunkenc.ValFloatHistogram:
			_, s.lastFH = ci.AtFloatHistogram(nil)
		}
	}
	return ci.Err()
}

// truncateWALIfLarge seals the chunks that hold the oldest half of the
// write-ahead bytes when they exceed Options.WALMaxBytes, and drops those
// records.
func (db *DB) truncateWALIfLarge() error {
	if db.wal.size() <= db.opts.WALMaxBytes {
		return nil
	}
	db.wal.mu.Lock()
	recs := slices.Clone(db.wal.records)
	total := db.wal.bytes
	db.wal.mu.Unlock()
	slices.SortFunc(recs, func(a, b walRecordInfo) int { return cmp.Compare(a.seq, b.seq) })
	var cutoff uint64
	var acc int64
	for _, r := range recs {
		acc += r.size
		cutoff = r.seq + 1
		if acc >= total/2 {
			break
		}
	}
	return db.sealHeadBefore(cutoff)
}

// truncateWAL deletes the write-ahead records below limit that no series
// needs any more.
func (db *DB) truncateWAL(limit uint64) error {
	db.commitMu.Lock()
	water := min(limit, db.wal.nextSeq.Load()+1)
	db.series.forEach(func(s *memSeries) {
		s.mu.Lock()
		if seq := s.firstUnsealedSeq(); seq != 0 && seq < water {
			water = seq
		}
		s.mu.Unlock()
	})
	db.commitMu.Unlock()

	db.wal.mu.Lock()
	var drop []walRecordInfo
	keep := db.wal.records[:0]
	for _, r := range db.wal.records {
		if r.seq < water {
			drop = append(drop, r)
		} else {
			keep = append(keep, r)
		}
	}
	db.wal.records = keep
	db.wal.mu.Unlock()
	if len(drop) == 0 {
		return nil
	}
	wb := db.kv.NewWriteBatch()
	defer wb.Cancel()
	var dropped int64
	for _, r := range drop {
		if err := wb.Delete(walKey(r.seq)); err != nil {
			return fmt.Errorf("cannot delete write-ahead record %d: %w", r.seq, err)
		}
		dropped += r.size
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("cannot delete %d write-ahead records: %w", len(drop), err)
	}
	db.wal.mu.Lock()
	db.wal.bytes -= dropped
	db.wal.mu.Unlock()
	db.counters.walTruncations.Add(1)
	db.logger.Debug("dropped write-ahead records", "records", len(drop), "bytes", dropped, "below", water)
	return nil
}
