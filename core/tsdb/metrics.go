package tsdb

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/storage"
)

// counters are the store's running totals, read by its collector.
type counters struct {
	samplesAppended   atomic.Uint64 // committed and added to the head
	samplesOutOfOrder atomic.Uint64 // refused as out of order or too old
	samplesDuplicate  atomic.Uint64 // refused as another value at a timestamp
	samplesInvalid    atomic.Uint64 // refused for invalid labels or histograms
	samplesDiskFull   atomic.Uint64 // of commits refused by Options.SpaceCheck
	chunksSealed      atomic.Uint64
	walTruncations    atomic.Uint64
	corruptions       atomic.Uint64 // records found damaged, see reportCorruption
	seriesEvicted     atomic.Uint64 // series that left memory, see evict.go
}

// countRefusal counts a sample Append refused, by the kind of its error.
func (c *counters) countRefusal(err error) {
	switch {
	case errors.Is(err, storage.ErrOutOfOrderSample), errors.Is(err, storage.ErrTooOldSample):
		c.samplesOutOfOrder.Add(1)
	case errors.Is(err, storage.ErrDuplicateSampleForTimestamp):
		c.samplesDuplicate.Add(1)
	default:
		c.samplesInvalid.Add(1)
	}
}

var (
	descSeries      = prometheus.NewDesc("vigil_tsdb_series", "Series in memory: those with a sample within the idle timeout, or not all sealed yet.", nil, nil)
	descEvicted     = prometheus.NewDesc("vigil_tsdb_series_evicted_total", "Series that left memory after the idle timeout without a sample; they stay in badger and come back with their next sample.", nil, nil)
	descAppended    = prometheus.NewDesc("vigil_tsdb_samples_appended_total", "Samples committed to the store.", nil, nil)
	descRefused     = prometheus.NewDesc("vigil_tsdb_samples_refused_total", "Samples Append refused, by reason, and those of commits refused while the disk is full (disk_full).", []string{"reason"}, nil)
	descChunks      = prometheus.NewDesc("vigil_tsdb_chunks_sealed_total", "Chunks written to badger.", nil, nil)
	descWALBytes    = prometheus.NewDesc("vigil_tsdb_wal_bytes", "Bytes of the write-ahead log on disk: its segments and checkpoint.", nil, nil)
	descTruncations = prometheus.NewDesc("vigil_tsdb_wal_truncations_total", "Times segments of the write-ahead log were dropped.", nil, nil)
	descMinTime     = prometheus.NewDesc("vigil_tsdb_lowest_timestamp_seconds", "Timestamp of the oldest sample the store may hold.", nil, nil)
	descMaxTime     = prometheus.NewDesc("vigil_tsdb_highest_timestamp_seconds", "Timestamp of the newest sample in the store.", nil, nil)
	descCorruptions = prometheus.NewDesc("vigil_tsdb_corruptions_total", "Damaged records the store met: series and write-ahead records skipped at Open, chunks a read failed on.", nil, nil)
)

// reportCorruption logs a record of badger that fails its checksum or
// cannot be decoded, by its key, and counts it.
func (db *DB) reportCorruption(msg string, key []byte, err error) {
	db.counters.corruptions.Add(1)
	db.logger.Error(msg, "key", fmt.Sprintf("%x", key), "error", err)
}

// Collector returns a prometheus.Collector of the store's metrics, to
// register where the server exposes its own metrics.
func (db *DB) Collector() prometheus.Collector { return dbCollector{db} }

type dbCollector struct{ db *DB }

// Describe implements prometheus.Collector.
func (c dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSeries, descEvicted, descAppended, descRefused, descChunks, descWALBytes, descTruncations, descMinTime, descMaxTime, descCorruptions} {
		ch <- d
	}
	for _, m := range c.db.exemplars.metrics {
		m.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (c dbCollector) Collect(ch chan<- prometheus.Metric) {
	db, n := c.db, &c.db.counters
	ch <- prometheus.MustNewConstMetric(descSeries, prometheus.GaugeValue, float64(db.series.count()))
	ch <- prometheus.MustNewConstMetric(descEvicted, prometheus.CounterValue, float64(n.seriesEvicted.Load()))
	ch <- prometheus.MustNewConstMetric(descAppended, prometheus.CounterValue, float64(n.samplesAppended.Load()))
	ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(n.samplesOutOfOrder.Load()), "out_of_order")
	ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(n.samplesDuplicate.Load()), "duplicate")
	ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(n.samplesDiskFull.Load()), "disk_full")
	ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(n.samplesInvalid.Load()), "invalid")
	ch <- prometheus.MustNewConstMetric(descChunks, prometheus.CounterValue, float64(n.chunksSealed.Load()))
	ch <- prometheus.MustNewConstMetric(descWALBytes, prometheus.GaugeValue, float64(db.walSize()))
	ch <- prometheus.MustNewConstMetric(descTruncations, prometheus.CounterValue, float64(n.walTruncations.Load()))
	ch <- prometheus.MustNewConstMetric(descCorruptions, prometheus.CounterValue, float64(n.corruptions.Load()))
	if minT, maxT := db.minT.Load(), db.maxT.Load(); minT != math.MaxInt64 && maxT != math.MinInt64 {
		ch <- prometheus.MustNewConstMetric(descMinTime, prometheus.GaugeValue, float64(minT)/1000)
		ch <- prometheus.MustNewConstMetric(descMaxTime, prometheus.GaugeValue, float64(maxT)/1000)
	}
	// Upstream's exemplar storage keeps its own metrics,
	// prometheus_tsdb_exemplar_*, under the names Prometheus gives them.
	for _, m := range db.exemplars.metrics {
		m.Collect(ch)
	}
}
