// Command tsdb compares Vigil's time-series store (core/tsdb) with the
// upstream Prometheus TSDB (github.com/prometheus/prometheus/tsdb) on the
// same synthetic node_exporter workload, in one run.
//
// The workload is a fleet of node_exporter-like targets of 500 series each
// (60% constant or slow-changing gauges, 30% counters with uneven
// increments, 10% noisy float gauges), labelled with job (five values),
// instance and metric-specific labels such as cpu, mode, device or
// mountpoint. Every target is scraped every 15 s with a few milliseconds of
// timestamp jitter, and each scrape is appended through AppenderV2 and
// committed as one transaction, as a scraper does. Both stores receive
// identical samples.
//
// For each workload size (by default 10k series over 3h and 100k series over
// 2h, so that the run stays within five minutes on two cores) and each store
// it measures:
//
//   - ingest: samples per second through AppenderV2/Commit, with one
//     goroutine and with GOMAXPROCS goroutines (higher is better);
//   - disk: bytes per sample once all data is sealed and compacted; for
//     upstream the head is compacted into a block and the block directories
//     are measured, for Vigil Compact is called and the whole directory is
//     measured (lower is better);
//   - query: the range query sum by (job) (rate(node_cpu_seconds_total[5m]))
//     evaluated by the upstream PromQL engine over the whole range, and a raw
//     selection of every series over the last 2h iterating every sample
//     (median of -query-runs runs; lower is better);
//   - memory: live heap bytes per series after ingest minus before, right
//     after ingest while everything is still in the head (lower is better).
//
// The parallel ingest runs in a child process (this binary, re-executed)
// that kills itself with SIGKILL once every scrape is committed, without
// closing the store. On the sizes with at least -restart-min-series series
// (by default the 100k one) the parent then measures restart: the time to
// open that directory, which replays upstream's WAL and Vigil's write-ahead
// records (lower is better). The reopened store is checked to hold the last
// scrape of every target.
//
// It prints a table with each figure for Vigil and upstream and their ratio
// vigil/upstream, and ends with the line
//
//	tsdb ratios (vigil/prometheus): ingest=X disk=X query=X memory=X restart=X
//
// where each X is the geometric mean of that figure's ratios. Progress goes
// to stderr, results to stdout.
//
// With -scale (make bench-tsdb-scale) it measures the stores at a
// server's size instead, each phase of each store in a child process of
// its own, one after the other:
//
//   - active: 1M series (-active-series) scraped every 15 s over 45 min of
//     synthetic time (-active-span), so that every series cuts a chunk;
//   - churn: 2M series (-churn-series) pass through over 6 h (-churn-span),
//     100k of them (-churn-active) scraped in each round: a window of
//     targets that slides on every round, as pods roll. Upstream compacts
//     its head into a 2h block twice, each time dropping the series that
//     left it.
//
// It measures the resident set of the child at the end of each phase (and
// its peak), the live heap at the end and the highest live heap a garbage
// collection found (with -heap-profile, a heap profile at each), and the
// ingest rate over both phases, and ends with the line
//
//	tsdb scale (vigil/prometheus): rss_active=X rss_churn=X ingest=X
//
// See scale.go. It took 11 minutes on a 2-core machine shared with other
// work, and its largest child 4 GiB of memory.
//
// Run it from the repository root with
//
//	go run ./bench/tsdb
//
// and see go run ./bench/tsdb -h for the flags; -profile DIR writes a CPU
// profile of each store's queries, of its ingest with one goroutine and
// of the child's parallel ingest (its background work included) there,
// and heap profiles before and after the ingest with one goroutine
// (compare their allocations with go tool pprof
// -sample_index=alloc_space -diff_base BEFORE AFTER). With the defaults it
// takes under five minutes on a 2-core machine. Data goes to temporary
// directories under os.TempDir() (or -dir), which are removed afterwards.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/vigilmon/vigil/bench/harness"
)

// config holds the command-line settings.
type config struct {
	sizes            []sizeSpec
	restartMinSeries int
	queryRuns        int
	workers          int
	backends         []backend
	dir              string
	profileDir       string
	seed             uint64
	scale            scaleConfig
}

// sizeSpec is a workload size: how many series over how long a time span.
type sizeSpec struct {
	series int
	span   time.Duration
}

func (s sizeSpec) String() string {
	return fmt.Sprintf("%s series x %s", harness.HumanCount(float64(s.series)), shortDuration(s.span))
}

// storeResult is everything measured for one store at one size.
type storeResult struct {
	ingestOne, ingestMany float64 // samples per second
	heapPerSeries         float64 // bytes
	disk                  sealedSize
	bytesPerSample        float64
	rateQuery, rawSelect  time.Duration
	rateCheck, rawCheck   resultCheck
	restart               time.Duration // -1 where not measured
}

// sizeResult is everything measured at one size.
type sizeResult struct {
	spec    sizeSpec
	w       *workload
	byStore map[string]*storeResult
}

func main() {
	harness.Main(func(ctx context.Context) error {
		switch harness.ChildMode() {
		case crashChild:
			return runCrashChild(ctx)
		case scaleChild:
			return runScaleChildMode(ctx)
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
	sizes := flag.String("sizes", "10000:3h,100000:2h", "workload sizes as series:span, comma-separated")
	restartMin := flag.Int("restart-min-series", 100000, "time the reopen after the crash on sizes with at least this many series")
	queryRuns := flag.Int("query-runs", 3, "runs of each query; the median is reported")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "goroutines of the parallel ingest")
	stores := flag.String("stores", "vigil,upstream", "stores to run, comma-separated (vigil, upstream)")
	dir := flag.String("dir", os.TempDir(), "parent of the temporary data directories")
	seed := flag.Uint64("seed", 1, "seed of the synthetic workload")
	var sc scaleConfig
	flag.BoolVar(&sc.enabled, "scale", false, "measure RSS and ingest at a server's size (the active and churn phases) instead of the per-size figures")
	flag.IntVar(&sc.activeSeries, "active-series", 1000000, "with -scale: series scraped in every round of the active phase")
	flag.DurationVar(&sc.activeSpan, "active-span", 45*time.Minute, "with -scale: synthetic time the active phase covers")
	flag.IntVar(&sc.churnSeries, "churn-series", 2000000, "with -scale: series that pass through the churn phase in all")
	flag.IntVar(&sc.churnActive, "churn-active", 100000, "with -scale: series scraped in each round of the churn phase")
	flag.DurationVar(&sc.churnSpan, "churn-span", 6*time.Hour, "with -scale: synthetic time the churn phase covers (more than "+shortDuration(minChurnSpan)+", for upstream to compact its head)")
	flag.DurationVar(&sc.settle, "settle", 5*time.Second, "with -scale: wait after the last commit of a phase before measuring")
	flag.StringVar(&sc.heapProfileDir, "heap-profile", "", "with -scale: write heap profiles of each store at the end of each phase and at its peak live heap into this directory")
	profileDir := flag.String("profile", "", "write CPU profiles of each store's queries and ingests (the parallel one in its child process), and heap profiles around its ingest with one goroutine, into this directory")
	flag.Parse()

	cfg := config{restartMinSeries: *restartMin, queryRuns: *queryRuns, workers: *workers, dir: *dir, seed: *seed, profileDir: *profileDir, scale: sc}
	for _, s := range strings.Split(*sizes, ",") {
		spec, err := parseSizeSpec(s)
		if err != nil {
			return config{}, fmt.Errorf("-sizes: %w", err)
		}
		cfg.sizes = append(cfg.sizes, spec)
	}
	for _, name := range strings.Split(*stores, ",") {
		b, err := backendByName(strings.TrimSpace(name))
		if err != nil {
			return config{}, fmt.Errorf("-stores: %w", err)
		}
		cfg.backends = append(cfg.backends, b)
	}
	if cfg.workers < 1 {
		return config{}, fmt.Errorf("-workers must be at least 1, got %d", cfg.workers)
	}
	if sc.enabled {
		if sc.activeSeries <= 0 || sc.churnSeries <= 0 || sc.churnActive <= 0 || sc.churnActive > sc.churnSeries {
			return config{}, fmt.Errorf("-active-series, -churn-series and -churn-active must be positive, -churn-active at most -churn-series")
		}
		if sc.activeSpan < 10*time.Minute || sc.churnSpan < minChurnSpan {
			return config{}, fmt.Errorf("-active-span must be at least 10m and -churn-span at least %s", shortDuration(minChurnSpan))
		}
	}
	return cfg, nil
}

// parseSizeSpec parses "series:span", e.g. "100000:2h".
func parseSizeSpec(s string) (sizeSpec, error) {
	count, span, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return sizeSpec{}, fmt.Errorf("%q is not series:span", s)
	}
	n, err := strconv.Atoi(count)
	if err != nil || n <= 0 {
		return sizeSpec{}, fmt.Errorf("series count in %q: not a positive integer", s)
	}
	d, err := time.ParseDuration(span)
	if err != nil || d < 10*time.Minute {
		return sizeSpec{}, fmt.Errorf("span in %q: want a duration of at least 10m", s)
	}
	return sizeSpec{series: n, span: d}, nil
}

// backendByName returns the store called name.
func backendByName(name string) (backend, error) {
	switch name {
	case vigilBackend.name:
		return vigilBackend, nil
	case upstreamBackend.name:
		return upstreamBackend, nil
	}
	return backend{}, fmt.Errorf("unknown store %q (want vigil or upstream)", name)
}

// benchmarkEnd is where the data of every workload ends.
var benchmarkEnd = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// runBenchmark measures every size for every store and prints the report,
// or runs the scale mode.
func runBenchmark(ctx context.Context, cfg config) error {
	if cfg.scale.enabled {
		return runScale(ctx, cfg)
	}
	began := time.Now()
	// Data ends at a fixed time, so that every run cuts chunks and blocks
	// at the same places and the figures compare across runs.
	now := benchmarkEnd
	var results []*sizeResult
	for _, spec := range cfg.sizes {
		w := newWorkload(spec.series, spec.span, now.Add(-spec.span), cfg.seed)
		res := &sizeResult{spec: spec, w: w, byStore: map[string]*storeResult{}}
		harness.Logf("%s: %d targets, %d series, %d samples per ingest", spec, len(w.targets), w.numSeries(), w.numSamples())
		for _, b := range cfg.backends {
			r, err := measureSize(ctx, cfg, b, w)
			if err != nil {
				return fmt.Errorf("%s, %s: %w", spec, b.name, err)
			}
			res.byStore[b.name] = r
		}
		results = append(results, res)
	}
	harness.Logf("done in %s", time.Since(began).Round(time.Second))
	printReport(os.Stdout, cfg, results)
	return nil
}

// measureSize runs every per-size measurement of one store on workload w:
// a single-goroutine ingest (also measuring heap), sealing and disk size,
// the queries, and then a parallel ingest into a fresh directory in a child
// process that crashes, followed by the restart where it is measured.
func measureSize(ctx context.Context, cfg config, b backend, w *workload) (*storeResult, error) {
	r := &storeResult{}
	samples := float64(w.numSamples())
	tag := fmt.Sprintf("%s: %s", harness.HumanCount(float64(w.numSeries())), b.name)

	dir, err := tempDir(cfg.dir, "tsdb-bench-"+b.name+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db, err := b.open(dir)
	if err != nil {
		return nil, err
	}
	closed := false
	defer func() {
		if !closed {
			_ = db.Close()
		}
	}()
	in := newIngester(w)
	profileName := fmt.Sprintf("ingest-%d-%s", w.numSeries(), b.name)
	heapBefore := liveHeap()
	if _, err := harness.WriteHeapProfile(cfg.profileDir, profileName+"-before"); err != nil {
		return nil, err
	}
	stopIngestProfile, err := harness.StartCPUProfile(cfg.profileDir, profileName)
	if err != nil {
		return nil, err
	}
	took, err := in.run(ctx, db, 1)
	if err != nil {
		return nil, fmt.Errorf("ingest with 1 goroutine: %w", err)
	}
	if err := stopIngestProfile(); err != nil {
		return nil, err
	}
	heapAfter := liveHeap()
	if _, err := harness.WriteHeapProfile(cfg.profileDir, profileName+"-after"); err != nil {
		return nil, err
	}
	r.ingestOne = samples / took.Seconds()
	r.heapPerSeries = (float64(heapAfter) - float64(heapBefore)) / float64(w.numSeries())
	harness.Logf("%s: ingest 1 goroutine %s samples (%s); heap %s/series", tag,
		humanRate(r.ingestOne), took.Round(time.Millisecond), harness.HumanBytes(r.heapPerSeries))

	sealStart := time.Now()
	if db, r.disk, err = b.seal(db, dir); err != nil {
		return nil, err
	}
	r.bytesPerSample = float64(r.disk.measured) / samples
	harness.Logf("%s: sealed in %s; %s = %s (%.3f B/sample), whole dir %s", tag, time.Since(sealStart).Round(time.Millisecond),
		r.disk.what, harness.HumanBytes(float64(r.disk.measured)), r.bytesPerSample, harness.HumanBytes(float64(r.disk.wholeDir)))

	stopProfile, err := harness.StartCPUProfile(cfg.profileDir, fmt.Sprintf("query-%d-%s", w.numSeries(), b.name))
	if err != nil {
		return nil, err
	}
	ng := newEngine()
	if r.rateQuery, r.rateCheck, err = medianOf(cfg.queryRuns, func() (time.Duration, resultCheck, error) {
		return timeRateQuery(ctx, ng, db, w)
	}); err != nil {
		return nil, err
	}
	harness.Logf("%s: rate query %s (%s)", tag, r.rateQuery.Round(time.Microsecond), r.rateCheck)
	if r.rawSelect, r.rawCheck, err = medianOf(cfg.queryRuns, func() (time.Duration, resultCheck, error) {
		return timeRawSelect(ctx, db, w)
	}); err != nil {
		return nil, err
	}
	harness.Logf("%s: raw 2h select %s (%s)", tag, r.rawSelect.Round(time.Microsecond), r.rawCheck)
	if err := stopProfile(); err != nil {
		return nil, err
	}
	closed = true
	if err := db.Close(); err != nil {
		return nil, fmt.Errorf("close after queries: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("remove %s: %w", dir, err)
	}

	if r.ingestMany, r.restart, err = measureParallelIngestAndRestart(ctx, cfg, b, w); err != nil {
		return nil, err
	}
	harness.Logf("%s: ingest %d goroutines (child process) %s samples", tag, cfg.workers, humanRate(r.ingestMany))
	if r.restart >= 0 {
		harness.Logf("%s: reopen after SIGKILL took %s", tag, r.restart.Round(time.Millisecond))
	}
	return r, nil
}

// measureParallelIngestAndRestart ingests w into a fresh directory with
// cfg.workers goroutines in a child process that dies by SIGKILL at the
// end, and returns the samples per second. If w has at least
// cfg.restartMinSeries series it also times reopening the directory;
// otherwise the returned restart time is -1.
func measureParallelIngestAndRestart(ctx context.Context, cfg config, b backend, w *workload) (float64, time.Duration, error) {
	dir, err := tempDir(cfg.dir, "tsdb-bench-"+b.name+"-crash-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	took, err := ingestInCrashChild(ctx, b, dir, w, cfg.workers, cfg.profileDir)
	if err != nil {
		return 0, 0, fmt.Errorf("ingest with %d goroutines: %w", cfg.workers, err)
	}
	rate := float64(w.numSamples()) / took.Seconds()
	if w.numSeries() < cfg.restartMinSeries {
		return rate, -1, nil
	}
	restart, err := timeReopen(ctx, b, dir, w)
	if err != nil {
		return 0, 0, err
	}
	return rate, restart, nil
}

// geomean returns the geometric mean of xs, NaN if any is not positive.
func geomean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var sum float64
	for _, x := range xs {
		if !(x > 0) || math.IsInf(x, 0) {
			return math.NaN()
		}
		sum += math.Log(x)
	}
	return math.Exp(sum / float64(len(xs)))
}
