package main

import (
	"context"
	"fmt"
	"github.com/prometheus/common/model"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/vigilmon/vigil/bench/harness"
)

// childSpec is what the parent hands a child, whose mode names the side
// to run: the targets to scrape, how, for how long, and where to keep the
// store.
type childSpec struct {
	// Targets are the host:port of every fixture target.
	Targets []string `json:"targets"`
	// Interval and Timeout are the scrape interval and timeout of every
	// target; Duration is how long the scrape manager runs.
	Interval time.Duration `json:"interval"`
	Timeout  time.Duration `json:"timeout"`
	Duration time.Duration `json:"duration"`
	// Dir is the empty directory of the store, which the parent removes.
	Dir string `json:"dir"`
	// ProfileDir, if set, receives the child's CPU and heap profiles.
	ProfileDir string `json:"profile_dir,omitempty"`
}

// childResult is what a child reports on its stdout, as one JSON object.
type childResult struct {
	// SamplesAppended is the store's own count of samples committed:
	// vigil_tsdb_samples_appended_total for Vigil, the sum over types of
	// prometheus_tsdb_head_samples_appended_total for upstream. It covers
	// the scraped samples and the report series (up and the others).
	SamplesAppended float64 `json:"samples_appended"`
	// SamplesScraped is the sum of every scrape_samples_scraped sample read
	// back from the store: the samples the scraper parsed from the bodies.
	SamplesScraped float64 `json:"samples_scraped"`
	// Scrapes and ScrapesUp are the number of up samples in the store and
	// the number of them that are 1.
	Scrapes   int64 `json:"scrapes"`
	ScrapesUp int64 `json:"scrapes_up"`
	// Series is the store's count of series (vigil_tsdb_series or
	// prometheus_tsdb_head_series).
	Series float64 `json:"series"`
	// Window is the wall time from the start of the scrape manager to the
	// end of its Stop; Usage is the process's CPU time over that window
	// (getrusage deltas) and its peak resident set at the end of it.
	Window time.Duration `json:"window"`
	Usage  harness.Usage `json:"usage"`
}

// side is one scrape path under test, run inside a child process.
type side struct {
	name string
	// open opens the side's store in dir and returns it with the registry
	// that holds the store's metrics.
	open func(dir string) (storage.Storage, *prometheus.Registry, error)
	// start starts the side's scrape manager on spec's targets, appending
	// to db and registering its metrics in reg, and returns the function
	// that stops it and waits for its loops.
	start func(spec childSpec, db storage.Storage, reg *prometheus.Registry) (stop func(), err error)
	// appendedMetric and seriesMetric name the store's counters.
	appendedMetric, seriesMetric string
}

// sideByName returns the side called name.
func sideByName(name string) (side, error) {
	switch name {
	case vigilSide.name:
		return vigilSide, nil
	case prometheusSide.name:
		return prometheusSide, nil
	}
	return side{}, fmt.Errorf("unknown side %q (want %s or %s)", name, vigilSide.name, prometheusSide.name)
}

// runChild is the child mode of side name: it reads its spec, opens the
// store, scrapes for the spec's duration, reads the figures back and
// writes them as its result.
func runChild(name string) error {
	s, err := sideByName(name)
	if err != nil {
		return err
	}
	var spec childSpec
	if err := harness.ReadSpec(&spec); err != nil {
		return err
	}
	db, reg, err := s.open(spec.Dir)
	if err != nil {
		return err
	}
	res, err := scrapeFor(s, spec, db, reg)
	if closeErr := db.Close(); closeErr != nil && err == nil {
		err = fmt.Errorf("close %s store: %w", name, closeErr)
	}
	if err != nil {
		return err
	}
	return harness.WriteResult(res)
}

// scrapeFor runs side s's scrape manager on db for spec.Duration, measures
// the process's CPU and peak RSS over that window, and then reads the
// figures of the result back from the store and its metrics.
func scrapeFor(s side, spec childSpec, db storage.Storage, reg *prometheus.Registry) (childResult, error) {
	var res childResult
	stopProfile, err := harness.StartCPUProfile(spec.ProfileDir, s.name)
	if err != nil {
		return res, err
	}
	defer stopProfile()
	before, err := harness.SelfUsage()
	if err != nil {
		return res, err
	}
	began := time.Now()
	stop, err := s.start(spec, db, reg)
	if err != nil {
		return res, err
	}
	time.Sleep(spec.Duration)
	stop()
	res.Window = time.Since(began)
	after, err := harness.SelfUsage()
	if err != nil {
		return res, err
	}
	if err := stopProfile(); err != nil {
		return res, err
	}
	res.Usage = harness.Usage{User: after.User - before.User, System: after.System - before.System, MaxRSS: after.MaxRSS}
	if err := writeHeapProfile(spec.ProfileDir, s.name); err != nil {
		return res, err
	}

	if res.SamplesAppended, err = gatherSum(reg, s.appendedMetric); err != nil {
		return res, err
	}
	if res.Series, err = gatherSum(reg, s.seriesMetric); err != nil {
		return res, err
	}
	ctx := context.Background()
	var up sampleSum
	if up, err = sumSeries(ctx, db, "up"); err != nil {
		return res, err
	}
	res.Scrapes, res.ScrapesUp = up.count, int64(up.sum)
	scraped, err := sumSeries(ctx, db, "scrape_samples_scraped")
	if err != nil {
		return res, err
	}
	res.SamplesScraped = scraped.sum
	return res, nil
}

// sampleSum is the number and the sum of the samples of some series.
type sampleSum struct {
	count int64
	sum   float64
}

// sumSeries counts and sums every float sample of the series named metric
// in db, stale markers excluded.
func sumSeries(ctx context.Context, db storage.Queryable, metric string) (sampleSum, error) {
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		return sampleSum{}, fmt.Errorf("open querier for %s: %w", metric, err)
	}
	defer q.Close()
	ss := q.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, metric))
	var (
		out sampleSum
		it  chunkenc.Iterator
	)
	for ss.Next() {
		it = ss.At().Iterator(it)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			if vt != chunkenc.ValFloat {
				continue
			}
			_, v := it.At()
			if value.IsStaleNaN(v) {
				continue
			}
			out.count++
			out.sum += v
		}
		if err := it.Err(); err != nil {
			return sampleSum{}, fmt.Errorf("read %s: %w", ss.At().Labels(), err)
		}
	}
	if err := ss.Err(); err != nil {
		return sampleSum{}, fmt.Errorf("select %s: %w", metric, err)
	}
	return out, nil
}

// gatherSum returns the sum over every series of the metric family name in
// reg, an error if reg has no such family.
func gatherSum(reg prometheus.Gatherer, name string) (float64, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return 0, fmt.Errorf("gather store metrics: %w", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var sum float64
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			case m.GetUntyped() != nil:
				sum += m.GetUntyped().GetValue()
			}
		}
		return sum, nil
	}
	return 0, fmt.Errorf("store metric %s not found", name)
}

// writeHeapProfile writes the heap profile to dir/<side>.heap.pprof when
// dir is set.
func writeHeapProfile(dir, name string) error {
	if dir == "" {
		return nil
	}
	f, err := os.Create(filepath.Join(dir, name+".heap.pprof"))
	if err != nil {
		return fmt.Errorf("create heap profile: %w", err)
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("write heap profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close heap profile: %w", err)
	}
	return nil
}

// sideRun is what the parent learns from one child: its report and how
// the whole process ran.
type sideRun struct {
	childResult
	process harness.ChildRun
	served  int64 // scrapes the fixture answered during the run
}

// runSideInChild runs side name in a child process with spec, and returns
// its report and how the process ran.
func runSideInChild(ctx context.Context, name string, spec childSpec) (sideRun, error) {
	// A child that hangs is killed well after it should have finished.
	child := harness.Child{Mode: name, Spec: spec, Timeout: spec.Duration + 2*time.Minute}
	var r sideRun
	var err error
	r.process, err = harness.RunChild(ctx, child, &r.childResult)
	return r, err
}
