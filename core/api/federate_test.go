package api

import (
	"context"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilmon/vigil/internal/testfixture"
)

// TestFederateHistograms checks that native histograms are federated in
// the protobuf format only, histograms with custom buckets as classic
// histograms in every format, and that a stale histogram is left out.
func TestFederateHistograms(t *testing.T) {
	db := testfixture.Store(t)
	now := time.Now().UnixMilli()
	native := &histogram.Histogram{
		Schema: 1, Count: 5, Sum: 12, ZeroThreshold: 0.001, ZeroCount: 1,
		PositiveSpans: []histogram.Span{{Offset: 0, Length: 2}}, PositiveBuckets: []int64{2, 0},
	}
	custom := &histogram.Histogram{
		Schema: histogram.CustomBucketsSchema, Count: 7, Sum: 3,
		PositiveSpans: []histogram.Span{{Offset: 0, Length: 3}}, PositiveBuckets: []int64{1, 2, 0},
		CustomValues: []float64{0.1, 1, 10},
	}
	gauge := native.Copy()
	gauge.CounterResetHint = histogram.GaugeType
	stale := native.Copy()
	stale.Sum = math.Float64frombits(value.StaleNaN)
	app := db.AppenderV2(context.Background())
	for _, s := range []struct {
		lset labels.Labels
		t    int64
		h    *histogram.Histogram
	}{
		{labels.FromStrings("__name__", "latency", "job", "a"), now - 10_000, native},
		{labels.FromStrings("__name__", "sizes", "job", "a"), now - 10_000, custom},
		{labels.FromStrings("__name__", "queue", "job", "a"), now - 10_000, gauge},
		{labels.FromStrings("__name__", "gone", "job", "a"), now - 20_000, native},
		{labels.FromStrings("__name__", "gone", "job", "a"), now - 10_000, stale},
	} {
		if _, err := app.Append(0, s.lset, 0, s.t, 0, s.h, nil, storage.AppendV2Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	New(Sources{Store: db}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	fetch := func(accept string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/federate?"+url.Values{"match[]": {`{job="a"}`}}.Encode(), nil)
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	// Text: the custom buckets as a classic histogram, nothing native.
	resp := fetch("text/plain")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("text federation does not parse: %v", err)
	}
	if len(fams) != 1 || fams["sizes"] == nil {
		t.Fatalf("text federation has %d families, want only sizes: %v", len(fams), fams)
	}
	h := fams["sizes"].Metric[0].GetHistogram()
	var cumulative []float64
	for _, b := range h.GetBucket() {
		cumulative = append(cumulative, float64(b.GetCumulativeCount()))
	}
	if want := []float64{1, 4, 7, 7}; !slices.Equal(cumulative, want) {
		t.Errorf("classic buckets %v, want %v (the last is +Inf)", cumulative, want)
	}

	// Protobuf: native histograms with their schema and buckets, the gauge
	// histogram as its own type, and no stale series.
	resp = fetch(`application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited`)
	dec := expfmt.NewDecoder(resp.Body, expfmt.NewFormat(expfmt.TypeProtoDelim))
	got := map[string]*dto.MetricFamily{}
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err != nil {
			break
		}
		got[mf.GetName()] = &mf
	}
	if len(got) != 3 || got["gone"] != nil {
		t.Fatalf("protobuf federation has %v, want latency, queue and sizes", slices.Sorted(maps.Keys(got)))
	}
	lat := got["latency"]
	if lat.GetType() != dto.MetricType_HISTOGRAM || got["queue"].GetType() != dto.MetricType_GAUGE_HISTOGRAM {
		t.Errorf("types: latency %v, queue %v", lat.GetType(), got["queue"].GetType())
	}
	nh := lat.Metric[0].GetHistogram()
	if nh.GetSchema() != 1 || nh.GetSampleCountFloat() != 5 || nh.GetSampleSum() != 12 || nh.GetZeroCountFloat() != 1 ||
		len(nh.GetPositiveCount()) != 2 || nh.GetPositiveCount()[0] != 2 || nh.GetPositiveCount()[1] != 2 {
		t.Errorf("native histogram federated as %v", nh)
	}
	if lat.Metric[0].GetTimestampMs() != now-10_000 {
		t.Errorf("timestamp %d, want %d", lat.Metric[0].GetTimestampMs(), now-10_000)
	}
}
