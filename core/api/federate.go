package api

import (
	"net/http"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"google.golang.org/protobuf/proto"
)

// federationLookback is how old the newest sample of a series may be and
// still be federated, as Prometheus's default lookback.
const federationLookback = 5 * time.Minute

// federate serves /federate: the newest sample of every series matching
// one of the match[] selectors, with the server's external labels, in the
// exposition format the client asks for. Native histograms are federated
// in the protobuf format only, as Prometheus does; histograms with custom
// buckets go out as classic histograms in every format.
func (a *API) federate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "cannot parse the form: "+err.Error(), http.StatusBadRequest)
		return
	}
	sets, apiErr := a.matchers(r)
	if apiErr != nil {
		http.Error(w, apiErr.Error(), http.StatusBadRequest)
		return
	}
	if len(sets) == 0 {
		http.Error(w, "no match[] parameter provided", http.StatusBadRequest)
		return
	}
	now := time.Now()
	maxt := now.UnixMilli()
	mint := maxt - federationLookback.Milliseconds()
	q, err := a.src.Store.Querier(mint, maxt)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer q.Close()
	hints := &storage.SelectHints{Start: mint, End: maxt}
	var selected []storage.SeriesSet
	for _, ms := range sets {
		selected = append(selected, q.Select(r.Context(), true, hints, ms...))
	}
	set := storage.NewMergeSeriesSet(selected, 0, storage.ChainedSeriesMerge)

	external := labels.EmptyLabels()
	if a.src.ExternalLabels != nil {
		external = a.src.ExternalLabels()
	}
	format := expfmt.NegotiateAccept(r.Header, expfmt.DefaultAcceptedFormats()...)
	var samples []federatedSample
	var it chunkenc.Iterator
	for set.Next() {
		s := set.At()
		it = s.Iterator(it)
		sample, ok, err := newestSample(it)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if !ok || (sample.fh != nil && !canFederateHistogram(sample.fh, format)) {
			continue
		}
		sample.lset = s.Labels()
		samples = append(samples, sample)
	}
	if err := set.Err(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// The format has no place for warnings, such as those of a remote
	// store that failed; as Prometheus, the server logs them.
	if ws := set.Warnings(); len(ws) > 0 {
		warnings, _ := ws.AsStrings("", 10, 0)
		a.src.Logger.Debug("federation read with warnings", "warnings", warnings)
	}
	sort.SliceStable(samples, func(i, j int) bool {
		return samples[i].lset.Get(model.MetricNameLabel) < samples[j].lset.Get(model.MetricNameLabel)
	})

	w.Header().Set("Content-Type", string(format))
	enc := expfmt.NewEncoder(w, format)
	var fam *dto.MetricFamily
	for _, s := range samples {
		name, typ := s.lset.Get(model.MetricNameLabel), s.metricType()
		if fam == nil || fam.GetName() != name || fam.GetType() != typ {
			// A name with floats and histograms becomes two families, as
			// Prometheus federates it; its own parsers accept that.
			if fam != nil {
				if err := enc.Encode(fam); err != nil {
					a.src.Logger.Error("cannot write a federated metric family", "name", fam.GetName(), "error", err)
					return
				}
			}
			fam = &dto.MetricFamily{Name: proto.String(name), Type: typ.Enum()}
		}
		m := &dto.Metric{Label: federatedLabels(s.lset, external), TimestampMs: proto.Int64(s.t)}
		switch {
		case s.fh == nil:
			m.Untyped = &dto.Untyped{Value: proto.Float64(s.f)}
		case s.fh.UsesCustomBuckets():
			m.Histogram = classicHistogram(s.fh)
		default:
			m.Histogram = nativeHistogram(s.fh)
		}
		fam.Metric = append(fam.Metric, m)
	}
	if fam != nil {
		if err := enc.Encode(fam); err != nil {
			a.src.Logger.Error("cannot write a federated metric family", "name", fam.GetName(), "error", err)
			return
		}
	}
	if closer, ok := enc.(expfmt.Closer); ok {
		closer.Close()
	}
}

// federatedSample is the newest sample of one series: a float, or a
// histogram when fh is set.
type federatedSample struct {
	lset labels.Labels
	t    int64
	f    float64
	fh   *histogram.FloatHistogram
}

// metricType is the family type the sample is federated as.
func (s federatedSample) metricType() dto.MetricType {
	switch {
	case s.fh == nil:
		return dto.MetricType_UNTYPED
	case s.fh.CounterResetHint == histogram.GaugeType:
		return dto.MetricType_GAUGE_HISTOGRAM
	default:
		return dto.MetricType_HISTOGRAM
	}
}

// newestSample reads a series to its newest sample. A stale marker as the
// newest sample means the series has ended, and there is nothing to
// federate; the exposition formats cannot carry the marker itself.
func newestSample(it chunkenc.Iterator) (federatedSample, bool, error) {
	var (
		s     federatedSample
		found bool
	)
	for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
		found = true
		switch vt {
		case chunkenc.ValFloat:
			s.t, s.f = it.At()
			s.fh = nil
		case chunkenc.ValHistogram, chunkenc.ValFloatHistogram:
			s.t, s.fh = it.AtFloatHistogram(nil)
		}
	}
	if err := it.Err(); err != nil {
		return s, false, err
	}
	if !found || (s.fh == nil && value.IsStaleNaN(s.f)) || (s.fh != nil && value.IsStaleNaN(s.fh.Sum)) {
		return s, false, nil
	}
	return s, true, nil
}

// canFederateHistogram says whether h can be written in format. Native
// histograms exist only in the protobuf format; histograms with custom
// buckets are written as classic histograms, which every format has.
func canFederateHistogram(h *histogram.FloatHistogram, format expfmt.Format) bool {
	if h.UsesCustomBuckets() {
		return true
	}
	switch format.FormatType() {
	case expfmt.TypeProtoDelim, expfmt.TypeProtoText, expfmt.TypeProtoCompact:
		return true
	}
	return false
}

// nativeHistogram is h as an exposition-format native histogram.
func nativeHistogram(h *histogram.FloatHistogram) *dto.Histogram {
	return &dto.Histogram{
		SampleCountFloat: proto.Float64(h.Count),
		SampleSum:        proto.Float64(h.Sum),
		Schema:           proto.Int32(h.Schema),
		ZeroThreshold:    proto.Float64(h.ZeroThreshold),
		ZeroCountFloat:   proto.Float64(h.ZeroCount),
		PositiveSpan:     bucketSpans(h.PositiveSpans),
		PositiveCount:    h.PositiveBuckets,
		NegativeSpan:     bucketSpans(h.NegativeSpans),
		NegativeCount:    h.NegativeBuckets,
	}
}

func bucketSpans(spans []histogram.Span) []*dto.BucketSpan {
	var out []*dto.BucketSpan
	for _, sp := range spans {
		out = append(out, &dto.BucketSpan{Offset: proto.Int32(sp.Offset), Length: proto.Uint32(sp.Length)})
	}
	return out
}

// classicHistogram is a histogram with custom buckets as a classic
// histogram: one cumulative bucket per upper bound. The +Inf bucket is
// left to the encoder, which adds it from the count.
func classicHistogram(h *histogram.FloatHistogram) *dto.Histogram {
	out := &dto.Histogram{SampleCountFloat: proto.Float64(h.Count), SampleSum: proto.Float64(h.Sum)}
	counts := make([]float64, len(h.CustomValues))
	for it := h.PositiveBucketIterator(); it.Next(); {
		if b := it.At(); int(b.Index) < len(counts) {
			counts[b.Index] = b.Count
		}
	}
	var cumulative float64
	for i, le := range h.CustomValues {
		cumulative += counts[i]
		out.Bucket = append(out.Bucket, &dto.Bucket{UpperBound: proto.Float64(le), CumulativeCountFloat: proto.Float64(cumulative)})
	}
	return out
}

// federatedLabels are a series' labels without the metric name, with the
// external labels it does not have itself. A series without an instance
// label gets an empty one, as Prometheus federates it, so that a server
// scraping /federate with honor_labels does not put its own there.
func federatedLabels(series, external labels.Labels) []*dto.LabelPair {
	var out []*dto.LabelPair
	b := labels.NewBuilder(series)
	external.Range(func(l labels.Label) {
		if series.Get(l.Name) == "" {
			b.Set(l.Name, l.Value)
		}
	})
	b.Del(model.MetricNameLabel)
	b.Labels().Range(func(l labels.Label) {
		out = append(out, &dto.LabelPair{Name: proto.String(l.Name), Value: proto.String(l.Value)})
	})
	if b.Get(model.InstanceLabel) == "" {
		out = append(out, &dto.LabelPair{Name: proto.String(model.InstanceLabel), Value: proto.String("")})
	}
	return out
}
