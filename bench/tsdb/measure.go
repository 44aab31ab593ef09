package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/prometheus/common/model"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/vigilmon/vigil/bench/harness"
)

// backend is one storage under test.
type backend struct {
	name string
	// open opens or recovers the storage in dir.
	open func(dir string) (storage.Storage, error)
	// seal makes every ingested sample part of the storage's sealed,
	// compacted on-disk form and measures it. It returns the storage to
	// query afterwards, which may be the same one reopened.
	seal func(db storage.Storage, dir string) (storage.Storage, sealedSize, error)
}

// sealedSize is the on-disk size of sealed data.
type sealedSize struct {
	measured int64  // bytes counted for the disk figure
	wholeDir int64  // bytes of the whole directory, for reference
	what     string // what measured covers
}

// diskUsage returns the bytes allocated on disk for all files under path,
// like du: sparse or preallocated-but-unwritten parts of files (badger maps
// its memtables and value log into large sparse files) do not count.
func diskUsage(path string) (int64, error) {
	return filesUsage(path, func(string) bool { return true })
}

// filesUsage is diskUsage of the files under path whose base name keep
// accepts.
func filesUsage(path string, keep func(name string) bool) (int64, error) {
	var total int64
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed concurrently, e.g. an old WAL segment
			}
			return err
		}
		if d.IsDir() || !keep(d.Name()) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		} else {
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("walk %s: %w", path, err)
	}
	return total, nil
}

// liveHeap runs full garbage collections and returns the live heap bytes.
// Two collections also empty the sync.Pool victim caches, so pooled
// appender buffers are not counted as kept memory.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// resultCheck summarises a query result so the two stores' answers can be
// compared: they must return the same data.
type resultCheck struct {
	series int
	points int64
	sum    float64
}

// sameAs reports whether two result summaries agree, allowing for float
// summation in a different order.
func (c resultCheck) sameAs(o resultCheck) bool {
	if c.series != o.series || c.points != o.points {
		return false
	}
	diff := math.Abs(c.sum - o.sum)
	return diff <= 1e-9*math.Max(math.Abs(c.sum), math.Abs(o.sum)) || diff < 1e-9
}

func (c resultCheck) String() string {
	return fmt.Sprintf("%d series, %d points, sum %.6g", c.series, c.points, c.sum)
}

// rateQuery is the PromQL query whose range evaluation is timed. Every
// target exposes node_cpu_seconds_total, so it touches every instance.
const rateQuery = `sum by (job) (rate(node_cpu_seconds_total[5m]))`

// rateQueryStep is the resolution of the timed range query.
const rateQueryStep = time.Minute

// rawSelectSpan is the length of the raw selection over all series.
const rawSelectSpan = 2 * time.Hour

// newEngine returns a PromQL engine with limits high enough for the
// benchmark's queries.
func newEngine() *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{
		Logger:        slog.New(slog.DiscardHandler),
		MaxSamples:    1 << 30,
		Timeout:       5 * time.Minute,
		LookbackDelta: 5 * time.Minute,
	})
}

// timeRateQuery evaluates rateQuery over the workload's range (from 5 min
// after its start, so that the first window is full) and returns its time
// and a summary of its result.
func timeRateQuery(ctx context.Context, ng *promql.Engine, db storage.Queryable, w *workload) (time.Duration, resultCheck, error) {
	start := w.start.Add(5 * time.Minute)
	end := w.end()
	began := time.Now()
	q, err := ng.NewRangeQuery(ctx, db, nil, rateQuery, start, end, rateQueryStep)
	if err != nil {
		return 0, resultCheck{}, fmt.Errorf("prepare %s: %w", rateQuery, err)
	}
	defer q.Close()
	res := q.Exec(ctx)
	elapsed := time.Since(began)
	if res.Err != nil {
		return 0, resultCheck{}, fmt.Errorf("evaluate %s: %w", rateQuery, res.Err)
	}
	m, err := res.Matrix()
	if err != nil {
		return 0, resultCheck{}, fmt.Errorf("result of %s: %w", rateQuery, err)
	}
	var c resultCheck
	for _, s := range m {
		c.series++
		for _, p := range s.Floats {
			c.points++
			c.sum += p.F
		}
	}
	return elapsed, c, nil
}

// timeRawSelect selects every series over the last rawSelectSpan of the
// workload with Querier.Select and iterates every sample, returning the
// time taken and a summary of what was read.
func timeRawSelect(ctx context.Context, db storage.Queryable, w *workload) (time.Duration, resultCheck, error) {
	maxt := w.end().UnixMilli()
	mint := maxt - rawSelectSpan.Milliseconds()
	began := time.Now()
	q, err := db.Querier(mint, maxt)
	if err != nil {
		return 0, resultCheck{}, fmt.Errorf("open querier: %w", err)
	}
	hints := &storage.SelectHints{Start: mint, End: maxt}
	ss := q.Select(ctx, false, hints, labels.MustNewMatcher(labels.MatchRegexp, model.MetricNameLabel, ".+"))
	var (
		c  resultCheck
		it chunkenc.Iterator
	)
	for ss.Next() {
		c.series++
		it = ss.At().Iterator(it)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			c.points++
			if vt == chunkenc.ValFloat {
				_, v := it.At()
				c.sum += v
			}
		}
		if err := it.Err(); err != nil {
			_ = q.Close()
			return 0, resultCheck{}, fmt.Errorf("iterate series %s: %w", ss.At().Labels(), err)
		}
	}
	if err := ss.Err(); err != nil {
		_ = q.Close()
		return 0, resultCheck{}, fmt.Errorf("select all series: %w", err)
	}
	if err := q.Close(); err != nil {
		return 0, resultCheck{}, fmt.Errorf("close querier: %w", err)
	}
	return time.Since(began), c, nil
}

// medianOf runs f n times and returns the median duration and the summary
// of the last run.
func medianOf(n int, f func() (time.Duration, resultCheck, error)) (time.Duration, resultCheck, error) {
	times := make([]time.Duration, 0, n)
	var last resultCheck
	for range max(n, 1) {
		d, c, err := f()
		if err != nil {
			return 0, resultCheck{}, err
		}
		times = append(times, d)
		last = c
	}
	return harness.Median(times), last, nil
}

// tempDir creates a fresh directory for one store under parent.
func tempDir(parent, pattern string) (string, error) {
	dir, err := os.MkdirTemp(parent, pattern)
	if err != nil {
		return "", fmt.Errorf("create temp dir: %w", err)
	}
	return dir, nil
}
