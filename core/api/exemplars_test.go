package api

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jsoniter "github.com/json-iterator/go"
	promapi "github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/jsonutil"

	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/internal/testfixture"
)

// TestQueryExemplarsWithClientGolang checks that client_golang reads the
// answer of /api/v1/query_exemplars, with and without a time range, as
// an empty list, and its error for a query that does not parse.
func TestQueryExemplarsWithClientGolang(t *testing.T) {
	srv := newTestServer(t)
	client, err := promapi.NewClient(promapi.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	prom := v1.NewAPI(client)
	ctx := context.Background()
	for _, r := range []struct{ start, end time.Time }{
		{time.Unix(0, 0), time.Unix(600, 0)},
		{}, // no start and end: all of time
	} {
		res, err := prom.QueryExemplars(ctx, `requests_total{job="api"}`, r.start, r.end)
		if err != nil {
			t.Fatalf("exemplars from %v to %v: %v", r.start, r.end, err)
		}
		if res == nil || len(res) != 0 {
			t.Errorf("exemplars from %v to %v: %#v, want an empty list", r.start, r.end, res)
		}
	}
	_, err = prom.QueryExemplars(ctx, `rate(`, time.Time{}, time.Time{})
	var apiErr *v1.Error
	if !errors.As(err, &apiErr) || apiErr.Type != v1.ErrBadData || !strings.Contains(apiErr.Msg, "parse error") {
		t.Errorf("a query that does not parse: %v, want bad_data with the parse error", err)
	}
}

// TestQueryExemplars checks /api/v1/query_exemplars against Prometheus
// with exemplar storage off: the same parameters, checks and errors, in
// the same order, an empty list for a query with a selector and no data
// for one without, by GET and by POST.
func TestQueryExemplars(t *testing.T) {
	srv := newTestServer(t)
	for name, tc := range map[string]struct {
		method string
		params url.Values
		status int
		body   string
	}{
		"GET":                      {http.MethodGet, url.Values{"query": {`requests_total`}, "start": {"0"}, "end": {"600"}}, 200, `{"status":"success","data":[]}`},
		"POST":                     {http.MethodPost, url.Values{"query": {`requests_total`}, "start": {"0"}, "end": {"600"}}, 200, `{"status":"success","data":[]}`},
		"no start and end":         {http.MethodGet, url.Values{"query": {`requests_total`}}, 200, `{"status":"success","data":[]}`},
		"rfc3339 times":            {http.MethodGet, url.Values{"query": {`rate(requests_total[5m])`}, "start": {"1970-01-01T00:00:00Z"}, "end": {"1970-01-01T00:10:00Z"}}, 200, `{"status":"success","data":[]}`},
		"start equal to end":       {http.MethodGet, url.Values{"query": {`requests_total`}, "start": {"30"}, "end": {"30"}}, 200, `{"status":"success","data":[]}`},
		"no selector in the query": {http.MethodGet, url.Values{"query": {`1 + 1`}}, 200, `{"status":"success"}`},
		"bad start": {http.MethodGet, url.Values{"query": {`requests_total`}, "start": {"yesterday"}}, 400,
			`{"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": invalid time value for 'start': cannot parse \"yesterday\" to a valid timestamp"}`},
		"bad end": {http.MethodPost, url.Values{"query": {`requests_total`}, "end": {"tomorrow"}}, 400,
			`{"status":"error","errorType":"bad_data","error":"invalid parameter \"end\": invalid time value for 'end': cannot parse \"tomorrow\" to a valid timestamp"}`},
		"end before start": {http.MethodGet, url.Values{"query": {`requests_total`}, "start": {"30"}, "end": {"0"}}, 400,
			`{"status":"error","errorType":"bad_data","error":"end timestamp must not be before start timestamp"}`},
		"times checked before the query": {http.MethodGet, url.Values{"query": {`rate(`}, "start": {"30"}, "end": {"0"}}, 400,
			`{"status":"error","errorType":"bad_data","error":"end timestamp must not be before start timestamp"}`},
		"bad query": {http.MethodGet, url.Values{"query": {`rate(`}}, 400,
			`{"status":"error","errorType":"bad_data","error":"1:6: parse error: unclosed left parenthesis"}`},
		"no query": {http.MethodPost, nil, 400,
			`{"status":"error","errorType":"bad_data","error":"unknown position: parse error: no expression found in input"}`},
	} {
		t.Run(name, func(t *testing.T) {
			var resp *http.Response
			var err error
			if tc.method == http.MethodPost {
				resp, err = http.PostForm(srv.URL+"/api/v1/query_exemplars", tc.params)
			} else {
				resp, err = http.Get(srv.URL + "/api/v1/query_exemplars?" + tc.params.Encode())
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || string(body) != tc.body {
				t.Errorf("got %d %s\nwant %d %s", resp.StatusCode, body, tc.status, tc.body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
		})
	}
}

// newExemplarServer serves the API over a store holding exemplars of two
// series of requests_total and one of latency_bucket.
func newExemplarServer(t *testing.T) *httptest.Server {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{MaxExemplars: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	app := db.AppenderV2(context.Background())
	for _, s := range []struct {
		lset      labels.Labels
		t         int64
		exemplars []exemplar.Exemplar
	}{
		{labels.FromStrings("__name__", "requests_total", "job", "api"), 1600000000123, []exemplar.Exemplar{
			{Labels: labels.FromStrings("trace_id", "abc"), Value: 1.5, Ts: 1600000000123, HasTs: true},
		}},
		{labels.FromStrings("__name__", "requests_total", "job", "api"), 1600000010000, []exemplar.Exemplar{
			{Labels: labels.FromStrings("trace_id", "def", "span_id", "1"), Value: 2, Ts: 1600000010000, HasTs: true},
		}},
		{labels.FromStrings("__name__", "requests_total", "job", "db"), 1600000000100, []exemplar.Exemplar{
			{Labels: labels.FromStrings("trace_id", "ghi"), Value: 1e-7, Ts: 1600000000100, HasTs: true},
		}},
		{labels.FromStrings("__name__", "latency_bucket", "le", "0.5"), 1600000000010, []exemplar.Exemplar{
			{Labels: labels.FromStrings("trace_id", "jkl"), Value: 0.25, Ts: 1600000000010, HasTs: true},
		}},
	} {
		if _, err := app.Append(0, s.lset, 0, s.t, 1, nil, nil, storage.AppendV2Options{Exemplars: s.exemplars}); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	New(Sources{Engine: testfixture.Engine(t), Store: db, Exemplars: db, Version: "test"}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestQueryExemplarsFromTheStore checks the answer of
// /api/v1/query_exemplars over a store with exemplars, byte for byte in
// Prometheus's shape: the series' labels, each exemplar's labels, its value
// as a string and its time in seconds; selectors of the query and the time
// range pick them.
func TestQueryExemplarsFromTheStore(t *testing.T) {
	srv := newExemplarServer(t)
	for name, tc := range map[string]struct {
		params url.Values
		data   string
	}{
		"one series": {url.Values{"query": {`requests_total{job="api"}`}},
			`[{"seriesLabels":{"__name__":"requests_total","job":"api"},"exemplars":[` +
				`{"labels":{"trace_id":"abc"},"value":"1.5","timestamp":1600000000.123},` +
				`{"labels":{"span_id":"1","trace_id":"def"},"value":"2","timestamp":1600000010}]}]`},
		"time range": {url.Values{"query": {`requests_total`}, "start": {"1600000000.1"}, "end": {"1600000001"}},
			`[{"seriesLabels":{"__name__":"requests_total","job":"api"},"exemplars":[{"labels":{"trace_id":"abc"},"value":"1.5","timestamp":1600000000.123}]},` +
				`{"seriesLabels":{"__name__":"requests_total","job":"db"},"exemplars":[{"labels":{"trace_id":"ghi"},"value":"1e-07","timestamp":1600000000.100}]}]`},
		"two selectors": {url.Values{"query": {`rate(latency_bucket[5m]) / on() group_left requests_total{job="db"}`}},
			`[{"seriesLabels":{"__name__":"latency_bucket","le":"0.5"},"exemplars":[{"labels":{"trace_id":"jkl"},"value":"0.25","timestamp":1600000000.010}]},` +
				`{"seriesLabels":{"__name__":"requests_total","job":"db"},"exemplars":[{"labels":{"trace_id":"ghi"},"value":"1e-07","timestamp":1600000000.100}]}]`},
		"nothing selected": {url.Values{"query": {`nothing`}}, `[]`},
		"before them":      {url.Values{"query": {`requests_total`}, "end": {"1500000000"}}, `[]`},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + "/api/v1/query_exemplars?" + tc.params.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if want := `{"status":"success","data":` + tc.data + `}`; resp.StatusCode != 200 || string(body) != want {
				t.Errorf("got %d %s\nwant 200 %s", resp.StatusCode, body, want)
			}
		})
	}

	// client_golang reads the answer.
	client, err := promapi.NewClient(promapi.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v1.NewAPI(client).QueryExemplars(context.Background(), `requests_total{job="db"}`, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].SeriesLabels["job"] != "db" || len(res[0].Exemplars) != 1 ||
		res[0].Exemplars[0].Value != 1e-7 || res[0].Exemplars[0].Timestamp.Time() != time.UnixMilli(1600000000100) || res[0].Exemplars[0].Labels["trace_id"] != "ghi" {
		t.Errorf("client_golang read %+v", res)
	}
}

// TestExemplarNumbersAsUpstream writes values and timestamps as
// Prometheus's API writes them (util/jsonutil), edge cases included.
func TestExemplarNumbersAsUpstream(t *testing.T) {
	for _, v := range []float64{0, 1, -1, 1.5, 0.1, 1e-6, 9.99e-7, 1e-7, 123456789.125, 1e20, 1e21, -1e21, math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64, math.SmallestNonzeroFloat64} {
		stream := jsoniter.ConfigCompatibleWithStandardLibrary.BorrowStream(nil)
		jsonutil.MarshalFloat(v, stream)
		if got, want := `"`+string(appendPromFloat(nil, v))+`"`, string(stream.Buffer()); got != want {
			t.Errorf("value %v: %s, upstream %s", v, got, want)
		}
		jsoniter.ConfigCompatibleWithStandardLibrary.ReturnStream(stream)
	}
	for _, ts := range []int64{0, 1, 10, 100, 999, 1000, 1001, 1010, 1100, -1, -1001, -1100, 1600000000123, 1600000000000, 1600000000001, math.MaxInt64 / 2, math.MinInt64 / 2} {
		stream := jsoniter.ConfigCompatibleWithStandardLibrary.BorrowStream(nil)
		jsonutil.MarshalTimestamp(ts, stream)
		if got, want := string(appendPromTimestamp(nil, ts)), string(stream.Buffer()); got != want {
			t.Errorf("timestamp %d: %s, upstream %s", ts, got, want)
		}
		jsoniter.ConfigCompatibleWithStandardLibrary.ReturnStream(stream)
	}
}
