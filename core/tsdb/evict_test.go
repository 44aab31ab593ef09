package tsdb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/index"
)

// evictBefore runs an eviction of the series without a sample since cutoff,
// as the maintenance does.
func evictBefore(t testing.TB, db *DB, cutoff int64) {
	t.Helper()
	db.maintMu.Lock()
	defer db.maintMu.Unlock()
	if err := db.evictBefore(cutoff); err != nil {
		t.Fatalf("evict: %v", err)
	}
}

// memPostings returns the references the postings in memory hold for name=value.
func memPostings(t testing.TB, db *DB, name, value string) []storage.SeriesRef {
	t.Helper()
	refs, err := index.ExpandPostings(db.postings.Postings(context.Background(), name, value))
	if err != nil {
		t.Fatal(err)
	}
	return refs
}

// appendRef appends one sample with a series reference and labels, and
// commits it.
func appendRef(t testing.TB, db *DB, ref storage.SeriesRef, ls labels.Labels, ts int64, v float64) (storage.SeriesRef, error) {
	t.Helper()
	app := db.AppenderV2(context.Background())
	got, err := app.Append(ref, ls, 0, ts, v, nil, nil, storage.AppendV2Options{})
	if err != nil {
		app.Rollback()
		return got, err
	}
	return got, app.Commit()
}

// TestIdleSeriesLeaveMemoryAndComeBack lets a series go idle: it leaves
// memory (series map, references, postings) but not the answers of
// queries; its next sample brings it back with its reference, its old
// and new samples form one series, and the out-of-order check still knows
// its newest sample. A stale reference with other labels does not bring it
// back.
func TestIdleSeriesLeaveMemoryAndComeBack(t *testing.T) {
	minute := time.Minute.Milliseconds()
	db := openTestDB(t, Options{SeriesIdleTimeout: time.Hour})
	idle := labels.FromStrings("__name__", "idle", "job", "a")
	busy := labels.FromStrings("__name__", "busy", "job", "a")
	var idleRef storage.SeriesRef
	want := map[string][]sample{}
	// The maintenance, which evicts as the data's time moves on, waits
	// until the eviction below.
	db.maintMu.Lock()
	locked := true
	defer func() {
		if locked {
			db.maintMu.Unlock()
		}
	}()
	for ts := int64(0); ts <= 180*minute; ts += minute {
		if ts <= 30*minute {
			ref, err := appendRef(t, db, idleRef, idle, ts, float64(ts))
			if err != nil {
				t.Fatal(err)
			}
			idleRef = ref
			want[idle.String()] = append(want[idle.String()], sample{T: ts, V: float64(ts)})
		}
		mustAppend(t, db, busy, ts, 1)
		want[busy.String()] = append(want[busy.String()], sample{T: ts, V: 1})
	}
	if got := db.series.count(); got != 2 {
		t.Fatalf("%d series in memory before the eviction, want 2", got)
	}
	err := db.evictIdle()
	db.maintMu.Unlock()
	locked = false
	if err != nil {
		t.Fatal(err)
	}
	if got := db.series.count(); got != 1 {
		t.Errorf("%d series in memory after the eviction, want 1", got)
	}
	if db.series.getByRef(uint64(idleRef)) != nil || db.series.getByLabels(idle.Hash(), idle) != nil {
		t.Error("the idle series is still in the series map")
	}
	if refs := memPostings(t, db, "__name__", "idle"); len(refs) != 0 {
		t.Errorf("postings in memory of the idle series: %v", refs)
	}
	if refs := memPostings(t, db, "job", "a"); len(refs) != 1 {
		t.Errorf("postings in memory of job=a: %v, want the busy series alone", refs)
	}
	if got := db.counters.seriesEvicted.Load(); got != 1 {
		t.Errorf("%d series evicted, want 1", got)
	}
	if diff := cmp.Diff(want, readSeries(t, db, math.MinInt64, math.MaxInt64, nameMatcher)); diff != "" {
		t.Errorf("samples after the eviction (-want +got):\n%s", diff)
	}

	// Its newest sample is known again: one before it is out of order.
	if _, err := appendRef(t, db, idleRef, idle, 20*minute, 5); !errors.Is(err, storage.ErrOutOfOrderSample) {
		t.Errorf("append before the newest sample of the evicted series: %v, want %v", err, storage.ErrOutOfOrderSample)
	}
	if _, err := appendRef(t, db, 0, idle, 30*minute, 1); !errors.Is(err, storage.ErrDuplicateSampleForTimestamp) {
		t.Errorf("append of another value at the newest sample of the evicted series: %v, want %v", err, storage.ErrDuplicateSampleForTimestamp)
	}
	evictBefore(t, db, 120*minute)
	// A stale reference with other labels makes a new series.
	other := labels.FromStrings("__name__", "other")
	otherRef, err := appendRef(t, db, idleRef, other, 181*minute, 7)
	if err != nil {
		t.Fatal(err)
	}
	if otherRef == idleRef {
		t.Errorf("a stale reference with other labels brought back series %d", idleRef)
	}
	want[other.String()] = []sample{{T: 181 * minute, V: 7}}

	// The series comes back, by labels and by its stale reference alike.
	for i, ref := range []storage.SeriesRef{0, idleRef} {
		ts := int64(182+i) * minute
		got, err := appendRef(t, db, ref, idle, ts, float64(ts))
		if err != nil {
			t.Fatalf("append to the evicted series with reference %d: %v", ref, err)
		}
		if got != idleRef {
			t.Errorf("the evicted series came back with reference %d, want %d", got, idleRef)
		}
		want[idle.String()] = append(want[idle.String()], sample{T: ts, V: float64(ts)})
		evictBefore(t, db, math.MaxInt64)
	}
	if diff := cmp.Diff(want, readSeries(t, db, math.MinInt64, math.MaxInt64, nameMatcher)); diff != "" {
		t.Errorf("samples after the series came back (-want +got):\n%s", diff)
	}
	// The write-ahead log has its series record again: it is in memory
	// after a restart that replays it.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(db.Dir(), Options{SeriesIdleTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if diff := cmp.Diff(want, readSeries(t, db, math.MinInt64, math.MaxInt64, nameMatcher)); diff != "" {
		t.Errorf("samples after a restart (-want +got):\n%s", diff)
	}
	if got, err := appendRef(t, db, 0, idle, 200*minute, 1); err != nil || got != idleRef {
		t.Errorf("append after a restart: reference %d, %v; want %d", got, err, idleRef)
	}
}

// TestSeriesWithPendingSamplesStay checks that a series an appender holds
// samples for is not evicted until the appender commits.
func TestSeriesWithPendingSamplesStay(t *testing.T) {
	db := openTestDB(t, Options{})
	ls := labels.FromStrings("__name__", "m")
	mustAppend(t, db, ls, 1000, 1)
	app := db.AppenderV2(context.Background())
	ref, err := app.Append(0, ls, 0, 2000, 2, nil, nil, storage.AppendV2Options{})
	if err != nil {
		t.Fatal(err)
	}
	evictBefore(t, db, math.MaxInt64)
	if db.series.getByRef(uint64(ref)) == nil {
		t.Fatal("a series with samples pending in an appender was evicted")
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	evictBefore(t, db, math.MaxInt64)
	if db.series.getByRef(uint64(ref)) != nil {
		t.Fatal("the series was not evicted after the commit")
	}
	if diff := cmp.Diff(map[string][]sample{ls.String(): {{T: 1000, V: 1}, {T: 2000, V: 2}}}, readSeries(t, db, math.MinInt64, math.MaxInt64, nameMatcher)); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}
}

// TestRetentionRemovesEvictedSeries lets retention delete every chunk of
// an evicted series: its series record and index keys go, queries do not
// name it any more, and its labels make a new series.
func TestRetentionRemovesEvictedSeries(t *testing.T) {
	hour := time.Hour.Milliseconds()
	db := openTestDB(t, Options{Retention: 5 * time.Hour})
	old := labels.FromStrings("__name__", "m", "life", "short")
	long := labels.FromStrings("__name__", "m", "life", "long")
	oldRef, err := appendRef(t, db, 0, old, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, db, long, 0, 1)
	mustAppend(t, db, long, 10*hour, 1)
	evictBefore(t, db, 5*hour)
	if db.series.getByRef(uint64(oldRef)) != nil {
		t.Fatal("the idle series was not evicted")
	}
	if err := db.applyRetention(); err != nil {
		t.Fatal(err)
	}
	err = db.kv.View(func(txn *badger.Txn) error {
		_, err := txn.Get(seriesKey(uint64(oldRef)))
		return err
	})
	if !errors.Is(err, badger.ErrKeyNotFound) {
		t.Errorf("series record of the removed series: %v, want none", err)
	}
	checkSeriesIndex(t, db)
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	values, _, err := q.LabelValues(context.Background(), "life", nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"long"}, values); diff != "" {
		t.Errorf("label values after retention (-want +got):\n%s", diff)
	}
	if got := readSeries(t, db, math.MinInt64, math.MaxInt64, nameMatcher); len(got) != 1 {
		t.Errorf("series after retention: %v, want the long-lived one", got)
	}
	newRef, err := appendRef(t, db, oldRef, old, 10*hour, 2)
	if err != nil {
		t.Fatal(err)
	}
	if newRef == oldRef {
		t.Errorf("the removed series came back with its reference %d", oldRef)
	}
}

// differentialMatchers are the selectors TestEvictedSeriesAnswerAsInMemory
// runs: equality, regular expressions, negations, absent labels.
var differentialMatchers = [][]*labels.Matcher{
	{labels.MustNewMatcher(labels.MatchEqual, "__name__", "m1")},
	{labels.MustNewMatcher(labels.MatchRegexp, "__name__", "m[12]")},
	{labels.MustNewMatcher(labels.MatchEqual, "job", "j1"), labels.MustNewMatcher(labels.MatchRegexp, "inst", "i[0-4]")},
	{labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"), labels.MustNewMatcher(labels.MatchNotEqual, "job", "j0")},
	{labels.MustNewMatcher(labels.MatchEqual, "__name__", "m2"), labels.MustNewMatcher(labels.MatchNotRegexp, "inst", "i[5-9]")},
	{labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"), labels.MustNewMatcher(labels.MatchEqual, "extra", "")},
	{labels.MustNewMatcher(labels.MatchNotEqual, "extra", "")},
	{labels.MustNewMatcher(labels.MatchRegexp, "extra", "x1|"), labels.MustNewMatcher(labels.MatchEqual, "job", "j2")},
	{labels.MustNewMatcher(labels.MatchRegexp, "odd", ".+")},
	{labels.MustNewMatcher(labels.MatchNotRegexp, "__name__", "m0|m1")},
	{labels.MustNewMatcher(labels.MatchRegexp, "inst", "i.*")},
	{labels.MustNewMatcher(labels.MatchNotEqual, "inst", "i3"), labels.MustNewMatcher(labels.MatchNotRegexp, "odd", "")},
}

// answers runs label and series queries over [mint, maxt] and returns
// their answers as text; withLabels adds the label names and values.
func answers(t *testing.T, db *DB, mint, maxt int64, withLabels bool) []string {
	t.Helper()
	ctx := context.Background()
	q, err := db.Querier(mint, maxt)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var out []string
	if withLabels {
		names, _, err := q.LabelNames(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("names: %q", names))
		for _, ms := range differentialMatchers {
			names, _, err := q.LabelNames(ctx, nil, ms...)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("names %s: %q", ms, names))
		}
		for _, name := range []string{"__name__", "job", "inst", "extra", "odd"} {
			values, _, err := q.LabelValues(ctx, name, nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("values %s: %q", name, values))
			for _, ms := range differentialMatchers {
				values, _, err := q.LabelValues(ctx, name, nil, ms...)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprintf("values %s %s: %q", name, ms, values))
			}
		}
	}
	selects := func(what string, sorted bool, hints *storage.SelectHints, ms []*labels.Matcher) {
		ss := q.Select(ctx, sorted, hints, ms...)
		var series []string
		for ss.Next() {
			var b strings.Builder
			b.WriteString(ss.At().Labels().String())
			it := ss.At().Iterator(nil)
			for it.Next() == chunkenc.ValFloat {
				ts, v := it.At()
				fmt.Fprintf(&b, " %d:%g", ts, v)
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
			series = append(series, b.String())
		}
		if err := ss.Err(); err != nil {
			t.Fatal(err)
		}
		if !sorted {
			slices.Sort(series)
		}
		out = append(out, fmt.Sprintf("%s %s:\n%s", what, ms, strings.Join(series, "\n")))
	}
	for _, ms := range differentialMatchers {
		selects("sorted", true, nil, ms)
		selects("unsorted", false, nil, ms)
		for shard := uint64(0); shard < 2; shard++ {
			selects(fmt.Sprintf("shard %d", shard), true, &storage.SelectHints{Start: mint, End: maxt, ShardIndex: shard, ShardCount: 2}, ms)
		}
	}
	return out
}

// TestEvictedSeriesAnswerAsInMemory appends the same random series to a
// store that evicts its idle series and to one that keeps every series in
// memory, and requires the same answers from both to label names, label
// values and series selections (equality, regular expressions and their
// negations, absent labels, sorted, sharded) as series leave memory, come
// back, all leave, and after a restart.
func TestEvictedSeriesAnswerAsInMemory(t *testing.T) {
	minute := time.Minute.Milliseconds()
	rng := rand.New(rand.NewSource(1))
	evicting := openTestDB(t, Options{SamplesPerChunk: 8})
	keeping := openTestDB(t, Options{SamplesPerChunk: 8, SeriesIdleTimeout: 100 * 365 * 24 * time.Hour})
	dbs := []*DB{evicting, keeping}

	type series struct {
		lset     labels.Labels
		from, to int64
	}
	var all []series
	seen := map[string]bool{}
	for len(all) < 150 {
		b := labels.NewScratchBuilder(5)
		b.Add("__name__", fmt.Sprintf("m%d", rng.Intn(4)))
		b.Add("job", fmt.Sprintf("j%d", rng.Intn(3)))
		b.Add("inst", fmt.Sprintf("i%d", rng.Intn(10)))
		if rng.Intn(3) == 0 {
			b.Add("extra", fmt.Sprintf("x%d", rng.Intn(3)))
		}
		if rng.Intn(10) == 0 {
			b.Add("odd", "yes")
		}
		b.Sort()
		lset := b.Labels()
		if seen[lset.String()] {
			continue
		}
		seen[lset.String()] = true
		from := int64(rng.Intn(20)) * 5 * minute
		all = append(all, series{lset: lset, from: from, to: from + int64(rng.Intn(40))*5*minute})
	}
	appendAt := func(ts int64, which func(series) bool) {
		t.Helper()
		for _, db := range dbs {
			app := db.AppenderV2(context.Background())
			for _, s := range all {
				if !which(s) {
					continue
				}
				if _, err := app.Append(0, s.lset, 0, ts, float64(ts/minute), nil, nil, storage.AppendV2Options{}); err != nil {
					t.Fatalf("append %s at %d: %v", s.lset, ts, err)
				}
			}
			if err := app.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for ts := int64(0); ts <= 300*minute; ts += 5 * minute {
		appendAt(ts, func(s series) bool { return ts >= s.from && ts <= s.to })
	}

	compare := func(stage string) {
		t.Helper()
		ranges := []struct {
			mint, maxt int64
			withLabels bool
		}{
			{math.MinInt64, math.MaxInt64, true},
			{0, 60 * minute, true},
			{100 * minute, 200 * minute, false},
			{250 * minute, 1000 * minute, false},
		}
		for _, r := range ranges {
			want := answers(t, keeping, r.mint, r.maxt, r.withLabels)
			got := answers(t, evicting, r.mint, r.maxt, r.withLabels)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s, range [%d, %d]: answers (-kept in memory +evicted):\n%s", stage, r.mint, r.maxt, diff)
			}
		}
	}
	compare("in memory")

	evictBefore(t, evicting, 150*minute)
	inMemory := evicting.series.count()
	if inMemory == len(all) || inMemory == 0 {
		t.Fatalf("%d of %d series in memory after the eviction: want some evicted and some not", inMemory, len(all))
	}
	compare("some evicted")

	// A third of the series get a sample again.
	appendAt(400*minute, func(s series) bool { return s.lset.Hash()%3 == 0 })
	compare("some back")

	evictBefore(t, evicting, math.MaxInt64)
	if n := evicting.series.count(); n != 0 {
		t.Fatalf("%d series in memory after evicting all", n)
	}
	compare("all evicted")

	for i, db := range dbs {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		reopened, err := Open(db.Dir(), db.opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { reopened.Close() })
		dbs[i] = reopened
	}
	evicting, keeping = dbs[0], dbs[1]
	compare("after a restart")
	evictBefore(t, evicting, math.MaxInt64)
	compare("all evicted after a restart")
}

// TestAppendsRacingEviction appends to series from several goroutines
// while another evicts every series it can, again and again, and others
// query: every append must bring its series back with its first
// reference, and every query must find each series with all the samples
// committed before it started, once each and in order. Run it with -race.
func TestAppendsRacingEviction(t *testing.T) {
	db := openTestDB(t, Options{SamplesPerChunk: 4})
	const writers, perWriter, rounds = 4, 5, 80
	var committed [writers * perWriter]atomic.Int64
	lsets := make([]labels.Labels, len(committed))
	for i := range lsets {
		lsets[i] = labels.FromStrings("__name__", "race", "series", strconv.Itoa(i))
	}
	index := map[string]int{}
	for i, ls := range lsets {
		index[ls.String()] = i
	}

	stop := make(chan struct{})
	var evictorDone atomic.Bool
	var background sync.WaitGroup
	background.Go(func() {
		defer evictorDone.Store(true)
		for {
			select {
			case <-stop:
				return
			default:
			}
			db.maintMu.Lock()
			err := db.evictBefore(math.MaxInt64)
			db.maintMu.Unlock()
			if err != nil {
				t.Errorf("evict: %v", err)
				return
			}
		}
	})
	for range 2 {
		background.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var before [len(committed)]int64
				for i := range committed {
					before[i] = committed[i].Load()
				}
				if err := checkRaceSamples(db, index, before[:]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}

	var writes sync.WaitGroup
	for w := range writers {
		writes.Go(func() {
			refs := make([]storage.SeriesRef, perWriter)
			for i := range rounds {
				app := db.AppenderV2(context.Background())
				for j := range perWriter {
					k := w*perWriter + j
					// The reference of the first append, stale once the
					// series was evicted; now and then none.
					ref := refs[j]
					if i%7 == 3 {
						ref = 0
					}
					got, err := app.Append(ref, lsets[k], 0, int64(i)*1000, float64(i), nil, nil, storage.AppendV2Options{})
					if err != nil {
						t.Errorf("append %s at round %d: %v", lsets[k], i, err)
						return
					}
					if refs[j] == 0 {
						refs[j] = got
					} else if got != refs[j] {
						t.Errorf("series %s came back with reference %d, first %d", lsets[k], got, refs[j])
						return
					}
				}
				if err := app.Commit(); err != nil {
					t.Errorf("commit round %d: %v", i, err)
					return
				}
				for j := range perWriter {
					committed[w*perWriter+j].Store(int64(i + 1))
				}
				// Every tenth round, the writer waits until its series are
				// evicted, so that its next append brings them back while
				// the others append, evict and query. The queries started
				// before a series' chunks were sealed end, so it is
				// evicted by a later pass.
				if i%10 == w {
					for j := range perWriter {
						for db.series.getByRef(uint64(refs[j])) != nil && !evictorDone.Load() {
							time.Sleep(time.Millisecond)
						}
					}
				}
			}
		})
	}
	writes.Wait()
	close(stop)
	background.Wait()
	var all [len(committed)]int64
	for i := range all {
		all[i] = rounds
	}
	if err := checkRaceSamples(db, index, all[:]); err != nil {
		t.Fatal(err)
	}
	if got, want := db.counters.seriesEvicted.Load(), uint64(writers*perWriter*(rounds/10)); got < want {
		t.Errorf("%d series evicted while the appends ran, want at least %d", got, want)
	}

}

// checkRaceSamples queries every series of TestAppendsRacingEviction and
// requires series i to hold the samples 0, 1000, ... in order, at least
// min[i] of them, and every series to be returned once.
func checkRaceSamples(db *DB, index map[string]int, min []int64) error {
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		return err
	}
	defer q.Close()
	seen := map[int]bool{}
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "race"))
	for ss.Next() {
		i, ok := index[ss.At().Labels().String()]
		if !ok || seen[i] {
			return fmt.Errorf("series %s unexpected or returned twice", ss.At().Labels())
		}
		seen[i] = true
		it := ss.At().Iterator(nil)
		n := int64(0)
		for it.Next() == chunkenc.ValFloat {
			ts, v := it.At()
			if ts != n*1000 || v != float64(n) {
				return fmt.Errorf("series %s: sample %d is %d:%g, want %d:%d", ss.At().Labels(), n, ts, v, n*1000, n)
			}
			n++
		}
		if err := it.Err(); err != nil {
			return err
		}
		if n < min[i] {
			return fmt.Errorf("series %s: %d samples, want at least the %d committed before the query", ss.At().Labels(), n, min[i])
		}
	}
	if err := ss.Err(); err != nil {
		return err
	}
	for i, m := range min {
		if m > 0 && !seen[i] {
			return fmt.Errorf("series %d with %d committed samples is missing", i, m)
		}
	}
	return nil
}

// TestCommitToEvictedSeries commits samples that an appender took for a
// series before it was evicted: another appender's commit to the same
// series cleared its pending mark, so the eviction let it go. The
// commit brings the series back and keeps the samples.
func TestCommitToEvictedSeries(t *testing.T) {
	db := openTestDB(t, Options{})
	ls := labels.FromStrings("__name__", "m")
	first := db.AppenderV2(context.Background())
	ref, err := first.Append(0, ls, 0, 3000, 3, nil, nil, storage.AppendV2Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := appendRef(t, db, 0, ls, 2000, 2); err != nil {
		t.Fatal(err)
	}
	evictBefore(t, db, math.MaxInt64)
	if db.series.getByRef(uint64(ref)) != nil {
		t.Fatal("the series was not evicted")
	}
	if err := first.Commit(); err != nil {
		t.Fatal(err)
	}
	if db.series.getByRef(uint64(ref)) == nil {
		t.Error("the commit did not bring the series back")
	}
	if _, err := appendRef(t, db, ref, ls, 4000, 4); err != nil {
		t.Fatal(err)
	}
	want := map[string][]sample{ls.String(): {{T: 2000, V: 2}, {T: 3000, V: 3}, {T: 4000, V: 4}}}
	if diff := cmp.Diff(want, readSeries(t, db, math.MinInt64, math.MaxInt64, nameMatcher)); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}
}

// TestDeleteCoversEvictedSeries deletes samples of an evicted series: the
// deletion finds it through badger's index.
func TestDeleteCoversEvictedSeries(t *testing.T) {
	db := openTestDB(t, Options{})
	ls := labels.FromStrings("__name__", "m", "job", "a")
	for ts := int64(1000); ts <= 5000; ts += 1000 {
		mustAppend(t, db, ls, ts, float64(ts))
	}
	evictBefore(t, db, math.MaxInt64)
	if n := db.series.count(); n != 0 {
		t.Fatalf("%d series in memory", n)
	}
	if err := db.Delete(context.Background(), 2000, 3000, labels.MustNewMatcher(labels.MatchEqual, "job", "a")); err != nil {
		t.Fatal(err)
	}
	want := map[string][]sample{ls.String(): {{T: 1000, V: 1000}, {T: 4000, V: 4000}, {T: 5000, V: 5000}}}
	if diff := cmp.Diff(want, readSeries(t, db, math.MinInt64, math.MaxInt64, nameMatcher)); diff != "" {
		t.Errorf("samples after the deletion (-want +got):\n%s", diff)
	}
}

// TestEvictionFollowsDataTime writes data faster than the clock, as a
// backfill does: a series idle for longer than the idle timeout in the
// time of the data leaves memory without waiting for the clock's
// maintenance, which this test holds off.
func TestEvictionFollowsDataTime(t *testing.T) {
	defer func(every time.Duration) { truncateEvery = every }(truncateEvery)
	truncateEvery = time.Hour
	db := openTestDB(t, Options{SeriesIdleTimeout: time.Hour})
	gone := labels.FromStrings("__name__", "gone", "pod", "a")
	stays := labels.FromStrings("__name__", "stays", "pod", "b")
	if _, err := appendRef(t, db, 0, gone, 0, 1); err != nil {
		t.Fatal(err)
	}
	for ts := int64(0); ts <= 3*time.Hour.Milliseconds(); ts += 15_000 {
		if _, err := appendRef(t, db, 0, stays, ts, 1); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for len(memPostings(t, db, "pod", "a")) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the series idle for 3h of data time is still in memory after a minute; in memory: %d series", db.series.count())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := memPostings(t, db, "pod", "b"); len(got) != 1 {
		t.Fatalf("the active series left memory: postings %v", got)
	}
}

// TestMaintainEvictsAtOnce: Maintain runs the due maintenance before it
// returns, eviction of the idle series included, without waiting for the
// background loop, which this test holds off (its clock and its data-time
// trigger).
func TestMaintainEvictsAtOnce(t *testing.T) {
	defer func(every time.Duration) { truncateEvery = every }(truncateEvery)
	truncateEvery = time.Hour
	db := openTestDB(t, Options{SeriesIdleTimeout: time.Hour})
	db.evictAskedAt.Store(math.MaxInt64)
	gone := labels.FromStrings("__name__", "gone", "pod", "a")
	stays := labels.FromStrings("__name__", "stays", "pod", "b")
	if _, err := appendRef(t, db, 0, gone, 0, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := appendRef(t, db, 0, stays, 2*time.Hour.Milliseconds(), 1); err != nil {
		t.Fatal(err)
	}
	if got := memPostings(t, db, "pod", "a"); len(got) != 1 {
		t.Fatalf("the idle series left memory before Maintain: postings %v", got)
	}
	if err := db.Maintain(); err != nil {
		t.Fatal(err)
	}
	if got := memPostings(t, db, "pod", "a"); len(got) != 0 {
		t.Fatalf("the idle series is still in memory after Maintain: postings %v", got)
	}
	if got := memPostings(t, db, "pod", "b"); len(got) != 1 {
		t.Fatalf("the active series left memory: postings %v", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Maintain(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Maintain after Close: %v, want ErrClosed", err)
	}
}

// TestEvictionReadsNewestSamplesAfterOpen reopens a store whose samples are
// all sealed, so that its series do not know their newest sample, and
// checks that the eviction pass reads it for each (walking the chunk keys,
// and seeking for series with many chunks and after a run of them): the
// idle series leave, and the others know their newest sample and value,
// which the duplicate check of the next append relies on.
func TestEvictionReadsNewestSamplesAfterOpen(t *testing.T) {
	opts := Options{SamplesPerChunk: 4}
	db := openTestDB(t, opts)
	type want struct {
		ls    labels.Labels
		lastT int64
		lastV float64
	}
	var series []want
	// Short series, a run of series with more chunks than a walk steps
	// over (which ends the walk), then short series again; the even ones
	// are recent, the odd ones idle.
	for i := 0; i < 40; i++ {
		samples := 1 + i%3
		if i >= 10 && i < 10+newestMaxFar+2 {
			samples = 8 * (newestMaxSteps + 10)
		}
		last := int64(50_000 + i)
		if i%2 == 0 {
			last = 5_000_000 + int64(i)
		}
		w := want{ls: labels.FromStrings("__name__", "m", "i", strconv.Itoa(i)), lastT: last, lastV: float64(7*i + 1)}
		app := db.AppenderV2(context.Background())
		for k := samples - 1; k >= 0; k-- {
			v := w.lastV
			if k > 0 {
				v = float64(k)
			}
			if _, err := app.Append(0, w.ls, 0, last-int64(k)*10, v, nil, nil, storage.AppendV2Options{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
		series = append(series, w)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(db.Dir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	unknown := 0
	db.series.forEach(func(s *memSeries) {
		if !s.maxTKnown {
			unknown++
		}
	})
	if unknown != len(series) {
		t.Fatalf("%d of %d series do not know their newest sample after Open, want all", unknown, len(series))
	}

	evictBefore(t, db, 1_000_000)
	for i, w := range series {
		s := db.series.getByLabels(w.ls.Hash(), w.ls)
		if i%2 == 1 {
			if s != nil {
				t.Errorf("series %s, newest sample at %d, was not evicted", w.ls, w.lastT)
			}
			continue
		}
		if s == nil {
			t.Errorf("series %s, newest sample at %d, was evicted", w.ls, w.lastT)
			continue
		}
		s.mu.Lock()
		got := want{ls: s.lset, lastT: s.maxT, lastV: s.lastValue}
		known := s.maxTKnown
		s.mu.Unlock()
		if !known || got.lastT != w.lastT || got.lastV != w.lastV {
			t.Errorf("series %s: newest sample %d=%v (known %v), want %d=%v", w.ls, got.lastT, got.lastV, known, w.lastT, w.lastV)
		}
		if _, err := appendRef(t, db, 0, w.ls, w.lastT, w.lastV+1); !errors.Is(err, storage.ErrDuplicateSampleForTimestamp) {
			t.Errorf("series %s: append of another value at its newest sample: got %v, want %v", w.ls, err, storage.ErrDuplicateSampleForTimestamp)
		}
	}
}

// TestEvictionReadsNothingBeforeTheOldestSample reopens a store whose
// samples are all sealed and runs an eviction whose cutoff is not past the
// oldest sample of the store: no series can be idle, so none leaves and
// none reads its newest chunk from badger.
func TestEvictionReadsNothingBeforeTheOldestSample(t *testing.T) {
	db := openTestDB(t, Options{})
	for i := 0; i < 20; i++ {
		ls := labels.FromStrings("__name__", "m", "i", strconv.Itoa(i))
		if _, err := appendRef(t, db, 0, ls, int64(1000+i), 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(db.Dir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	evictBefore(t, db, 1000)
	read, n := 0, 0
	db.series.forEach(func(s *memSeries) {
		n++
		s.mu.Lock()
		if s.maxTKnown {
			read++
		}
		s.mu.Unlock()
	})
	if n != 20 || read != 0 {
		t.Errorf("after an eviction before the oldest sample: %d series in memory, %d read their newest chunk; want 20 and 0", n, read)
	}
	evictBefore(t, db, 1010)
	if got := db.series.count(); got != 10 {
		t.Errorf("after an eviction before the sample at 1010: %d series in memory, want 10", got)
	}
}
