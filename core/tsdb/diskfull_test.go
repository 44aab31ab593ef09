package tsdb

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/labels"
)

// errTestDiskFull is what the SpaceCheck of TestSpaceCheck returns while
// its disk is full.
var errTestDiskFull = errors.New("disk full")

// TestSpaceCheck checks what the store does while Options.SpaceCheck says
// the disk is full: it refuses commits, counting their samples, writes
// nothing to badger, not even at Close, and keeps every sample it took,
// before and after, across a restart.
func TestSpaceCheck(t *testing.T) {
	dir := t.TempDir()
	var full atomic.Bool
	check := func() error {
		if full.Load() {
			return errTestDiskFull
		}
		return nil
	}
	db, err := Open(dir, Options{SpaceCheck: check})
	if err != nil {
		t.Fatal(err)
	}
	a := labels.FromStrings("__name__", "a")
	mustAppend(t, db, a, 1000, 1)

	full.Store(true)
	err = appendOne(t, db, a, 2000, 2)
	if !errors.Is(err, errTestDiskFull) {
		t.Fatalf("commit on a full disk: %v, want the SpaceCheck's error", err)
	}
	if got := db.counters.samplesDiskFull.Load(); got != 1 {
		t.Errorf("samples refused for a full disk: %v, want 1", got)
	}
	if err := db.Flush(); !errors.Is(err, errTestDiskFull) {
		t.Fatalf("Flush on a full disk: %v, want the SpaceCheck's error", err)
	}
	if n := db.counters.chunksSealed.Load(); n != 0 {
		t.Fatalf("%d chunks sealed on a full disk", n)
	}

	full.Store(false)
	mustAppend(t, db, a, 3000, 3)
	full.Store(true)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := db.counters.chunksSealed.Load(); n != 0 {
		t.Fatalf("Close sealed %d chunks on a full disk", n)
	}

	full.Store(false)
	db, err = Open(dir, Options{SpaceCheck: check})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := map[string][]sample{a.String(): {{T: 1000, V: 1}, {T: 3000, V: 3}}}
	if diff := cmp.Diff(want, readSeries(t, db, 0, 10000, nameMatcher)); diff != "" {
		t.Errorf("after a restart (-want +got):\n%s", diff)
	}
}
