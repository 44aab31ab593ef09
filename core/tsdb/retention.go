package tsdb

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// applyRetention deletes the sealed chunks older than Options.Retention
// and, while the store is larger than Options.MaxBytes, the oldest chunk
// range. Series left without samples are removed from the index.
func (db *DB) applyRetention() error {
	if db.opts.Retention > 0 && db.maxT.Load() != math.MinInt64 {
		cutoff := db.maxT.Load() - db.opts.Retention.Milliseconds()
		if db.minT.Load() < cutoff {
			if _, err := db.deleteBefore(cutoff); err != nil {
				return err
			}
		}
	}
	if db.opts.MaxBytes > 0 {
		size, err := db.storedBytes()
		if err != nil {
			return err
		}
		for size > db.opts.MaxBytes {
			mint := db.minT.Load()
			if mint == math.MaxInt64 || mint >= db.maxT.Load() {
				return nil
			}
			cutoff := rangeForTimestamp(mint, db.chunkO.chunkRange)
			freed, err := db.deleteBefore(cutoff)
			if err != nil {
				return err
			}
			db.logger.Info("size retention deleted the oldest chunk range", "before", cutoff, "bytes", freed, "size", size, "max_bytes", db.opts.MaxBytes)
			size -= freed
		}
	}
	return nil
}

// storedBytes is the size of what the store holds: the keys and values of
// its chunks, before badger's block compression, and the write-ahead log.
// Badger reclaims the space of deleted entries as it compacts, so the files
// on disk follow it with a delay, and are usually smaller.
func (db *DB) storedBytes() (int64, error) {
	var size int64
	err := db.kv.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: []byte{prefixChunk}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			size += it.Item().EstimatedSize()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("cannot measure the store: %w", err)
	}
	return size + db.walSize(), nil
}

// collectValueLog rewrites value log files until badger finds none worth it.
func (db *DB) collectValueLog() error {
	for {
		err := db.kv.RunValueLogGC(0.3)
		if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cannot collect value log garbage: %w", err)
		}
	}
}

// deleteBefore deletes every sealed chunk whose newest sample is older than
// cutoff, removes the series left empty and returns the bytes it deleted.
func (db *DB) deleteBefore(cutoff int64) (int64, error) {
	var (
		freed   int64
		deleted int
		empty   []*memSeries
		idle    []uint64 // evicted series left empty
		err     error
	)
	wb := db.kv.NewWriteBatch()
	defer wb.Cancel()
	txn := db.kv.NewTransaction(false)
	defer txn.Discard()
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: []byte{prefixChunk}})
	defer it.Close()
	// deleteChunks deletes the chunks of series ref older than cutoff and
	// reports whether it has chunks left.
	deleteChunks := func(ref uint64) (bool, error) {
		prefix := chunkPrefix(ref)
		for it.Seek(prefix); it.Valid(); it.Next() {
			key := it.Item().Key()
			if !bytes.HasPrefix(key, prefix) {
				break
			}
			k, err := parseChunkKey(key)
			if err != nil {
				return false, err
			}
			if k.maxT >= cutoff {
				return true, nil
			}
			if err := wb.Delete(it.Item().KeyCopy(nil)); err != nil {
				return false, fmt.Errorf("cannot delete chunk %x: %w", key, err)
			}
			freed += it.Item().EstimatedSize()
			deleted++
		}
		return false, nil
	}
	db.series.forEach(func(s *memSeries) {
		if err != nil {
			return
		}
		var left bool
		if left, err = deleteChunks(s.ref); err == nil && !left {
			empty = append(empty, s)
		}
	})
	if err != nil {
		return 0, err
	}
	if db.anyEvicted() {
		// The evicted series are in badger alone. Sealing and eviction
		// wait for retention (maintMu), so a series not in memory now has
		// no chunk that the snapshot misses.
		refs, err := indexReader{txn}.allRefs()
		if err != nil {
			return 0, err
		}
		for _, ref := range refs {
			if db.series.getByRef(uint64(ref)) != nil {
				continue
			}
			left, err := deleteChunks(uint64(ref))
			if err != nil {
				return 0, err
			}
			if !left {
				idle = append(idle, uint64(ref))
			}
		}
	}
	db.minT.Store(max(db.minT.Load(), cutoff))
	if err := wb.Set(metaKey("mint"), withChecksum(be64(orderedInt64(db.minT.Load())))); err != nil {
		return 0, fmt.Errorf("cannot write time bounds: %w", err)
	}
	if err := wb.Flush(); err != nil {
		return 0, fmt.Errorf("cannot delete %d chunks older than %d: %w", deleted, cutoff, err)
	}
	removed, err := db.removeEmptySeries(empty)
	if err != nil {
		return freed, err
	}
	removedIdle, err := db.removeEvictedSeries(txn, idle)
	if err != nil {
		return freed, err
	}
	removed += removedIdle
	db.logger.Debug("retention deleted chunks", "before", cutoff, "chunks", deleted, "series_removed", removed)
	return freed, nil
}

// removeEmptySeries removes from the index the series that hold no samples
// in memory, have no appender waiting to commit to them, and have no chunk
// in badger.
func (db *DB) removeEmptySeries(candidates []*memSeries) (int, error) {
	if len(candidates) == 0 {
		return 0, nil
	}
	// An append of the same labels waits, so that it does not bring the
	// series back from its badger records as they are deleted.
	db.createMu.Lock()
	defer db.createMu.Unlock()
	wb := db.kv.NewWriteBatch()
	defer wb.Cancel()
	deleted := map[storage.SeriesRef]struct{}{}
	affected := map[labels.Label]struct{}{}
	for _, s := range candidates {
		s.mu.Lock()
		if s.hasData() || s.pendingApp != 0 || s.queued {
			s.mu.Unlock()
			continue
		}
		s.deleted = true
		s.mu.Unlock()
		db.series.remove(s)
		deleted[storage.SeriesRef(s.ref)] = struct{}{}
		s.lset.Range(func(l labels.Label) { affected[l] = struct{}{} })
		if err := unindexSeries(wb, s.ref, s.lset); err != nil {
			return 0, err
		}
	}
	if len(deleted) == 0 {
		return 0, nil
	}
	if err := wb.Flush(); err != nil {
		return 0, fmt.Errorf("cannot delete %d series: %w", len(deleted), err)
	}
	db.postings.Delete(deleted, affected)
	return len(deleted), nil
}

// removeEvictedSeries deletes the series records and index keys of the
// evicted series refs, which have no chunk left, as of the snapshot txn;
// a series brought back into memory since is left to the next retention.
func (db *DB) removeEvictedSeries(txn *badger.Txn, refs []uint64) (int, error) {
	if len(refs) == 0 {
		return 0, nil
	}
	db.createMu.Lock()
	defer db.createMu.Unlock()
	wb := db.kv.NewWriteBatch()
	defer wb.Cancel()
	n := 0
	for _, ref := range refs {
		if db.series.getByRef(ref) != nil {
			continue
		}
		lset, ok, err := indexReader{txn}.series(ref)
		if errors.Is(err, errChecksum) {
			continue // reported at Open; its index keys cannot be named
		}
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		if err := unindexSeries(wb, ref, lset); err != nil {
			return 0, err
		}
		n++
	}
	if err := wb.Flush(); err != nil {
		return 0, fmt.Errorf("cannot delete %d evicted series: %w", n, err)
	}
	return n, nil
}
