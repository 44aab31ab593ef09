package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"

	"github.com/gogo/protobuf/proto"
	"github.com/golang/snappy"
	"github.com/hashicorp/go-hclog"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote"

	"github.com/vigilmon/vigil/internal/diskguard"
	"github.com/vigilmon/vigil/internal/hclogslog"
)

// writtenHeaders are the headers of a Remote-Write 2.0 answer that count
// what was written.
var writtenHeaders = []string{
	"X-Prometheus-Remote-Write-Samples-Written",
	"X-Prometheus-Remote-Write-Histograms-Written",
	"X-Prometheus-Remote-Write-Exemplars-Written",
}

// NewWriteHandler serves remote write (POST /api/v1/write) into store, by
// Remote-Write 1.0 and 2.0, with upstream's remote.NewWriteHandler. Where
// upstream keeps the valid part of a request with a bad sample (invalid
// labels in 1.0 are skipped; 2.0 writes the rest, as its specification
// allows), this handler keeps a request whole or not at all: the
// appender's Commit waits for the answer, and anything but a 2xx rolls it
// back. Upstream's 2.0 sender sends exemplars in series of their own,
// without samples, which upstream's handler refuses, and upstream's
// handler answers 400 for an out-of-order exemplar: this handler takes
// every exemplar out of a 2.0 request and adds them to the request's
// appender before its Commit, as upstream's handler adds 1.0 exemplars
// (one that cannot be stored is logged and dropped, and the samples are
// kept). Metadata is not kept. Its metrics,
// upstream's, go to reg.
func NewWriteHandler(logger hclog.Logger, reg prometheus.Registerer, store storage.AppendableV2) http.Handler {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	accepted := remoteapi.MessageTypes{remoteapi.WriteV1MessageType, remoteapi.WriteV2MessageType}
	return &wholeRequests{
		logger: logger,
		store:  store,
		next:   remote.NewWriteHandler(hclogslog.New(logger), reg, deferredAppendable{store}, accepted, false, false),
	}
}

// wholeRequests applies a remote-write request whole or not at all.
type wholeRequests struct {
	logger hclog.Logger
	store  storage.AppendableV2
	next   http.Handler
}

func (h *wholeRequests) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := &transaction{}
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxWriteBytes+1))
		if err != nil {
			http.Error(w, fmt.Sprintf("cannot read the request: %v", err), http.StatusBadRequest)
			return
		}
		if len(body) > maxWriteBytes {
			http.Error(w, fmt.Sprintf("request body exceeds the %d bytes limit", maxWriteBytes), http.StatusRequestEntityTooLarge)
			return
		}
		if err := checkV1Labels(r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"), body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body, t.exemplars, err = splitExemplarSeries(r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"), body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	h.next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), transactionKey{}, t)))
	if rec.status/100 == 2 {
		if added := t.addExemplars(r.Context(), h.store, h.logger); added > 0 {
			name := writtenHeaders[2]
			n, _ := strconv.Atoi(rec.header.Get(name))
			rec.header.Set(name, strconv.Itoa(n+added))
		}
		if err := t.commit(); err != nil {
			// A full disk is a 503, which senders retry, as they retry
			// every 5xx: the samples arrive once space is back.
			status := http.StatusInternalServerError
			if errors.Is(err, diskguard.ErrDiskFull) {
				status = http.StatusServiceUnavailable
			}
			h.logger.Error("cannot store a remote-write request", "error", err)
			http.Error(w, fmt.Sprintf("cannot store the request: %v", err), status)
			return
		}
	} else {
		if err := t.rollback(); err != nil {
			h.logger.Error("cannot roll a refused remote-write request back", "error", err)
		}
		for _, name := range writtenHeaders {
			if rec.header.Get(name) != "" {
				rec.header.Set(name, "0")
			}
		}
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}

// maxWriteBytes bounds a remote-write request, compressed and decoded,
// as upstream's handler bounds it.
const maxWriteBytes = 32 << 20

// decodeSnappy decodes a snappy-compressed body whose decoded length is
// within maxWriteBytes. The length is the body's own claim, which
// snappy.Decode would allocate at once: six bytes may claim 4 GB.
func decodeSnappy(body []byte) ([]byte, error) {
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return nil, err
	}
	if n > maxWriteBytes {
		return nil, fmt.Errorf("decoded size exceeds the %d bytes limit", maxWriteBytes)
	}
	return snappy.Decode(nil, body)
}

// checkV1Labels refuses a Remote-Write 1.0 request with a series whose
// labels upstream's handler would skip without a word: no metric name,
// invalid label names or values, or a label name twice. A body that does
// not decode is left to upstream's handler, which says why.
func checkV1Labels(contentType, encoding string, body []byte) error {
	if contentType == "" {
		contentType = "application/x-protobuf"
	}
	if msg, err := remoteapi.ParseProtoMsg(contentType); err != nil || msg != remoteapi.WriteV1MessageType || encoding != "snappy" {
		return nil
	}
	raw, err := decodeSnappy(body)
	if err != nil {
		return nil
	}
	var req prompb.WriteRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		return nil
	}
	b := labels.NewScratchBuilder(0)
	for i, ts := range req.Timeseries {
		ls := ts.ToLabels(&b, nil)
		switch {
		case !ls.Has(model.MetricNameLabel):
			return fmt.Errorf("series %d, %s, has no metric name; nothing of the request was stored", i, ls)
		case !ls.IsValid(model.UTF8Validation):
			return fmt.Errorf("series %d, %s, has an invalid label name or value; nothing of the request was stored", i, ls)
		}
		if name, dup := ls.HasDuplicateLabelNames(); dup {
			return fmt.Errorf("series %d, %s, has the label %q twice; nothing of the request was stored", i, ls, name)
		}
	}
	return nil
}

// seriesExemplars are the exemplars of a series.
type seriesExemplars struct {
	labels    labels.Labels
	exemplars []exemplar.Exemplar
}

// splitExemplarSeries takes the exemplars out of a Remote-Write 2.0
// request, and the series that hold exemplars alone (as upstream's sender
// sends them) with them, and returns the request without them and the
// exemplars, to be added apart. Upstream's handler refuses a series
// without samples, and answers 400 for an exemplar older than its series'
// newest, which would roll the request's samples back here; added apart,
// such an exemplar is dropped and the samples kept, as by Remote-Write
// 1.0. Other requests, and one without exemplars, are returned as they
// are; one that does not decode is left to upstream's handler, which says
// why.
func splitExemplarSeries(contentType, encoding string, body []byte) ([]byte, []seriesExemplars, error) {
	if msg, err := remoteapi.ParseProtoMsg(contentType); err != nil || msg != remoteapi.WriteV2MessageType || encoding != "snappy" {
		return body, nil, nil
	}
	raw, err := decodeSnappy(body)
	if err != nil {
		return body, nil, nil
	}
	var req writev2.Request
	if err := proto.Unmarshal(raw, &req); err != nil {
		return body, nil, nil
	}
	var held []seriesExemplars
	b := labels.NewScratchBuilder(0)
	kept := req.Timeseries[:0]
	for _, ts := range req.Timeseries {
		if len(ts.Exemplars) == 0 {
			kept = append(kept, ts)
			continue
		}
		ls, err := ts.ToLabels(&b, req.Symbols)
		if err != nil {
			return nil, nil, fmt.Errorf("parsing labels for series %v: %w; nothing of the request was stored", ts.LabelsRefs, err)
		}
		se := seriesExemplars{labels: ls}
		for _, ep := range ts.Exemplars {
			e, err := ep.ToExemplar(&b, req.Symbols)
			if err != nil {
				return nil, nil, fmt.Errorf("parsing exemplar for series %v: %w; nothing of the request was stored", ls, err)
			}
			se.exemplars = append(se.exemplars, e)
		}
		slices.SortFunc(se.exemplars, exemplar.Compare)
		held = append(held, se)
		if len(ts.Samples) > 0 || len(ts.Histograms) > 0 {
			ts.Exemplars = nil
			kept = append(kept, ts)
		}
	}
	if len(held) == 0 {
		return body, nil, nil
	}
	req.Timeseries = kept
	raw, err = proto.Marshal(&req)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot encode the request again: %w", err)
	}
	return snappy.Encode(nil, raw), held, nil
}

// transactionKey keys the transaction of a request in its context.
type transactionKey struct{}

// transaction holds the appenders of one request whose Commit waits for
// the answer, and the exemplars taken out of the request.
type transaction struct {
	pending   []storage.AppenderV2
	exemplars []seriesExemplars
}

// addExemplars adds the exemplars taken out of the request to its
// appender, and returns how many were kept. As upstream's handler does
// with exemplars, one that cannot be stored (of a series not in the
// store, or out of order) is logged and dropped.
func (t *transaction) addExemplars(ctx context.Context, store storage.AppendableV2, logger hclog.Logger) int {
	if len(t.exemplars) == 0 {
		return 0
	}
	if len(t.pending) == 0 {
		t.pending = append(t.pending, store.AppenderV2(ctx))
	}
	app, ok := t.pending[len(t.pending)-1].(storage.ExemplarAppenderV2)
	if !ok {
		logger.Warn("the store takes no exemplars apart from their samples; dropping them", "series", len(t.exemplars))
		return 0
	}
	added := 0
	for _, se := range t.exemplars {
		_, err := app.AppendExemplars(0, se.labels, se.exemplars)
		failed := len(se.exemplars)
		if pErr, ok := errors.AsType[*storage.AppendPartialError](err); ok {
			failed = len(pErr.ExemplarErrors)
		} else if err == nil {
			failed = 0
		}
		if err != nil {
			logger.Debug("dropping exemplars of a remote-write request", "series", se.labels.String(), "error", err)
		}
		added += len(se.exemplars) - failed
	}
	return added
}

func (t *transaction) commit() error {
	for i, app := range t.pending {
		if err := app.Commit(); err != nil {
			for _, rest := range t.pending[i+1:] {
				rest.Rollback()
			}
			return err
		}
	}
	return nil
}

func (t *transaction) rollback() error {
	var first error
	for _, app := range t.pending {
		if err := app.Rollback(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// deferredAppendable gives the appenders of a request with a transaction
// in its context a Commit that waits for the answer.
type deferredAppendable struct{ store storage.AppendableV2 }

func (d deferredAppendable) AppenderV2(ctx context.Context) storage.AppenderV2 {
	app := d.store.AppenderV2(ctx)
	t, _ := ctx.Value(transactionKey{}).(*transaction)
	ex, ok := app.(storage.ExemplarAppenderV2)
	if t == nil || !ok {
		return app
	}
	return &deferredAppender{ExemplarAppenderV2: ex, t: t}
}

// deferredAppender leaves its Commit to the transaction.
type deferredAppender struct {
	storage.ExemplarAppenderV2
	t *transaction
}

func (a *deferredAppender) Commit() error {
	a.t.pending = append(a.t.pending, a.ExemplarAppenderV2)
	return nil
}

// recorder keeps an answer until the transaction is settled.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.body.Write(p)
}
