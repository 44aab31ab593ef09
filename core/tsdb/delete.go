package tsdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/tombstones"

	"github.com/vigilmon/vigil/internal/atrest"
	"github.com/vigilmon/vigil/internal/badgerlog"
)

// prefixTombstone keys the deleted intervals of a series: T | ref.
const prefixTombstone byte = 'T'

func tombstoneKey(ref uint64) []byte {
	k := make([]byte, 9)
	k[0] = prefixTombstone
	binary.BigEndian.PutUint64(k[1:], ref)
	return k
}

func encodeIntervals(ivs tombstones.Intervals) []byte {
	b := binary.AppendUvarint(nil, uint64(len(ivs)))
	for _, iv := range ivs {
		b = binary.AppendVarint(b, iv.Mint)
		b = binary.AppendVarint(b, iv.Maxt)
	}
	return withChecksum(b)
}

func decodeIntervals(v []byte) (tombstones.Intervals, error) {
	payload, err := verifyChecksum(v)
	if err != nil {
		return nil, err
	}
	n, k := binary.Uvarint(payload)
	if k <= 0 {
		return nil, errors.New("truncated interval count")
	}
	payload = payload[k:]
	ivs := make(tombstones.Intervals, 0, n)
	for i := uint64(0); i < n; i++ {
		mint, k1 := binary.Varint(payload)
		if k1 <= 0 {
			return nil, errors.New("truncated interval")
		}
		maxt, k2 := binary.Varint(payload[k1:])
		if k2 <= 0 {
			return nil, errors.New("truncated interval")
		}
		payload = payload[k1+k2:]
		ivs = ivs.Add(tombstones.Interval{Mint: mint, Maxt: maxt})
	}
	return ivs, nil
}

// loadTombstones reads the deleted intervals of every series.
func (db *DB) loadTombstones() error {
	return db.kv.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixTombstone}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			key := it.Item().KeyCopy(nil)
			err := it.Item().Value(func(v []byte) error {
				ivs, err := decodeIntervals(v)
				if err != nil {
					return err
				}
				db.tombstones.AddInterval(storage.SeriesRef(refFromKey(key)), ivs...)
				return nil
			})
			if err != nil {
				return fmt.Errorf("cannot read tombstones %x: %w", key, err)
			}
		}
		return nil
	})
}

// Delete hides the samples in [mint, maxt] of every series that matches
// ms from all later queries, as Prometheus's delete_series does. As
// upstream, a deletion covers the samples that exist when it is made: each
// series' interval is clamped to its oldest and newest sample, in badger
// and in the head, and a series without a chunk in [mint, maxt] is left
// alone, so that samples appended later stay visible whatever maxt is. The
// deletion is stored as tombstones; CleanTombstones removes the samples
// from disk.
func (db *DB) Delete(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) error {
	if db.closed.Load() {
		return ErrClosed
	}
	if mint > maxt {
		return fmt.Errorf("cannot delete: start %d is after end %d", mint, maxt)
	}
	// Each deletion rewrites the whole tombstone record of its series: two
	// at once, or one during CleanTombstones, could write an older copy last.
	db.maintMu.Lock()
	defer db.maintMu.Unlock()
	r, err := db.newBlockReader(math.MinInt64, math.MaxInt64)
	if err != nil {
		return err
	}
	defer r.Close()
	p, err := tsdb.PostingsForMatchers(ctx, r, ms...)
	if err != nil {
		return fmt.Errorf("cannot select series to delete: %w", err)
	}
	wb := db.kv.NewWriteBatch()
	defer wb.Cancel()
	for p.Next() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("cannot select series to delete: %w", err)
		}
		ref := p.At()
		// nil for an evicted series, whose samples are all in badger.
		s := db.series.getByRef(uint64(ref))
		minT, maxT, overlap, err := r.dataRange(uint64(ref), s, mint, maxt)
		if err != nil {
			return fmt.Errorf("cannot read the time range of series %d: %w", ref, err)
		}
		if !overlap {
			continue
		}
		db.tombstones.AddInterval(ref, tombstones.Interval{Mint: max(mint, minT), Maxt: min(maxt, maxT)})
		ivs, _ := db.tombstones.Get(ref)
		if err := wb.Set(tombstoneKey(uint64(ref)), encodeIntervals(ivs)); err != nil {
			return fmt.Errorf("cannot write tombstones: %w", err)
		}
	}
	if err := p.Err(); err != nil {
		return err
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("cannot write tombstones: %w", err)
	}
	return nil
}

// dataRange returns the oldest and newest sample time of series ref, in the
// reader's badger snapshot and in the head (s, nil for a series not in
// memory), in-order and out-of-order, and whether any of its chunks (or
// out-of-order samples) overlaps [mint, maxt]; overlap is false for a
// series without samples (one removed by retention since the postings were
// read). Only chunk keys are read from badger, not the chunks.
func (r *blockReader) dataRange(ref uint64, s *memSeries, mint, maxt int64) (minT, maxT int64, overlap bool, err error) {
	minT, maxT = math.MaxInt64, math.MinInt64
	add := func(cmin, cmax int64) {
		minT, maxT = min(minT, cmin), max(maxT, cmax)
		overlap = overlap || (cmin <= maxt && mint <= cmax)
	}
	prefix := chunkPrefix(ref)
	for r.seekChunks(ref, prefix); r.it.Valid(); r.it.Next() {
		key := r.it.Item().Key()
		if !bytes.HasPrefix(key, prefix) {
			break
		}
		k, err := parseChunkKey(key)
		if err != nil {
			return 0, 0, false, err
		}
		add(k.minT, k.maxT)
	}
	if s == nil {
		return minT, maxT, overlap, nil
	}
	// Chunks written to badger after the snapshot are still in memory: the
	// reader keeps them there until it is closed.
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.sealed {
		add(c.minT, c.maxT)
	}
	if c := s.open; c != nil && c.chunk.NumSamples() > 0 {
		add(c.minT, c.maxT)
	}
	for _, o := range s.ooo {
		add(o.t, o.t)
	}
	return minT, maxT, overlap, nil
}

// CleanTombstones seals the head and rewrites every chunk that holds
// deleted samples without them, then drops the tombstones.
func (db *DB) CleanTombstones() error {
	if db.closed.Load() {
		return ErrClosed
	}
	db.maintMu.Lock()
	defer db.maintMu.Unlock()
	if err := db.flushLocked(); err != nil {
		return err
	}
	deleted := map[storage.SeriesRef]tombstones.Intervals{}
	db.tombstones.Iter(func(ref storage.SeriesRef, ivs tombstones.Intervals) error {
		deleted[ref] = append(tombstones.Intervals(nil), ivs...)
		return nil
	})
	if len(deleted) == 0 {
		return nil
	}
	wb := db.kv.NewWriteBatch()
	defer wb.Cancel()
	err := db.kv.View(func(txn *badger.Txn) error {
		for ref, ivs := range deleted {
			if err := db.rewriteSeriesChunks(txn, wb, uint64(ref), ivs); err != nil {
				return err
			}
			if err := wb.Delete(tombstoneKey(uint64(ref))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot clean tombstones: %w", err)
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("cannot clean tombstones: %w", err)
	}
	refs := map[storage.SeriesRef]struct{}{}
	for ref := range deleted {
		refs[ref] = struct{}{}
	}
	db.tombstones.DeleteTombstones(refs)
	return nil
}

// rewriteSeriesChunks replaces each chunk of series ref that overlaps ivs
// with chunks of its samples outside ivs.
func (db *DB) rewriteSeriesChunks(txn *badger.Txn, wb *badger.WriteBatch, ref uint64, ivs tombstones.Intervals) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: chunkPrefix(ref)})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		k, err := parseChunkKey(item.Key())
		if err != nil {
			return err
		}
		if !overlaps(k.minT, k.maxT, ivs) {
			continue
		}
		chk, err := db.readChunkValue(item)
		if err != nil {
			return err
		}
		var kept []oooSample
		ci := chk.Iterator(nil)
		for vt := ci.Next(); vt != chunkenc.ValNone; vt = ci.Next() {
			t := ci.AtT()
			if inIntervals(t, ivs) {
				continue
			}
			s := oooSample{st: ci.AtST(), t: t}
			switch vt {
			case chunkenc.ValFloat:
				_, s.v = ci.At()
			case chunkenc.ValHistogram:
				_, s.h = ci.AtHistogram(nil)
			case chunkenc.ValFloatHistogram:
				_, s.fh = ci.AtFloatHistogram(nil)
			}
			kept = append(kept, s)
		}
		if err := ci.Err(); err != nil {
			return err
		}
		if err := wb.Delete(item.KeyCopy(nil)); err != nil {
			return err
		}
		for _, c := range buildChunks(kept, math.MaxInt64/2) {
			if err := wb.Set(chunkKey(ref, c.minT, c.maxT, k.seq), encodeChunkValue(c.chunk)); err != nil {
				return err
			}
		}
	}
	return nil
}

func overlaps(mint, maxt int64, ivs tombstones.Intervals) bool {
	for _, iv := range ivs {
		if iv.Mint <= maxt && mint <= iv.Maxt {
			return true
		}
	}
	return false
}

func inIntervals(t int64, ivs tombstones.Intervals) bool {
	for _, iv := range ivs {
		if iv.InBounds(t) {
			return true
		}
	}
	return false
}

// Snapshot writes a consistent copy of the store into dir, which must not
// exist yet; the copy opens as a store of its own, for backups. Samples
// not sealed yet come along as a copy of the write-ahead log, unless
// skipHead leaves them out, as Prometheus's skip_head leaves out its head
// block: the copy then holds the sealed chunks only. With the log, the
// sealing waits until the copy is done, so that no sample moves from the
// log to badger between the two copies; a commit written meanwhile may be
// in the copy or not, never in part.
func (db *DB) Snapshot(dir string, skipHead bool) error {
	if db.closed.Load() {
		return ErrClosed
	}
	if !skipHead {
		db.maintMu.Lock()
		defer db.maintMu.Unlock()
	}
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("snapshot directory %q exists already", dir)
	}
	// A snapshot of an encrypted store is encrypted with its key.
	dst, err := badger.Open(atrest.Encrypt(badger.DefaultOptions(dir).WithLogger(badgerlog.New(db.logger.Named("snapshot"))).
		WithCompression(options.ZSTD).WithSyncWrites(true), db.opts.EncryptionKey, db.opts.CacheBytes))
	if err != nil {
		return fmt.Errorf("cannot create snapshot %q: %w", dir, err)
	}
	pr, pw := io.Pipe()
	backupErr := make(chan error, 1)
	go func() {
		stream := db.kv.NewStream()
		stream.LogPrefix = "snapshot"
		_, err := stream.Backup(pw, 0)
		pw.CloseWithError(err)
		backupErr <- err
	}()
	loadErr := dst.Load(pr, 256)
	pr.CloseWithError(loadErr)
	err = errors.Join(<-backupErr, loadErr, dst.Close())
	if err == nil && !skipHead {
		err = copyDir(db.wal.dir, filepath.Join(dir, walDirName))
	}
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("cannot write snapshot %q: %w", dir, err)
	}
	return nil
}

// copyDir copies the files of src and of its folders into dst, leaving out
// the temporary folders of an unfinished checkpoint.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasSuffix(d.Name(), ".tmp") {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(filepath.Join(dst, rel))
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		if err := out.Sync(); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}
