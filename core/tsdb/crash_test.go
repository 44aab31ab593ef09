package tsdb

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

const (
	crashDirEnv   = "VIGIL_TSDB_CRASH_DIR"
	crashStartEnv = "VIGIL_TSDB_CRASH_START"
	crashSplitEnv = "VIGIL_TSDB_CRASH_SPLIT"
	crashSeries   = 50
)

// crashOptions make the writer seal chunks and drop write-ahead records
// often, so that kills land in every phase of the store's life. With
// split, every commit is also written as several write-ahead records.
func crashOptions(split bool) Options {
	opts := Options{SamplesPerChunk: 8, WALMaxBytes: 16 << 10}
	if split {
		opts.maxRecordBytes = 1 << 10
	}
	return opts
}

// crashNewSeries is the series batch creates. With split, it carries a
// label of 4 KiB, so that the records of a commit go both to badger's
// value log (the one holding this series) and to its tree (the others).
func crashNewSeries(batch int, split bool) labels.Labels {
	if split {
		return labels.FromStrings("__name__", "crash_new", "batch", strconv.Itoa(batch), "pad", strings.Repeat("p", 4<<10))
	}
	return labels.FromStrings("__name__", "crash_new", "batch", strconv.Itoa(batch))
}

// TestCrashWriter is the child process of TestCrashRecovery: it commits
// batches forever and prints the number of each batch once Commit returned.
func TestCrashWriter(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestCrashRecovery")
	}
	start, err := strconv.Atoi(os.Getenv(crashStartEnv))
	if err != nil {
		t.Fatalf("bad %s: %v", crashStartEnv, err)
	}
	split := os.Getenv(crashSplitEnv) != ""
	db, err := Open(dir, crashOptions(split))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	for batch := start; ; batch++ {
		app := db.AppenderV2(context.Background())
		ts := int64(batch) * 1000
		for k := 0; k < crashSeries; k++ {
			ls := labels.FromStrings("__name__", "crash_samples", "k", strconv.Itoa(k))
			if _, err := app.Append(0, ls, 0, ts, float64(batch), nil, nil, storage.AppendV2Options{}); err != nil {
				t.Fatalf("append batch %d: %v", batch, err)
			}
		}
		// One new series per batch, so series records are written all the time.
		ls := crashNewSeries(batch, split)
		if _, err := app.Append(0, ls, 0, ts, float64(batch), nil, nil, storage.AppendV2Options{}); err != nil {
			t.Fatalf("append batch %d: %v", batch, err)
		}
		if err := app.Commit(); err != nil {
			t.Fatalf("commit batch %d: %v", batch, err)
		}
		fmt.Fprintf(os.Stdout, "committed %d\n", batch)
		if batch%97 == 0 {
			if err := db.Flush(); err != nil {
				t.Fatalf("flush: %v", err)
			}
		}
	}
}

// TestCrashRecovery kills a writer with SIGKILL at random points, reopens
// the store each time, and checks that every committed batch is there,
// once, and that no batch is there in part.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test is not short")
	}
	crashRecovery(t, false, 24)
}

// TestCrashRecoverySplitCommits is TestCrashRecovery with every commit
// written as several write-ahead records: a kill never leaves a commit in
// part.
func TestCrashRecoverySplitCommits(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test is not short")
	}
	crashRecovery(t, true, 16)
}

func crashRecovery(t *testing.T, split bool, rounds int) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	committed := map[int]bool{}
	next := 1
	for round := 0; round < rounds; round++ {
		got := runCrashWriter(t, dir, next, split, time.Duration(20+rng.IntN(300))*time.Millisecond)
		for _, b := range got {
			committed[b] = true
			// The batch that was in flight at the kill is not written
			// again, so that a batch stored in part would show.
			next = max(next, b+2)
		}
	}
	if len(committed) < rounds {
		t.Fatalf("only %d batches committed over %d rounds; the writer did not get going", len(committed), rounds)
	}

	db, err := Open(dir, crashOptions(split))
	if err != nil {
		t.Fatalf("reopen after crashes: %v", err)
	}
	defer db.Close()
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()

	seen := map[string]map[int64]float64{}
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", "crash_.*"))
	for ss.Next() {
		s := ss.At()
		key := s.Labels().String()
		samples := map[int64]float64{}
		it := s.Iterator(nil)
		prev := int64(math.MinInt64)
		for it.Next() == chunkenc.ValFloat {
			ts, v := it.At()
			if ts <= prev {
				t.Fatalf("series %s: sample at %d follows %d: a sample is returned twice or out of order", key, ts, prev)
			}
			prev = ts
			samples[ts] = v
		}
		if err := it.Err(); err != nil {
			t.Fatalf("series %s: %v", key, err)
		}
		seen[key] = samples
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, crashSeries)
	for k := range keys {
		keys[k] = labels.FromStrings("__name__", "crash_samples", "k", strconv.Itoa(k)).String()
	}
	for b := 1; b < next; b++ {
		ts := int64(b) * 1000
		newKey := crashNewSeries(b, split).String()
		found := 0
		for _, key := range append(keys, newKey) {
			if v, ok := seen[key][ts]; ok {
				if v != float64(b) {
					t.Fatalf("batch %d: %s has %g", b, key, v)
				}
				found++
			}
		}
		switch {
		case committed[b] && found < crashSeries+1:
			t.Fatalf("committed batch %d lost: %d of its %d samples found", b, found, crashSeries+1)
		case found != 0 && found < crashSeries+1:
			t.Fatalf("batch %d, in flight at a kill, is stored in part: %d of its %d samples found", b, found, crashSeries+1)
		}
	}
	t.Logf("%d rounds of SIGKILL, %d committed batches all found, none in part", rounds, len(committed))
}

// runCrashWriter starts the writer child, lets it commit for about
// runFor after its first commit, kills it with SIGKILL and returns the
// batches it reported as committed.
func runCrashWriter(t *testing.T, dir string, start int, split bool, runFor time.Duration) []int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWriter$", "-test.v=false")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashStartEnv+"="+strconv.Itoa(start))
	if split {
		cmd.Env = append(cmd.Env, crashSplitEnv+"=1")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start writer: %v", err)
	}
	lines := make(chan int)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
				if b, err := strconv.Atoi(n); err == nil {
					lines <- b
				}
			}
		}
	}()
	var got []int
	deadline := time.After(60 * time.Second)
	var kill <-chan time.Time
	for {
		select {
		case b, ok := <-lines:
			if !ok {
				cmd.Wait()
				if kill == nil || len(got) == 0 {
					t.Fatalf("writer ended before it was killed: %s", stderr.String())
				}
				return got
			}
			got = append(got, b)
			if kill == nil {
				kill = time.After(runFor)
			}
		case <-kill:
			cmd.Process.Signal(syscall.SIGKILL)
			kill = nil
			// Drain what it printed before it died.
			for b := range lines {
				got = append(got, b)
			}
			cmd.Wait()
			return got
		case <-deadline:
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			t.Fatalf("writer made no progress in 60s: %s", stderr.String())
		}
	}
}
