package tsdb

import (
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
)

// DefaultSeriesIdleTimeout is the default of Options.SeriesIdleTimeout.
const DefaultSeriesIdleTimeout = 2 * time.Hour

// Options configures a DB. The zero value is usable: Open fills every unset
// field with the default named in its comment.
type Options struct {
	// Retention is how long samples are kept, measured back from the newest
	// sample in the store (as Prometheus does for blocks). 0 keeps samples
	// forever.
	Retention time.Duration

	// MaxBytes bounds the size of the store on disk. When the store grows
	// past it, the oldest sealed chunks are deleted until it fits again.
	// 0 means no bound.
	MaxBytes int64

	// OutOfOrderWindow is how far behind the newest sample of the store a
	// sample may be and still be accepted although its series already has a
	// newer one. 0 rejects every such sample with
	// storage.ErrOutOfOrderSample, as Prometheus does by default.
	OutOfOrderWindow time.Duration

	// SyncWrites makes every Commit wait for fsync, so that committed samples
	// survive power loss and not only a crash of the process.
	SyncWrites bool

	// ChunkRange is the longest time span one chunk covers. Chunks are also
	// cut at multiples of it, so every chunk lies inside one range.
	// Default 2h.
	ChunkRange time.Duration

	// SamplesPerChunk is the number of float samples after which the open
	// chunk of a series is sealed. Default 120, as upstream.
	SamplesPerChunk int

	// WALMaxBytes bounds the segments of the write-ahead log kept for the
	// open chunks. When they grow past it, the open chunks holding the
	// oldest half of the log are sealed early so that its segments can be
	// dropped. Default 256 MiB.
	WALMaxBytes int64

	// WALCompression compresses the records of the write-ahead log: "snappy"
	// (the default, as upstream's), "zstd" or "none". Readers of the log
	// take every kind, record by record, so it may change between runs.
	WALCompression string

	// MaxExemplars is how many exemplars are kept in memory, in one
	// circular buffer shared by every series (upstream's exemplar storage):
	// the newest ones appended. They are written to the write-ahead log with
	// their commit and replayed at Open. 0 keeps none and refuses none
	// (appends drop them), as upstream's tsdb.Options.MaxExemplars; Prometheus's
	// configuration default is DefaultMaxExemplars. SetMaxExemplars changes
	// it while the store is open.
	MaxExemplars int64

	// SeriesIdleTimeout is how long a series stays in memory without a
	// sample, measured back from the newest sample of the store as
	// Retention is. Then its open chunk is sealed and the series leaves
	// memory: queries read its labels and postings from badger, and its
	// next sample brings it back with the same reference. Default 2h:
	// Prometheus drops a series from its head at the first head compaction
	// that finds it without samples, 1 to 3 hours after its last one.
	SeriesIdleTimeout time.Duration

	// WALReader, when set, follows the write-ahead log from outside the
	// store, as the remote-write sender's watchers do: it is notified of
	// every commit written to the log, and the segments it has not read
	// yet are kept. Nil keeps only what the store needs.
	WALReader WALReader

	// SpaceCheck, when set, says whether the store may grow on disk: a
	// Commit asks it before it writes to the write-ahead log, and the
	// maintenance before it writes to badger or the log (sealing,
	// checkpoints, retention, eviction, value-log collection, the sealing
	// of Close). An error refuses the Commit, wrapped, with its samples
	// counted as refused (reason disk_full), and skips the maintenance
	// until it returns nil again; the samples committed before stay in
	// the log and the head. The server passes its disk guard's Check:
	// badger maps its files into memory, and a write into a mapped page
	// the full disk cannot hold kills the process with SIGBUS.
	SpaceCheck func() error

	// CacheBytes is the size of badger's block cache. Default 64 MiB.
	CacheBytes int64

	// EncryptionKey, when set, encrypts badger's files with AES (16, 24 or
	// 32 bytes: AES-128, -192 or -256): sealed chunks, the series index,
	// metadata and tombstones, and snapshots. The write-ahead log is not
	// encrypted. A store is encrypted, or not, from its creation: Open
	// refuses another key, or a key for an unencrypted store, and no key
	// for an encrypted one. Encryption keeps the indexes of badger's
	// tables in a cache of CacheBytes too.
	EncryptionKey []byte

	// Logger receives the store's log lines. Default: hclog.NewNullLogger().
	Logger hclog.Logger

	// maxRecordBytes bounds the write-ahead records of one commit taken
	// together; a larger commit is cut into parts with records of their
	// own. Tests lower it. Default defaultMaxRecordBytes.
	maxRecordBytes int
	// walSegmentBytes is the size of a write-ahead segment; tests lower
	// it. Default walSegmentSize.
	walSegmentBytes int
}

// WALReader is a reader of the write-ahead log outside the store, such as
// upstream's remote-write watcher (wlog.Watcher), which reads the last
// checkpoint and then follows the segments after it.
type WALReader interface {
	// Notify is called after each commit is written to the log, so that
	// the reader need not poll for it. It MUST NOT block.
	Notify()
	// LowestSegment returns the lowest segment the reader still needs: it
	// and the segments after it are kept, even when every sample in them
	// is sealed. math.MaxInt needs none; 0 keeps every segment. It is
	// called when segments could be dropped, at most every few seconds.
	LowestSegment() int
}

// validate reports the first option that cannot be used, by name.
func (o Options) validate() error {
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"Retention", o.Retention},
		{"OutOfOrderWindow", o.OutOfOrderWindow},
		{"ChunkRange", o.ChunkRange},
		{"SeriesIdleTimeout", o.SeriesIdleTimeout},
	} {
		if d.value < 0 {
			return fmt.Errorf("invalid option %s=%s: must not be negative", d.name, d.value)
		}
	}
	for _, n := range []struct {
		name  string
		value int64
	}{
		{"MaxBytes", o.MaxBytes},
		{"SamplesPerChunk", int64(o.SamplesPerChunk)},
		{"WALMaxBytes", o.WALMaxBytes},
		{"CacheBytes", o.CacheBytes},
		{"MaxExemplars", o.MaxExemplars},
	} {
		if n.value < 0 {
			return fmt.Errorf("invalid option %s=%d: must not be negative", n.name, n.value)
		}
	}
	if k := len(o.EncryptionKey); k != 0 && k != 16 && k != 24 && k != 32 {
		return fmt.Errorf("invalid option EncryptionKey: %d bytes, not 16, 24 or 32", k)
	}
	switch o.WALCompression {
	case "", "none", "snappy", "zstd":
	default:
		return fmt.Errorf("invalid option WALCompression=%q: must be none, snappy or zstd", o.WALCompression)
	}
	if o.ChunkRange > 0 && o.ChunkRange < time.Minute {
		return fmt.Errorf("invalid option ChunkRange=%s: must be at least 1m", o.ChunkRange)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.ChunkRange <= 0 {
		o.ChunkRange = 2 * time.Hour
	}
	if o.SamplesPerChunk <= 0 {
		o.SamplesPerChunk = 120
	}
	if o.WALMaxBytes <= 0 {
		o.WALMaxBytes = 256 << 20
	}
	if o.WALCompression == "" {
		o.WALCompression = "snappy"
	}
	if o.SeriesIdleTimeout <= 0 {
		o.SeriesIdleTimeout = DefaultSeriesIdleTimeout
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = 64 << 20
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.maxRecordBytes <= 0 {
		o.maxRecordBytes = defaultMaxRecordBytes
	}
	if o.walSegmentBytes <= 0 {
		o.walSegmentBytes = walSegmentSize
	}
	return o
}
