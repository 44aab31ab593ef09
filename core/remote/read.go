package remote

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/hclogslog"
)

// ReadLimits are the limits of remote read, as Prometheus's
// storage.remote.read-* flags.
type ReadLimits struct {
	// SampleLimit bounds the samples of one sampled answer; 0 for none.
	SampleLimit int
	// ConcurrentLimit bounds the requests served at once, others wait; 0
	// for none.
	ConcurrentLimit int
	// MaxBytesInFrame bounds one frame of a streamed answer.
	MaxBytesInFrame int
}

// NewReadHandler serves remote read (POST /api/v1/read) from store with
// upstream's remote.NewReadHandler: sampled answers and streamed chunks,
// with the labels externalLabels returns added to every series. Its
// metrics, upstream's, go to reg.
func NewReadHandler(logger hclog.Logger, reg prometheus.Registerer, store storage.SampleAndChunkQueryable, externalLabels func() labels.Labels, limits ReadLimits) http.Handler {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	concurrent := limits.ConcurrentLimit
	if concurrent <= 0 {
		// Upstream's gate takes a size; a channel of empty structs this
		// long costs nothing.
		concurrent = math.MaxInt32
	}
	conf := func() config.Config {
		return config.Config{GlobalConfig: config.GlobalConfig{ExternalLabels: externalLabels()}}
	}
	return remote.NewReadHandler(hclogslog.New(logger), reg, store, conf, limits.SampleLimit, concurrent, limits.MaxBytesInFrame)
}

// ReaderOptions say which store a Reader merges the remote stores with.
type ReaderOptions struct {
	// Local is the local store. Its oldest sample bounds what the
	// remote_read blocks without read_recent read.
	Local storage.Storage
	// Logger receives the reader's log lines; none when nil.
	Logger hclog.Logger
}

// Reader reads the stores of the remote_read blocks beside the local
// store, with upstream's code, as Prometheus's main does: upstream's
// remote.Storage makes a remote-read client for each block (required
// matchers, external labels, read_recent), and storage.NewFanout merges
// them with the local store. The errors of remote stores become warnings
// of the reads, and a series two stores hold is read once.
type Reader struct {
	remote    *remote.Storage
	merged    storage.Storage
	closeOnce sync.Once
	closeErr  error
}

// NewReader makes a reader without remote stores; ApplyConfig adds them.
func NewReader(opts ReaderOptions) *Reader {
	logger := opts.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	slogger := hclogslog.New(logger)
	// Upstream's remote.Storage also holds a WriteStorage; the reader
	// gives it no remote_write entry, so it starts no queue, and its
	// metrics go to a registry of its own that nobody reads.
	r := &Reader{remote: remote.NewStorage(slogger, prometheus.NewRegistry(), opts.Local.StartTime, "", FlushDeadline, nil, false)}
	r.merged = storage.NewFanout(slogger, opts.Local, joiningStorage{r.remote})
	return r
}

// Queryable reads the local store and the remote stores, merged. Its
// Querier fails only when the local store fails; the errors of remote
// stores are warnings of the series sets.
func (r *Reader) Queryable() storage.SampleAndChunkQueryable { return r.merged }

// ApplyConfig makes a remote-read client for each remote_read block of
// cfg, in place of the previous ones; the reads that start afterwards use
// them.
func (r *Reader) ApplyConfig(_ context.Context, cfg *hclconfig.Config) error {
	conf, err := readConfig(cfg)
	if err != nil {
		return err
	}
	if err := r.remote.ApplyConfig(conf); err != nil {
		return fmt.Errorf("cannot apply the remote_read blocks: %w", err)
	}
	return nil
}

// Close stops the remote storage; later calls do nothing. The local store
// stays open.
func (r *Reader) Close() error {
	r.closeOnce.Do(func() {
		if err := r.remote.Close(); err != nil {
			r.closeErr = fmt.Errorf("cannot close the remote-read storage: %w", err)
		}
	})
	return r.closeErr
}

// joiningStorage is upstream's remote.Storage, whose queriers give a
// series whose chunks a streamed remote-read answer spreads over several
// frames as several series, one a frame, with the same labels; its
// queriers join them into one, as the PromQL engine needs.
type joiningStorage struct{ *remote.Storage }

// Querier implements storage.Queryable.
func (s joiningStorage) Querier(mint, maxt int64) (storage.Querier, error) {
	q, err := s.Storage.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	return joiningQuerier{q}, nil
}

// joiningQuerier joins the consecutive series of one label set that its
// Querier's Select gives.
type joiningQuerier struct{ storage.Querier }

// Select implements storage.Querier.
func (q joiningQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	return &joinedSeriesSet{SeriesSet: q.Querier.Select(ctx, sortSeries, hints, ms...)}
}

// joinedSeriesSet is a series set whose consecutive series of one label
// set are merged into one with storage.ChainedSeriesMerge.
type joinedSeriesSet struct {
	storage.SeriesSet
	// next is the series read after the current one's last part, not yet
	// given; nil when there is none.
	next storage.Series
	cur  storage.Series
}

// Next implements storage.SeriesSet.
func (s *joinedSeriesSet) Next() bool {
	first := s.next
	s.next = nil
	if first == nil {
		if !s.SeriesSet.Next() {
			return false
		}
		first = s.SeriesSet.At()
	}
	parts := []storage.Series{first}
	for s.SeriesSet.Next() {
		series := s.SeriesSet.At()
		if !labels.Equal(series.Labels(), first.Labels()) {
			s.next = series
			break
		}
		parts = append(parts, series)
	}
	s.cur = first
	if len(parts) > 1 {
		s.cur = storage.ChainedSeriesMerge(parts...)
	}
	return true
}

// At implements storage.SeriesSet.
func (s *joinedSeriesSet) At() storage.Series { return s.cur }

// readMetricsPrefix starts the names of upstream's remote-read client
// metrics, which upstream registers with the default registry.
const readMetricsPrefix = "prometheus_remote_read_client_"

// ReadMetrics gathers upstream's remote-read client metrics
// (prometheus_remote_read_client_*: queries, queries in flight and
// request durations, by remote_read block) for the server's /metrics.
func ReadMetrics() prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		families, err := prometheus.DefaultGatherer.Gather()
		var out []*dto.MetricFamily
		for _, mf := range families {
			if strings.HasPrefix(mf.GetName(), readMetricsPrefix) {
				out = append(out, mf)
			}
		}
		return out, err
	})
}
