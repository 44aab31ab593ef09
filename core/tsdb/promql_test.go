package tsdb

import (
	"context"
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

var _ = context.Background
