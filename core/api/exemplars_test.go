package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
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
