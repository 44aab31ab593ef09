// Package smallkv gives the badger options of Vigil's small databases,
// those of a few thousand records of a few kilobytes (the alert store's
// silences and notification log, the pushed groups): small tables and
// memtables, no compression and no caches. Start with Options.
package smallkv

import (
	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/internal/badgerlog"
)

// EncryptedCacheBytes is the size of each cache a small database needs
// when it is encrypted (see package atrest): of its blocks and of its
// tables' indexes.
const EncryptedCacheBytes = 1 << 20

// Options returns the options of a small badger database in dir, logging
// to logger; sync says whether each write is synced to disk before it
// returns.
func Options(dir string, logger hclog.Logger, sync bool) badger.Options {
	return badger.DefaultOptions(dir).
		WithLogger(badgerlog.New(logger.Named("badger"))).
		WithSyncWrites(sync).
		WithCompression(options.None).
		WithBlockCacheSize(0).
		WithIndexCacheSize(0).
		WithMemTableSize(2 << 20).
		WithNumMemtables(2).
		WithBaseTableSize(1 << 20).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4).
		WithValueThreshold(64 << 10).
		WithValueLogFileSize(8 << 20).
		WithNumVersionsToKeep(1).
		WithDetectConflicts(false).
		WithMetricsEnabled(false).
		WithNumCompactors(2)
}
