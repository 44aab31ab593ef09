package tsdb

import (
	"context"
	"math"
	"sync/atomic"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/wlog"
)

// fakeWALReader is an Options.WALReader that needs the segments from keep
// on and counts its notifications.
type fakeWALReader struct {
	keep     atomic.Int64
	notified atomic.Int64
}

func (r *fakeWALReader) Notify()            { r.notified.Add(1) }
func (r *fakeWALReader) LowestSegment() int { return int(r.keep.Load()) }

// TestWALReaderKeepsSegments checks that the store tells its WAL reader of
// every commit and keeps the segments the reader still needs, however
// often it seals and truncates, and drops them once the reader moved on.
func TestWALReaderKeepsSegments(t *testing.T) {
	reader := &fakeWALReader{}
	reader.keep.Store(math.MaxInt)
	db := openTestDB(t, Options{WALReader: reader})
	commit := func(ts int64) {
		t.Helper()
		app := db.AppenderV2(context.Background())
		if _, err := app.Append(0, labels.FromStrings("__name__", "x"), 0, ts, float64(ts), nil, nil, storage.AppendV2Options{}); err != nil {
			t.Fatal(err)
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	segments := func() (int, int) {
		t.Helper()
		first, last, err := wlog.Segments(db.wal.dir)
		if err != nil {
			t.Fatal(err)
		}
		return first, last
	}
	commit(1000)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	held, _ := segments()
	reader.keep.Store(int64(held))
	for i := range 5 {
		commit(int64(2000 + i*1000))
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Compact(); err != nil {
		t.Fatal(err)
	}
	first, last := segments()
	if first != held || last < held+5 {
		t.Fatalf("segments %d to %d with the reader at %d, want it and at least 5 after it kept", first, last, held)
	}
	if got := reader.notified.Load(); got != 6 {
		t.Errorf("the reader was notified %d times, want once for each of the 6 commits", got)
	}
	// The reader moves on, to the segment before the last: the ones before
	// it go.
	reader.keep.Store(int64(last - 1))
	commit(9000)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if first, _ := segments(); first != last-1 {
		t.Fatalf("first segment %d after the reader moved to %d", first, last-1)
	}
	// Everything is still readable, sealed.
	q, err := db.Querier(0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "x"))
	n := 0
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for it.Next() != 0 {
			n++
		}
	}
	if n != 7 {
		t.Errorf("%d samples, want 7", n)
	}
}

// TestWALReaderHeldSegmentsDoNotForceSealing checks that segments a WAL
// reader holds do not count towards Options.WALMaxBytes: sealing early
// could not free them, and would only cut small chunks.
func TestWALReaderHeldSegmentsDoNotForceSealing(t *testing.T) {
	reader := &fakeWALReader{}
	db := openTestDB(t, Options{WALReader: reader, WALMaxBytes: 1, WALCompression: "none"})
	for i := range 10 {
		app := db.AppenderV2(context.Background())
		if _, err := app.Append(0, labels.FromStrings("__name__", "x"), 0, int64(i*1000), 1, nil, nil, storage.AppendV2Options{}); err != nil {
			t.Fatal(err)
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	_, lastBefore, err := wlog.Segments(db.wal.dir)
	if err != nil {
		t.Fatal(err)
	}
	db.maintMu.Lock()
	err = db.truncateWALIfLarge()
	db.maintMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	_, last, err := wlog.Segments(db.wal.dir)
	if err != nil {
		t.Fatal(err)
	}
	if last != lastBefore || db.counters.chunksSealed.Load() != 0 {
		t.Fatalf("with every segment held: segment %d (was %d), %d chunks sealed; want nothing done", last, lastBefore, db.counters.chunksSealed.Load())
	}
	reader.keep.Store(math.MaxInt)
	db.maintMu.Lock()
	err = db.truncateWALIfLarge()
	db.maintMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if db.counters.chunksSealed.Load() == 0 {
		t.Fatal("without a reader holding segments, a log over WALMaxBytes seals nothing")
	}
}
