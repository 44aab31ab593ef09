package tsdb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"
)

// queryExemplars returns the exemplars of the series matching ms in
// [start, end], as "series: value@time{labels}" lines.
func queryExemplars(t *testing.T, db *DB, start, end int64, ms ...*labels.Matcher) []string {
	t.Helper()
	q, err := db.ExemplarQuerier(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res, err := q.Select(start, end, ms)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res {
		for _, e := range r.Exemplars {
			out = append(out, r.SeriesLabels.String()+": "+exemplarString(e))
		}
	}
	return out
}

func exemplarString(e exemplar.Exemplar) string {
	return e.Labels.String() + " " + strconv.FormatFloat(e.Value, 'g', -1, 64) + "@" + itoa(e.Ts)
}

func itoa(v int64) string { return time.UnixMilli(v).UTC().Format("15:04:05.000") }

func ex(trace string, v float64, ts int64) exemplar.Exemplar {
	return exemplar.Exemplar{Labels: labels.FromStrings("trace_id", trace), Value: v, Ts: ts, HasTs: true}
}

var (
	exA = labels.FromStrings("__name__", "requests_total", "job", "a")
	exB = labels.FromStrings("__name__", "latency_bucket", "job", "b", "le", "0.5")
)

// appendWithExemplars appends one sample with exemplars through
// AppenderV2 and commits, returning Append's error.
func appendWithExemplars(t *testing.T, db *DB, ls labels.Labels, ts int64, v float64, exs ...exemplar.Exemplar) error {
	t.Helper()
	app := db.AppenderV2(context.Background())
	_, err := app.Append(0, ls, 0, ts, v, nil, nil, storage.AppendV2Options{Exemplars: exs})
	if cerr := app.Commit(); cerr != nil {
		t.Fatal(cerr)
	}
	return err
}

// TestExemplarsAppendAndQuery appends exemplars with AppenderV2's options
// and with the version 1 AppendExemplar and reads them back by matchers
// and time range, only once committed.
func TestExemplarsAppendAndQuery(t *testing.T) {
	db := openTestDB(t, Options{MaxExemplars: 100})
	app := db.AppenderV2(context.Background())
	if _, err := app.Append(0, exA, 0, 1000, 1, nil, nil, storage.AppendV2Options{Exemplars: []exemplar.Exemplar{ex("a1", 1, 900)}}); err != nil {
		t.Fatal(err)
	}
	if got := queryExemplars(t, db, 0, 10000, nameMatcher); len(got) != 0 {
		t.Fatalf("before the commit: %v, want none", got)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}

	v1 := db.Appender(context.Background())
	ref, err := v1.Append(0, exB, 2000, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v1.AppendExemplar(ref, exB, ex("b1", 0.3, 1900)); err != nil {
		t.Fatal(err)
	}
	// By labels alone, on a series of an earlier commit.
	if _, err := v1.AppendExemplar(0, exA, ex("a2", 2, 1950)); err != nil {
		t.Fatal(err)
	}
	if _, err := v1.AppendExemplar(0, labels.FromStrings("__name__", "nothing"), ex("x", 1, 1950)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("exemplar of an unknown series: %v, want ErrNotFound", err)
	}
	if err := v1.Commit(); err != nil {
		t.Fatal(err)
	}
	// A rolled back exemplar is not kept.
	app = db.AppenderV2(context.Background())
	if _, err := app.Append(0, exA, 0, 3000, 1, nil, nil, storage.AppendV2Options{Exemplars: []exemplar.Exemplar{ex("gone", 1, 3000)}}); err != nil {
		t.Fatal(err)
	}
	app.Rollback()

	all := []string{
		`{__name__="latency_bucket", job="b", le="0.5"}: {trace_id="b1"} 0.3@00:00:01.900`,
		`{__name__="requests_total", job="a"}: {trace_id="a1"} 1@00:00:00.900`,
		`{__name__="requests_total", job="a"}: {trace_id="a2"} 2@00:00:01.950`,
	}
	if diff := cmp.Diff(all, queryExemplars(t, db, 0, 10000, nameMatcher)); diff != "" {
		t.Errorf("all (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(all[1:], queryExemplars(t, db, 0, 10000, labels.MustNewMatcher(labels.MatchEqual, "job", "a"))); diff != "" {
		t.Errorf("job=a (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(all[:1], queryExemplars(t, db, 1900, 1940, nameMatcher)); diff != "" {
		t.Errorf("[1900, 1940] (-want +got):\n%s", diff)
	}
}

// TestExemplarsDuplicatesAndOutOfOrder checks upstream's rules: a repeat
// of a series' newest exemplar is dropped without an error, an older one
// is refused as out of order, and so is a label set over 128 runes; the
// refusals come in a partial error while the sample is appended.
func TestExemplarsDuplicatesAndOutOfOrder(t *testing.T) {
	db := openTestDB(t, Options{MaxExemplars: 100})
	if err := appendWithExemplars(t, db, exA, 1000, 1, ex("a", 1, 1000)); err != nil {
		t.Fatal(err)
	}
	if err := appendWithExemplars(t, db, exA, 2000, 2, ex("a", 1, 1000)); err != nil {
		t.Errorf("a duplicate: %v, want no error", err)
	}
	err := appendWithExemplars(t, db, exA, 3000, 3, ex("old", 1, 500), ex("long", 1, 3000), ex(strings.Repeat("x", 121), 1, 3000))
	var perr *storage.AppendPartialError
	if !errors.As(err, &perr) || len(perr.ExemplarErrors) != 2 ||
		perr.ExemplarErrors[0].Index != 0 || !errors.Is(perr.ExemplarErrors[0].Err, storage.ErrOutOfOrderExemplar) ||
		perr.ExemplarErrors[1].Index != 2 || !errors.Is(perr.ExemplarErrors[1].Err, storage.ErrExemplarLabelLength) {
		t.Errorf("out of order and too long: %v, want a partial error for exemplars 0 and 2", err)
	}
	v1 := db.Appender(context.Background())
	if _, err := v1.AppendExemplar(0, exA, ex("older", 1, 400)); !errors.Is(err, storage.ErrOutOfOrderExemplar) {
		t.Errorf("AppendExemplar out of order: %v", err)
	}
	v1.Rollback()
	want := []string{
		`{__name__="requests_total", job="a"}: {trace_id="a"} 1@00:00:01.000`,
		`{__name__="requests_total", job="a"}: {trace_id="long"} 1@00:00:03.000`,
	}
	if diff := cmp.Diff(want, queryExemplars(t, db, 0, 10000, nameMatcher)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]sample{{T: 1000, V: 1}, {T: 2000, V: 2}, {T: 3000, V: 3}}, readSeries(t, db, 0, 10000, nameMatcher)[exA.String()]); diff != "" {
		t.Errorf("the samples (-want +got):\n%s", diff)
	}
}

// TestExemplarsSurviveRestart closes and reopens the store, with the
// exemplars in the write-ahead segments, then in a checkpoint after a
// flush, and checks the capacity bound applies to the replay too.
func TestExemplarsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	opts := Options{MaxExemplars: 3}
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	for i, trace := range []string{"1", "2", "3", "4"} {
		ts := int64(i+1) * 1000
		if err := appendWithExemplars(t, db, exA, ts, float64(i), ex(trace, float64(i), ts)); err != nil {
			t.Fatal(err)
		}
	}
	if err := appendWithExemplars(t, db, exB, 5000, 1, ex("b", 0.1, 5000)); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{__name__="latency_bucket", job="b", le="0.5"}: {trace_id="b"} 0.1@00:00:05.000`,
		`{__name__="requests_total", job="a"}: {trace_id="3"} 2@00:00:03.000`,
		`{__name__="requests_total", job="a"}: {trace_id="4"} 3@00:00:04.000`,
	}
	if diff := cmp.Diff(want, queryExemplars(t, db, 0, 10000, nameMatcher)); diff != "" {
		t.Fatalf("the newest 3 (-want +got):\n%s", diff)
	}
	reopen := func(what string) {
		t.Helper()
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if db, err = Open(dir, opts); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, queryExemplars(t, db, 0, 10000, nameMatcher)); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", what, diff)
		}
	}
	reopen("after a restart")
	// The flush seals everything and replaces the segments with a checkpoint.
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if cp, _, err := wlog.LastCheckpoint(db.wal.dir); err != nil || countExemplarRecords(t, cp) == 0 {
		t.Fatalf("checkpoint %q: %v, want exemplar records in it", cp, err)
	}
	reopen("after a checkpoint and a restart")
	// A second checkpoint starts from the first.
	mustAppend(t, db, exB, 6000, 1)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	reopen("after a second checkpoint and a restart")
}

// countExemplarRecords counts the Exemplars records of the log in dir.
func countExemplarRecords(t *testing.T, dir string) int {
	t.Helper()
	sr, err := wlog.NewSegmentsReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	var dec record.Decoder
	n := 0
	r := wlog.NewReader(sr)
	for r.Next() {
		if dec.Type(r.Record()) == record.Exemplars {
			n++
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCheckpointKeepsExemplarsWithinRetention checks that a checkpoint
// keeps the exemplars of live series within retention only.
func TestCheckpointKeepsExemplarsWithinRetention(t *testing.T) {
	dir := t.TempDir()
	opts := Options{MaxExemplars: 100, Retention: time.Hour}
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	hour := time.Hour.Milliseconds()
	if err := appendWithExemplars(t, db, exA, 1000, 1, ex("old", 1, 1000)); err != nil {
		t.Fatal(err)
	}
	if err := appendWithExemplars(t, db, exA, 2*hour, 1, ex("new", 1, 2*hour)); err != nil {
		t.Fatal(err)
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
	want := []string{`{__name__="requests_total", job="a"}: {trace_id="new"} 1@02:00:00.000`}
	if diff := cmp.Diff(want, queryExemplars(t, db, 0, 10*hour, nameMatcher)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

// TestTornCommitLosesItsExemplars cuts the log of a commit just before its
// marker: the replay drops its exemplars with its samples, and keeps those
// of the commit before.
func TestTornCommitLosesItsExemplars(t *testing.T) {
	dir := t.TempDir()
	opts := Options{MaxExemplars: 100, WALCompression: "none"}
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	if err := appendWithExemplars(t, db, exA, 1000, 1, ex("kept", 1, 1000)); err != nil {
		t.Fatal(err)
	}
	if err := appendWithExemplars(t, db, exA, 2000, 2, ex("torn", 2, 2000)); err != nil {
		t.Fatal(err)
	}
	_, seg, err := wlog.Segments(db.wal.dir)
	if err != nil {
		t.Fatal(err)
	}
	name := wlog.SegmentName(db.wal.dir, seg)
	info, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	end := info.Size()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// The marker is the last record: a 7-byte header and one byte.
	if err := os.Truncate(name, end-8); err != nil {
		t.Fatal(err)
	}
	if n := countExemplarRecords(t, filepath.Dir(name)); n != 2 {
		t.Fatalf("%d exemplar records in the cut log, want both", n)
	}
	if db, err = Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	want := []string{`{__name__="requests_total", job="a"}: {trace_id="kept"} 1@00:00:01.000`}
	if diff := cmp.Diff(want, queryExemplars(t, db, 0, 10000, nameMatcher)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]sample{{T: 1000, V: 1}}, readSeries(t, db, 0, 10000, nameMatcher)[exA.String()]); diff != "" {
		t.Fatalf("the samples (-want +got):\n%s", diff)
	}
}

// TestExemplarCapacity checks the bound, SetMaxExemplars and the metrics
// of upstream's exemplar storage in the store's collector.
func TestExemplarCapacity(t *testing.T) {
	db := openTestDB(t, Options{})
	if err := appendWithExemplars(t, db, exA, 1000, 1, ex("off", 1, 1000)); err != nil {
		t.Errorf("with MaxExemplars 0: %v, want the exemplar dropped silently", err)
	}
	if got := queryExemplars(t, db, 0, 10000, nameMatcher); len(got) != 0 {
		t.Fatalf("with MaxExemplars 0: %v", got)
	}
	if err := db.SetMaxExemplars(2); err != nil {
		t.Fatal(err)
	}
	for i := int64(2); i <= 5; i++ {
		if err := appendWithExemplars(t, db, exA, i*1000, 1, ex(itoa(i*1000), 1, i*1000)); err != nil {
			t.Fatal(err)
		}
	}
	if got := queryExemplars(t, db, 0, 10000, nameMatcher); len(got) != 2 || !strings.Contains(got[1], "00:00:05") {
		t.Fatalf("with MaxExemplars 2: %v, want the newest two", got)
	}
	if err := db.SetMaxExemplars(1); err != nil {
		t.Fatal(err)
	}
	if got := queryExemplars(t, db, 0, 10000, nameMatcher); len(got) != 1 || !strings.Contains(got[0], "00:00:05") {
		t.Fatalf("resized to 1: %v, want the newest", got)
	}
	if err := db.SetMaxExemplars(-1); err == nil {
		t.Error("SetMaxExemplars(-1) accepted")
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(db.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "prometheus_tsdb_exemplar_") {
			m := mf.GetMetric()[0]
			got[mf.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	for name, want := range map[string]float64{
		"prometheus_tsdb_exemplar_exemplars_appended_total": 4,
		"prometheus_tsdb_exemplar_exemplars_in_storage":     1,
		"prometheus_tsdb_exemplar_max_exemplars":            1,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v (all: %v)", name, got[name], want, got)
		}
	}
}

// TestSplitCommitWithExemplars commits more exemplars than one record may
// hold, on new series and on a series of an earlier commit given its
// exemplar by AppendExemplar alone: every record stays within the bound,
// the exemplars come after the samples and before the one marker, and all
// of them are back after a restart.
func TestSplitCommitWithExemplars(t *testing.T) {
	const maxBytes = 1 << 10
	dir := t.TempDir()
	opts := Options{MaxExemplars: 1000, maxRecordBytes: maxBytes}
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	mustAppend(t, db, exA, 1000, 1)
	app := db.Appender(context.Background())
	var want []string
	for i := 0; i < 200; i++ {
		ls := labels.FromStrings("__name__", "split", "i", strconv.Itoa(1000+i))
		ref, err := app.Append(0, ls, 2000, 1)
		if err != nil {
			t.Fatal(err)
		}
		e := ex("trace-"+strconv.Itoa(i), 1, 2000)
		if _, err := app.AppendExemplar(ref, ls, e); err != nil {
			t.Fatal(err)
		}
		want = append(want, ls.String()+": "+exemplarString(e))
	}
	e := ex("a", 1, 1500)
	if _, err := app.AppendExemplar(0, exA, e); err != nil {
		t.Fatal(err)
	}
	want = append(want, exA.String()+": "+exemplarString(e))
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	sr, err := wlog.NewSegmentsReader(db.wal.dir)
	if err != nil {
		t.Fatal(err)
	}
	var types []record.Type
	var dec record.Decoder
	r := wlog.NewReader(sr)
	for r.Next() {
		if len(r.Record()) > maxBytes {
			t.Errorf("a record of %d bytes", len(r.Record()))
		}
		types = append(types, dec.Type(r.Record()))
	}
	sr.Close()
	last := types[len(types)-1]
	firstEx := slices.Index(types, record.Exemplars)
	if last != record.Series || firstEx < 0 || slices.Contains(types[firstEx:len(types)-1], record.SamplesV2) || slices.Index(types[firstEx:], record.Series) != len(types)-1-firstEx {
		t.Errorf("records %v: want the exemplars after the samples and before the marker", types)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, queryExemplars(t, db, 0, 10000, nameMatcher)); diff != "" {
		t.Fatalf("after a restart (-want +got):\n%s", diff)
	}
}

// TestConcurrentExemplarAppendsAndQueries commits exemplars from several
// goroutines at once, each to series of its own, while others query them
// (run with -race); every committed exemplar is then found exactly once,
// as committed.
func TestConcurrentExemplarAppendsAndQueries(t *testing.T) {
	const writers, commits, perCommit = 4, 50, 5
	db := openTestDB(t, Options{MaxExemplars: writers * commits * perCommit})
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				q, err := db.ExemplarQuerier(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := q.Select(0, math.MaxInt64, []*labels.Matcher{nameMatcher}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var writing sync.WaitGroup
	for w := range writers {
		writing.Go(func() {
			for c := range commits {
				app := db.AppenderV2(context.Background())
				for k := range perCommit {
					ls := labels.FromStrings("__name__", "concurrent", "writer", strconv.Itoa(w), "k", strconv.Itoa(k))
					ts := int64(c+1) * 1000
					e := ex(fmt.Sprintf("w%d-c%d-k%d", w, c, k), float64(c), ts)
					if _, err := app.Append(0, ls, 0, ts, 1, nil, nil, storage.AppendV2Options{Exemplars: []exemplar.Exemplar{e}}); err != nil {
						t.Error(err)
					}
				}
				if err := app.Commit(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	writing.Wait()
	close(done)
	wg.Wait()
	var want []string
	for w := range writers {
		for k := range perCommit {
			ls := labels.FromStrings("__name__", "concurrent", "writer", strconv.Itoa(w), "k", strconv.Itoa(k))
			for c := range commits {
				want = append(want, ls.String()+": "+exemplarString(ex(fmt.Sprintf("w%d-c%d-k%d", w, c, k), float64(c), int64(c+1)*1000)))
			}
		}
	}
	slices.Sort(want)
	got := queryExemplars(t, db, 0, math.MaxInt64, nameMatcher)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestAppendExemplars appends exemplars apart from their samples, as the
// remote-write receiver does through storage.ExemplarAppenderV2: kept at
// Commit, dropped by Rollback, refused for an unknown series, and the bad
// ones reported in a partial error while the others are kept.
func TestAppendExemplars(t *testing.T) {
	db := openTestDB(t, Options{MaxExemplars: 100})
	app := db.AppenderV2(context.Background()).(storage.ExemplarAppenderV2)
	ref, err := app.Append(0, exA, 0, 1000, 1, nil, nil, storage.AppendV2Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.AppendExemplars(ref, exA, []exemplar.Exemplar{ex("a1", 1, 900), ex("a2", 2, 950)}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.AppendExemplars(0, labels.FromStrings("__name__", "nothing"), []exemplar.Exemplar{ex("x", 1, 950)}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("exemplars of an unknown series: %v, want ErrNotFound", err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	app = db.AppenderV2(context.Background()).(storage.ExemplarAppenderV2)
	// By labels alone; the first is out of order, the second a duplicate.
	_, err = app.AppendExemplars(0, exA, []exemplar.Exemplar{ex("old", 1, 100), ex("a2", 2, 950), ex("a3", 3, 990)})
	var perr *storage.AppendPartialError
	if !errors.As(err, &perr) || len(perr.ExemplarErrors) != 1 || perr.ExemplarErrors[0].Index != 0 ||
		!errors.Is(perr.ExemplarErrors[0].Err, storage.ErrOutOfOrderExemplar) {
		t.Errorf("got %v, want a partial error for exemplar 0, out of order", err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	app = db.AppenderV2(context.Background()).(storage.ExemplarAppenderV2)
	if _, err := app.AppendExemplars(0, exA, []exemplar.Exemplar{ex("gone", 4, 2000)}); err != nil {
		t.Fatal(err)
	}
	app.Rollback()
	want := []string{
		`{__name__="requests_total", job="a"}: {trace_id="a1"} 1@00:00:00.900`,
		`{__name__="requests_total", job="a"}: {trace_id="a2"} 2@00:00:00.950`,
		`{__name__="requests_total", job="a"}: {trace_id="a3"} 3@00:00:00.990`,
	}
	if diff := cmp.Diff(want, queryExemplars(t, db, 0, 10000, nameMatcher)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestExemplarBufferGrows checks that the exemplar buffer, which starts
// smaller than MaxExemplars, grows before it drops any: every exemplar is
// kept until MaxExemplars of them are, then the newest MaxExemplars, and
// prometheus_tsdb_exemplar_max_exemplars says MaxExemplars all along.
func TestExemplarBufferGrows(t *testing.T) {
	const max = 2*initialExemplars + 500
	db := openTestDB(t, Options{MaxExemplars: max})
	maxMetric := func() float64 {
		t.Helper()
		return collectorValue(t, db, "prometheus_tsdb_exemplar_max_exemplars")
	}
	if db.exemplars.size != initialExemplars {
		t.Fatalf("the buffer starts with %d entries, want %d", db.exemplars.size, initialExemplars)
	}
	if got := maxMetric(); got != max {
		t.Fatalf("prometheus_tsdb_exemplar_max_exemplars = %v at the start, want %d", got, max)
	}
	appendN := func(from, to int64) {
		t.Helper()
		for ts := from; ts < to; ts++ {
			if err := appendWithExemplars(t, db, exA, ts, 1, ex(itoa(ts), 1, ts)); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendN(1, max)
	if got := queryExemplars(t, db, 0, 1<<40, nameMatcher); len(got) != max-1 {
		t.Fatalf("%d exemplars kept of %d appended, want every one", len(got), max-1)
	}
	appendN(max, max+100)
	got := queryExemplars(t, db, 0, 1<<40, nameMatcher)
	if len(got) != max || db.exemplars.size != max {
		t.Fatalf("%d exemplars kept in a buffer of %d after %d appended, want the newest %d", len(got), db.exemplars.size, max+99, max)
	}
	if !strings.HasSuffix(got[0], "@"+itoa(100)) || !strings.HasSuffix(got[len(got)-1], "@"+itoa(max+99)) {
		t.Errorf("kept from %s to %s, want from the 100th to the last", got[0], got[len(got)-1])
	}
	if got := maxMetric(); got != max {
		t.Errorf("prometheus_tsdb_exemplar_max_exemplars = %v, want %d", got, max)
	}
}
