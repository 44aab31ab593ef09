package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/prometheus/common/model"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/vigilmon/vigil/bench/harness"
)

// crashChild is the child mode of the parallel ingest and restart
// measurement: the child fills a store and dies by SIGKILL.
const crashChild = "crash"

// crashSpec tells the child which store to fill, where, and with what.
type crashSpec struct {
	Store   string        `json:"store"`
	Dir     string        `json:"dir"`
	Series  int           `json:"series"`
	Span    time.Duration `json:"span"`
	StartMs int64         `json:"start_ms"`
	Seed    uint64        `json:"seed"`
	Workers int           `json:"workers"`
	// ProfileDir, when set, receives a CPU profile of the ingest,
	// ingest-parallel-<series>-<store>.cpu.pprof.
	ProfileDir string `json:"profile_dir,omitempty"`
}

// crashResult is what the child reports once every sample is committed,
// right before it kills itself.
type crashResult struct {
	// Ingest is the time the ingest took, process start and Open left out.
	Ingest time.Duration `json:"ingest"`
}

// runCrashChild opens the store named in its spec, ingests the workload
// with spec.Workers goroutines, reports the ingest time and then kills
// itself with SIGKILL, so the store is never closed, flushed or
// snapshotted.
func runCrashChild(ctx context.Context) error {
	var s crashSpec
	if err := harness.ReadSpec(&s); err != nil {
		return err
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
	stopProfile, err := harness.StartCPUProfile(s.ProfileDir, fmt.Sprintf("ingest-parallel-%d-%s", s.Series, s.Store))
	if err != nil {
		return err
	}
	took, err := newIngester(w).run(ctx, db, s.Workers)
	if err := errors.Join(err, stopProfile()); err != nil {
		return fmt.Errorf("ingest into %s: %w", s.Store, err)
	}
	if err := harness.WriteResult(crashResult{Ingest: took}); err != nil {
		return err
	}
	return harness.KillSelf()
}

// ingestInCrashChild runs this program again as a child process that opens
// backend b in dir, ingests w with the given number of goroutines and dies
// by SIGKILL without closing the store. It returns the ingest time the child
// measured (excluding process start and Open).
func ingestInCrashChild(ctx context.Context, b backend, dir string, w *workload, workers int, profileDir string) (time.Duration, error) {
	spec := crashSpec{
		Store: b.name, Dir: dir, Series: w.numSeries(), Span: time.Duration(w.rounds) * scrapeInterval,
		StartMs: w.start.UnixMilli(), Seed: w.seed, Workers: workers, ProfileDir: profileDir,
	}
	var res crashResult
	if _, err := harness.RunChild(ctx, harness.Child{Mode: crashChild, Spec: spec, Crash: true}, &res); err != nil {
		return 0, fmt.Errorf("%s: %w", b.name, err)
	}
	return res.Ingest, nil
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
	ss := q.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, "up"))
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
