package api

import (
	"context"
	"net/url"
	"testing"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// TestEmptyResultsAreLists decodes answers that select nothing with
// client_golang's API client, which refuses null where Prometheus gives
// an empty list: the aggregation of a metric no series has, as a range
// and as an instant query, and series and labels that match nothing.
func TestEmptyResultsAreLists(t *testing.T) {
	srv := newTestServer(t)
	client, err := promapi.NewClient(promapi.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	prom := v1.NewAPI(client)
	ctx := context.Background()
	start, end := time.Unix(0, 0), time.Unix(600, 0)

	for _, expr := range []string{"sum(nonexistent_metric_name)", "nonexistent_metric_name", "rate(nonexistent_metric_name[5m])"} {
		v, _, _, err := prom.QueryRange(ctx, expr, v1.Range{Start: start, End: end, Step: 15 * time.Second})
		if err != nil {
			t.Fatalf("range query %s: %v", expr, err)
		}
		if m, ok := v.(model.Matrix); !ok || m == nil || len(m) != 0 {
			t.Errorf("range query %s: got %#v, want an empty matrix", expr, v)
		}
		v, _, _, err = prom.Query(ctx, expr, end)
		if err != nil {
			t.Fatalf("instant query %s: %v", expr, err)
		}
		if vec, ok := v.(model.Vector); !ok || vec == nil || len(vec) != 0 {
			t.Errorf("instant query %s: got %#v, want an empty vector", expr, v)
		}
	}

	series, _, _, err := prom.Series(ctx, []string{`nonexistent_metric_name`}, start, end)
	if err != nil || series == nil || len(series) != 0 {
		t.Errorf("series: got %#v, %v; want an empty list", series, err)
	}
	names, _, _, err := prom.LabelNames(ctx, []string{`nonexistent_metric_name`}, start, end)
	if err != nil || names == nil || len(names) != 0 {
		t.Errorf("label names: got %#v, %v; want an empty list", names, err)
	}
	values, _, _, err := prom.LabelValues(ctx, "job", []string{`nonexistent_metric_name`}, start, end)
	if err != nil || values == nil || len(values) != 0 {
		t.Errorf("label values: got %#v, %v; want an empty list", values, err)
	}

	// The raw text too: a list, never null.
	_, r := get(t, srv, "/api/v1/query_range", url.Values{"query": {"sum(nonexistent_metric_name)"}, "start": {"0"}, "end": {"600"}, "step": {"15"}})
	if want := `{"resultType":"matrix","result":[]}`; string(r.Data) != want {
		t.Errorf("query_range: data %s, want %s", r.Data, want)
	}
}
