package tsdb

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	cmpo "cmp"
	"github.com/dgraph-io/badger/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// The fixture testdata/v1store.tar.gz is a data directory written by the
// store before the write-ahead log moved to segment files: its write-ahead
// records are badger entries under the W prefix. testdata/README.md says
// how it was made; v1FixtureCommits is what was committed to it.

// fixtureSample is one sample of the fixture: a float, or an integer
// histogram when h is set.
type fixtureSample struct {
	T int64
	V float64
	H *histogram.Histogram
}

// v1FixtureOptions are the options the fixture was written with: small
// chunks and records, so that it holds sealed chunks, open chunks and
// commits split into several write-ahead records.
func v1FixtureOptions() Options {
	return Options{SamplesPerChunk: 16, OutOfOrderWindow: time.Hour, maxRecordBytes: 2 << 10}
}

// v1FixtureCommits returns the commits written to the fixture, in order,
// each as samples by series; flushAfter is the commit after which the
// store was flushed, so that the samples before it are sealed chunks and
// the samples after it write-ahead records.
func v1FixtureCommits() (commits []map[string][]fixtureSample, flushAfter int) {
	const scrapes = 60
	for i := 0; i < scrapes; i++ {
		c := map[string][]fixtureSample{}
		ts := int64(i) * 15_000
		for k := 0; k < 20; k++ {
			ls := labels.FromStrings("__name__", "fixture_float", "k", strconv.Itoa(k)).String()
			c[ls] = append(c[ls], fixtureSample{T: ts, V: float64(i*100 + k)})
		}
		hl := labels.FromStrings("__name__", "fixture_hist").String()
		c[hl] = append(c[hl], fixtureSample{T: ts, H: &histogram.Histogram{
			Count: uint64(2*(i/2+1) + i%2), Sum: float64(i), Schema: 0,
			PositiveSpans:   []histogram.Span{{Offset: 0, Length: 2}},
			PositiveBuckets: []int64{int64(i/2) + 1, int64(i % 2)},
		}})
		if i%10 == 9 {
			// Out of order: 7 s behind the newest sample of this series.
			ol := labels.FromStrings("__name__", "fixture_ooo").String()
			c[ol] = append(c[ol], fixtureSample{T: ts + 1000, V: float64(i)}, fixtureSample{T: ts - 7000, V: -float64(i)})
		}
		commits = append(commits, c)
	}
	return commits, 35
}

// v1FixtureWant is every sample of the fixture by series, in time order.
func v1FixtureWant() map[string][]fixtureSample {
	commits, _ := v1FixtureCommits()
	want := map[string][]fixtureSample{}
	for _, c := range commits {
		for ls, ss := range c {
			want[ls] = append(want[ls], ss...)
		}
	}
	for ls := range want {
		slices.SortFunc(want[ls], func(a, b fixtureSample) int { return cmpo.Compare(a.T, b.T) })
	}
	return want
}

// readFixtureSamples reads every sample of db, floats and integer histograms.
func readFixtureSamples(t *testing.T, db *DB) map[string][]fixtureSample {
	t.Helper()
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	got := map[string][]fixtureSample{}
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	for ss.Next() {
		s := ss.At()
		it := s.Iterator(nil)
		var out []fixtureSample
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			switch vt {
			case chunkenc.ValFloat:
				ts, v := it.At()
				out = append(out, fixtureSample{T: ts, V: v})
			case chunkenc.ValHistogram:
				ts, h := it.AtHistogram(nil)
				h.CounterResetHint = histogram.UnknownCounterReset
				out = append(out, fixtureSample{T: ts, H: h})
			default:
				t.Fatalf("series %s: unexpected value type %s", s.Labels(), vt)
			}
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		got[s.Labels().String()] = out
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// untarFixture unpacks a .tar.gz of testdata into a new directory.
func untarFixture(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		out, err := os.OpenFile(filepath.Join(dir, filepath.Base(h.Name)), os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOpenV1Store opens the fixture written by the earlier format, whose
// write-ahead records are in badger, and finds every sample committed to
// it; the records are migrated (sealed, then deleted from badger), the
// samples are there again after a restart, and later commits go to the
// segment write-ahead log.
func TestOpenV1Store(t *testing.T) {
	dir := untarFixture(t, "v1store.tar.gz")
	want := v1FixtureWant()
	db, err := Open(dir, v1FixtureOptions())
	if err != nil {
		t.Fatalf("open the fixture: %v", err)
	}
	defer func() { db.Close() }()
	if diff := cmp.Diff(want, readFixtureSamples(t, db)); diff != "" {
		t.Fatalf("samples of the fixture (-want +got):\n%s", diff)
	}
	if n := countKeys(t, db, prefixWAL); n != 0 {
		t.Errorf("%d write-ahead records left in badger after the migration", n)
	}
	if _, err := os.Stat(filepath.Join(dir, walDirName)); err != nil {
		t.Errorf("no write-ahead log folder: %v", err)
	}
	checkSeriesIndex(t, db)
	ls := labels.FromStrings("__name__", "after_migration")
	mustAppend(t, db, ls, 10_000_000, 1)
	want[ls.String()] = []fixtureSample{{T: 10_000_000, V: 1}}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(dir, v1FixtureOptions()); err != nil {
		t.Fatalf("reopen the migrated fixture: %v", err)
	}
	if diff := cmp.Diff(want, readFixtureSamples(t, db)); diff != "" {
		t.Fatalf("samples after a restart (-want +got):\n%s", diff)
	}
}

// countKeys counts the badger keys of db with the prefix p.
func countKeys(t *testing.T, db *DB, p byte) int {
	t.Helper()
	n := 0
	err := db.kv.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{p}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSeriesIndexIsBuiltOnce checks the migration of a store without a
// series index: Open builds the index keys of every series record and
// records the index version; a build interrupted before the version was
// written is done again to the same keys; a store with the version is
// left alone.
func TestSeriesIndexIsBuiltOnce(t *testing.T) {
	dir := untarFixture(t, "v1store.tar.gz")
	db, err := Open(dir, v1FixtureOptions())
	if err != nil {
		t.Fatalf("open the fixture: %v", err)
	}
	defer func() { db.Close() }()
	built := checkSeriesIndex(t, db)

	// A build interrupted before it wrote the version: half of the keys
	// are missing, and the version too.
	wb := db.kv.NewWriteBatch()
	i := 0
	for k := range built {
		if i%2 == 0 {
			if err := wb.Delete([]byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		i++
	}
	if err := wb.Delete(metaKey("seriesindex")); err != nil {
		t.Fatal(err)
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.buildSeriesIndex(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(built, checkSeriesIndex(t, db)); diff != "" {
		t.Fatalf("index keys after a second build (-first +second):\n%s", diff)
	}

	// With the version in place, a key missing stays missing: the index
	// is not built again at every Open.
	for k := range built {
		if err := db.kv.Update(func(txn *badger.Txn) error { return txn.Delete([]byte(k)) }); err != nil {
			t.Fatal(err)
		}
		break
	}
	if err := db.buildSeriesIndex(); err != nil {
		t.Fatal(err)
	}
	if got := len(indexKeys(t, db)); got != len(built)-1 {
		t.Errorf("%d index keys after a build with the version present, want %d", got, len(built)-1)
	}
}

// indexKeys returns the postings and hash keys of db.
func indexKeys(t *testing.T, db *DB) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	err := db.kv.View(func(txn *badger.Txn) error {
		for _, p := range []byte{prefixPostings, prefixHash} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{p}})
			for it.Rewind(); it.Valid(); it.Next() {
				keys[string(it.Item().KeyCopy(nil))] = true
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// checkSeriesIndex requires the postings and hash keys of db to be
// exactly those of its series records, and the index version to be
// recorded; it returns the keys.
func checkSeriesIndex(t *testing.T, db *DB) map[string]bool {
	t.Helper()
	want := map[string]bool{}
	err := db.kv.View(func(txn *badger.Txn) error {
		if _, err := txn.Get(metaKey("seriesindex")); err != nil {
			t.Errorf("index version: %v", err)
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixSeries}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			ref := refFromKey(it.Item().Key())
			err := it.Item().Value(func(v []byte) error {
				lset, err := decodeSeriesValue(v)
				if err != nil {
					return err
				}
				want[string(hashKey(labels.StableHash(lset), ref))] = true
				lset.Range(func(l labels.Label) { want[string(postingKey(l.Name, l.Value, ref))] = true })
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("no series records")
	}
	got := indexKeys(t, db)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("index keys (-from the series records +stored):\n%s", diff)
	}
	return got
}
