package tsdb

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"
)

// TestLargeCommit commits at once about 70 MiB: 20000 new float series
// with a sample, every hundredth with a second one, and 9000 new series of
// float histograms of 1000 buckets (8 KiB each). The commit is stored as
// several write-ahead records, none over the bound on the records of one
// part, followed by one commit marker, and reads back whole before and
// after a restart, which replays those records.
func TestLargeCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("commits 70 MiB")
	}
	const floats, hists = 20_000, 9_000
	fh := &histogram.FloatHistogram{
		Schema:          0,
		Count:           1000,
		Sum:             1,
		PositiveSpans:   []histogram.Span{{Offset: 0, Length: 1000}},
		PositiveBuckets: slices.Repeat([]float64{1}, 1000),
	}
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	app := db.AppenderV2(context.Background())
	for i := 0; i < floats; i++ {
		ls := labels.FromStrings("__name__", "big_commit", "i", strconv.Itoa(i))
		ref, err := app.Append(0, ls, 0, 1000, float64(i), nil, nil, storage.AppendV2Options{})
		if err != nil {
			t.Fatalf("append series %d: %v", i, err)
		}
		if i%100 == 0 {
			if _, err := app.Append(ref, ls, 0, 2000, -float64(i), nil, nil, storage.AppendV2Options{}); err != nil {
				t.Fatalf("append series %d at 2000: %v", i, err)
			}
		}
	}
	for i := 0; i < hists; i++ {
		ls := labels.FromStrings("__name__", "big_commit", "h", strconv.Itoa(i))
		if _, err := app.Append(0, ls, 0, 1000, 0, nil, fh, storage.AppendV2Options{}); err != nil {
			t.Fatalf("append histogram %d: %v", i, err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}

	recs := readWALRecords(t, db)
	for i, r := range recs {
		if r.size > defaultMaxRecordBytes {
			t.Errorf("write-ahead record %d has %d bytes, more than %d", i, r.size, defaultMaxRecordBytes)
		}
	}
	if n := commitsIn(recs); n != 1 || len(recs) < 4 {
		t.Fatalf("the commit wrote %d records of %d commits, want several of one", len(recs), n)
	}

	check := func(stage string) {
		t.Helper()
		q, err := db.Querier(math.MinInt64, math.MaxInt64)
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		seenF, seenH := make([]bool, floats), make([]bool, hists)
		ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "big_commit"))
		var it chunkenc.Iterator
		for ss.Next() {
			lset := ss.At().Labels()
			it = ss.At().Iterator(it)
			if h := lset.Get("h"); h != "" {
				i, err := strconv.Atoi(h)
				if err != nil || i < 0 || i >= hists || seenH[i] {
					t.Fatalf("%s: unexpected series %s", stage, lset)
				}
				seenH[i] = true
				if it.Next() != chunkenc.ValFloatHistogram {
					t.Fatalf("%s: %s has no float histogram", stage, lset)
				}
				if ts, got := it.AtFloatHistogram(nil); ts != 1000 || !got.Equals(fh) || it.Next() != chunkenc.ValNone {
					t.Fatalf("%s: %s has %s at %d, want %s at 1000 alone", stage, lset, got, ts, fh)
				}
				continue
			}
			i, err := strconv.Atoi(lset.Get("i"))
			if err != nil || i < 0 || i >= floats || seenF[i] {
				t.Fatalf("%s: unexpected series %s", stage, lset)
			}
			seenF[i] = true
			want := []sample{{T: 1000, V: float64(i)}}
			if i%100 == 0 {
				want = append(want, sample{T: 2000, V: -float64(i)})
			}
			var got []sample
			for it.Next() == chunkenc.ValFloat {
				ts, v := it.At()
				got = append(got, sample{T: ts, V: v})
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %s has %v, want %v", stage, lset, got, want)
			}
		}
		if err := ss.Err(); err != nil {
			t.Fatal(err)
		}
		if i := slices.Index(seenF, false); i >= 0 {
			t.Fatalf("%s: float series %d is missing", stage, i)
		}
		if i := slices.Index(seenH, false); i >= 0 {
			t.Fatalf("%s: histogram series %d is missing", stage, i)
		}
	}
	check("in the head")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := db.wal.nextSeq.Load(); got != 1 {
		t.Errorf("%d commits replayed, want the 1 written", got)
	}
	check("after the replay")
}

// walRecord is a record of the write-ahead log read back from its
// segments: its size, the sequence number of its commit (counted from 1 at
// the first segment), and its contents; marker is set for the record that
// ends a commit.
type walRecord struct {
	seq     uint64
	size    int
	marker  bool
	series  []record.RefSeries
	samples []walSample
}

// readWALRecords returns the records in the segments of the write-ahead
// log of db, in order.
func readWALRecords(t *testing.T, db *DB) []walRecord {
	t.Helper()
	sr, err := wlog.NewSegmentsReader(db.wal.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	dec := record.NewDecoder(nil, nil)
	var out []walRecord
	seq := uint64(1)
	r := wlog.NewReader(sr)
	for r.Next() {
		rec := r.Record()
		if isCommitMarker(rec) {
			out = append(out, walRecord{seq: seq, size: len(rec), marker: true})
			seq++
			continue
		}
		var c walCommit
		if err := c.decodeRecord(&dec, rec); err != nil {
			t.Fatalf("record %d of commit %d: %v", len(out), seq, err)
		}
		out = append(out, walRecord{seq: seq, size: len(rec), series: c.series, samples: c.samples})
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// commitsIn counts the commits of records.
func commitsIn(recs []walRecord) int {
	n := 0
	for _, r := range recs {
		if r.marker {
			n++
		}
	}
	return n
}

// TestSplitCommit checks the records of a commit larger than the bound on
// one record: each is within the bound and carries the series its samples
// use that the commit creates; the samples run in time order across them;
// the head holds each series' samples as coming from the record that has
// them, so that no record goes while a sample of it is unsealed; and the
// samples read back before and after a restart. A commit within the bound
// is one record.
func TestSplitCommit(t *testing.T) {
	const maxBytes = 1 << 10
	opts := Options{maxRecordBytes: maxBytes}
	dir := t.TempDir()
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()

	var old, created []labels.Labels
	app := db.AppenderV2(context.Background())
	for i := 0; i < 10; i++ {
		old = append(old, labels.FromStrings("__name__", "old", "i", strconv.Itoa(i)))
		if _, err := app.Append(0, old[i], 0, 1000, 1, nil, nil, storage.AppendV2Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if recs := readWALRecords(t, db); len(recs) != 3 || !recs[2].marker {
		t.Fatalf("a commit of 10 new series wrote %d records, want its series, its samples and the marker", len(recs))
	}
	// Seal the first commit, so that the head's bookkeeping below is the
	// large commit's alone.
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}

	// Series by series, so that the samples are not in time order.
	app = db.AppenderV2(context.Background())
	for i := 0; i < 200; i++ {
		created = append(created, labels.FromStrings("__name__", "created", "i", strconv.Itoa(i)))
	}
	for _, ls := range append(slices.Clone(old), created...) {
		for _, ts := range []int64{2000, 3000} {
			if _, err := app.Append(0, ls, 0, ts, float64(ts), nil, nil, storage.AppendV2Options{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}

	recs := readWALRecords(t, db)
	// The flush dropped the segment of the first commit.
	if n := commitsIn(recs); n != 1 {
		t.Fatalf("%d commits in the log, want the large one alone", n)
	}
	var sampleRecords int
	oldRefs := map[uint64]bool{}
	for _, ls := range old {
		oldRefs[db.series.getByLabels(ls.Hash(), ls).ref] = true
	}
	seen := map[uint64]bool{}
	carried := map[uint64]bool{}
	prevT := int64(math.MinInt64)
	for i, r := range recs {
		if r.size > maxBytes {
			t.Errorf("record %d has %d bytes, more than %d", i, r.size, maxBytes)
		}
		for _, s := range r.series {
			carried[uint64(s.Ref)] = true
		}
		if len(r.samples) > 0 {
			sampleRecords++
		}
		for _, s := range r.samples {
			if !oldRefs[s.ref] && !carried[s.ref] {
				t.Errorf("record %d has a sample of series %d, created by the commit, before its series", i, s.ref)
			}
			if s.t < prevT {
				t.Errorf("record %d has a sample at %d after one at %d", i, s.t, prevT)
			}
			prevT = s.t
			seen[s.ref] = true
		}
	}
	if sampleRecords < 2 {
		t.Fatalf("a commit of 420 samples and 200 series wrote %d sample records, want several", sampleRecords)
	}
	if len(seen) != len(old)+len(created) {
		t.Fatalf("the records hold samples of %d series, want %d", len(seen), len(old)+len(created))
	}
	for ref := range seen {
		s := db.series.getByRef(ref)
		s.mu.Lock()
		got := s.firstUnsealedSeq()
		s.mu.Unlock()
		if want := db.wal.nextSeq.Load(); got != want {
			t.Errorf("series %s needs the commits from %d on, want %d, the large commit", s.lset, got, want)
		}
	}

	want := map[string][]sample{}
	for _, ls := range old {
		want[ls.String()] = []sample{{T: 1000, V: 1}, {T: 2000, V: 2000}, {T: 3000, V: 3000}}
	}
	for _, ls := range created {
		want[ls.String()] = []sample{{T: 2000, V: 2000}, {T: 3000, V: 3000}}
	}
	check := func(stage string) {
		t.Helper()
		if diff := cmp.Diff(want, readSeries(t, db, math.MinInt64, math.MaxInt64, nameMatcher)); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", stage, diff)
		}
	}
	check("in the head")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	check("after the replay")
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if recs := readWALRecords(t, db); len(recs) != 0 {
		t.Errorf("%d write-ahead records left in the segments once every sample is sealed", len(recs))
	}
	check("sealed")
}

// TestSplitCommitReplaysOutOfOrderSamples commits, in one commit split
// into several records, samples that move the store's newest sample two
// hours on and an out-of-order sample within the window of the newest
// sample before the commit. The commit accepts it, and so does the replay,
// although the records before it would have moved the window past it had
// they held the newer samples.
func TestSplitCommitReplaysOutOfOrderSamples(t *testing.T) {
	hour := time.Hour.Milliseconds()
	opts := Options{OutOfOrderWindow: time.Hour, maxRecordBytes: 1 << 10}
	dir := t.TempDir()
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	x := labels.FromStrings("__name__", "x")
	mustAppend(t, db, x, 10*hour, 1)
	app := db.AppenderV2(context.Background())
	for i := 0; i < 200; i++ {
		if _, err := app.Append(0, labels.FromStrings("__name__", "y", "i", strconv.Itoa(i)), 0, 12*hour, 1, nil, nil, storage.AppendV2Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := app.Append(0, x, 0, 10*hour-hour/2, 2, nil, nil, storage.AppendV2Options{}); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if recs := readWALRecords(t, db); len(recs) < 5 || commitsIn(recs) != 2 {
		t.Fatalf("%d records of %d commits, want the first commit's and several of the second", len(recs), commitsIn(recs))
	}
	want := []sample{{T: 10*hour - hour/2, V: 2}, {T: 10 * hour, V: 1}}
	check := func(stage string) {
		t.Helper()
		if diff := cmp.Diff(want, readSeries(t, db, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "x"))[x.String()]); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", stage, diff)
		}
	}
	check("in the head")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	check("after the replay")
}

// TestLoadNewestSamples checks that the scan of the chunk keys the replay
// starts with finds, for every series, the newest sealed sample that a seek
// of its newest chunk finds: float and histogram series with several sealed
// chunks each, and out-of-order chunks older than the newest in-order one,
// spread over three scanning goroutines.
func TestLoadNewestSamples(t *testing.T) {
	db := openTestDB(t, Options{SamplesPerChunk: 4, OutOfOrderWindow: time.Hour})
	hist := func(n int) *histogram.Histogram {
		return &histogram.Histogram{Count: uint64(n), Sum: float64(n), PositiveSpans: []histogram.Span{{Offset: 0, Length: 1}}, PositiveBuckets: []int64{int64(n)}}
	}
	const series = 40
	for ts := int64(1); ts <= 30; ts++ {
		app := db.AppenderV2(context.Background())
		for i := 0; i < series; i++ {
			if i%7 == 3 && ts > 10+int64(i) {
				continue // series that end early
			}
			ls := labels.FromStrings("__name__", "x", "i", strconv.Itoa(i))
			var err error
			if i%5 == 0 {
				_, err = app.Append(0, ls, 0, ts*1000, 0, hist(int(ts)*(i+1)), nil, storage.AppendV2Options{})
			} else {
				_, err = app.Append(0, ls, 0, ts*1000, float64(ts*100+int64(i)), nil, nil, storage.AppendV2Options{})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < series; i += 2 { // out-of-order samples, sealed as chunks of their own
		mustAppend(t, db, labels.FromStrings("__name__", "x", "i", strconv.Itoa(i+1)), 500, -1)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}

	type newest struct {
		MaxT  int64
		Value float64
		H     *histogram.Histogram
	}
	read := func() map[uint64]newest {
		got := map[uint64]newest{}
		db.series.forEach(func(s *memSeries) {
			s.mu.Lock()
			got[s.ref] = newest{s.maxT, s.lastValue, s.lastH}
			s.mu.Unlock()
		})
		return got
	}
	forget := func() {
		db.series.forEach(func(s *memSeries) {
			s.mu.Lock()
			s.maxT, s.lastValue, s.lastH, s.lastFH, s.maxTKnown = math.MinInt64, 0, nil, nil, false
			s.mu.Unlock()
		})
	}
	forget()
	db.series.forEach(func(s *memSeries) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := db.ensureMaxT(s); err != nil {
			t.Error(err)
		}
	})
	want := read()
	if len(want) != series {
		t.Fatalf("%d series, want %d", len(want), series)
	}
	for ref, n := range want {
		if n.MaxT < 10000 {
			t.Fatalf("series %d: newest sealed sample at %d, want the data sealed", ref, n.MaxT)
		}
	}

	forget()
	if err := db.kv.View(func(txn *badger.Txn) error { return db.loadNewestSamples(txn, 3) }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, read()); diff != "" {
		t.Fatalf("newest samples found by the scan (-seek +scan):\n%s", diff)
	}
	db.series.forEach(func(s *memSeries) {
		if !s.maxTKnown {
			t.Errorf("series %d: not marked as known after the scan", s.ref)
		}
	})
}

// TestSyncWritesSyncsEverySegmentOfACommit writes commits whose records do
// not fit together in what is left of a small segment, so that wlog starts
// the next segment in the middle of a commit's Log call and leaves the
// fsync of the previous one to the background. With SyncWrites, every
// segment before the one written to must be fsynced by the time Commit
// returns, and the commits read back after a restart.
func TestSyncWritesSyncsEverySegmentOfACommit(t *testing.T) {
	var (
		mu     sync.Mutex
		synced = map[string]bool{}
	)
	orig := syncSegmentFile
	syncSegmentFile = func(name string) error {
		mu.Lock()
		synced[filepath.Base(name)] = true
		mu.Unlock()
		return orig(name)
	}
	t.Cleanup(func() { syncSegmentFile = orig })

	opts := Options{SyncWrites: true, WALCompression: "none", walSegmentBytes: 4 * 32 << 10}
	dir := t.TempDir()
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	const commits = 12
	first, created := -1, 0
	for c := 0; c < commits; c++ {
		// About 1000 to 1500 new series: a Series record of 50 bytes and
		// a samples record of 11 bytes per series, sizes that make some
		// commits end in the next segment.
		app := db.AppenderV2(context.Background())
		n := 1000 + 173*(c%3)
		created += n
		for i := 0; i < n; i++ {
			ls := labels.FromStrings("__name__", "sync_test_series", "commit", strconv.Itoa(c), "i", strconv.Itoa(i))
			if _, err := app.Append(0, ls, 0, int64(c+1)*1000, float64(i), nil, nil, storage.AppendV2Options{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
		seg, _, err := db.wal.log.LastSegmentAndOffset()
		if err != nil {
			t.Fatal(err)
		}
		if first < 0 {
			first = seg
		}
		mu.Lock()
		for i := first; i < seg; i++ {
			if !synced[fmt.Sprintf("%08d", i)] {
				t.Errorf("commit %d returned while segment %d, before the one written to (%d), was not fsynced", c, i, seg)
			}
		}
		mu.Unlock()
	}
	if seg, _, _ := db.wal.log.LastSegmentAndOffset(); seg-first < 3 {
		t.Fatalf("the commits filled segments %d to %d, want several switches", first, seg)
	}
	sr, err := wlog.NewSegmentsReader(db.wal.dir)
	if err != nil {
		t.Fatal(err)
	}
	straddling, startSeg := 0, -1
	for r := wlog.NewReader(sr); r.Next(); {
		if startSeg < 0 {
			startSeg = r.Segment()
		}
		if isCommitMarker(r.Record()) {
			if r.Segment() != startSeg {
				straddling++
			}
			startSeg = -1
		}
	}
	sr.Close()
	if straddling == 0 {
		t.Fatal("no commit straddles two segments; the test proves nothing")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	got := readSeries(t, db, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "sync_test_series"))
	if len(got) != created {
		t.Fatalf("%d series after the restart, want %d", len(got), created)
	}
}

// TestTornCommitIsCutOff cuts the log of a closed store in the middle of
// the records of its last commit, as a crash during the write leaves it.
// The replay drops that commit whole and truncates the segment at the end
// of the commit before it; a commit written afterwards replays after the
// next restart, and the dropped part is not joined to it.
func TestTornCommitIsCutOff(t *testing.T) {
	dir := t.TempDir()
	opts := Options{WALCompression: "none"}
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	x := labels.FromStrings("__name__", "x")
	mustAppend(t, db, x, 1000, 1)
	mustAppend(t, db, x, 2000, 2)
	segDir := filepath.Join(dir, walDirName)
	_, seg, err := wlog.Segments(segDir)
	if err != nil {
		t.Fatal(err)
	}
	name := wlog.SegmentName(segDir, seg)
	info, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	whole := info.Size() // the end of the second commit
	app := db.AppenderV2(context.Background())
	for i := 0; i < 100; i++ {
		if _, err := app.Append(0, labels.FromStrings("__name__", "torn", "i", strconv.Itoa(i)), 0, 3000, 3, nil, nil, storage.AppendV2Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if info, err = os.Stat(name); err != nil || info.Size() < whole+200 {
		t.Fatalf("segment %s: %v, %d bytes, want the third commit after byte %d", name, err, info.Size(), whole)
	}
	// Cut the third commit in its series record.
	if err := os.Truncate(name, whole+100); err != nil {
		t.Fatal(err)
	}

	if db, err = Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(name); err != nil || info.Size() != whole {
		t.Fatalf("segment %s after the replay: %v, %d bytes, want it cut at %d", name, err, info.Size(), whole)
	}
	want := map[string][]sample{x.String(): {{T: 1000, V: 1}, {T: 2000, V: 2}}}
	if diff := cmp.Diff(want, readSeries(t, db, 0, 10000, nameMatcher)); diff != "" {
		t.Fatalf("after the replay (-want +got):\n%s", diff)
	}
	mustAppend(t, db, x, 4000, 4)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	want[x.String()] = append(want[x.String()], sample{T: 4000, V: 4})
	if diff := cmp.Diff(want, readSeries(t, db, 0, 10000, nameMatcher)); diff != "" {
		t.Fatalf("after a commit and another restart (-want +got):\n%s", diff)
	}
}
