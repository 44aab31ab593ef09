package remote

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/otlptranslator"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/hclogslog"
)

// OTLPOptions say how NewOTLPHandler translates and bounds requests.
type OTLPOptions struct {
	// Config returns the otlp block in effect; it is read for each
	// request, so that a reload applies. Its Delta is not read: see
	// ConvertDelta.
	Config func() hclconfig.OTLP
	// ConvertDelta adds sums and histograms of delta temporality up into
	// cumulative series in memory, as Prometheus's
	// --enable-feature=otlp-deltatocumulative; otherwise a request with
	// one is refused with 400 naming it.
	ConvertDelta bool
	// LookbackDelta is the query lookback delta, which spaces the
	// samples of target_info as in Prometheus.
	LookbackDelta time.Duration
	// MaxBodyBytes is the largest request, compressed and uncompressed;
	// a larger one is refused with 413.
	MaxBodyBytes int64
}

// NewOTLPHandler serves OTLP/HTTP metrics (POST /api/v1/otlp/v1/metrics,
// protobuf or JSON, gzip or not) into store, translated by upstream's
// remote.NewOTLPWriteHandler exactly as Prometheus translates them. Each
// request is stored whole or not at all; one that cannot be translated is
// refused with 400 and the reason, as is one with metrics of delta
// temporality unless opts.ConvertDelta. Its metrics, upstream's, go to
// reg.
func NewOTLPHandler(logger hclog.Logger, reg prometheus.Registerer, store storage.AppendableV2, opts OTLPOptions) http.Handler {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	promConfig := func() config.Config {
		c := config.DefaultConfig
		c.OTLPConfig = PrometheusOTLPConfig(opts.Config())
		return c
	}
	return &otlpHandler{
		logger:       logger,
		maxBytes:     opts.MaxBodyBytes,
		convertDelta: opts.ConvertDelta,
		next: remote.NewOTLPWriteHandler(hclogslog.New(logger), reg, otlpAppendable{store}, promConfig, remote.OTLPOptions{
			ConvertDelta:  opts.ConvertDelta,
			LookbackDelta: opts.LookbackDelta,
		}),
	}
}

// PrometheusOTLPConfig is the otlp section of Prometheus's configuration
// that says what o says.
func PrometheusOTLPConfig(o hclconfig.OTLP) config.OTLPConfig {
	return config.OTLPConfig{
		PromoteAllResourceAttributes:         o.PromoteAllResourceAttributes,
		PromoteResourceAttributes:            o.PromoteResourceAttributes,
		IgnoreResourceAttributes:             o.IgnoreResourceAttributes,
		TranslationStrategy:                  otlptranslator.TranslationStrategyOption(o.TranslationStrategy),
		KeepIdentifyingResourceAttributes:    o.KeepIdentifyingResourceAttributes,
		ConvertHistogramsToNHCB:              o.ConvertHistogramsToNHCB,
		PromoteScopeMetadata:                 o.PromoteScopeMetadata,
		LabelNameUnderscoreSanitization:      o.LabelNameUnderscoreSanitization,
		LabelNamePreserveMultipleUnderscores: o.LabelNamePreserveMultipleUnderscores,
	}
}

// otlpHandler bounds and checks a request before upstream's handler
// translates and stores it.
type otlpHandler struct {
	logger       hclog.Logger
	maxBytes     int64
	convertDelta bool
	next         http.Handler
}

func (h *otlpHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := readOTLPBody(w, r, h.maxBytes)
	if err != nil {
		status := http.StatusBadRequest
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, err.Error(), status)
		return
	}
	if !h.convertDelta {
		if err := refuseDelta(r.Header.Get("Content-Type"), body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	req := &otlpRequest{}
	inner := r.Clone(context.WithValue(r.Context(), otlpRequestKey{}, req))
	inner.Header.Del("Content-Encoding")
	inner.Body, inner.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	h.next.ServeHTTP(rec, inner)
	// Upstream answers 500 to a request it cannot translate, as to one
	// the store cannot commit; only the latter is the server's fault.
	if rec.status == http.StatusInternalServerError && req.commitErr == nil && r.Context().Err() == nil {
		rec.status = http.StatusBadRequest
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}

// readOTLPBody reads the body of r, gzip unpacked, and refuses one of more
// than limit bytes, compressed or not, with an *http.MaxBytesError.
func readOTLPBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	tooLarge := func() error {
		return fmt.Errorf("the request is larger than otlp_body_size_limit (%d bytes): %w", limit, &http.MaxBytesError{Limit: limit})
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, tooLarge()
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the request: %w", err)
	}
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "":
		return body, nil
	case "gzip":
		gz, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("cannot unpack the gzip body: %w", err)
		}
		plain, err := io.ReadAll(io.LimitReader(gz, limit+1))
		if err != nil {
			return nil, fmt.Errorf("cannot unpack the gzip body: %w", err)
		}
		if int64(len(plain)) > limit {
			return nil, tooLarge()
		}
		return plain, nil
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q: only gzip or none", enc)
	}
}

// refuseDelta says which metrics of the request have delta temporality,
// if any. A body that does not decode is refused with the reason; one of
// a content type that is neither OTLP protobuf nor JSON is left to
// upstream's handler, which says which it takes.
func refuseDelta(contentType string, body []byte) error {
	req := pmetricotlp.NewExportRequest()
	var err error
	switch contentType {
	case "application/x-protobuf":
		err = req.UnmarshalProto(body)
	case "application/json":
		err = req.UnmarshalJSON(body)
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot decode the OTLP request (%s): %w", contentType, err)
	}
	var delta []string
	rms := req.Metrics().ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				if m := ms.At(k); temporality(m) == pmetric.AggregationTemporalityDelta && !slices.Contains(delta, m.Name()) {
					delta = append(delta, m.Name())
				}
			}
		}
	}
	if len(delta) == 0 {
		return nil
	}
	for i, name := range delta {
		delta[i] = fmt.Sprintf("%q", name)
	}
	return fmt.Errorf("metrics of delta temporality are refused, as the otlp block's delta = %q says: %s; nothing of the request was stored. Send cumulative temporality, or set otlp { delta = %q }",
		hclconfig.OTLPDeltaRefuse, strings.Join(delta, ", "), hclconfig.OTLPDeltaConvert)
}

// temporality is the aggregation temporality of m, unspecified for the
// types that have none.
func temporality(m pmetric.Metric) pmetric.AggregationTemporality {
	switch m.Type() {
	case pmetric.MetricTypeSum:
		return m.Sum().AggregationTemporality()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().AggregationTemporality()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().AggregationTemporality()
	}
	return pmetric.AggregationTemporalityUnspecified
}

// otlpRequestKey keys the otlpRequest of a request in its context.
type otlpRequestKey struct{}

// otlpRequest notes whether the store refused to commit a request.
type otlpRequest struct{ commitErr error }

// otlpAppendable gives the appenders of a request with an otlpRequest in
// its context a Commit that notes its error there.
type otlpAppendable struct{ store storage.AppendableV2 }

func (a otlpAppendable) AppenderV2(ctx context.Context) storage.AppenderV2 {
	app := a.store.AppenderV2(ctx)
	if req, ok := ctx.Value(otlpRequestKey{}).(*otlpRequest); ok {
		return &otlpAppender{AppenderV2: app, req: req}
	}
	return app
}

// otlpAppender notes the error of its Commit in its request.
type otlpAppender struct {
	storage.AppenderV2
	req *otlpRequest
}

func (a *otlpAppender) Commit() error {
	err := a.AppenderV2.Commit()
	if err != nil {
		a.req.commitErr = err
	}
	return err
}
