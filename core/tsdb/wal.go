package tsdb

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"
	"github.com/prometheus/prometheus/util/compression"

	"github.com/vigilmon/vigil/internal/hclogslog"
)

// walDirName is the folder of the write-ahead log in the data directory.
const walDirName = "wal"

// commitMarker ends the records of every commit in the write-ahead log: an
// upstream Series record with no series, which upstream's readers (the
// head's replay, the remote-write watcher) take as a record that adds
// nothing. The replay applies the records of a commit only once it reads
// the marker, so a commit that a crash cut short is dropped whole.
var commitMarker = []byte{byte(record.Series)}

// segmentWAL is the write-ahead log: upstream's wlog segment files in
// DATA/wal. Every commit is written with one Log call as its records and
// the commit marker, and gets a sequence number. The head remembers, per
// series, the sequence of the oldest commit its unsealed samples came from;
// whole segments are dropped once every commit in them is below that.
type segmentWAL struct {
	dir string
	log *wlog.WL

	// mu serializes writes and segment switches, so that sequence numbers
	// follow the order of the commits in the log.
	mu sync.Mutex
	// nextSeq is the sequence of the last commit written; written under mu.
	nextSeq atomic.Uint64
	// bounds are the segment switches the store made, oldest first: the
	// segments below bounds[i].segment hold only commits up to
	// bounds[i].lastSeq. wlog also switches segments by itself when one is
	// full; those switches are not known here, so segments are dropped only
	// at the switches listed.
	bounds []walBound
	// pending is the record bytes written since the last bound.
	pending int64
	// switched is when the store last switched segments.
	switched time.Time
	// synced is the segment that the last fsync of a commit covered (with
	// Options.SyncWrites): the segments before it are fsynced.
	synced int
	// failed is set when a write failed: the log may end in part of a
	// commit, which would join the next one on replay, so no later commit
	// is written.
	failed error

	// size is the bytes of the log on disk, segments and checkpoint;
	// segmentBytes the bytes of its segments alone. Refreshed by the
	// maintenance.
	size, segmentBytes atomic.Int64
}

// walBound is a segment switch: the segments below segment hold only
// commits up to lastSeq, bytes of records since the switch before.
type walBound struct {
	segment int
	lastSeq uint64
	bytes   int64
}

// walSegmentSize is the size of a segment file of the write-ahead log, as
// upstream's.
const walSegmentSize = wlog.DefaultSegmentSize

// openWAL opens (or creates) the write-ahead log of the store, after the
// replay read it. wlog starts a new segment after the existing ones.
func (db *DB) openWAL() error {
	dir := filepath.Join(db.dir, walDirName)
	l, err := wlog.NewSize(hclogslog.New(db.logger.Named("wal")), nil, dir, db.opts.walSegmentBytes, compression.Type(db.opts.WALCompression))
	if err != nil {
		return fmt.Errorf("cannot open the write-ahead log in %q: %w", dir, err)
	}
	db.wal.dir = dir
	db.wal.log = l
	db.wal.switched = time.Now()
	return db.wal.noteSegment()
}

// noteSegment records the segment being written as the last one fsynced:
// the log has just started it, after the earlier segments were fsynced.
func (w *segmentWAL) noteSegment() error {
	seg, _, err := w.log.LastSegmentAndOffset()
	if err != nil {
		return fmt.Errorf("cannot find the segment the write-ahead log in %q writes to: %w", w.dir, err)
	}
	w.synced = seg
	return nil
}

// write logs the records of one commit, followed by the commit marker, in
// one Log call, with fsync when sync is set, and returns the commit's
// sequence number.
func (w *segmentWAL) write(recs [][]byte, size int, sync bool) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed != nil {
		return 0, fmt.Errorf("the write-ahead log failed earlier, reopen the store: %w", w.failed)
	}
	seq := w.nextSeq.Load() + 1
	err := w.log.Log(append(recs, commitMarker)...)
	if err == nil && sync {
		err = w.sync()
	}
	if err != nil {
		w.failed = err
		return 0, fmt.Errorf("cannot write commit %d (%d records, %d bytes) to the write-ahead log: %w", seq, len(recs), size, err)
	}
	w.nextSeq.Store(seq)
	w.pending += int64(size)
	return seq, nil
}

// sync fsyncs the segment the last commit was written to and, when wlog
// started new segments during the commit's Log call because a record did
// not fit, the segments before it: wlog fsyncs those in the background, so
// the first records of a commit that straddles a switch would not be
// durable yet when the commit returns. w.mu must be held.
func (w *segmentWAL) sync() error {
	if err := w.log.Sync(); err != nil {
		return err
	}
	seg, _, err := w.log.LastSegmentAndOffset()
	if err != nil {
		return fmt.Errorf("cannot find the segment the write-ahead log writes to: %w", err)
	}
	for i := w.synced; i < seg; i++ {
		if err := syncSegmentFile(wlog.SegmentName(w.dir, i)); err != nil {
			return err
		}
	}
	w.synced = seg
	return nil
}

// syncSegmentFile fsyncs a segment file that wlog has left; a variable so
// that a test can see the calls.
var syncSegmentFile = func(name string) error {
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("cannot open segment %q to fsync it: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("cannot fsync segment %q: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot close segment %q: %w", name, err)
	}
	return nil
}

// switchSegment starts a new segment when the current one holds commits and
// force is set, or it holds at least minBytes of records, or the last switch
// is a minute old; the commits before it can then go as a whole.
func (w *segmentWAL) switchSegment(force bool, minBytes int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pending == 0 || w.failed != nil {
		return nil
	}
	if !force && w.pending < minBytes && time.Since(w.switched) < time.Minute {
		return nil
	}
	n, err := w.log.NextSegment()
	if err != nil {
		return fmt.Errorf("cannot start a new segment of the write-ahead log: %w", err)
	}
	w.bounds = append(w.bounds, walBound{segment: n, lastSeq: w.nextSeq.Load(), bytes: w.pending})
	w.pending = 0
	w.switched = time.Now()
	// Each commit before the switch fsynced its segment (with SyncWrites).
	w.synced = n
	return nil
}

// refreshSize measures the log on disk.
func (w *segmentWAL) refreshSize() error {
	var segs, total int64
	err := filepath.WalkDir(w.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil // a segment or checkpoint deleted meanwhile
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		total += info.Size()
		if filepath.Dir(path) == w.dir {
			segs += info.Size()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot measure the write-ahead log in %q: %w", w.dir, err)
	}
	w.size.Store(total)
	w.segmentBytes.Store(segs)
	return nil
}

// walSize returns the bytes of the write-ahead log on disk, as last measured.
func (db *DB) walSize() int64 { return db.wal.size.Load() }

// encodeWALRecords encodes the series created by a commit and its samples
// with upstream's record encoding, one record per kind, and returns the
// records and their total size. They share buf.out.
func encodeWALRecords(buf *walBuffers, newSeries []*memSeries, samples []pendingSample) ([][]byte, int) {
	enc := record.Encoder{EnableSTStorage: true}
	out := buf.out[:0]
	var ends []int
	if len(newSeries) > 0 {
		out = seriesRecord(out, newSeries)
		ends = append(ends, len(out))
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
		out = enc.Samples(floats, out)
		ends = append(ends, len(out))
	}
	if len(hists) > 0 {
		// Histograms with custom buckets come back apart; the store logs
		// them all in the one record, which decodes them all.
		out, _ = enc.HistogramSamples(hists, out)
		ends = append(ends, len(out))
	}
	if len(fhists) > 0 {
		out, _ = enc.FloatHistogramSamples(fhists, out)
		ends = append(ends, len(out))
	}
	clear(hists)
	clear(fhists)
	buf.floats, buf.hists, buf.fhists = floats, hists[:0], fhists[:0]
	buf.out = out
	recs := make([][]byte, len(ends))
	start := 0
	for i, end := range ends {
		recs[i] = out[start:end:end]
		start = end
	}
	return recs, len(out)
}

// seriesRecord appends to out an upstream Series record of series.
func seriesRecord(out []byte, series []*memSeries) []byte {
	refs := make([]record.RefSeries, len(series))
	for i, s := range series {
		refs[i] = record.RefSeries{Ref: chunks.HeadSeriesRef(s.ref), Labels: s.lset}
	}
	var enc record.Encoder
	return enc.Series(refs, out)
}

// defaultMaxRecordBytes bounds the records of one commit taken together:
// a larger commit is cut into parts, each with records of its own, so that
// no record comes near the size of a segment (wlog puts a record in one
// segment, starting a new one when it does not fit).
const defaultMaxRecordBytes = 8 << 20

// walPart is one part of a commit: its samples and their records.
type walPart struct {
	samples []pendingSample
	recs    [][]byte
	size    int
}

// splitWALRecord encodes the samples of a commit, whose records would have
// size bytes, as parts of at most maxBytes: runs of about maxBytes/2, so
// that a run with more series or larger histograms than the average still
// fits, and is split again when it does not. Each part carries the series
// the commit creates that its samples use. The samples are first put in time
// order (stably, so the samples of a series keep theirs).
func splitWALRecord(samples []pendingSample, size, maxBytes int) []walPart {
	byTime := func(a, b pendingSample) int { return cmp.Compare(a.t, b.t) }
	if !slices.IsSortedFunc(samples, byTime) {
		slices.SortStableFunc(samples, byTime)
	}
	return splitSorted(&walBuffers{}, samples, size, maxBytes)
}

// splitSorted splits samples, whose records would have size bytes, into
// runs, encoding them with the scratch buffers of buf and each into an
// output buffer of its own, sized for the run.
func splitSorted(buf *walBuffers, samples []pendingSample, size, maxBytes int) []walPart {
	half := max(1, maxBytes/2)
	n := min(len(samples), max(2, (size+half-1)/half))
	parts := make([]walPart, 0, n)
	for i := 0; i < n; i++ {
		run := samples[i*len(samples)/n : (i+1)*len(samples)/n]
		// Room for the run's share of the size and a little more, so that
		// the records are not copied as they grow.
		buf.out = make([]byte, 0, size/n+size/(8*n))
		recs, runSize := encodeWALRecords(buf, newSeriesOf(run), run)
		if runSize > maxBytes && len(run) > 1 {
			parts = append(parts, splitSorted(buf, run, runSize, maxBytes)...)
			continue
		}
		parts = append(parts, walPart{samples: run, recs: recs, size: runSize})
	}
	return parts
}

// walBuffers are the scratch buffers of one commit, reused across commits.
type walBuffers struct {
	out    []byte
	floats []record.RefSample
	hists  []record.RefHistogramSample
	fhists []record.RefFloatHistogramSample
}

var walBufferPool = sync.Pool{New: func() any { return &walBuffers{} }}

// walSample is one sample decoded from a write-ahead record.
type walSample struct {
	ref uint64
	oooSample
}

// walCommit is the records of one commit read back from the log.
type walCommit struct {
	series    []record.RefSeries
	samples   []walSample
	exemplars []record.RefExemplar
	records   int
}

// decodeRecord adds a record read from the log to c.
func (c *walCommit) decodeRecord(dec *record.Decoder, rec []byte) error {
	c.records++
	switch typ := dec.Type(rec); typ {
	case record.Series:
		s, err := dec.Series(rec, nil)
		if err != nil {
			return fmt.Errorf("cannot decode series: %w", err)
		}
		c.series = append(c.series, s...)
	case record.Samples, record.SamplesV2:
		ss, err := dec.Samples(rec, nil)
		if err != nil {
			return fmt.Errorf("cannot decode samples: %w", err)
		}
		for _, s := range ss {
			c.samples = append(c.samples, walSample{uint64(s.Ref), oooSample{st: s.ST, t: s.T, v: s.V}})
		}
	case record.HistogramSamples, record.HistogramSamplesV2, record.CustomBucketsHistogramSamples:
		hs, err := dec.HistogramSamples(rec, nil)
		if err != nil {
			return fmt.Errorf("cannot decode histograms: %w", err)
		}
		for _, h := range hs {
			c.samples = append(c.samples, walSample{uint64(h.Ref), oooSample{st: h.ST, t: h.T, h: h.H}})
		}
	case record.FloatHistogramSamples, record.FloatHistogramSamplesV2, record.CustomBucketsFloatHistogramSamples:
		fhs, err := dec.FloatHistogramSamples(rec, nil)
		if err != nil {
			return fmt.Errorf("cannot decode float histograms: %w", err)
		}
		for _, h := range fhs {
			c.samples = append(c.samples, walSample{uint64(h.Ref), oooSample{st: h.ST, t: h.T, fh: h.FH}})
		}
	case record.Exemplars:
		var err error
		if c.exemplars, err = dec.Exemplars(rec, c.exemplars); err != nil {
			return fmt.Errorf("cannot decode exemplars: %w", err)
		}
	default:
		return fmt.Errorf("unknown record type %d", typ)
	}
	return nil
}

// isCommitMarker reports whether rec is the record that ends a commit.
func isCommitMarker(rec []byte) bool {
	return len(rec) == 1 && rec[0] == byte(record.Series)
}

// replayWAL reads the checkpoint and the segments of the write-ahead log
// into the head, in the order they were written. The records of a commit
// are applied once its commit marker is read. A log that ends in a commit
// without its marker, or in a torn or damaged record (a crash in the middle
// of a write), is cut back to the end of the last whole commit
// (cutSegments) before openWAL opens it for writing, so that the commits
// written next do not join the dropped part.
// One goroutine reads and decodes the records; as many as there are CPUs
// apply the samples, each to its own share of the series.
func (db *DB) replayWAL() error {
	start := time.Now()
	w := &db.wal
	w.dir = filepath.Join(db.dir, walDirName)
	if _, err := os.Stat(w.dir); errors.Is(err, os.ErrNotExist) {
		return nil // a new store; openWAL creates the folder
	}
	if err := db.replayCheckpoint(); err != nil {
		return err
	}
	first, last, err := wlog.Segments(w.dir)
	if err != nil {
		return fmt.Errorf("cannot list the segments of the write-ahead log in %q: %w", w.dir, err)
	}
	if _, cp, err := wlog.LastCheckpoint(w.dir); err == nil {
		first = max(first, cp+1)
	}
	if first < 0 || first > last {
		return nil
	}
	sr, err := wlog.NewSegmentsRangeReader(wlog.SegmentRange{Dir: w.dir, First: first, Last: last})
	if err != nil {
		return fmt.Errorf("cannot read the write-ahead log in %q: %w", w.dir, err)
	}
	defer sr.Close()

	var (
		dec              record.Decoder
		commit           walCommit
		commits, samples int
		lastLog          = start
		seq              = w.nextSeq.Load()
		markSeg, markOff = first, int64(0) // the end of the last whole commit
		pending          int64
		damage           error
		damageSeg        int
	)
	err = db.kv.View(func(txn *badger.Txn) error {
		if size, err := segmentsSize(w.dir, first, last); err != nil {
			return err
		} else if size > 0 {
			if err := db.loadNewestSamples(txn, runtime.GOMAXPROCS(0)); err != nil {
				return err
			}
		}
		workers := newReplayWorkers(db, txn, runtime.GOMAXPROCS(0))
		r := wlog.NewReader(sr)
		for r.Next() {
			rec := r.Record()
			if commit.records == 0 && r.Segment() > markSeg {
				// The commit starts a segment: the ones before hold only
				// the commits read so far.
				w.bounds = append(w.bounds, walBound{segment: r.Segment(), lastSeq: seq, bytes: pending})
				pending = 0
			}
			pending += int64(len(rec))
			if isCommitMarker(rec) {
				seq++
				if err := db.replaySeries(commit.series); err != nil {
					workers.stop()
					return err
				}
				workers.dispatch(seq, commit.samples)
				db.replayExemplars(commit.exemplars)
				commits++
				samples += len(commit.samples)
				commit = walCommit{}
				markSeg, markOff = r.Segment(), r.Offset()
				if time.Since(lastLog) > 5*time.Second {
					lastLog = time.Now()
					db.logger.Info("replaying the write-ahead log", "commits", commits, "samples", samples, "elapsed", time.Since(start).Round(time.Second))
				}
				continue
			}
			if err := commit.decodeRecord(&dec, rec); err != nil {
				damage, damageSeg = fmt.Errorf("record ending at offset %d of segment %d: %w", r.Offset(), r.Segment(), err), r.Segment()
				break
			}
		}
		if damage == nil && r.Err() != nil {
			damage = r.Err()
			var cerr *wlog.CorruptionErr
			if errors.As(damage, &cerr) {
				damageSeg = cerr.Segment
			}
		}
		return workers.stop()
	})
	if err != nil {
		return fmt.Errorf("cannot replay the write-ahead log in %q: %w", w.dir, err)
	}
	w.nextSeq.Store(seq)
	w.pending = pending
	if damage != nil || commit.records > 0 {
		// A crash in the middle of a write leaves a log that ends early:
		// in a commit without its marker or in a record cut short. Other
		// damage (a checksum that fails, bytes that do not decode) is
		// counted.
		if damage != nil && !isTornWrite(damage) {
			db.reportCorruption("dropping the write-ahead log from a damaged record on", []byte(fmt.Sprintf("segment %d", damageSeg)), damage)
		} else {
			db.logger.Warn("dropping a commit that a crash left incomplete at the end of the write-ahead log", "segment", markSeg, "offset", markOff, "records", commit.records, "error", damage)
		}
		if err := cutSegments(w.dir, markSeg, markOff, last); err != nil {
			return fmt.Errorf("cannot cut the write-ahead log in %q back to its last whole commit: %w", w.dir, err)
		}
		last = markSeg
	}
	// openWAL starts segment last+1 for the commits to come.
	w.bounds = append(w.bounds, walBound{segment: last + 1, lastSeq: seq, bytes: w.pending})
	w.pending = 0
	if commits > 0 {
		db.logger.Info("replayed the write-ahead log", "commits", commits, "samples", samples, "duration", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// cutSegments cuts the log in dir back to offset off of segment seg, the end
// of its last whole commit, and deletes the segments after it up to last:
// the segment file is truncated there, as a crash before the write of the
// dropped part would have left it (a segment may end within a page; its
// readers take the rest of the page for padding). openWAL then starts a new
// segment, so the commits written next never follow the dropped part.
// Upstream's wlog.Repair would rewrite, and compress again, the records of
// the segment before off instead.
func cutSegments(dir string, seg int, off int64, last int) error {
	for i := last; i > seg; i-- {
		if err := os.Remove(wlog.SegmentName(dir, i)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cannot delete segment %d: %w", i, err)
		}
	}
	name := wlog.SegmentName(dir, seg)
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("cannot open segment %d: %w", seg, err)
	}
	if err := f.Truncate(off); err != nil {
		f.Close()
		return fmt.Errorf("cannot truncate segment %d at %d: %w", seg, off, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("cannot fsync segment %d: %w", seg, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot close segment %d: %w", seg, err)
	}
	return syncDir(dir)
}

// segmentsSize returns the bytes of the segments first to last of the log
// in dir.
func segmentsSize(dir string, first, last int) (int64, error) {
	var size int64
	for i := first; i <= last; i++ {
		info, err := os.Stat(wlog.SegmentName(dir, i))
		if err != nil {
			return 0, fmt.Errorf("cannot measure a segment of the write-ahead log: %w", err)
		}
		size += info.Size()
	}
	return size, nil
}

// isTornWrite reports whether err, from reading the log, is its end cut
// short, as a crash during a write leaves it.
func isTornWrite(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "last record is torn")
}

// replayCheckpoint adds the series and exemplars of the last checkpoint of
// the log.
func (db *DB) replayCheckpoint() error {
	dir, _, err := wlog.LastCheckpoint(db.wal.dir)
	if errors.Is(err, record.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot find the checkpoint of the write-ahead log in %q: %w", db.wal.dir, err)
	}
	sr, err := wlog.NewSegmentsReader(dir)
	if err != nil {
		return fmt.Errorf("cannot read checkpoint %q: %w", dir, err)
	}
	defer sr.Close()
	var dec record.Decoder
	r := wlog.NewReader(sr)
	for r.Next() {
		switch dec.Type(r.Record()) {
		case record.Series:
			series, err := dec.Series(r.Record(), nil)
			if err != nil {
				return fmt.Errorf("cannot decode the series of checkpoint %q: %w", dir, err)
			}
			if err := db.replaySeries(series); err != nil {
				return err
			}
		case record.Exemplars:
			exemplars, err := dec.Exemplars(r.Record(), nil)
			if err != nil {
				return fmt.Errorf("cannot decode the exemplars of checkpoint %q: %w", dir, err)
			}
			db.replayExemplars(exemplars)
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("cannot read checkpoint %q: %w", dir, err)
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
			if w.db.applySample(s, smp.oooSample, job.seq, job.headMaxT, commitIsolation{}) {
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

// replaySeries adds the series of the write-ahead log that the head does
// not know: a commit writes its new series to the log only, and the
// sealing writes their badger records later.
func (db *DB) replaySeries(series []record.RefSeries) error {
	for _, rs := range series {
		ref := uint64(rs.Ref)
		if db.series.getByRef(ref) != nil {
			continue
		}
		lset := rs.Labels.Copy()
		s := newMemSeries(ref, lset, false)
		s.logged.Store(true)
		db.series.add(s, lset.Hash())
		db.postings.Add(storage.SeriesRef(ref), lset)
		for {
			cur := db.nextRef.Load()
			if cur >= ref || db.nextRef.CompareAndSwap(cur, ref) {
				break
			}
		}
	}
	return nil
}

// loadNewestSamples sets the newest sealed sample (maxT and value) of every
// series with sealed chunks, as readNewestSample would one series at a time,
// with one forward scan of the chunk keys split by reference among n
// goroutines. The replay needs it for every series it touches; a seek per
// series loads a block of every overlapping table (all of level 0 after a
// crash), and loads the same blocks again for the neighbouring series, so
// reading the keys in order costs a fraction of it. A series whose newest
// chunk cannot be decoded is left to readNewestSample, which reports it
// when the series is used.
func (db *DB) loadNewestSamples(txn *badger.Txn, n int) error {
	maxRef := db.nextRef.Load()
	if maxRef == 0 {
		return nil
	}
	n = max(1, min(n, int(maxRef)))
	step := maxRef/uint64(n) + 1
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		lo, hi := uint64(i)*step, uint64(i+1)*step
		wg.Go(func() { errs[i] = db.loadNewestSamplesIn(txn, lo, hi) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// loadNewestSamplesIn is loadNewestSamples for the series with references
// in [lo, hi).
func (db *DB) loadNewestSamplesIn(txn *badger.Txn, lo, hi uint64) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixChunk}})
	defer it.Close()
	var (
		key, val []byte
		cur      uint64
		have     bool
	)
	done := func() {
		if !have {
			return
		}
		s := db.series.getByRef(cur)
		if s == nil {
			return
		}
		k, err := parseChunkKey(key)
		if err != nil {
			return
		}
		// The chunk keeps a reference to its value, which val is reused for.
		chk, err := decodeChunkValue(bytes.Clone(val))
		if err != nil {
			return // readNewestSample reports it when the series is used
		}
		newest := newMemSeries(cur, labels.EmptyLabels(), false)
		if setNewestSample(newest, k.maxT, chk) != nil {
			return
		}
		s.mu.Lock()
		if !s.maxTKnown && newest.maxT > s.maxT {
			s.maxT, s.lastValue, s.lastH, s.lastFH = newest.maxT, newest.lastValue, newest.lastH, newest.lastFH
			s.maxTKnown = true
		}
		s.mu.Unlock()
	}
	for it.Seek(chunkPrefix(lo)); it.Valid(); it.Next() {
		item := it.Item()
		k := item.Key()
		if len(k) != chunkKeyLen {
			continue // readNewestSample reports it
		}
		ref := refFromKey(k)
		if ref >= hi {
			break
		}
		if ref != cur || !have {
			done()
			cur, have = ref, true
		}
		key = append(key[:0], k...)
		var err error
		if val, err = item.ValueCopy(val[:0]); err != nil {
			return fmt.Errorf("cannot read chunk %x: %w", k, err)
		}
	}
	done()
	return nil
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
	return setNewestSample(s, k.maxT, chk)
}

// setNewestSample sets maxT and the last value of s from chk, its newest
// sealed chunk, whose newest sample is at maxT. s.mu must be held.
func setNewestSample(s *memSeries, maxT int64, chk chunkenc.Chunk) error {
	s.maxT = maxT
	s.lastValue, s.lastH, s.lastFH = 0, nil, nil
	ci := chk.Iterator(nil)
	for vt := ci.Next(); vt != chunkenc.ValNone; vt = ci.Next() {
		if ci.AtT() != maxT {
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
// write-ahead log when its segments exceed Options.WALMaxBytes, and drops
// the segments they covered.
func (db *DB) truncateWALIfLarge() error {
	w := &db.wal
	if err := w.refreshSize(); err != nil {
		return err
	}
	if w.segmentBytes.Load() <= db.opts.WALMaxBytes {
		return nil
	}
	// Segments a reader of the log holds do not count: sealing cannot
	// free them.
	keep := db.walKeptFrom()
	if keep != math.MaxInt {
		first, last, err := wlog.Segments(w.dir)
		if err != nil {
			return fmt.Errorf("cannot list the segments of the write-ahead log in %q: %w", w.dir, err)
		}
		if first >= 0 && keep <= last {
			held, err := segmentsSize(w.dir, max(first, keep), last)
			if err != nil {
				return err
			}
			if w.segmentBytes.Load()-held <= db.opts.WALMaxBytes {
				return nil
			}
		}
	}
	if err := w.switchSegment(true, 0); err != nil {
		return err
	}
	w.mu.Lock()
	bounds := slices.Clone(w.bounds)
	w.mu.Unlock()
	bounds = slices.DeleteFunc(bounds, func(b walBound) bool { return b.segment > keep })
	var total, acc int64
	for _, b := range bounds {
		total += b.bytes
	}
	var cutoff uint64
	for _, b := range bounds {
		acc += b.bytes
		cutoff = b.lastSeq + 1
		if acc >= total/2 {
			break
		}
	}
	if cutoff == 0 {
		return nil
	}
	return db.sealHeadBefore(cutoff)
}

// truncateWAL drops the segments of the write-ahead log that hold only
// commits below limit whose samples are all sealed. It first starts a new
// segment when the current one is large or old enough.
func (db *DB) truncateWAL(limit uint64) error {
	if err := db.wal.switchSegment(false, max(db.opts.WALMaxBytes/8, 1)); err != nil {
		return err
	}
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
	return db.dropWALBelow(water)
}

// dropWALBelow drops the segments that hold only commits below water: it
// writes the badger records of the series that have none yet, then a
// checkpoint of those segments (writeCheckpoint), keeping the series
// records of the series still in the head (as upstream's head does) and
// their exemplars within retention, and deletes the segments and the older
// checkpoint. A reader of the log,
// such as upstream's remote-write watcher, starts from the checkpoint and
// follows the segments after it; the segments from the one
// Options.WALReader still needs are kept.
func (db *DB) dropWALBelow(water uint64) error {
	w := &db.wal
	w.mu.Lock()
	i := -1
	for j, b := range w.bounds {
		if b.lastSeq < water {
			i = j
		}
	}
	bounds := slices.Clone(w.bounds[:i+1])
	w.mu.Unlock()
	if i >= 0 {
		// Asked only now, outside w.mu, which commits take. Only the
		// maintenance, which holds db.maintMu, removes bounds.
		keep := db.walKeptFrom()
		for i >= 0 && bounds[i].segment > keep {
			i--
		}
	}
	if i < 0 {
		return nil
	}
	cut := bounds[i]
	first, _, err := wlog.Segments(w.dir)
	if err != nil {
		return fmt.Errorf("cannot list the segments of the write-ahead log in %q: %w", w.dir, err)
	}
	if _, cp, err := wlog.LastCheckpoint(w.dir); err == nil {
		first = max(first, cp+1)
	}
	if first >= 0 && first < cut.segment {
		if err := db.writeUnindexedSeries(); err != nil {
			return err
		}
		keep := func(ref chunks.HeadSeriesRef) bool { return db.series.getByRef(uint64(ref)) != nil }
		logger := hclogslog.New(db.logger.Named("wal"))
		exemplarMinT := int64(math.MinInt64)
		if db.opts.Retention > 0 {
			exemplarMinT = db.maxT.Load() - db.opts.Retention.Milliseconds()
		}
		if err := writeCheckpoint(logger, w.log, first, cut.segment-1, keep, exemplarMinT, int(db.maxExemplars.Load())); err != nil {
			return fmt.Errorf("cannot checkpoint the write-ahead log in %q up to segment %d: %w", w.dir, cut.segment-1, err)
		}
		if err := w.log.Truncate(cut.segment); err != nil {
			return fmt.Errorf("cannot delete the segments of the write-ahead log in %q below %d: %w", w.dir, cut.segment, err)
		}
		if err := wlog.DeleteCheckpoints(w.dir, cut.segment-1); err != nil {
			return fmt.Errorf("cannot delete the old checkpoints of the write-ahead log in %q: %w", w.dir, err)
		}
		db.counters.walTruncations.Add(1)
		db.logger.Debug("dropped write-ahead segments", "below", cut.segment, "commits_below", water)
	}
	w.mu.Lock()
	w.bounds = slices.Delete(w.bounds, 0, i+1)
	w.mu.Unlock()
	return w.refreshSize()
}

// walKeptFrom is the lowest segment Options.WALReader still needs, or
// math.MaxInt without one.
func (db *DB) walKeptFrom() int {
	if db.opts.WALReader == nil {
		return math.MaxInt
	}
	return db.opts.WALReader.LowestSegment()
}

// writeUnindexedSeries writes the badger records of the series that only
// the write-ahead log holds.
func (db *DB) writeUnindexedSeries() error {
	var series []*memSeries
	db.series.forEach(func(s *memSeries) {
		if !s.indexed.Load() {
			series = append(series, s)
		}
	})
	return db.writeSeries(series)
}

// dropAllWAL drops every segment of the write-ahead log, which must hold
// no unsealed sample; commits are held off by the caller.
func (db *DB) dropAllWAL() error {
	if err := db.wal.switchSegment(true, 0); err != nil {
		return err
	}
	return db.dropWALBelow(math.MaxUint64)
}
