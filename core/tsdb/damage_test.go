package tsdb

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
)

const (
	scrapeSeries   = 100
	scrapeInterval = 10 * time.Second
)

// writeScrapes commits, for every i in [from, to), one sample of each of
// scrapeSeries series named x at i scrape intervals, one commit per i, as
// a scrape does.
func writeScrapes(t *testing.T, db *DB, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		app := db.AppenderV2(context.Background())
		for k := range scrapeSeries {
			ls := labels.FromStrings("__name__", "x", "k", strconv.Itoa(k))
			if _, err := app.Append(0, ls, 0, int64(i)*scrapeInterval.Milliseconds(), float64(i*(k+1)), nil, nil, storage.AppendV2Options{}); err != nil {
				t.Fatalf("append scrape %d: %v", i, err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatalf("commit scrape %d: %v", i, err)
		}
	}
}

// countOverTime evaluates count_over_time(x[10m]) at the given scrape and
// returns the distinct counts it gives, and the number of series.
func countOverTime(db *DB, scrape int) ([]float64, int, error) {
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e6, Timeout: time.Minute})
	q, err := engine.NewInstantQuery(context.Background(), db, nil, "count_over_time(x[10m])", time.UnixMilli(int64(scrape)*scrapeInterval.Milliseconds()))
	if err != nil {
		return nil, 0, err
	}
	defer q.Close()
	res := q.Exec(context.Background())
	if res.Err != nil {
		return nil, 0, res.Err
	}
	vec, err := res.Vector()
	if err != nil {
		return nil, 0, err
	}
	var counts []float64
	for _, s := range vec {
		if !slices.Contains(counts, s.F) {
			counts = append(counts, s.F)
		}
	}
	return counts, len(vec), nil
}

// writeStoreWithTables writes 204 scrapes of scrapeSeries series into a
// new store, seals them in two flushes and closes it, so that badger
// writes them to a table file, encrypted with key when set. It returns the
// directory and the table.
func writeStoreWithTables(t *testing.T, key []byte) (dir, table string) {
	t.Helper()
	dir = t.TempDir()
	db, err := Open(dir, Options{EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	writeScrapes(t, db, 0, 60)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	writeScrapes(t, db, 60, 204)
	if got := commitsIn(readWALRecords(t, db)); got != 144 {
		t.Fatalf("%d commits in the write-ahead log, want 144", got)
	}
	// The write-ahead log is not in badger: seal these too, so that the
	// table has several blocks.
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	tables, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	if err != nil || len(tables) == 0 {
		t.Fatalf("closing the store wrote no table file (%v)", err)
	}
	table = tables[0]
	fi, err := os.Stat(table)
	if err != nil {
		t.Fatal(err)
	}
	// Badger's blocks hold 32 KiB before compression (db.go), about 13 KiB
	// of these chunks after it: the table must have several, besides its
	// index.
	if fi.Size() < 24<<10 {
		t.Fatalf("table %s has %d bytes, too few for several blocks", table, fi.Size())
	}
	return dir, table
}

// overwrite writes 8 bytes of garbage into file at the offset that at
// computes from its size.
func overwrite(t *testing.T, file string, at func(size int) int) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	copy(b[at(len(b)):], "DAMAGED!")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDamagedTableIsRefusedByName(t *testing.T) {
	for name, tc := range map[string]struct {
		at   func(size int) int
		want string // in the error, besides the file name
	}{
		"data block": {at: func(size int) int { return size / 2 }, want: "fails its checksum or cannot be decompressed"},
		"index":      {at: func(size int) int { return size - 64 }, want: "checksum"},
		"footer":     {at: func(size int) int { return size - 8 }, want: "footer"},
	} {
		for _, key := range [][]byte{nil, bytes.Repeat([]byte{1}, 32)} {
			if key != nil {
				name += ", encrypted"
			}
			t.Run(name, func(t *testing.T) {
				dir, table := writeStoreWithTables(t, key)
				overwrite(t, table, tc.at)
				file := filepath.Base(table)

				var logs strings.Builder
				db, err := Open(dir, Options{EncryptionKey: key, Logger: hclog.New(&hclog.LoggerOptions{Output: &logs})})
				if err == nil {
					counts, series, qerr := countOverTime(db, 203)
					db.Close()
					t.Fatalf("Open accepted the store although %s is damaged; count_over_time(x[10m]) gives %v for %d series (error %v), want 60 for %d; log:\n%s",
						file, counts, series, qerr, scrapeSeries, logs.String())
				}
				if !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("Open: %v\nwant an error naming %s and saying %q", err, file, tc.want)
				}
				if !hasLogLine(logs.String(), "[ERROR]", file) {
					t.Errorf("no error line names %s; log:\n%s", file, logs.String())
				}
			})
		}
	}
}

// hasLogLine reports whether a line of logs holds every one of words.
func hasLogLine(logs string, words ...string) bool {
	for _, line := range strings.Split(logs, "\n") {
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(line, w) }) {
			return true
		}
	}
	return false
}

func TestEveryDamagedTableIsNamed(t *testing.T) {
	dir := t.TempDir()
	for i := range 2 {
		db, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		writeScrapes(t, db, i*200, i*200+200)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	tables, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	if err != nil || len(tables) != 2 {
		t.Fatalf("tables %v (%v), want two", tables, err)
	}
	for _, table := range tables {
		overwrite(t, table, func(size int) int { return size / 2 })
	}
	var logs strings.Builder
	db, err := Open(dir, Options{Logger: hclog.New(&hclog.LoggerOptions{Output: &logs})})
	if err == nil {
		db.Close()
		t.Fatal("Open accepted a store with two damaged tables")
	}
	for _, table := range tables {
		file := filepath.Base(table)
		if !strings.Contains(err.Error(), file) {
			t.Errorf("the error does not name %s: %v", file, err)
		}
		if !hasLogLine(logs.String(), "[ERROR]", file) {
			t.Errorf("no error line names %s; log:\n%s", file, logs.String())
		}
	}
}
