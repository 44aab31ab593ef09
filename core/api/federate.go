package api

import (
	"net/http"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
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
// exposition format the client asks for. Float samples are federated;
// native histograms are not yet.
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
	families := map[string]*dto.MetricFamily{}
	var it chunkenc.Iterator
	for set.Next() {
		s := set.At()
		it = s.Iterator(it)
		var (
			t     int64
			v     float64
			found bool
		)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			if vt == chunkenc.ValFloat {
				t, v = it.At()
				found = true
			} else {
				found = false
			}
		}
		if it.Err() != nil {
			http.Error(w, it.Err().Error(), http.StatusInternalServerError)
			return
		}
		if !found || value.IsStaleNaN(v) {
			continue
		}
		name := s.Labels().Get(model.MetricNameLabel)
		fam, ok := families[name]
		if !ok {
			fam = &dto.MetricFamily{Name: proto.String(name), Type: dto.MetricType_UNTYPED.Enum()}
			families[name] = fam
		}
		fam.Metric = append(fam.Metric, &dto.Metric{
			Label:       federatedLabels(s.Labels(), external),
			Untyped:     &dto.Untyped{Value: proto.Float64(v)},
			TimestampMs: proto.Int64(t),
		})
	}
	if err := set.Err(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	names := make([]string, 0, len(families))
	for name := range families {
		names = append(names, name)
	}
	sort.Strings(names)
	format := expfmt.Negotiate(r.Header)
	w.Header().Set("Content-Type", string(format))
	enc := expfmt.NewEncoder(w, format)
	for _, name := range names {
		if err := enc.Encode(families[name]); err != nil {
			a.src.Logger.Error("cannot write a federated metric family", "name", name, "error", err)
			return
		}
	}
	if closer, ok := enc.(expfmt.Closer); ok {
		closer.Close()
	}
}

// federatedLabels are a series' labels without the metric name, with the
// external labels it does not have itself.
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
	return out
}
