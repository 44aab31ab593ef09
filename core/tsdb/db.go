// Package tsdb is Vigil's time-series store: Prometheus's data model and chunk
// encodings kept in badger.
//
// Start with Open, which returns a *DB implementing storage.Storage of the
// Prometheus module, so the upstream PromQL engine, rule manager and test
// harness run on it unchanged. Open first reads every block of badger's
// tables and refuses a store with a damaged one (verify.go), migrates the
// write-ahead records an earlier version kept in badger (migrate.go), and
// replays the write-ahead log. A Commit writes its records to the
// write-ahead log, upstream's wlog segment files in DATA/wal, in one write
// ended by a commit marker (wal.go), and adds the samples to the in-memory
// head (head.go); full chunks and the series records are sealed into badger
// by a background loop (seal.go), and the segments they covered are
// replaced by a checkpoint (checkpoint.go). Exemplars go to the log with
// their commit and are kept in memory in upstream's circular exemplar
// storage (exemplars.go). Badger also keeps an inverted index of the
// series records (index.go). A series idle for Options.SeriesIdleTimeout
// leaves memory and comes back with its next sample (evict.go); the
// postings in memory keep the series brought back apart until they are
// folded in (postings.go). A query never sees part of a commit
// (isolation.go). Queries (querier.go) read sealed chunks from a badger
// snapshot plus the head through the upstream block querier, with the
// postings and labels of evicted series from the index. FORMAT.md
// specifies the files, the key layout and the records.
package tsdb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/tombstones"

	"github.com/vigilmon/vigil/internal/atrest"
	"github.com/vigilmon/vigil/internal/badgerlog"
)

// ErrClosed is returned by every operation on a closed DB.
var ErrClosed = errors.New("tsdb is closed")

// ErrInvalidSeries is wrapped by the errors for label sets that cannot be
// stored: empty, with an empty or repeated label name, or not valid UTF-8.
var ErrInvalidSeries = errors.New("invalid series")

// DB is a time-series store on badger. All methods are safe for concurrent use.
type DB struct {
	dir    string
	opts   Options
	logger hclog.Logger
	kv     *badger.DB
	chunkO chunkOpts

	series   *seriesMap
	postings *headPostings
	nextRef  atomic.Uint64
	createMu sync.Mutex // held while a series is created

	// minT and maxT bound the samples of the store; math.MaxInt64 and
	// math.MinInt64 while it is empty.
	minT, maxT atomic.Int64
	// evictedMaxT is the newest sample of the series evicted since Open
	// (evict.go); math.MinInt64 while none was. A query starting after it
	// finds every series it needs in memory.
	evictedMaxT atomic.Int64

	// commitMu is held shared by commits between taking a write-ahead
	// sequence and adding their samples to the head, and exclusively by the
	// truncation of the write-ahead log to find the oldest commit in use.
	commitMu sync.RWMutex
	wal      segmentWAL

	queueMu   sync.Mutex
	sealQueue []*memSeries

	tombstones *tombstones.MemTombstones

	// exemplars keeps the newest exemplars in memory; maxExemplars is its
	// capacity, 0 when it keeps none.
	exemplars    *exemplarStore
	maxExemplars atomic.Int64

	readersMu sync.Mutex
	readers   map[*blockReader]uint64
	iso       *isolation

	counters    counters
	appenderIDs atomic.Uint64
	closed      atomic.Bool
	// maintMu serializes the maintenance work: sealing, truncation,
	// retention, Flush, and the tombstone writes of Delete and CleanTombstones.
	maintMu sync.Mutex
	stop    chan struct{}
	// evictc asks the maintenance for an eviction pass: commits send on it
	// when the newest sample moved on by evictStep since the last pass they
	// asked for (evictAskedAt), so that eviction follows the time of the
	// data, as upstream's head compaction does, and not only the clock.
	evictc       chan struct{}
	evictAskedAt atomic.Int64
	done         chan struct{}
}

// Open opens the store in dir, creating it if needed, and replays the
// write-ahead log of the samples that were not sealed before the last
// stop. It first reads every block of badger's tables and refuses a store
// whose tables are damaged, naming each table file in its error and in an
// error line of the log, as Prometheus refuses a corrupted block: badger
// would silently leave out the rest of a damaged table from every read and
// drop it at its next compaction.
func Open(dir string, opts Options) (*DB, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create data directory %q: %w", dir, err)
	}
	bopts := badger.DefaultOptions(dir).
		WithLogger(badgerlog.New(opts.Logger.Named("badger"))).
		WithSyncWrites(opts.SyncWrites).
		WithCompression(options.ZSTD).
		WithZSTDCompressionLevel(1).
		// Blocks of 32 KiB instead of badger's 4 KiB: ZSTD finds more to
		// share between the chunks of neighbouring series in a larger
		// block, and pays its per-block cost (tables, checksum, index
		// entry) eight times less often, in compactions and in reads.
		// bench/tsdb at 100k series: tables 19% smaller, the ingest's CPU
		// 17% lower, a raw select of every series 30% less CPU; a random
		// seek costs 27% more. Tables written with other block sizes stay
		// readable: a table's index locates its blocks.
		WithBlockSize(32 << 10).
		WithBlockCacheSize(opts.CacheBytes).
		WithMemTableSize(4 << 20).
		WithNumMemtables(2).
		WithValueThreshold(2 << 10).
		WithValueLogFileSize(64 << 20).
		WithNumVersionsToKeep(1).
		WithDetectConflicts(false).
		WithMetricsEnabled(false).
		WithNumCompactors(2).
		// Every block badger loads from a table, on a miss of its block
		// cache, is checked against its CRC32C, so a damaged block is never
		// decoded into keys and values; verifyTables checks every block once
		// at Open, where badger's own check would crash on some damage.
		WithChecksumVerificationMode(options.OnBlockRead)
	bopts = atrest.Encrypt(bopts, opts.EncryptionKey, opts.CacheBytes)
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	damaged, err := verifyTables(bopts, opts.Logger)
	unlock()
	if err != nil {
		return nil, fmt.Errorf("cannot verify the tables of the store in %q: %w", dir, err)
	}
	if len(damaged) > 0 {
		return nil, fmt.Errorf("cannot open the store in %q, restore it from a snapshot: %w", dir, errors.Join(damaged...))
	}
	kv, err := badger.Open(bopts)
	if err != nil {
		return nil, atrest.OpenError(err, "badger store", dir)
	}
	db := &DB{
		dir:        dir,
		opts:       opts,
		logger:     opts.Logger,
		kv:         kv,
		chunkO:     chunkOpts{chunkRange: opts.ChunkRange.Milliseconds(), samplesPerChunk: opts.SamplesPerChunk},
		series:     newSeriesMap(),
		postings:   newHeadPostings(),
		readers:    map[*blockReader]uint64{},
		tombstones: tombstones.NewMemTombstones(),
		iso:        newIsolation(),
		stop:       make(chan struct{}),
		evictc:     make(chan struct{}, 1),
		done:       make(chan struct{}),
	}
	db.minT.Store(math.MaxInt64)
	db.maxT.Store(math.MinInt64)
	db.evictedMaxT.Store(math.MinInt64)
	db.maxExemplars.Store(opts.MaxExemplars)
	if db.exemplars, err = newExemplarStore(opts.MaxExemplars, opts.OutOfOrderWindow.Milliseconds()); err != nil {
		kv.Close()
		return nil, err
	}
	if err := db.load(); err != nil {
		if db.wal.log != nil {
			db.wal.log.Close()
		}
		kv.Close()
		return nil, err
	}
	go db.run()
	return db, nil
}

// load reads the series index and the time bounds from badger, migrates
// the write-ahead records of an earlier version, opens the write-ahead log
// and replays it.
func (db *DB) load() error {
	start := time.Now()
	if err := db.loadChunkRange(); err != nil {
		return err
	}
	n, err := db.loadSeries()
	if err != nil {
		return err
	}
	if err := db.loadBounds(); err != nil {
		return err
	}
	if err := db.buildSeriesIndex(); err != nil {
		return err
	}
	if err := db.loadTombstones(); err != nil {
		return err
	}
	if err := db.migrateBadgerWAL(); err != nil {
		return err
	}
	if err := db.replayWAL(); err != nil {
		return err
	}
	if err := db.openWAL(); err != nil {
		return err
	}
	if err := db.wal.refreshSize(); err != nil {
		return err
	}
	db.logger.Info("store opened", "dir", db.dir, "series", n, "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// loadSeries adds every series record of badger to the head and the postings.
func (db *DB) loadSeries() (int, error) {
	n := 0
	var maxRef uint64
	err := db.kv.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: []byte{prefixSeries}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			key := item.Key()
			if len(key) != seriesKeyLen {
				return fmt.Errorf("malformed series key %x", key)
			}
			ref := refFromKey(key)
			var lset labels.Labels
			if err := item.Value(func(v []byte) error {
				var err error
				lset, err = decodeSeriesValue(v)
				return err
			}); err != nil {
				if errors.Is(err, errChecksum) {
					// The other series stay readable; this one's chunks
					// cannot be named without its labels.
					db.reportCorruption("skipping corrupted series record", key, err)
					maxRef = max(maxRef, ref)
					continue
				}
				return fmt.Errorf("cannot read series %x: %w", key, err)
			}
			s := newMemSeries(ref, lset, false)
			s.logged.Store(true)
			s.indexed.Store(true)
			db.series.add(s, lset.Hash())
			db.postings.Add(storage.SeriesRef(ref), lset)
			maxRef = max(maxRef, ref)
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("cannot load the series index: %w", err)
	}
	db.nextRef.Store(maxRef)
	return n, nil
}

// loadChunkRange reads the chunk range the store was created with, or
// records the configured one in a new store.
func (db *DB) loadChunkRange() error {
	return db.kv.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(metaKey("chunkrange"))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return txn.Set(metaKey("chunkrange"), withChecksum(be64(uint64(db.chunkO.chunkRange))))
		}
		if err != nil {
			return fmt.Errorf("cannot read the chunk range: %w", err)
		}
		return item.Value(func(v []byte) error {
			payload, err := verifyChecksum(v)
			if err != nil {
				return fmt.Errorf("meta %q: %w", "chunkrange", err)
			}
			if len(payload) != 8 {
				return fmt.Errorf("meta %q has %d bytes, want 8", "chunkrange", len(payload))
			}
			if stored := int64(beUint64(payload)); stored != db.chunkO.chunkRange {
				db.logger.Warn("the store keeps the chunk range it was created with", "stored", time.Duration(stored)*time.Millisecond, "configured", db.opts.ChunkRange)
				db.chunkO.chunkRange = stored
			}
			return nil
		})
	})
}

// loadBounds reads the time bounds stored by the sealing loop.
func (db *DB) loadBounds() error {
	return db.kv.View(func(txn *badger.Txn) error {
		for name, bound := range map[string]*atomic.Int64{"mint": &db.minT, "maxt": &db.maxT} {
			item, err := txn.Get(metaKey(name))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("cannot read %s: %w", name, err)
			}
			if err := item.Value(func(v []byte) error {
				payload, err := verifyChecksum(v)
				if err != nil {
					return fmt.Errorf("meta %q: %w", name, err)
				}
				if len(payload) != 8 {
					return fmt.Errorf("meta %q has %d bytes, want 8", name, len(payload))
				}
				bound.Store(int64FromOrdered(beUint64(payload)))
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// run does the maintenance in the background until Close: it seals cut
// chunks every second, drops the write-ahead segments no series needs every
// few seconds, and applies retention and collects badger's value log every
// minute.
func (db *DB) run() {
	defer close(db.done)
	seal := time.NewTicker(time.Second)
	defer seal.Stop()
	truncate := time.NewTicker(truncateEvery)
	defer truncate.Stop()
	retention := time.NewTicker(time.Minute)
	defer retention.Stop()
	maintain := func(what string, f func() error) {
		db.maintMu.Lock()
		defer db.maintMu.Unlock()
		if err := db.spaceCheck(); err != nil {
			db.logger.Debug("maintenance skipped", "task", what, "error", err)
			return
		}
		if err := f(); err != nil {
			db.logger.Error("maintenance failed", "task", what, "error", err)
		}
	}
	for {
		select {
		case <-db.stop:
			return
		case <-seal.C:
			maintain("seal chunks", db.sealPending)
			maintain("truncate a large write-ahead log", db.truncateWALIfLarge)
		case <-truncate.C:
			maintain("drop sealed write-ahead segments", func() error { return db.truncateWAL(math.MaxUint64) })
			maintain("evict idle series", db.evictIdle)
		case <-db.evictc:
			maintain("evict idle series", db.evictIdle)
		case <-retention.C:
			maintain("retention", db.applyRetention)
			maintain("value log collection", db.collectValueLog)
		}
	}
}

// Maintain runs at once, and waits for, the maintenance that the store's
// background loop runs every few seconds: it seals the full chunks,
// drops the write-ahead segments no longer needed and evicts the idle
// series. Data written much faster than the clock, as a backfill or a
// benchmark writes it, leaves that loop behind; Maintain lets the caller
// catch up, as upstream's Compact runs the head compactions that are due.
func (db *DB) Maintain() error {
	if db.closed.Load() {
		return ErrClosed
	}
	db.maintMu.Lock()
	defer db.maintMu.Unlock()
	if err := db.spaceCheck(); err != nil {
		return fmt.Errorf("cannot run the maintenance: %w", err)
	}
	if err := db.sealPending(); err != nil {
		return fmt.Errorf("cannot seal chunks: %w", err)
	}
	if err := db.truncateWALIfLarge(); err != nil {
		return fmt.Errorf("cannot truncate a large write-ahead log: %w", err)
	}
	if err := db.truncateWAL(math.MaxUint64); err != nil {
		return fmt.Errorf("cannot drop sealed write-ahead segments: %w", err)
	}
	if err := db.evictIdle(); err != nil {
		return fmt.Errorf("cannot evict idle series: %w", err)
	}
	return nil
}

// truncateEvery is how often the maintenance drops the write-ahead
// segments it no longer needs and evicts idle series; a variable for tests.
var truncateEvery = 5 * time.Second

// Flush seals every open chunk and buffer of the head into badger and drops
// the write-ahead segments they covered. Samples committed afterwards start
// new chunks.
func (db *DB) Flush() error {
	if db.closed.Load() {
		return ErrClosed
	}
	db.maintMu.Lock()
	defer db.maintMu.Unlock()
	if err := db.spaceCheck(); err != nil {
		return fmt.Errorf("cannot flush: %w", err)
	}
	return db.flushLocked()
}

// spaceCheck asks Options.SpaceCheck whether the store may grow on disk.
func (db *DB) spaceCheck() error {
	if db.opts.SpaceCheck == nil {
		return nil
	}
	return db.opts.SpaceCheck()
}

func (db *DB) flushLocked() error {
	// A new segment, so that the segments holding every commit so far can
	// go once the head is sealed.
	if err := db.wal.switchSegment(true, 0); err != nil {
		return err
	}
	return db.sealHeadBefore(math.MaxUint64)
}

// sealHeadBefore seals the open chunks and out-of-order buffers holding
// samples from commits below seq, writes them to badger and drops the
// write-ahead segments no longer needed.
func (db *DB) sealHeadBefore(seq uint64) error {
	if err := db.cutHeadBefore(seq); err != nil {
		return err
	}
	return db.truncateWAL(seq)
}

// cutHeadBefore cuts the open chunks and out-of-order buffers holding
// samples from commits below seq and writes them to badger.
func (db *DB) cutHeadBefore(seq uint64) error {
	db.series.forEach(func(s *memSeries) {
		s.mu.Lock()
		if first := s.firstUnsealedSeq(); first != 0 && first < seq {
			cut := s.cutOpenChunk()
			if len(s.ooo) > 0 && s.oooSeq < seq {
				s.sealOOO(db.chunkO)
				cut = true
			}
			if cut {
				db.enqueueLocked(s)
			}
		}
		s.mu.Unlock()
	})
	return db.sealPending()
}

// Compact seals the whole head and drops every segment of the write-ahead
// log (a checkpoint keeps the series records), then merges badger's levels
// and collects the garbage of its value log, so that the size on disk
// reflects the sealed data alone. Commits wait while it seals and drops the
// segments.
func (db *DB) Compact() error {
	if db.closed.Load() {
		return ErrClosed
	}
	db.maintMu.Lock()
	defer db.maintMu.Unlock()
	if err := db.sealAndDropWAL(); err != nil {
		return err
	}
	if err := db.kv.Flatten(2); err != nil {
		return fmt.Errorf("cannot compact badger tables: %w", err)
	}
	return db.collectValueLog()
}

// sealAndDropWAL seals everything in the head and drops all write-ahead
// segments, with commits held off so that none is written in between.
func (db *DB) sealAndDropWAL() error {
	db.commitMu.Lock()
	defer db.commitMu.Unlock()
	if err := db.cutHeadBefore(math.MaxUint64); err != nil {
		return err
	}
	return db.dropAllWAL()
}

// StartTime returns the timestamp of the oldest sample in the store, or
// math.MaxInt64 when it is empty.
func (db *DB) StartTime() (int64, error) {
	if db.closed.Load() {
		return 0, ErrClosed
	}
	return db.minT.Load(), nil
}

// Close seals the pending chunks and closes the write-ahead log and badger.
// The open chunks stay in the write-ahead log and are replayed by the next
// Open.
func (db *DB) Close() error {
	if !db.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	close(db.stop)
	<-db.done
	db.maintMu.Lock()
	defer db.maintMu.Unlock()
	// Wait for commits in flight: they hold commitMu shared.
	db.commitMu.Lock()
	db.commitMu.Unlock() //lint:ignore SA2001 a barrier: the lock is only waited for
	// On a full disk the open chunks stay in the write-ahead log, which
	// the next Open replays.
	var err error
	if db.spaceCheck() == nil {
		err = db.sealPending()
	}
	if werr := db.wal.log.Close(); werr != nil {
		err = errors.Join(err, fmt.Errorf("cannot close the write-ahead log: %w", werr))
	}
	if cerr := db.kv.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("cannot close badger: %w", cerr))
	}
	return err
}

// Dir returns the directory of the store.
func (db *DB) Dir() string { return db.dir }

// updateBounds widens the time bounds of the store to include [mint, maxt].
func (db *DB) updateBounds(mint, maxt int64) {
	for {
		cur := db.minT.Load()
		if mint >= cur || db.minT.CompareAndSwap(cur, mint) {
			break
		}
	}
	for {
		cur := db.maxT.Load()
		if maxt <= cur {
			return
		}
		if db.maxT.CompareAndSwap(cur, maxt) {
			break
		}
	}
	db.askEvictionIfDue(maxt)
}

// askEvictionIfDue asks the maintenance for an eviction pass when the
// newest sample, now maxt, moved on by an eighth of the idle timeout since
// the last pass asked for: data written faster than the clock, as a
// backfill or a replay of old data, then leaves memory as it goes idle in
// its own time.
func (db *DB) askEvictionIfDue(maxt int64) {
	step := db.opts.SeriesIdleTimeout.Milliseconds() / 8
	asked := db.evictAskedAt.Load()
	if maxt-asked < step || !db.evictAskedAt.CompareAndSwap(asked, maxt) {
		return
	}
	select {
	case db.evictc <- struct{}{}:
	default: // a pass is asked for already
	}
}

// enqueueLocked puts s on the seal queue; s.mu must be held.
func (db *DB) enqueueLocked(s *memSeries) {
	if s.queued {
		return
	}
	s.queued = true
	db.queueMu.Lock()
	db.sealQueue = append(db.sealQueue, s)
	db.queueMu.Unlock()
}

// Querier returns a querier over the samples in [mint, maxt].
func (db *DB) Querier(mint, maxt int64) (storage.Querier, error) {
	br, err := db.newBlockReader(mint, maxt)
	if err != nil {
		return nil, err
	}
	return newQuerier(br, mint, maxt)
}

// ChunkQuerier returns a chunk querier over the samples in [mint, maxt].
func (db *DB) ChunkQuerier(mint, maxt int64) (storage.ChunkQuerier, error) {
	br, err := db.newBlockReader(mint, maxt)
	if err != nil {
		return nil, err
	}
	return newChunkQuerier(br, mint, maxt)
}

// Appender returns an appender of the version 1 interface.
func (db *DB) Appender(ctx context.Context) storage.Appender {
	return &appenderV1{a: db.newAppender(ctx)}
}

// AppenderV2 returns an appender.
func (db *DB) AppenderV2(ctx context.Context) storage.AppenderV2 {
	return db.newAppender(ctx)
}

var _ storage.Storage = (*DB)(nil)
