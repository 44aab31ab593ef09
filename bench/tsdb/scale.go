package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/prometheus/prometheus/storage"
	promtsdb "github.com/prometheus/prometheus/tsdb"

	"github.com/vigilmon/vigil/bench/harness"
	vigiltsdb "github.com/vigilmon/vigil/core/tsdb"
)

// The scale mode (-scale) measures the stores at a server's size rather
// than per series: the resident set of a process holding a million active
// series, and of one through which two million series churn while a
// hundred thousand are active, and the ingest rate of both.
//
// Each phase of each store runs in a child process of its own, so that
// the resident set measured is that store's alone, and the children run
// one after the other: on two cores, a store running beside the other
// would have its ingest rate and its background work (upstream's head
// compaction, badger's compactions, the sealing loop) depend on what the
// other is doing at that moment, while one at a time each has the whole
// machine, as a server has.

// scaleConfig holds the settings of the scale mode.
type scaleConfig struct {
	// enabled runs the scale mode instead of the per-size measurements.
	enabled bool
	// activeSeries series are scraped in every round of the active phase,
	// over activeSpan of synthetic time.
	activeSeries int
	activeSpan   time.Duration
	// churnSeries series in all pass through the churn phase, churnActive
	// of them scraped in each round, over churnSpan of synthetic time.
	churnSeries int
	churnActive int
	churnSpan   time.Duration
	// settle is how long a child waits after its last commit before it
	// measures, for the store's background work to catch up.
	settle time.Duration
	// heapProfileDir, unless empty, receives a heap profile of every child
	// at the end of its phase.
	heapProfileDir string
}

// The phases of the scale mode.
const (
	phaseActive = "active"
	phaseChurn  = "churn"
)

// minChurnSpan is the shortest churn phase: upstream compacts its head
// into a block, and drops the series that have no samples left in the
// head, only once the head spans more than 1.5 times the block range (2h
// by default).
const minChurnSpan = 3*time.Hour + 30*time.Minute

// scaleChild is the child mode that runs one phase of one store.
const scaleChild = "scale"

// scaleSpec tells a scale child what to run.
type scaleSpec struct {
	Store   string        `json:"store"`
	Phase   string        `json:"phase"`
	Dir     string        `json:"dir"`
	Series  int           `json:"series"`
	Active  int           `json:"active"` // series scraped in each round
	Span    time.Duration `json:"span"`
	StartMs int64         `json:"start_ms"`
	Seed    uint64        `json:"seed"`
	Workers int           `json:"workers"`
	Settle  time.Duration `json:"settle"`
	// HeapProfileDir, unless empty, is where the child writes a heap
	// profile at the end of its phase.
	HeapProfileDir string `json:"heap_profile_dir"`
}

// scaleResult is what a scale child measured.
type scaleResult struct {
	// Ingest is the time from the first Append to the last Commit, the
	// building of targets that enter a churning workload left out.
	Ingest  time.Duration `json:"ingest"`
	Samples int64         `json:"samples"`
	// WorkloadRSS is the resident set after the workload was built, before
	// the store was opened: the part of RSS and PeakRSS that is the
	// benchmark's own.
	WorkloadRSS int64 `json:"workload_rss"`
	// RSS is the resident set at the end of the phase, after the settle
	// time; PeakRSS the highest it was during the child's life.
	RSS     int64 `json:"rss"`
	PeakRSS int64 `json:"peak_rss"`
	// FileRSS is the part of RSS that is pages of mapped files (badger's
	// tables and memtables, upstream's head chunks and blocks).
	FileRSS int64 `json:"file_rss"`
	// LiveHeap is the Go heap in use after full collections, measured after
	// RSS.
	LiveHeap uint64 `json:"live_heap"`
	// PeakLiveHeap is the highest live heap a garbage collection found
	// between Open and the end of the phase.
	PeakLiveHeap uint64 `json:"peak_live_heap"`
	// HeadSeries is the number of series the store keeps in memory.
	HeadSeries int `json:"head_series"`
	// Blocks is the number of upstream's persisted blocks, -1 for Vigil.
	Blocks int `json:"blocks"`
	// HeapProfile is the path of the heap profile written, if any;
	// PeakHeapProfile that of the profile at the peak live heap.
	HeapProfile     string `json:"heap_profile"`
	PeakHeapProfile string `json:"peak_heap_profile"`
}

// scaleRun is one phase of the scale mode, for both stores.
type scaleRun struct {
	phase   string
	w       *workload
	byStore map[string]*scaleResult
}

// vigilScaleOptions returns the options the scale mode opens Vigil's store
// with: its defaults.
//
// Options.SeriesIdleTimeout evicts from the head the series that received
// no sample for that long, as upstream's head compaction drops the series
// left without samples in the head. It is set to its default, 2h, the
// mean idle time after which upstream drops a series here: its head is
// truncated to a 2h boundary an hour after it, so a series idle since time
// t goes after between 1h and 3h.
func vigilScaleOptions() vigiltsdb.Options {
	return vigiltsdb.Options{SeriesIdleTimeout: vigiltsdb.DefaultSeriesIdleTimeout}
}

// vigilScaleNote says in the report what vigilScaleOptions sets; change
// it with them.
const vigilScaleNote = "default Options (SeriesIdleTimeout 2h)"

// openScaleStore opens backend b in dir as the scale mode runs it.
func openScaleStore(b backend, dir string) (storage.Storage, error) {
	if b.name == vigilBackend.name {
		return openVigilWith(dir, vigilScaleOptions())
	}
	return b.open(dir)
}

// runScale runs the active phase and then the churn phase, for each store
// in a child process of its own, one after the other, and prints the
// report.
func runScale(ctx context.Context, cfg config) error {
	began := time.Now()
	sc := cfg.scale
	// The workloads here only describe the phases: their targets are
	// never built in this process.
	phases := []*scaleRun{
		{phase: phaseActive, w: newWindowedWorkload(sc.activeSeries, sc.activeSeries, sc.activeSpan, benchmarkEnd.Add(-sc.activeSpan), cfg.seed)},
		{phase: phaseChurn, w: newWindowedWorkload(sc.churnSeries, sc.churnActive, sc.churnSpan, benchmarkEnd.Add(-sc.churnSpan), cfg.seed)},
	}
	for _, p := range phases {
		p.byStore = map[string]*scaleResult{}
		lo, hi := p.w.window(0)
		harness.Logf("scale %s: %s series in all, %s in each round, %d rounds over %s, %s samples", p.phase,
			harness.HumanCount(float64(p.w.numSeries())), harness.HumanCount(float64((hi-lo)*seriesPerTarget)),
			p.w.rounds, shortDuration(time.Duration(p.w.rounds)*scrapeInterval), harness.HumanCount(float64(p.w.numSamples())))
		for _, b := range cfg.backends {
			r, err := runScaleChild(ctx, cfg, b, p.phase, p.w)
			if err != nil {
				return fmt.Errorf("scale %s, %s: %w", p.phase, b.name, err)
			}
			p.byStore[b.name] = r
		}
	}
	harness.Logf("done in %s", time.Since(began).Round(time.Second))
	printScaleReport(os.Stdout, cfg, phases)
	return nil
}

// runScaleChild runs phase of backend b on workload w (whose targets the
// child builds itself) in a child process, in a fresh directory it
// removes afterwards.
func runScaleChild(ctx context.Context, cfg config, b backend, phase string, w *workload) (*scaleResult, error) {
	dir, err := tempDir(cfg.dir, "tsdb-scale-"+b.name+"-"+phase+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	spec := scaleSpec{
		Store: b.name, Phase: phase, Dir: dir, Series: w.numSeries(), Active: w.active * seriesPerTarget,
		Span: time.Duration(w.rounds) * scrapeInterval, StartMs: w.start.UnixMilli(), Seed: w.seed,
		Workers: cfg.workers, Settle: cfg.scale.settle, HeapProfileDir: cfg.scale.heapProfileDir,
	}
	var res scaleResult
	run, err := harness.RunChild(ctx, harness.Child{Mode: scaleChild, Spec: spec}, &res)
	if err != nil {
		return nil, err
	}
	harness.Logf("scale %s, %s: %s samples in %s (%s), RSS %s at the end (%s of files), peak %s, workload %s; live heap %s, peak %s; %s series in the head%s; child ran %s",
		phase, b.name, harness.HumanCount(float64(res.Samples)), res.Ingest.Round(time.Millisecond),
		humanRate(float64(res.Samples)/res.Ingest.Seconds()), harness.HumanBytes(float64(res.RSS)), harness.HumanBytes(float64(res.FileRSS)),
		harness.HumanBytes(float64(res.PeakRSS)), harness.HumanBytes(float64(res.WorkloadRSS)),
		harness.HumanBytes(float64(res.LiveHeap)), harness.HumanBytes(float64(res.PeakLiveHeap)), harness.HumanCount(float64(res.HeadSeries)),
		blocksNote(res.Blocks), run.Wall.Round(time.Second))
	if res.HeapProfile != "" {
		harness.Logf("scale %s, %s: heap profiles in %s (at the end) and %s (at the peak live heap)", phase, b.name, res.HeapProfile, res.PeakHeapProfile)
	}
	return &res, nil
}

// blocksNote says how many blocks upstream persisted, nothing for Vigil.
func blocksNote(blocks int) string {
	if blocks < 0 {
		return ""
	}
	return fmt.Sprintf(", %d blocks", blocks)
}

// runScaleChildMode is the scale child: it builds its workload, opens its
// store, ingests, waits for the store to settle and measures.
func runScaleChildMode(ctx context.Context) error {
	var s scaleSpec
	if err := harness.ReadSpec(&s); err != nil {
		return err
	}
	b, err := backendByName(s.Store)
	if err != nil {
		return err
	}
	// The active phase builds its targets before the store opens, so that
	// WorkloadRSS holds them; the churn phase builds each as it enters.
	start := time.UnixMilli(s.StartMs)
	w := newWorkload(s.Series, s.Span, start, s.Seed)
	if s.Phase == phaseChurn {
		w = newWindowedWorkload(s.Series, s.Active, s.Span, start, s.Seed)
	}
	in := newIngester(w)
	debug.FreeOSMemory()
	var res scaleResult
	if res.WorkloadRSS, err = harness.ProcRSS(os.Getpid()); err != nil {
		return err
	}
	if s.HeapProfileDir != "" {
		res.PeakHeapProfile = filepath.Join(s.HeapProfileDir, s.Store+"-"+s.Phase+"-peak.heap.pprof")
	}
	peak := startPeakHeap(res.PeakHeapProfile)
	db, err := openScaleStore(b, s.Dir)
	if err != nil {
		return err
	}
	if res.Ingest, err = in.run(ctx, db, s.Workers); err != nil {
		_ = db.Close()
		return fmt.Errorf("ingest into %s: %w", s.Store, err)
	}
	res.Samples = w.numSamples()
	if err := settle(db, s.Settle); err != nil {
		_ = db.Close()
		return err
	}
	if res.PeakLiveHeap, err = peak.finish(); err != nil {
		_ = db.Close()
		return err
	}
	if err := measureScale(db, s, &res); err != nil {
		_ = db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("close %s: %w", s.Store, err)
	}
	return harness.WriteResult(res)
}

// settle lets the store's background work catch up with the ingest, which
// runs hours of synthetic time in a minute: for upstream it waits for the
// head compactions its commits started and runs those still due, as its
// minutely loop would (Compact returns once the head no longer spans more
// than 1.5 block ranges); for Vigil it runs the maintenance its loop runs
// every few seconds (Maintain: sealing, log truncation, eviction of idle
// series); then it waits d for both stores.
func settle(db storage.Storage, d time.Duration) error {
	switch s := db.(type) {
	case *promtsdb.DB:
		if err := s.Compact(context.Background()); err != nil {
			return fmt.Errorf("compact upstream head: %w", err)
		}
	case *vigiltsdb.DB:
		if err := s.Maintain(); err != nil {
			return fmt.Errorf("vigil maintenance: %w", err)
		}
	}
	time.Sleep(d)
	return nil
}

// measureScale reads the figures of a settled store into res: the
// resident set first, then what needs garbage collections.
func measureScale(db storage.Storage, s scaleSpec, res *scaleResult) error {
	var err error
	if res.RSS, err = harness.ProcRSS(os.Getpid()); err != nil {
		return err
	}
	if res.PeakRSS, err = harness.ProcPeakRSS(os.Getpid()); err != nil {
		return err
	}
	if res.FileRSS, err = harness.ProcFileRSS(os.Getpid()); err != nil {
		return err
	}
	res.LiveHeap = liveHeap()
	switch db := db.(type) {
	case *vigiltsdb.DB:
		st, err := db.Stats(1)
		if err != nil {
			return fmt.Errorf("vigil stats: %w", err)
		}
		res.HeadSeries, res.Blocks = st.NumSeries, -1
	case *promtsdb.DB:
		res.HeadSeries, res.Blocks = int(db.Head().NumSeries()), len(db.Blocks())
	default:
		return fmt.Errorf("measure: storage is %T, not a known store", db)
	}
	res.HeapProfile, err = harness.WriteHeapProfile(s.HeapProfileDir, s.Store+"-"+s.Phase)
	return err
}
