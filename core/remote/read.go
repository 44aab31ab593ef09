package remote

import (
	"math"
	"net/http"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote"

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
