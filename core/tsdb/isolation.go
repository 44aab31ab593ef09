package tsdb

import (
	"sync"

	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/tombstones"
)

// isolation keeps a query from seeing part of a commit, as upstream's head
// guarantees.
//
// Commits are numbered when they start adding their samples to the head,
// and hold mu shared until they are done. A query starts under mu held
// exclusively: it waits for the commits being added, so that every commit
// numbered up to the query's maxID is complete, and sees those; every
// commit numbered after it is hidden from the query, whether it is still
// being added or not.
//
// To hide them, a commit that starts while a query is open leaves a mark
// on each series it adds samples to: its number and the time range of
// those samples. The query hides, in each series, the time ranges of the
// marks numbered after its maxID, in memory and in badger alike, through
// the tombstones the upstream querier applies. A commit that starts while
// no query is open leaves no marks: every later query sees it whole.
// Marks are dropped when no open query can need them.
type isolation struct {
	mu sync.RWMutex // shared by commits adding samples, exclusive to start a query

	// Guarded by stateMu, which commits take briefly under mu.
	stateMu sync.Mutex
	lastID  uint64
	readers map[*isolationState]struct{}
	// lowWatermark is the lowest maxID of the open queries; marks numbered
	// up to it are visible to every open and later query.
	lowWatermark uint64
}

// isolationState is what one query sees: the commits numbered up to maxID.
type isolationState struct {
	maxID uint64
}

// isolationMark records that commit id added the samples of a series from
// mint to maxt.
type isolationMark struct {
	id         uint64
	mint, maxt int64
	// inOrder: the mark holds in-order samples, so the commit's next
	// in-order sample extends it; an out-of-order sample has a mark of its
	// own, as the range up to the next one holds samples of other commits.
	inOrder bool
}

func newIsolation() *isolation {
	return &isolation{readers: map[*isolationState]struct{}{}}
}

// commitIsolation is what a commit needs to leave its marks.
type commitIsolation struct {
	id uint64
	// mark is set when a query is open, which must not see the commit.
	mark bool
	// low: the marks of commits numbered up to low are no longer needed.
	low uint64
}

// beginCommit numbers a commit that is about to add its samples to the
// head. endCommit must follow.
func (iso *isolation) beginCommit() commitIsolation {
	iso.mu.RLock()
	iso.stateMu.Lock()
	defer iso.stateMu.Unlock()
	iso.lastID++
	return commitIsolation{id: iso.lastID, mark: len(iso.readers) > 0, low: iso.lowWatermark}
}

// endCommit ends the commit begun by beginCommit.
func (iso *isolation) endCommit() { iso.mu.RUnlock() }

// beginRead starts a query once the commits being added are complete, and
// returns what it sees. endRead must follow.
func (iso *isolation) beginRead() *isolationState {
	iso.mu.Lock()
	defer iso.mu.Unlock()
	iso.stateMu.Lock()
	defer iso.stateMu.Unlock()
	st := &isolationState{maxID: iso.lastID}
	iso.readers[st] = struct{}{}
	iso.updateLowWatermark()
	return st
}

// endRead ends the query started by beginRead.
func (iso *isolation) endRead(st *isolationState) {
	iso.stateMu.Lock()
	defer iso.stateMu.Unlock()
	delete(iso.readers, st)
	iso.updateLowWatermark()
}

// updateLowWatermark sets lowWatermark from the open queries. stateMu must
// be held.
func (iso *isolation) updateLowWatermark() {
	low := iso.lastID
	for st := range iso.readers {
		low = min(low, st.maxID)
	}
	iso.lowWatermark = low
}

// addMark records that commit id added a sample at t to s, extending the
// commit's last mark on s when the sample follows it in order. Marks no
// open query needs are dropped first. s.mu must be held.
func (s *memSeries) addMark(ci commitIsolation, t int64, ooo bool) {
	s.pruneMarks(ci.low)
	if s.marks == nil {
		s.marks = &[]isolationMark{}
	}
	marks := *s.marks
	if n := len(marks); n > 0 && !ooo {
		if last := &marks[n-1]; last.id == ci.id && last.inOrder && t > last.maxt {
			last.maxt = t
			return
		}
	}
	*s.marks = append(marks, isolationMark{id: ci.id, mint: t, maxt: t, inOrder: !ooo})
}

// pruneMarks drops the marks of commits numbered up to low. s.mu must be
// held.
func (s *memSeries) pruneMarks(low uint64) {
	if s.marks == nil {
		return
	}
	kept := (*s.marks)[:0]
	for _, m := range *s.marks {
		if m.id > low {
			kept = append(kept, m)
		}
	}
	if len(kept) == 0 {
		s.marks = nil
		return
	}
	*s.marks = kept
}

// hiddenFrom returns the time ranges of s that the query st must not see.
// s.mu must be held.
func (s *memSeries) hiddenFrom(st *isolationState) tombstones.Intervals {
	if s.marks == nil {
		return nil
	}
	var hidden tombstones.Intervals
	for _, m := range *s.marks {
		if m.id > st.maxID {
			hidden = hidden.Add(tombstones.Interval{Mint: m.mint, Maxt: m.maxt})
		}
	}
	return hidden
}

// readerTombstones are the tombstones one query applies: those of Delete,
// and the time ranges of the commits hidden from it, which Series records.
type readerTombstones struct {
	deleted *tombstones.MemTombstones
	r       *blockReader
}

// Get implements tombstones.Reader.
func (t *readerTombstones) Get(ref storage.SeriesRef) (tombstones.Intervals, error) {
	ivs, err := t.deleted.Get(ref)
	if err != nil {
		return nil, err
	}
	hidden, ok := t.r.hidden[ref]
	if !ok {
		return ivs, nil
	}
	out := append(tombstones.Intervals(nil), ivs...)
	for _, iv := range hidden {
		out = out.Add(iv)
	}
	return out, nil
}

// Iter implements tombstones.Reader; it iterates the tombstones of Delete
// only, as the hidden ranges exist for the series the query has read.
func (t *readerTombstones) Iter(f func(storage.SeriesRef, tombstones.Intervals) error) error {
	return t.deleted.Iter(f)
}

// Total implements tombstones.Reader.
func (t *readerTombstones) Total() uint64 { return t.deleted.Total() }

// Close implements tombstones.Reader.
func (t *readerTombstones) Close() error { return nil }
