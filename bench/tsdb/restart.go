package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// crashChildEnv, when set in the environment, makes the binary act as the
// crashing child of the parallel ingest and restart measurement instead of
// running the benchmark. Its value is a JSON-encoded crashSpec.
const crashChildEnv = "VIGIL_TSDB_BENCH_CRASH_CHILD"

// crashReadyLine starts the line the child prints once every sample is
// committed, right before it kills itself. The ingest time in nanoseconds
// follows it.
const crashReadyLine = "crash-child: ingest took ns"

// crashSpec tells the child which store to fill, where, and with what.
type crashSpec struct {
	Store   string        `json:"store"`
	Dir     string        `json:"dir"`
	Series  int           `json:"series"`
	Span    time.Duration `json:"span"`
	StartMs int64         `json:"start_ms"`
	Seed    uint64        `json:"seed"`
	Workers int           `json:"workers"`
}

// runCrashChild opens the store named in spec, ingests the workload with
// spec.Workers goroutines, reports the ingest time on stdout and then kills
// itself with SIGKILL, so the store is never closed, flushed or
// snapshotted.
func runCrashChild(spec string) error {
	var s crashSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		return fmt.Errorf("decode crash child spec: %w", err)
	}
	b, err := backendByName(s.Store)
	if err != nil {
		return err
	}
	db, err := b.open(s.Dir)
	if err != nil {
		return err
	}
	w := newWorkload(s.Series, s.Span, time.UnixMilli(s.StartMs), s.Seed)
	took, err := newIngester(w).run(context.Background(), db, s.Workers)
	if err != nil {
		return fmt.Errorf("crash child ingest into %s: %w", s.Store, err)
	}
	if _, err := fmt.Fprintf(os.Stdout, "%s %d\n", crashReadyLine, took.Nanoseconds()); err != nil {
		return fmt.Errorf("report crash child result: %w", err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill crash child: %w", err)
	}
	select {} // SIGKILL cannot be caught; wait for it to land.
}

// ingestInCrashChild runs this binary again as a child process that opens
// backend b in dir, ingests w with the given number of goroutines and dies
// by SIGKILL without closing the store. It returns the ingest time the child
// measured (excluding process start and Open).
func ingestInCrashChild(ctx context.Context, b backend, dir string, w *workload, workers int) (time.Duration, error) {
	spec, err := json.Marshal(crashSpec{
		Store: b.name, Dir: dir, Series: w.numSeries(), Span: time.Duration(w.rounds) * scrapeInterval,
		StartMs: w.start.UnixMilli(), Seed: w.seed, Workers: workers,
	})
	if err != nil {
		return 0, fmt.Errorf("encode crash child spec: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), crashChildEnv+"="+string(spec))
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	runErr := cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(runErr, &exitErr) {
		return 0, fmt.Errorf("crash child for %s did not die by a signal: %v (output %q)", b.name, runErr, out.String())
	}
	ws, ok := exitErr.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		return 0, fmt.Errorf("crash child for %s: %w (output %q)", b.name, runErr, out.String())
	}
	_, after, found := strings.Cut(out.String(), crashReadyLine)
	if !found {
		return 0, fmt.Errorf("crash child for %s was killed before committing its samples (output %q)", b.name, out.String())
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(after), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("crash child for %s: parse ingest time from %q: %w", b.name, out.String(), err)
	}
	return time.Duration(ns), nil
}

// timeReopen times opening backend b on dir, which a crash child left
// behind (upstream replays its WAL and head chunks; vigil replays its
// write-ahead records), and checks that the reopened store holds the last
// scrape of every target of w.
func timeReopen(ctx context.Context, b backend, dir string, w *workload) (time.Duration, error) {
	began := time.Now()
	db, err := b.open(dir)
	elapsed := time.Since(began)
	if err != nil {
		return 0, fmt.Errorf("reopen %s after crash: %w", b.name, err)
	}
	checkErr := checkLastScrapes(ctx, db, w)
	if err := db.Close(); err != nil {
		return 0, fmt.Errorf("close %s after restart: %w", b.name, err)
	}
	if checkErr != nil {
		return 0, fmt.Errorf("%s after restart: %w", b.name, checkErr)
	}
	return elapsed, nil
}

// checkLastScrapes verifies that db holds the `up` series of every target
// of w, each with the timestamp of the target's last scrape as its newest
// sample.
func checkLastScrapes(ctx context.Context, db storage.Queryable, w *workload) error {
	var want int64
	for i := range w.targets {
		want += w.scrapeTime(i, w.rounds-1)
	}
	maxt := w.end().UnixMilli()
	q, err := db.Querier(maxt-(15*time.Minute).Milliseconds(), maxt)
	if err != nil {
		return fmt.Errorf("open querier: %w", err)
	}
	defer q.Close()
	ss := q.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "up"))
	var (
		got    int64
		series int
		it     chunkenc.Iterator
	)
	for ss.Next() {
		series++
		it = ss.At().Iterator(it)
		var last int64
		for it.Next() != chunkenc.ValNone {
			last = it.AtT()
		}
		if err := it.Err(); err != nil {
			return fmt.Errorf("iterate %s: %w", ss.At().Labels(), err)
		}
		got += last
	}
	if err := ss.Err(); err != nil {
		return fmt.Errorf("select up: %w", err)
	}
	if series != len(w.targets) || got != want {
		return fmt.Errorf("lost samples: %d of %d targets' up series found, newest timestamps sum %d, want %d",
			series, len(w.targets), got, want)
	}
	return nil
}
