package tsdb

import (
	"math"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/index"
)

// Stats describes the content of the store, as Prometheus's
// /api/v1/status/tsdb and `promtool tsdb analyze` describe theirs.
type Stats struct {
	// NumSeries is the number of series in the index.
	NumSeries int
	// MinTime and MaxTime bound the samples of the store, in milliseconds;
	// MinTime > MaxTime when it holds none.
	MinTime, MaxTime int64
	// WALBytes is the size of the write-ahead log on disk (segments and
	// checkpoint), which holds the unsealed samples.
	WALBytes int64
	// Postings are the top label names, values and pairs by cardinality.
	Postings *index.PostingsStats
}

// Stats returns statistics of the store, with at most limit entries in
// each top list of Postings. What it allocates follows what the index
// holds, not limit: no list can have more entries than the index has
// label pairs, so a larger limit is lowered to that.
func (db *DB) Stats(limit int) (*Stats, error) {
	if db.closed.Load() {
		return nil, ErrClosed
	}
	// The upstream top lists reserve room for limit entries at once.
	limit = max(min(limit, db.labelPairs()), 0)
	s := &Stats{
		NumSeries: db.series.count(),
		MinTime:   db.minT.Load(),
		MaxTime:   db.maxT.Load(),
		WALBytes:  db.walSize(),
		Postings:  db.postings.Stats(model.MetricNameLabel, limit, labelValueSize),
	}
	if s.NumSeries == 0 {
		s.MinTime, s.MaxTime = math.MaxInt64, math.MinInt64
	}
	return s, nil
}

// labelValueSize is the space n series spend on a label value, as upstream
// counts it for the label-value statistics.
func labelValueSize(_, value string, n uint64) uint64 {
	return uint64(len(value)) * n
}

// labelPairs counts the label pairs of the index.
func (db *DB) labelPairs() int {
	n := 0
	db.postings.Iter(func(labels.Label, index.Postings) error {
		n++
		return nil
	})
	return n
}
