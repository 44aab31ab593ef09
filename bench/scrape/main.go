// Command scrape compares Vigil's scrape path (core/scrape's Manager
// appending to core/tsdb) with the upstream Prometheus scrape path (the
// scrape.Manager of github.com/prometheus/prometheus appending to its own
// tsdb) on the same targets, in one run.
//
// The parent process serves the fixture: -targets HTTP servers on
// 127.0.0.1, each exposing -series series in the Prometheus text format
// (uncompressed): two classic histograms of 12 buckets, then families of
// ten series, half of them counters with uneven integer increments and half
// gauges (integer and full-precision float random walks). Every value moves
// at every scrape, and the sequence of bodies a target serves is the same
// for both sides.
//
// Each side runs in a child process of its own (this program, re-executed
// by harness.RunChild in the child mode vigil or prometheus, its settings
// on stdin as JSON), so that the CPU time and memory measured are the
// scraper's and its store's alone. The child opens its store with the
// defaults of its server in a fresh temporary directory (which the parent
// removes afterwards), keeps its server's garbage collector setting (both
// servers set GOGC=75 unless the environment says otherwise), starts
// its scrape manager on every target with the same -interval and -timeout,
// lets it scrape for -duration, stops it and writes its figures to stdout
// as JSON:
//
//   - samples ingested: the store's own counter of committed samples,
//     vigil_tsdb_samples_appended_total for Vigil and the sum of
//     prometheus_tsdb_head_samples_appended_total for upstream. It counts
//     the scraped samples and the five report series of every scrape (up,
//     scrape_duration_seconds, scrape_samples_scraped,
//     scrape_samples_post_metric_relabeling, scrape_series_added);
//   - samples scraped: the sum of every scrape_samples_scraped sample read
//     back from the store, as a cross-check of the counter;
//   - scrapes: the number of up samples in the store, and how many are 0;
//   - CPU: user+sys seconds of the child over the scrape window, from the
//     manager's start to the end of its Stop (getrusage deltas, so opening
//     and closing the store are left out), and per million samples ingested
//     (lower is better);
//   - peak RSS: the child's maximum resident set size up to the end of the
//     scrape window (getrusage ru_maxrss; lower is better).
//
// The parent also reports the whole child process as the kernel accounted
// it at exit (CPU, peak RSS and wall time, store open and close included).
// It prints a table with each figure for both sides and their ratio
// vigil/prometheus, and ends with the line
//
//	scrape ratios (vigil/prometheus): cpu_per_sample=X rss=X
//
// with two decimals. Progress goes to stderr, results to stdout.
//
// Run it from the repository root with
//
//	go run ./bench/scrape
//
// and see go run ./bench/scrape -h for the flags. With the defaults
// (200 targets x 1000 series scraped every second for 60s per side) it
// takes a little over two minutes. With -profile-dir each child also
// writes a CPU profile of its scrape window and a heap profile at its end
// there, as <side>.cpu.pprof and <side>.heap.pprof.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/vigilmon/vigil/bench/harness"
)

// jobName is the name of the benchmark's scrape job on both sides.
const jobName = "bench"

// config holds the command-line settings.
type config struct {
	targets    int
	series     int
	interval   time.Duration
	timeout    time.Duration
	duration   time.Duration
	sides      []string
	dir        string
	profileDir string
	seed       uint64
}

func main() {
	harness.Main(func(ctx context.Context) error {
		if side := harness.ChildMode(); side != "" {
			return runChild(side)
		}
		cfg, err := parseFlags()
		if err != nil {
			return harness.UsageError(err)
		}
		return runBenchmark(ctx, cfg)
	})
}

// parseFlags reads the command line into a config.
func parseFlags() (config, error) {
	targets := flag.Int("targets", 200, "number of fixture targets")
	series := flag.Int("series", 1000, fmt.Sprintf("series per target (at least %d)", minSeriesPerTarget))
	interval := flag.Duration("interval", time.Second, "scrape interval of every target")
	timeout := flag.Duration("timeout", 0, "scrape timeout (0: the interval)")
	duration := flag.Duration("duration", 60*time.Second, "how long each side scrapes")
	sides := flag.String("sides", vigilSide.name+","+prometheusSide.name, "sides to run, in order, comma-separated")
	dir := flag.String("dir", os.TempDir(), "parent of the temporary store directories")
	profileDir := flag.String("profile-dir", "", "if set, each child writes <side>.cpu.pprof and <side>.heap.pprof here")
	seed := flag.Uint64("seed", 1, "seed of the fixture's values")
	flag.Parse()

	cfg := config{
		targets: *targets, series: *series, interval: *interval, timeout: *timeout,
		duration: *duration, dir: *dir, profileDir: *profileDir, seed: *seed,
	}
	if cfg.timeout == 0 {
		cfg.timeout = cfg.interval
	}
	switch {
	case cfg.targets < 1:
		return config{}, fmt.Errorf("-targets must be at least 1, got %d", cfg.targets)
	case cfg.series < minSeriesPerTarget:
		return config{}, fmt.Errorf("-series must be at least %d, got %d", minSeriesPerTarget, cfg.series)
	case cfg.interval < 100*time.Millisecond || cfg.interval%time.Millisecond != 0:
		return config{}, fmt.Errorf("-interval must be whole milliseconds, at least 100ms, got %s", cfg.interval)
	case cfg.timeout < 0 || cfg.timeout > cfg.interval || cfg.timeout%time.Millisecond != 0:
		return config{}, fmt.Errorf("-timeout must be whole milliseconds, at most -interval, got %s", cfg.timeout)
	case cfg.duration < 2*cfg.interval:
		return config{}, fmt.Errorf("-duration must be at least two intervals, got %s", cfg.duration)
	}
	for _, name := range strings.Split(*sides, ",") {
		name = strings.TrimSpace(name)
		if _, err := sideByName(name); err != nil {
			return config{}, fmt.Errorf("-sides: %w", err)
		}
		cfg.sides = append(cfg.sides, name)
	}
	return cfg, nil
}

// runBenchmark serves the fixture, runs every side in a child process in
// turn and prints the report.
func runBenchmark(ctx context.Context, cfg config) error {
	began := time.Now()
	f, err := startFixture(cfg.targets, cfg.series, cfg.seed)
	if err != nil {
		return err
	}
	defer f.stop()
	harness.Logf("%d targets x %d series on 127.0.0.1 (%s per body), scraped every %s (timeout %s) for %s per side",
		cfg.targets, cfg.series, harness.HumanBytes(float64(f.bodyBytes())), cfg.interval, cfg.timeout, cfg.duration)
	runs := map[string]sideRun{}
	for _, name := range cfg.sides {
		r, err := runSide(ctx, cfg, f, name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		harness.Logf("%s: %s samples ingested in %d scrapes; %.2f CPU s over the %s window, peak RSS %s",
			name, harness.HumanCount(r.SamplesAppended), r.Scrapes, r.Usage.CPU().Seconds(), r.Window.Round(time.Millisecond),
			harness.HumanBytes(float64(r.Usage.MaxRSS)))
		runs[name] = r
	}
	harness.Logf("done in %s", time.Since(began).Round(time.Second))
	printReport(os.Stdout, cfg, f, runs)
	return nil
}

// runSide resets the fixture and runs side name in a child process on a
// fresh temporary directory, which it removes afterwards.
func runSide(ctx context.Context, cfg config, f *fixture, name string) (sideRun, error) {
	f.reset()
	dir, err := os.MkdirTemp(cfg.dir, "scrape-bench-"+name+"-")
	if err != nil {
		return sideRun{}, fmt.Errorf("create temp dir: %w", err)
	}
	harness.Logf("%s: scraping in a child process for %s", name, cfg.duration)
	r, err := runSideInChild(ctx, name, childSpec{
		Targets: f.addrs(), Interval: cfg.interval, Timeout: cfg.timeout,
		Duration: cfg.duration, Dir: dir, ProfileDir: cfg.profileDir,
	})
	r.served = f.requests()
	if rmErr := os.RemoveAll(dir); rmErr != nil && err == nil {
		err = fmt.Errorf("remove %s: %w", dir, rmErr)
	}
	return r, err
}
