package tsdb

import "math"

// EvictAll evicts every series of db whose samples can all be sealed, as
// if the idle timeout had passed for each, for the tests of package
// tsdb_test.
func EvictAll(db *DB) error {
	db.maintMu.Lock()
	defer db.maintMu.Unlock()
	return db.evictBefore(math.MaxInt64)
}
