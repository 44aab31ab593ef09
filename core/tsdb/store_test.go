package tsdb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/tombstones"
	"github.com/prometheus/prometheus/tsdb/wlog"
)

type sample struct {
	T, ST int64
	V     float64
}

func appendOne(t *testing.T, db *DB, ls labels.Labels, ts int64, v float64) error {
	t.Helper()
	app := db.AppenderV2(context.Background())
	if _, err := app.Append(0, ls, 0, ts, v, nil, nil, storage.AppendV2Options{}); err != nil {
		app.Rollback()
		return err
	}
	return app.Commit()
}

func mustAppend(t *testing.T, db *DB, ls labels.Labels, ts int64, v float64) {
	t.Helper()
	if err := appendOne(t, db, ls, ts, v); err != nil {
		t.Fatalf("append %s@%d: %v", ls, ts, err)
	}
}

// readSeries returns the float samples of every series matching ms, by labels.
func readSeries(t *testing.T, db *DB, mint, maxt int64, ms ...*labels.Matcher) map[string][]sample {
	t.Helper()
	q, err := db.Querier(mint, maxt)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	out := map[string][]sample{}
	ss := q.Select(context.Background(), true, nil, ms...)
	for ss.Next() {
		it := ss.At().Iterator(nil)
		var got []sample
		for it.Next() == chunkenc.ValFloat {
			ts, v := it.At()
			got = append(got, sample{T: ts, ST: it.AtST(), V: v})
		}
		if err := it.Err(); err != nil {
			t.Fatalf("iterate %s: %v", ss.At().Labels(), err)
		}
		out[ss.At().Labels().String()] = got
	}
	if err := ss.Err(); err != nil {
		t.Fatalf("select: %v", err)
	}
	return out
}

var nameMatcher = labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")

func TestDuplicateAndOutOfOrderSamples(t *testing.T) {
	db := openTestDB(t, Options{})
	ls := labels.FromStrings("__name__", "m")
	mustAppend(t, db, ls, 100, 1)

	for name, tc := range map[string]struct {
		ts   int64
		v    float64
		want error
	}{
		"same timestamp, other value": {100, 2, storage.ErrDuplicateSampleForTimestamp},
		"same timestamp, same value":  {100, 1, nil},
		"older sample":                {50, 1, storage.ErrOutOfOrderSample},
	} {
		t.Run(name, func(t *testing.T) {
			err := appendOne(t, db, ls, tc.ts, tc.v)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}

	// Within one appender the batch is checked against itself.
	app := db.AppenderV2(context.Background())
	if _, err := app.Append(0, ls, 0, 300, 3, nil, nil, storage.AppendV2Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Append(0, ls, 0, 200, 2, nil, nil, storage.AppendV2Options{}); !errors.Is(err, storage.ErrOutOfOrderSample) {
		t.Fatalf("older sample in the same batch: got %v", err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	got := readSeries(t, db, 0, 1000, nameMatcher)
	want := map[string][]sample{`{__name__="m"}`: {{T: 100, V: 1}, {T: 300, V: 3}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("stored samples (-want +got):\n%s", diff)
	}
}

func TestOutOfOrderWindow(t *testing.T) {
	dir := t.TempDir()
	opts := Options{OutOfOrderWindow: time.Hour}
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	ls := labels.FromStrings("__name__", "ooo")
	hour := time.Hour.Milliseconds()
	mustAppend(t, db, ls, 3*hour, 3)
	mustAppend(t, db, ls, 3*hour-10, 2) // inside the window
	mustAppend(t, db, ls, 2*hour+5, 1)  // inside the window
	if err := appendOne(t, db, ls, hour, 0); !errors.Is(err, storage.ErrTooOldSample) {
		t.Fatalf("sample older than the window: got %v, want ErrTooOldSample", err)
	}
	if err := appendOne(t, db, ls, 3*hour-10, 7); !errors.Is(err, storage.ErrDuplicateSampleForTimestamp) {
		t.Fatalf("out-of-order duplicate with another value: got %v", err)
	}
	// RejectOutOfOrder turns the window off for one append.
	app := db.AppenderV2(context.Background())
	if _, err := app.Append(0, ls, 0, 3*hour-20, 1, nil, nil, storage.AppendV2Options{RejectOutOfOrder: true}); !errors.Is(err, storage.ErrOutOfOrderSample) {
		t.Fatalf("RejectOutOfOrder: got %v", err)
	}
	app.Rollback()

	want := []sample{{T: 2*hour + 5, V: 1}, {T: 3*hour - 10, V: 2}, {T: 3 * hour, V: 3}}
	check := func(stage string) {
		t.Helper()
		got := readSeries(t, db, 0, 4*hour, nameMatcher)[ls.String()]
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", stage, diff)
		}
	}
	check("in the head")
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	check("after flush")
	mustAppend(t, db, ls, 3*hour-30, 1.5)
	want = []sample{{T: 2*hour + 5, V: 1}, {T: 3*hour - 30, V: 1.5}, {T: 3*hour - 10, V: 2}, {T: 3 * hour, V: 3}}
	check("out-of-order sample over sealed chunks")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check("after reopen")
}

func TestRestartKeepsOrderAndDuplicates(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sealed := labels.FromStrings("__name__", "sealed")
	open := labels.FromStrings("__name__", "open")
	for i := int64(1); i <= 10; i++ {
		mustAppend(t, db, sealed, i*1000, float64(i))
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 10; i++ {
		mustAppend(t, db, open, i*1000, float64(i))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, ls := range []labels.Labels{sealed, open} {
		if err := appendOne(t, db, ls, 5000, 5); err == nil {
			t.Errorf("%s: an old sample was accepted after restart", ls)
		}
		if err := appendOne(t, db, ls, 10000, 11); !errors.Is(err, storage.ErrDuplicateSampleForTimestamp) {
			t.Errorf("%s: duplicate of the newest sample after restart: got %v", ls, err)
		}
		if err := appendOne(t, db, ls, 10000, 10); err != nil {
			t.Errorf("%s: exact repeat of the newest sample after restart: %v", ls, err)
		}
		mustAppend(t, db, ls, 11000, 11)
		got := readSeries(t, db, 0, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", ls.Get("__name__")))[ls.String()]
		if len(got) != 11 || got[10] != (sample{T: 11000, V: 11}) {
			t.Errorf("%s after restart: %v", ls, got)
		}
	}
	if st, _ := db.StartTime(); st != 1000 {
		t.Errorf("StartTime after restart = %d, want 1000", st)
	}
}

func TestStaleMarkersAndStartTimestamps(t *testing.T) {
	db := openTestDB(t, Options{})
	ls := labels.FromStrings("__name__", "c")
	app := db.AppenderV2(context.Background())
	for i, v := range []float64{1, 2, math.Float64frombits(value.StaleNaN)} {
		if _, err := app.Append(0, ls, 500, int64(1000*(i+1)), v, nil, nil, storage.AppendV2Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, stage := range []string{"head", "flushed"} {
		if stage == "flushed" {
			if err := db.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		got := readSeries(t, db, 0, 10000, nameMatcher)[ls.String()]
		if len(got) != 3 {
			t.Fatalf("%s: got %v", stage, got)
		}
		for _, s := range got {
			if s.ST != 500 {
				t.Errorf("%s: start timestamp of sample %d = %d, want 500", stage, s.T, s.ST)
			}
		}
		if !value.IsStaleNaN(got[2].V) {
			t.Errorf("%s: stale marker came back as %v", stage, got[2].V)
		}
	}
}

func TestInvalidSeriesAreRejected(t *testing.T) {
	db := openTestDB(t, Options{})
	for name, ls := range map[string]labels.Labels{
		"empty label set":       labels.EmptyLabels(),
		"only empty values":     labels.FromStrings("a", ""),
		"empty label name":      labels.FromStrings("", "x", "__name__", "m"),
		"duplicate label names": labels.New(labels.Label{Name: "a", Value: "1"}, labels.Label{Name: "a", Value: "2"}),
		"invalid UTF-8 name":    labels.FromStrings("__name__", "m", "a\xff", "x"),
		"invalid UTF-8 value":   labels.FromStrings("__name__", "m", "a", "x\xff"),
	} {
		t.Run(name, func(t *testing.T) {
			err := appendOne(t, db, ls, 1000, 1)
			if !errors.Is(err, ErrInvalidSeries) {
				t.Fatalf("got %v, want ErrInvalidSeries", err)
			}
		})
	}
	if n := db.series.count(); n != 0 {
		t.Fatalf("%d series created by rejected appends", n)
	}
}

func TestClosedDB(t *testing.T) {
	db, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	app := db.AppenderV2(context.Background())
	if _, err := app.Append(0, labels.FromStrings("__name__", "m"), 0, 1, 1, nil, nil, storage.AppendV2Options{}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close: %v", err)
	}
	if _, err := db.Querier(0, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Querier after Close: %v", err)
	}
	if err := db.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close: %v", err)
	}
	if _, err := db.StartTime(); !errors.Is(err, ErrClosed) {
		t.Errorf("StartTime after Close: %v", err)
	}
	if err := db.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

func TestCorruptedChunkIsReportedWithItsKey(t *testing.T) {
	var logs syncBuilder
	db := openTestDB(t, Options{Logger: hclog.New(&hclog.LoggerOptions{Output: &logs})})
	good := labels.FromStrings("__name__", "good")
	bad := labels.FromStrings("__name__", "bad")
	for i := int64(1); i <= 5; i++ {
		mustAppend(t, db, good, i, 1)
		mustAppend(t, db, bad, i, 1)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	ref := db.series.getByLabels(bad.Hash(), bad).ref
	key := corruptValue(t, db, chunkPrefix(ref))

	q, err := db.Querier(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "bad"))
	for ss.Next() {
	}
	if err := ss.Err(); err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), fmt.Sprintf("%x", key)) {
		t.Fatalf("reading the corrupted chunk: got %v, want a checksum error naming key %x", err, key)
	}
	if !hasLogLine(logs.String(), "[ERROR]", "corrupted chunk", fmt.Sprintf("%x", key)) {
		t.Errorf("no error line names the corrupted chunk %x; log:\n%s", key, logs.String())
	}
	if got := corruptions(t, db); got != 1 {
		t.Errorf("vigil_tsdb_corruptions_total = %v, want 1", got)
	}
	got := readSeries(t, db, 0, 10, labels.MustNewMatcher(labels.MatchEqual, "__name__", "good"))
	if len(got[good.String()]) != 5 {
		t.Fatalf("the intact series is not readable: %v", got)
	}
}

func TestRetentionByTime(t *testing.T) {
	hour := time.Hour.Milliseconds()
	db := openTestDB(t, Options{Retention: 5 * time.Hour})
	longLived := labels.FromStrings("__name__", "m", "life", "long")
	shortLived := labels.FromStrings("__name__", "m", "life", "short")
	for ts := int64(0); ts <= 10*hour; ts += 15 * 60 * 1000 {
		mustAppend(t, db, longLived, ts, 1)
		if ts <= hour {
			mustAppend(t, db, shortLived, ts, 1)
		}
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.applyRetention(); err != nil {
		t.Fatal(err)
	}
	got := readSeries(t, db, math.MinInt64, math.MaxInt64, nameMatcher)
	if _, ok := got[shortLived.String()]; ok {
		t.Errorf("series older than the retention is still returned")
	}
	samples := got[longLived.String()]
	if len(samples) == 0 || samples[0].T < 4*hour || samples[len(samples)-1].T != 10*hour {
		t.Fatalf("long-lived series after retention spans %v..%v", samples[0], samples[len(samples)-1])
	}
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
	if st, _ := db.StartTime(); st < 4*hour {
		t.Errorf("StartTime after retention = %d, want >= %d", st, 4*hour)
	}
	// The series record of the removed series went with its index keys.
	checkSeriesIndex(t, db)
}

func TestRetentionBySize(t *testing.T) {
	db := openTestDB(t, Options{ChunkRange: time.Hour})
	hour := time.Hour.Milliseconds()
	for ts := int64(0); ts < 12*hour; ts += 30 * 1000 {
		app := db.AppenderV2(context.Background())
		for k := 0; k < 50; k++ {
			ls := labels.FromStrings("__name__", "m", "k", strconv.Itoa(k))
			if _, err := app.Append(0, ls, 0, ts, float64(ts*int64(k+1))*1.37, nil, nil, storage.AppendV2Options{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Compact(); err != nil {
		t.Fatal(err)
	}
	full, err := db.storedBytes()
	if err != nil {
		t.Fatal(err)
	}
	db.opts.MaxBytes = full / 2
	if err := db.applyRetention(); err != nil {
		t.Fatal(err)
	}
	size, err := db.storedBytes()
	if err != nil {
		t.Fatal(err)
	}
	if size > db.opts.MaxBytes {
		t.Fatalf("size %d after size retention, bound %d (was %d)", size, db.opts.MaxBytes, full)
	}
	got := readSeries(t, db, math.MinInt64, math.MaxInt64, nameMatcher)
	s := got[`{__name__="m", k="0"}`]
	if len(s) == 0 || s[0].T == 0 || s[len(s)-1].T != 12*hour-30*1000 {
		t.Fatalf("size retention must drop the oldest data and keep the newest; kept %d samples", len(s))
	}
}

func TestConcurrentAppendersAndQueriers(t *testing.T) {
	db := openTestDB(t, Options{SamplesPerChunk: 16, WALMaxBytes: 64 << 10})
	const writers, series, steps = 4, 20, 200
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for step := 1; step <= steps; step++ {
				app := db.AppenderV2(context.Background())
				for k := 0; k < series; k++ {
					ls := labels.FromStrings("__name__", "conc", "w", strconv.Itoa(w), "k", strconv.Itoa(k))
					if _, err := app.Append(0, ls, 0, int64(step)*1000, float64(step), nil, nil, storage.AppendV2Options{}); err != nil {
						t.Error(err)
						return
					}
				}
				if err := app.Commit(); err != nil {
					t.Error(err)
					return
				}
				if step%50 == 0 {
					if err := db.Flush(); err != nil {
						t.Error(err)
					}
				}
			}
		}(w)
	}
	var readers sync.WaitGroup
	for r := 0; r < 2; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				q, err := db.Querier(0, math.MaxInt64)
				if err != nil {
					t.Error(err)
					return
				}
				ss := q.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "conc"))
				for ss.Next() {
					it := ss.At().Iterator(nil)
					prev := int64(0)
					for it.Next() != chunkenc.ValNone {
						if it.AtT() <= prev {
							t.Errorf("series %s: %d after %d", ss.At().Labels(), it.AtT(), prev)
						}
						prev = it.AtT()
					}
				}
				if err := ss.Err(); err != nil {
					t.Error(err)
				}
				q.Close()
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	got := readSeries(t, db, 0, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "conc"))
	if len(got) != writers*series {
		t.Fatalf("%d series, want %d", len(got), writers*series)
	}
	for name, s := range got {
		if len(s) != steps {
			t.Fatalf("%s has %d samples, want %d", name, len(s), steps)
		}
	}
}

func TestLabelNamesAndValues(t *testing.T) {
	db := openTestDB(t, Options{})
	mustAppend(t, db, labels.FromStrings("__name__", "up", "job", "api", "instance", "a"), 1, 1)
	mustAppend(t, db, labels.FromStrings("__name__", "up", "job", "db", "instance", "b"), 1, 1)
	mustAppend(t, db, labels.FromStrings("__name__", "other", "job", "web", "zone", "z1"), 1, 1)
	q, err := db.Querier(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ctx := context.Background()
	for name, tc := range map[string]struct {
		label    string
		hints    *storage.LabelHints
		matchers []*labels.Matcher
		want     []string
	}{
		"all values":         {"job", nil, nil, []string{"api", "db", "web"}},
		"values for up":      {"job", nil, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "__name__", "up")}, []string{"api", "db"}},
		"regexp on the name": {"job", nil, []*labels.Matcher{labels.MustNewMatcher(labels.MatchNotRegexp, "job", "a.*")}, []string{"db", "web"}},
		"limit":              {"job", &storage.LabelHints{Limit: 2}, nil, []string{"api", "db"}},
		"negative matcher":   {"instance", nil, []*labels.Matcher{labels.MustNewMatcher(labels.MatchNotEqual, "job", "api")}, []string{"b"}},
	} {
		t.Run(name, func(t *testing.T) {
			got, _, err := q.LabelValues(ctx, tc.label, tc.hints, tc.matchers...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
	names, _, err := q.LabelNames(ctx, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "other"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"__name__", "job", "zone"}, names); diff != "" {
		t.Fatalf("label names (-want +got):\n%s", diff)
	}
}

// corruptValue flips a byte in the middle of the value of the first key
// with prefix.
func corruptValue(t *testing.T, db *DB, prefix []byte) []byte {
	t.Helper()
	var key []byte
	err := db.kv.Update(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		it.Rewind()
		if !it.Valid() {
			return errors.New("no key to corrupt")
		}
		key = it.Item().KeyCopy(nil)
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			return err
		}
		v[len(v)/2] ^= 0xff
		return txn.Set(key, v)
	})
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// corruptions is the value of vigil_tsdb_corruptions_total of db.
func corruptions(t *testing.T, db *DB) float64 {
	t.Helper()
	return collectorValue(t, db, "vigil_tsdb_corruptions_total")
}

// collectorValue is the value of the counter or gauge name, of one
// series, that db's collector reports.
func collectorValue(t *testing.T, db *DB, name string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(db.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("the collector has no %s", name)
	return 0
}

// syncBuilder is a strings.Builder that a logger may write to from several
// goroutines.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// corruptWALRecord flips a byte of the payload of the n-th record (from 0)
// in the first segment of the write-ahead log of a closed store in dir,
// whose records all fit in its first page.
func corruptWALRecord(t *testing.T, dir string, n int) {
	t.Helper()
	first, _, err := wlog.Segments(filepath.Join(dir, walDirName))
	if err != nil {
		t.Fatal(err)
	}
	name := wlog.SegmentName(filepath.Join(dir, walDirName), first)
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	off := 0
	for i := 0; ; i++ {
		if off+7 > len(b) || b[off] == 0 {
			t.Fatalf("segment %s has %d records, want more than %d", name, i, n)
		}
		length := int(binary.BigEndian.Uint16(b[off+1:]))
		if i == n {
			b[off+7+length/2] ^= 0xff
			break
		}
		off += 7 + length
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptedRecordsAreSkippedOnOpen(t *testing.T) {
	for name, tc := range map[string]struct {
		// wal: damage the samples of the second commit in the write-ahead
		// log; otherwise the series record of the first series in badger,
		// after a flush. The log is cut back to the last whole commit
		// before the damage, as upstream's head repairs it; a series record
		// comes back from the checkpoint of the log.
		wal        bool
		secondBack bool
	}{
		"write-ahead record":                          {wal: true},
		"series record, repaired from the checkpoint": {secondBack: true},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			db, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			first := labels.FromStrings("__name__", "first")
			second := labels.FromStrings("__name__", "second")
			mustAppend(t, db, first, 1000, 1)
			mustAppend(t, db, second, 1000, 2)
			if !tc.wal {
				if err := db.Flush(); err != nil {
					t.Fatal(err)
				}
				corruptValue(t, db, []byte{prefixSeries})
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if tc.wal {
				// Series, samples and marker of each commit.
				corruptWALRecord(t, dir, 4)
			}
			var logs strings.Builder
			db, err = Open(dir, Options{Logger: hclog.New(&hclog.LoggerOptions{Output: &logs})})
			if err != nil {
				t.Fatalf("a corrupted record must not stop the store from opening: %v", err)
			}
			defer func() { db.Close() }()
			if !strings.Contains(logs.String(), "checksum") {
				t.Errorf("the corruption was not logged: %s", logs.String())
			}
			if got := corruptions(t, db); got != 1 {
				t.Errorf("vigil_tsdb_corruptions_total = %v, want 1", got)
			}
			got := readSeries(t, db, 0, 10000, nameMatcher)
			if len(got[first.String()]) != 1 {
				t.Errorf("the series before the damage is lost: %v", got)
			}
			if _, ok := got[second.String()]; ok != tc.secondBack {
				t.Errorf("series of the damaged record returned: %v, want %v (%v)", ok, tc.secondBack, got)
			}
			// The store takes commits after the repair, and they replay.
			mustAppend(t, db, second, 5000, 5)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if db, err = Open(dir, Options{}); err != nil {
				t.Fatal(err)
			}
			if got := readSeries(t, db, 0, 10000, nameMatcher); len(got[second.String()]) == 0 || got[second.String()][len(got[second.String()])-1].T != 5000 {
				t.Errorf("a commit after the repair is lost: %v", got)
			}
		})
	}
}

func TestInvalidOptionsAreNamed(t *testing.T) {
	for name, tc := range map[string]struct {
		opts Options
		want string
	}{
		"negative retention":    {Options{Retention: -time.Hour}, "Retention=-1h0m0s"},
		"negative window":       {Options{OutOfOrderWindow: -time.Minute}, "OutOfOrderWindow=-1m0s"},
		"negative size":         {Options{MaxBytes: -1}, "MaxBytes=-1"},
		"tiny chunk range":      {Options{ChunkRange: time.Second}, "ChunkRange=1s"},
		"negative chunk sample": {Options{SamplesPerChunk: -5}, "SamplesPerChunk=-5"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Open(t.TempDir(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestAppenderV1(t *testing.T) {
	db := openTestDB(t, Options{OutOfOrderWindow: time.Hour})
	ls := labels.FromStrings("__name__", "v1")
	app := db.Appender(context.Background())
	ref, err := app.Append(0, ls, 10000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.AppendSTZeroSample(ref, ls, 20000, 15000); err != nil {
		t.Fatalf("zero sample at the start timestamp: %v", err)
	}
	if _, err := app.Append(ref, ls, 20000, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := app.AppendSTZeroSample(ref, ls, 30000, 30000); !errors.Is(err, storage.ErrSTNewerThanSample) {
		t.Errorf("start timestamp not before the sample: got %v", err)
	}
	if r, err := app.AppendExemplar(ref, ls, exemplar.Exemplar{Value: 1, Ts: 20000}); r != 0 || err != nil {
		t.Errorf("exemplar with MaxExemplars 0: got %d, %v, want it dropped silently as upstream", r, err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	// DiscardOutOfOrder turns the out-of-order window off for an appender.
	app = db.Appender(context.Background())
	app.SetOptions(&storage.AppendOptions{DiscardOutOfOrder: true})
	if _, err := app.Append(0, ls, 12000, 5); !errors.Is(err, storage.ErrOutOfOrderSample) {
		t.Errorf("DiscardOutOfOrder: got %v", err)
	}
	app.Rollback()
	want := []sample{{T: 10000, V: 1}, {T: 15000, V: 0}, {T: 20000, V: 2}}
	if diff := cmp.Diff(want, readSeries(t, db, 0, 100000, nameMatcher)[ls.String()]); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestOutOfOrderHistograms(t *testing.T) {
	db := openTestDB(t, Options{OutOfOrderWindow: time.Hour})
	ls := labels.FromStrings("__name__", "h")
	hist := func(count uint64) *histogram.Histogram {
		return &histogram.Histogram{Count: count, Sum: float64(count), Schema: 0, PositiveSpans: []histogram.Span{{Offset: 0, Length: 1}}, PositiveBuckets: []int64{int64(count)}}
	}
	for _, ts := range []int64{50000, 30000, 40000, 10000} {
		app := db.AppenderV2(context.Background())
		if _, err := app.Append(0, ls, 0, ts, 0, hist(uint64(ts/1000)), nil, storage.AppendV2Options{}); err != nil {
			t.Fatalf("histogram at %d: %v", ts, err)
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	for _, stage := range []string{"head", "flushed"} {
		if stage == "flushed" {
			if err := db.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		q, err := db.Querier(0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		ss := q.Select(context.Background(), false, nil, nameMatcher)
		var got []int64
		for ss.Next() {
			it := ss.At().Iterator(nil)
			for it.Next() == chunkenc.ValHistogram {
				ts, h := it.AtHistogram(nil)
				if h.Count != uint64(ts/1000) {
					t.Errorf("%s: histogram at %d has count %d", stage, ts, h.Count)
				}
				got = append(got, ts)
			}
		}
		q.Close()
		if diff := cmp.Diff([]int64{10000, 30000, 40000, 50000}, got); diff != "" {
			t.Errorf("%s: timestamps (-want +got):\n%s", stage, diff)
		}
	}
}

func TestStats(t *testing.T) {
	db := openTestDB(t, Options{})
	if s, err := db.Stats(10); err != nil || s.NumSeries != 0 || s.MinTime <= s.MaxTime {
		t.Fatalf("empty store: %+v, %v", s, err)
	}
	for i := 0; i < 3; i++ {
		mustAppend(t, db, labels.FromStrings("__name__", "up", "instance", strconv.Itoa(i)), 1000, 1)
	}
	mustAppend(t, db, labels.FromStrings("__name__", "other", "instance", "0"), 2000, 1)
	s, err := db.Stats(10)
	if err != nil {
		t.Fatal(err)
	}
	if s.NumSeries != 4 || s.MinTime != 1000 || s.MaxTime != 2000 {
		t.Fatalf("stats: %+v", s)
	}
	if top := s.Postings.CardinalityMetricsStats[0]; top.Name != "up" || top.Count != 3 {
		t.Fatalf("top metric: %+v", top)
	}
}

// TestStatsHugeLimit asks for more entries than the index holds: Stats
// allocates by what the index holds, not by the limit.
func TestStatsHugeLimit(t *testing.T) {
	db := openTestDB(t, Options{})
	mustAppend(t, db, labels.FromStrings("__name__", "up", "instance", "0"), 1000, 1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, err := db.Stats(1 << 22)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
		t.Errorf("Stats(1<<22) allocated %d bytes for a store of one series", got)
	}
	if len(s.Postings.CardinalityMetricsStats) != 1 || len(s.Postings.LabelValuePairsStats) != 2 {
		t.Errorf("stats: %+v", s.Postings)
	}
}

func TestCollector(t *testing.T) {
	db := openTestDB(t, Options{})
	ls := labels.FromStrings("__name__", "m")
	mustAppend(t, db, ls, 1000, 1)
	mustAppend(t, db, ls, 2000, 2)
	if err := appendOne(t, db, ls, 500, 0); err == nil {
		t.Fatal("an out-of-order sample was accepted")
	}
	if err := appendOne(t, db, ls, 2000, 3); err == nil {
		t.Fatal("a duplicate sample was accepted")
	}
	if err := appendOne(t, db, labels.FromStrings("", "x"), 3000, 1); err == nil {
		t.Fatal("an invalid series was accepted")
	}
	// The flush drops the segment of the commits; what is left is the
	// checkpoint with the series record, one page of 32 KiB.
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP vigil_tsdb_corruptions_total Damaged records the store met: series and write-ahead records skipped at Open, chunks a read failed on.
# TYPE vigil_tsdb_corruptions_total counter
vigil_tsdb_corruptions_total 0
# HELP vigil_tsdb_chunks_sealed_total Chunks written to badger.
# TYPE vigil_tsdb_chunks_sealed_total counter
vigil_tsdb_chunks_sealed_total 1
# HELP vigil_tsdb_highest_timestamp_seconds Timestamp of the newest sample in the store.
# TYPE vigil_tsdb_highest_timestamp_seconds gauge
vigil_tsdb_highest_timestamp_seconds 2
# HELP vigil_tsdb_lowest_timestamp_seconds Timestamp of the oldest sample the store may hold.
# TYPE vigil_tsdb_lowest_timestamp_seconds gauge
vigil_tsdb_lowest_timestamp_seconds 1
# HELP vigil_tsdb_samples_appended_total Samples committed to the store.
# TYPE vigil_tsdb_samples_appended_total counter
vigil_tsdb_samples_appended_total 2
# HELP vigil_tsdb_samples_refused_total Samples Append refused, by reason, and those of commits refused while the disk is full (disk_full).
# TYPE vigil_tsdb_samples_refused_total counter
vigil_tsdb_samples_refused_total{reason="disk_full"} 0
vigil_tsdb_samples_refused_total{reason="duplicate"} 1
vigil_tsdb_samples_refused_total{reason="invalid"} 1
vigil_tsdb_samples_refused_total{reason="out_of_order"} 1
# HELP vigil_tsdb_series Series in memory: those with a sample within the idle timeout, or not all sealed yet.
# TYPE vigil_tsdb_series gauge
vigil_tsdb_series 1
# HELP vigil_tsdb_wal_bytes Bytes of the write-ahead log on disk: its segments and checkpoint.
# TYPE vigil_tsdb_wal_bytes gauge
vigil_tsdb_wal_bytes 32768
`
	if err := testutil.CollectAndCompare(db.Collector(), strings.NewReader(want), "vigil_tsdb_chunks_sealed_total", "vigil_tsdb_corruptions_total",
		"vigil_tsdb_highest_timestamp_seconds", "vigil_tsdb_lowest_timestamp_seconds", "vigil_tsdb_samples_appended_total",
		"vigil_tsdb_samples_refused_total", "vigil_tsdb_series", "vigil_tsdb_wal_bytes"); err != nil {
		t.Fatal(err)
	}
	// The series leaves memory.
	evictBefore(t, db, math.MaxInt64)
	want = `
# HELP vigil_tsdb_series Series in memory: those with a sample within the idle timeout, or not all sealed yet.
# TYPE vigil_tsdb_series gauge
vigil_tsdb_series 0
# HELP vigil_tsdb_series_evicted_total Series that left memory after the idle timeout without a sample; they stay in badger and come back with their next sample.
# TYPE vigil_tsdb_series_evicted_total counter
vigil_tsdb_series_evicted_total 1
`
	if err := testutil.CollectAndCompare(db.Collector(), strings.NewReader(want), "vigil_tsdb_series", "vigil_tsdb_series_evicted_total"); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteCleanAndSnapshot(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := labels.FromStrings("__name__", "m", "k", "a")
	b := labels.FromStrings("__name__", "m", "k", "b")
	for ts := int64(1); ts <= 10; ts++ {
		mustAppend(t, db, a, ts*1000, float64(ts))
		mustAppend(t, db, b, ts*1000, float64(ts))
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, db, a, 11000, 11) // in the head
	if err := db.Delete(context.Background(), 3000, 5000, labels.MustNewMatcher(labels.MatchEqual, "k", "a")); err != nil {
		t.Fatal(err)
	}
	if err := db.Delete(context.Background(), 11000, 11000, labels.MustNewMatcher(labels.MatchEqual, "k", "a")); err != nil {
		t.Fatal(err)
	}
	wantA := []int64{1000, 2000, 6000, 7000, 8000, 9000, 10000}
	check := func(stage string, db *DB) {
		t.Helper()
		got := readSeries(t, db, 0, 100000, nameMatcher)
		var ts []int64
		for _, s := range got[a.String()] {
			ts = append(ts, s.T)
		}
		if diff := cmp.Diff(wantA, ts); diff != "" {
			t.Errorf("%s: series a (-want +got):\n%s", stage, diff)
		}
		if len(got[b.String()]) != 10 {
			t.Errorf("%s: series b lost samples: %v", stage, got[b.String()])
		}
	}
	check("after delete", db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check("after reopen", db)

	if err := db.CleanTombstones(); err != nil {
		t.Fatal(err)
	}
	check("after clean", db)
	if total := db.tombstones.Total(); total != 0 {
		t.Errorf("%d tombstones left after clean", total)
	}

	snap := filepath.Join(t.TempDir(), "snap")
	if err := db.Snapshot(snap, false); err != nil {
		t.Fatal(err)
	}
	if err := db.Snapshot(snap, false); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("a second snapshot into the same directory: %v", err)
	}
	copied, err := Open(snap, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer copied.Close()
	check("in the snapshot", copied)

	// A sample in the head is in a full snapshot, not in one that skips
	// the head.
	mustAppend(t, db, b, 12000, 12)
	for _, skipHead := range []bool{false, true} {
		snap := filepath.Join(t.TempDir(), "snap")
		if err := db.Snapshot(snap, skipHead); err != nil {
			t.Fatal(err)
		}
		copied, err := Open(snap, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := 11
		if skipHead {
			want = 10
		}
		if got := readSeries(t, copied, 0, 100000, nameMatcher)[b.String()]; len(got) != want {
			t.Errorf("snapshot with skipHead=%v has %d samples of b, want %d", skipHead, len(got), want)
		}
		if err := copied.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDeleteCoversOnlyExistingSamples checks that a deletion covers the
// samples each series holds when it is made, as upstream clamps its
// tombstones: samples appended afterwards are visible, also after a restart,
// while the deleted ones stay hidden. The series hold their samples in the
// head, only in badger (sealed, then reopened), partly out of order, and
// outside the deleted range.
func TestDeleteCoversOnlyExistingSamples(t *testing.T) {
	dir := t.TempDir()
	opts := Options{OutOfOrderWindow: time.Hour}
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	head := labels.FromStrings("__name__", "m", "k", "head")
	sealed := labels.FromStrings("__name__", "m", "k", "sealed")
	ooo := labels.FromStrings("__name__", "m", "k", "ooo")
	outside := labels.FromStrings("__name__", "m", "k", "outside")
	for ts := int64(1000); ts <= 5000; ts += 1000 {
		mustAppend(t, db, sealed, ts, float64(ts))
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	for ts := int64(1000); ts <= 5000; ts += 1000 {
		mustAppend(t, db, head, ts, float64(ts))
		mustAppend(t, db, outside, ts, float64(ts))
		if ts >= 3000 {
			mustAppend(t, db, ooo, ts, float64(ts))
		}
	}
	mustAppend(t, db, ooo, 1000, 1000) // out of order
	mustAppend(t, db, ooo, 2000, 2000)

	// As the admin API without start and end: all of time.
	deleted := labels.MustNewMatcher(labels.MatchRegexp, "k", "head|sealed|ooo")
	if err := db.Delete(context.Background(), math.MinInt64, math.MaxInt64, deleted); err != nil {
		t.Fatal(err)
	}
	// From after the newest sample: nothing to delete.
	if err := db.Delete(context.Background(), 6000, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "k", "outside")); err != nil {
		t.Fatal(err)
	}

	gotStones := map[string]tombstones.Intervals{}
	db.tombstones.Iter(func(ref storage.SeriesRef, ivs tombstones.Intervals) error {
		gotStones[db.series.getByRef(uint64(ref)).lset.Get("k")] = ivs
		return nil
	})
	wantStones := map[string]tombstones.Intervals{
		"head":   {{Mint: 1000, Maxt: 5000}},
		"sealed": {{Mint: 1000, Maxt: 5000}},
		"ooo":    {{Mint: 1000, Maxt: 5000}},
	}
	if diff := cmp.Diff(wantStones, gotStones); diff != "" {
		t.Errorf("tombstones (-want +got):\n%s", diff)
	}

	want := map[string][]int64{"outside": {1000, 2000, 3000, 4000, 5000}}
	check := func(stage string) {
		t.Helper()
		got := map[string][]int64{}
		for _, ls := range []labels.Labels{head, sealed, ooo, outside} {
			for _, s := range readSeries(t, db, math.MinInt64, math.MaxInt64, nameMatcher)[ls.String()] {
				got[ls.Get("k")] = append(got[ls.Get("k")], s.T)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: visible samples by series (-want +got):\n%s", stage, diff)
		}
	}
	check("after the deletion")

	for _, ls := range []labels.Labels{head, sealed, ooo, outside} {
		mustAppend(t, db, ls, 6000, 6000)
		mustAppend(t, db, ls, 7000, 7000)
	}
	want = map[string][]int64{
		"head":    {6000, 7000},
		"sealed":  {6000, 7000},
		"ooo":     {6000, 7000},
		"outside": {1000, 2000, 3000, 4000, 5000, 6000, 7000},
	}
	check("samples appended after the deletion")

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	check("after a restart")
	for _, ls := range []labels.Labels{head, sealed, ooo, outside} {
		mustAppend(t, db, ls, 8000, 8000)
	}
	for k := range want {
		want[k] = append(want[k], 8000)
	}
	check("samples appended after the restart")
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	check("after a flush")
}

// TestAppendByReference covers what a scraper's cache relies on: a
// reference that Append returned finds its series again, and a reference
// the store does not know (never given, or of a series that retention
// removed) falls back to the labels.
func TestAppendByReference(t *testing.T) {
	hour := time.Hour.Milliseconds()
	db := openTestDB(t, Options{Retention: 5 * time.Hour})
	ls := labels.FromStrings("__name__", "m", "k", "v")
	appendRef := func(ref storage.SeriesRef, ts int64, v float64) storage.SeriesRef {
		t.Helper()
		app := db.AppenderV2(context.Background())
		got, err := app.Append(ref, ls, 0, ts, v, nil, nil, storage.AppendV2Options{})
		if err != nil {
			t.Fatalf("append with reference %d at %d: %v", ref, ts, err)
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	ref := appendRef(0, 1000, 1)
	if ref == 0 {
		t.Fatal("Append returned reference 0")
	}
	if got := appendRef(ref, 2000, 2); got != ref {
		t.Errorf("append by reference returned %d, want %d", got, ref)
	}
	if got := appendRef(ref+1000, 3000, 3); got != ref {
		t.Errorf("unknown reference: returned %d, want the series' own %d", got, ref)
	}
	if got := readSeries(t, db, math.MinInt64, math.MaxInt64, nameMatcher)[ls.String()]; len(got) != 3 {
		t.Fatalf("samples %v, want 3", got)
	}

	// Retention removes the series; its old reference then leads to a new
	// series with the same labels.
	other := labels.FromStrings("__name__", "other")
	mustAppend(t, db, other, 10*hour, 1)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.applyRetention(); err != nil {
		t.Fatal(err)
	}
	if got := readSeries(t, db, math.MinInt64, math.MaxInt64, nameMatcher)[ls.String()]; len(got) != 0 {
		t.Fatalf("retention left %v", got)
	}
	again := appendRef(ref, 10*hour, 4)
	if again == 0 || again == ref {
		t.Errorf("reference of a removed series: returned %d, want a new one", again)
	}
	if got := readSeries(t, db, math.MinInt64, math.MaxInt64, nameMatcher)[ls.String()]; len(got) != 1 || got[0].V != 4 {
		t.Errorf("samples after the series came back: %v", got)
	}
}

// TestOpenRefusesAStoreInUse opens a store twice: the second Open says the
// store is in use, before it reads any of its files.
func TestOpenRefusesAStoreInUse(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "is in use by another process") {
		t.Fatalf("second Open: %v", err)
	}
}
