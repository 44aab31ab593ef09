package tsdb

import (
	"context"
	"math"
	"testing"

	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/storage"
)

// flushingStorage flushes the head into badger before every query, so the
// queries read sealed chunks only.
type flushingStorage struct {
	*DB
	t testing.TB
}

func (f flushingStorage) Querier(mint, maxt int64) (storage.Querier, error) {
	if err := f.DB.Flush(); err != nil {
		f.t.Fatalf("flush: %v", err)
	}
	return f.DB.Querier(mint, maxt)
}

func (f flushingStorage) ChunkQuerier(mint, maxt int64) (storage.ChunkQuerier, error) {
	if err := f.DB.Flush(); err != nil {
		f.t.Fatalf("flush: %v", err)
	}
	return f.DB.ChunkQuerier(mint, maxt)
}

// evictingStorage evicts every series from memory before every query, so
// the queries find every series through badger's series index, and the
// appends between queries bring series back.
type evictingStorage struct {
	*DB
	t testing.TB
}

func (e evictingStorage) Querier(mint, maxt int64) (storage.Querier, error) {
	evictBefore(e.t, e.DB, math.MaxInt64)
	return e.DB.Querier(mint, maxt)
}

func (e evictingStorage) ChunkQuerier(mint, maxt int64) (storage.ChunkQuerier, error) {
	evictBefore(e.t, e.DB, math.MaxInt64)
	return e.DB.ChunkQuerier(mint, maxt)
}

func openTestDB(t testing.TB, opts Options) *DB {
	t.Helper()
	db, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestUpstreamPromQLHead(t *testing.T) {
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	promqltest.RunBuiltinTestsWithStorage(t, engine, func(t testing.TB) storage.Storage {
		return openTestDB(t, Options{})
	})
}

func TestUpstreamPromQLFlushed(t *testing.T) {
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	promqltest.RunBuiltinTestsWithStorage(t, engine, func(t testing.TB) storage.Storage {
		return flushingStorage{DB: openTestDB(t, Options{}), t: t}
	})
}

func TestUpstreamPromQLEvicted(t *testing.T) {
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	promqltest.RunBuiltinTestsWithStorage(t, engine, func(t testing.TB) storage.Storage {
		return evictingStorage{DB: openTestDB(t, Options{}), t: t}
	})
}

var _ = context.Background
