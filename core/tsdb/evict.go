package tsdb

import (
	"fmt"
	"math"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// A series without a sample for Options.SeriesIdleTimeout leaves memory:
// its memSeries, its entries in the series map and its postings. Its series
// record and chunks stay in badger, where queries find it through the
// series index (index.go), and an append of its labels brings it back with
// its reference.

// evictIdle evicts the series whose newest sample is older than the newest
// sample of the store minus Options.SeriesIdleTimeout.
func (db *DB) evictIdle() error {
	maxT := db.maxT.Load()
	if maxT == math.MinInt64 {
		return nil
	}
	return db.evictBefore(maxT - db.opts.SeriesIdleTimeout.Milliseconds())
}

// evictBefore evicts the series whose newest sample is older than cutoff.
// It first cuts and seals what such a series holds in memory (its open
// chunk and out-of-order samples); a series leaves memory once all its
// samples are in badger, with its series record and index keys, visible to
// every open reader, and no appender holds samples for it. A series that is
// not there yet is evicted by a later call. maintMu must be held.
func (db *DB) evictBefore(cutoff int64) error {
	// The series brought back since the last call join the postings.
	db.createMu.Lock()
	db.postings.fold(db.series.forEach)
	db.createMu.Unlock()

	// Every series has a sample at or after the oldest sample of the
	// store (retention removes those left without), and a series without
	// samples counts as one with a sample at the oldest time: with the
	// cutoff not past it, no series is idle, and the series loaded at Open
	// need not read their newest chunk, a pass over every chunk key.
	if minT := db.minT.Load(); minT != math.MaxInt64 && cutoff <= minT {
		return nil
	}

	var idle []*memSeries
	err := db.kv.View(func(txn *badger.Txn) error {
		// Series loaded at Open and not appended to since do not know their
		// newest sample: it is in their newest chunk.
		newest := newNewestChunks(db, txn)
		defer newest.close()
		var err error
		db.series.forEach(func(s *memSeries) {
			if err != nil {
				return
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if !s.maxTKnown {
				if err = newest.read(s); err != nil {
					err = fmt.Errorf("cannot read the newest chunk of series %s: %w", s.lset, err)
					return
				}
				s.maxTKnown = true
			}
			if s.maxT >= cutoff || s.pendingApp != 0 {
				return
			}
			cut := s.cutOpenChunk()
			if len(s.ooo) > 0 {
				s.sealOOO(db.chunkO)
				cut = true
			}
			if cut {
				db.enqueueLocked(s)
			}
			idle = append(idle, s)
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("cannot find the idle series: %w", err)
	}
	if len(idle) == 0 {
		return nil
	}
	if err := db.sealPending(); err != nil {
		return err
	}

	// A reader finds an evicted series in its badger snapshot: the series
	// must be indexed in every open reader's snapshot. Readers opened later
	// see it anyway.
	db.readersMu.Lock()
	oldest := uint64(0)
	for _, ts := range db.readers {
		if oldest == 0 || ts < oldest {
			oldest = ts
		}
	}
	db.readersMu.Unlock()

	// Series are evicted with createMu held, so that an append cannot bring
	// one back (with the same reference) before its postings are deleted.
	db.createMu.Lock()
	defer db.createMu.Unlock()
	evicted := map[storage.SeriesRef]struct{}{}
	affected := map[labels.Label]struct{}{}
	for _, s := range idle {
		s.mu.Lock()
		if s.deleted || s.hasData() || s.pendingApp != 0 || s.queued || s.maxT >= cutoff ||
			!s.indexed.Load() || (oldest != 0 && s.indexedAt.Load() > oldest) {
			s.mu.Unlock()
			continue
		}
		s.deleted = true
		// Raised before the postings go, so that a reader that misses the
		// series in memory reads badger's postings. A series without
		// samples counts as one with a sample at the oldest time.
		maxT := max(s.maxT, math.MinInt64+1)
		for {
			cur := db.evictedMaxT.Load()
			if maxT <= cur || db.evictedMaxT.CompareAndSwap(cur, maxT) {
				break
			}
		}
		s.mu.Unlock()
		db.series.remove(s)
		evicted[storage.SeriesRef(s.ref)] = struct{}{}
		s.lset.Range(func(l labels.Label) { affected[l] = struct{}{} })
	}
	if len(evicted) == 0 {
		return nil
	}
	db.postings.Delete(evicted, affected)
	db.counters.seriesEvicted.Add(uint64(len(evicted)))
	db.logger.Debug("evicted idle series", "series", len(evicted), "before", cutoff)
	return nil
}

// anyEvicted reports whether a series was evicted since Open.
func (db *DB) anyEvicted() bool { return db.counters.seriesEvicted.Load() > 0 }

// findEvicted returns the reference of the evicted series with labels
// lset, if there is one. createMu must be held, so that no series is
// evicted or brought back meanwhile.
func (db *DB) findEvicted(lset labels.Labels) (ref uint64, ok bool, err error) {
	err = db.kv.View(func(txn *badger.Txn) error {
		ref, ok, err = indexReader{txn}.refByLabels(lset)
		return err
	})
	if ok && db.series.getByRef(ref) != nil {
		// Another series holds the reference: never the case, as references
		// are not reused, but then it is not evicted.
		return 0, false, nil
	}
	return ref, ok, err
}

// lookupEvicted returns the series with labels lset when it is in memory,
// or after bringing it back when it was evicted; nil when there is none.
// createMu must be held.
func (db *DB) lookupEvicted(hash uint64, lset labels.Labels) (*memSeries, error) {
	if !db.anyEvicted() {
		return nil, nil
	}
	// Brought back or created while this append waited for createMu.
	if s := db.series.getByLabels(hash, lset); s != nil {
		return s, nil
	}
	ref, ok, err := db.findEvicted(lset)
	if err != nil || !ok {
		return nil, err
	}
	return db.bringBack(ref, hash, lset), nil
}

// lockLive locks and returns the series in memory that s, found by an
// appender, stands for: s, or the series brought back with its reference
// when s was evicted since (another appender's commit to it may have let
// it go). It returns nil when retention removed the series: the sample is
// dropped, as the replay of the write-ahead log drops it.
func (db *DB) lockLive(s *memSeries) *memSeries {
	for {
		s.mu.Lock()
		if !s.deleted {
			return s
		}
		s.mu.Unlock()
		back, err := db.lookupSeries(0, s.lset)
		if err != nil || back.ref != s.ref {
			return nil
		}
		s = back
	}
}

// bringBack puts the evicted series ref with labels lset back in memory,
// with its postings in the overlay of the postings (postings.go).
// Its newest sample is read from badger when it is first appended to; its
// series record goes to the write-ahead log again with its next commit, as
// the log's checkpoints dropped it. createMu must be held.
func (db *DB) bringBack(ref uint64, hash uint64, lset labels.Labels) *memSeries {
	s := newMemSeries(ref, lset, false)
	s.indexed.Store(true)
	db.series.add(s, hash)
	db.postings.AddBack(storage.SeriesRef(ref), lset)
	return s
}
