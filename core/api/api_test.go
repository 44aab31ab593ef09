package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/testfixture"
)

func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	db := testfixture.Store(t)
	testfixture.AppendEvery(t, db, 0, 600_000, 15_000, func(_ int, ts int64) float64 { return float64(ts / 1000) },
		labels.FromStrings("__name__", "requests_total", "job", "api"), labels.FromStrings("__name__", "requests_total", "job", "db"))
	engine := testfixture.Engine(t)
	mux := http.NewServeMux()
	New(Sources{Engine: engine, Store: db, Stats: db.Stats, Version: "test"}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

func get(t *testing.T, srv *httptest.Server, path string, params url.Values) (int, apiResponse) {
	t.Helper()
	resp, err := http.Get(srv.URL + path + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("%s: %v: %s", path, err, body)
	}
	return resp.StatusCode, r
}

func TestResponsesAndErrors(t *testing.T) {
	srv := newTestServer(t)
	for name, tc := range map[string]struct {
		path      string
		params    url.Values
		status    int
		errorType string
		inData    string
	}{
		"instant query": {"/api/v1/query", url.Values{"query": {`sum(requests_total)`}, "time": {"600"}}, 200, "",
			`{"resultType":"vector","result":[{"metric":{},"value":[600,"1200"]}]}`},
		"range query": {"/api/v1/query_range", url.Values{"query": {`requests_total{job="api"}`}, "start": {"0"}, "end": {"30"}, "step": {"15s"}}, 200, "",
			`"values":[[0,"0"],[15,"15"],[30,"30"]]`},
		"rfc3339 time":               {"/api/v1/query", url.Values{"query": {`1`}, "time": {"1970-01-01T00:10:00Z"}}, 200, "", `"resultType":"scalar","result":[600,"1"]`},
		"parse error":                {"/api/v1/query", url.Values{"query": {`rate(`}}, 400, "bad_data", ""},
		"bad time":                   {"/api/v1/query", url.Values{"query": {`1`}, "time": {"yesterday"}}, 400, "bad_data", ""},
		"missing step":               {"/api/v1/query_range", url.Values{"query": {`1`}, "start": {"0"}, "end": {"30"}}, 400, "bad_data", ""},
		"end before start":           {"/api/v1/query_range", url.Values{"query": {`1`}, "start": {"30"}, "end": {"0"}, "step": {"1"}}, 400, "bad_data", ""},
		"subquery of too many steps": {"/api/v1/query", url.Values{"query": {`requests_total[1y:1ms]`}, "time": {"600"}}, 400, "bad_data", ""},
		"execution error":            {"/api/v1/query", url.Values{"query": {`requests_total + on() requests_total`}, "time": {"600"}}, 422, "execution", ""},
		"series":                     {"/api/v1/series", url.Values{"match[]": {`requests_total{job="db"}`}}, 200, "", `[{"__name__":"requests_total","job":"db"}]`},
		"series without match[]":     {"/api/v1/series", nil, 400, "bad_data", ""},
		"label names":                {"/api/v1/labels", nil, 200, "", `["__name__","job"]`},
		"label values":               {"/api/v1/label/job/values", nil, 200, "", `["api","db"]`},
		"label values, matched":      {"/api/v1/label/job/values", url.Values{"match[]": {`{job="db"}`}}, 200, "", `["db"]`},
		"format_query":               {"/api/v1/format_query", url.Values{"query": {`sum(rate(x[5m]))by(job)`}}, 200, "", `"sum by (job) (rate(x[5m]))"`},
		"tsdb status":                {"/api/v1/status/tsdb", nil, 200, "", `"seriesCountByMetricName":[{"name":"requests_total","value":2}]`},
		"buildinfo":                  {"/api/v1/status/buildinfo", nil, 200, "", `"version":"test"`},
		"empty targets":              {"/api/v1/targets", nil, 200, "", `"activeTargets":[]`},
	} {
		t.Run(name, func(t *testing.T) {
			status, r := get(t, srv, tc.path, tc.params)
			if status != tc.status || r.ErrorType != tc.errorType {
				t.Fatalf("got %d %q (%s), want %d %q", status, r.ErrorType, r.Error, tc.status, tc.errorType)
			}
			wantStatus := "success"
			if tc.errorType != "" {
				wantStatus = "error"
			}
			if r.Status != wantStatus {
				t.Errorf("status %q, want %q", r.Status, wantStatus)
			}
			if !strings.Contains(string(r.Data), tc.inData) {
				t.Errorf("data %s does not contain %s", r.Data, tc.inData)
			}
		})
	}
}

// TestNonFiniteParameters checks that NaN, infinities and times beyond
// the representable range are refused with 400 bad_data naming the
// parameter, as Prometheus refuses what it cannot parse, rather than
// turned into an arbitrary time or an expired timeout.
func TestNonFiniteParameters(t *testing.T) {
	srv := newTestServer(t)
	instant := func(name, value string) url.Values {
		return url.Values{"query": {"1"}, "time": {"600"}, name: {value}}
	}
	ranged := func(name, value string) url.Values {
		v := url.Values{"query": {"1"}, "start": {"0"}, "end": {"30"}, "step": {"15"}}
		v.Set(name, value)
		return v
	}
	for _, value := range []string{"NaN", "Inf", "-Inf", "1e300", "-1e300"} {
		for _, tc := range []struct {
			path, param string
			params      url.Values
		}{
			{"/api/v1/query", "time", instant("time", value)},
			{"/api/v1/query", "timeout", instant("timeout", value)},
			{"/api/v1/query_range", "start", ranged("start", value)},
			{"/api/v1/query_range", "end", ranged("end", value)},
			{"/api/v1/query_range", "step", ranged("step", value)},
			{"/api/v1/query_range", "timeout", ranged("timeout", value)},
			{"/api/v1/series", "start", url.Values{"match[]": {"up"}, "start": {value}}},
			{"/api/v1/labels", "end", url.Values{"end": {value}}},
		} {
			if tc.param == "timeout" && strings.HasPrefix(value, "-") {
				continue // a negative timeout has expired, as in Prometheus
			}
			status, r := get(t, srv, tc.path, tc.params)
			if status != http.StatusBadRequest || r.ErrorType != "bad_data" || !strings.Contains(r.Error, `"`+tc.param+`"`) {
				t.Errorf("%s %s=%s: %d %s %q, want 400 bad_data naming %q", tc.path, tc.param, value, status, r.ErrorType, r.Error, tc.param)
			}
		}
	}
}

// TestFormBodyLimit posts a form beyond the 10 MB a form may have: 413,
// not 400.
func TestFormBodyLimit(t *testing.T) {
	srv := newTestServer(t)
	form := url.Values{"query": {"1"}, "pad": {strings.Repeat("x", 10<<20)}}.Encode()
	resp, err := http.Post(srv.URL+"/api/v1/query", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), `"errorType":"bad_data"`) {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
}

// TestTSDBStatusLimit checks that status/tsdb refuses a limit above
// Prometheus's bound of 10,000 with its message, before the store is
// asked: a huge limit once made the store allocate for it.
func TestTSDBStatusLimit(t *testing.T) {
	srv := newTestServer(t)
	for limit, want := range map[string]string{
		"10000":      "",
		"10001":      "limit must not exceed 10000",
		"2000000000": "limit must not exceed 10000",
		"0":          "limit must be a positive number",
	} {
		status, r := get(t, srv, "/api/v1/status/tsdb", url.Values{"limit": {limit}})
		switch {
		case want == "" && status != http.StatusOK:
			t.Errorf("limit=%s: %d %s", limit, status, r.Error)
		case want != "" && (status != http.StatusBadRequest || r.ErrorType != "bad_data" || r.Error != want):
			t.Errorf("limit=%s: %d %s %q, want 400 bad_data %q", limit, status, r.ErrorType, r.Error, want)
		}
	}
}

// TestRuntimeInfoRetention checks storageRetention of status/runtimeinfo:
// the server block's retention as Prometheus writes it, or "forever".
func TestRuntimeInfoRetention(t *testing.T) {
	for want, retention := range map[string]time.Duration{
		"15d":     hclconfig.DefaultRetention,
		"1d12h":   36 * time.Hour,
		"forever": 0,
	} {
		t.Run(want, func(t *testing.T) {
			cfg := &hclconfig.Config{Server: hclconfig.Server{Retention: retention}}
			mux := http.NewServeMux()
			New(Sources{Config: func() *hclconfig.Config { return cfg }}).Register(mux)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			status, r := get(t, srv, "/api/v1/status/runtimeinfo", nil)
			var info struct {
				StorageRetention string `json:"storageRetention"`
			}
			if err := json.Unmarshal(r.Data, &info); status != http.StatusOK || err != nil || info.StorageRetention != want {
				t.Fatalf("%d %s (%v): storageRetention %q, want %q", status, r.Data, err, info.StorageRetention, want)
			}
		})
	}
}

func TestPostForm(t *testing.T) {
	srv := newTestServer(t)
	resp, err := http.PostForm(srv.URL+"/api/v1/query", url.Values{"query": {`count(requests_total)`}, "time": {"600"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"value":[600,"2"]`) {
		t.Fatalf("POST query: %d %s", resp.StatusCode, body)
	}
}

func TestFederate(t *testing.T) {
	db := testfixture.Store(t)
	now := time.Now().UnixMilli()
	app := db.AppenderV2(context.Background())
	for _, s := range []struct {
		lset labels.Labels
		t    int64
		v    float64
	}{
		{labels.FromStrings("__name__", "up", "job", "a"), now - 30_000, 0},
		{labels.FromStrings("__name__", "up", "job", "a"), now - 15_000, 1},
		{labels.FromStrings("__name__", "up", "job", "b", "cluster", "own"), now - 15_000, 1},
		{labels.FromStrings("__name__", "up", "job", "old"), now - 3_600_000, 1},
		{labels.FromStrings("__name__", "other", "job", "a"), now - 15_000, 5},
	} {
		if _, err := app.Append(0, s.lset, 0, s.t, s.v, nil, nil, storage.AppendV2Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	New(Sources{Store: db, ExternalLabels: func() labels.Labels { return labels.FromStrings("cluster", "dev") }}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/federate?"+url.Values{"match[]": {`up`}}.Encode(), nil)
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	got := string(body)
	for _, want := range []string{
		fmt.Sprintf(`up{cluster="dev",job="a",instance=""} 1 %d`, now-15_000),
		fmt.Sprintf(`up{cluster="own",job="b",instance=""} 1 %d`, now-15_000),
	} {
		if !strings.Contains(got, want) {
			t.Errorf("federation lacks %q:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{`job="old"`, "other", " 0 "} {
		if strings.Contains(got, unwanted) {
			t.Errorf("federation has %q:\n%s", unwanted, got)
		}
	}
	resp, err = http.Get(srv.URL + "/federate")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no match[]: status %d, want 400", resp.StatusCode)
	}
}

func TestQueriesWaitForASlot(t *testing.T) {
	db := testfixture.Store(t)
	engine := testfixture.Engine(t)
	a := New(Sources{Engine: engine, Store: db, MaxConcurrentQueries: 1})
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	a.slots <- struct{}{} // the one slot is taken
	status, r := get(t, srv, "/api/v1/query", url.Values{"query": {"1"}, "timeout": {"0.2"}})
	if status != http.StatusServiceUnavailable || r.ErrorType != "timeout" || !strings.Contains(r.Error, "query slot") {
		t.Fatalf("a query without a slot: %d %q %q", status, r.ErrorType, r.Error)
	}
	<-a.slots
	if status, r := get(t, srv, "/api/v1/query", url.Values{"query": {"1"}}); status != http.StatusOK {
		t.Fatalf("a query with a free slot: %d %q", status, r.Error)
	}
}

func TestAdminEndpoints(t *testing.T) {
	db := testfixture.Store(t)
	app := db.AppenderV2(context.Background())
	for _, job := range []string{"a", "b"} {
		if _, err := app.Append(0, labels.FromStrings("__name__", "up", "job", job), 0, 1000, 1, nil, nil, storage.AppendV2Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	engine := testfixture.Engine(t)
	serve := func(admin Admin, snapshots string) *httptest.Server {
		mux := http.NewServeMux()
		New(Sources{Engine: engine, Store: db, Admin: admin, SnapshotDir: snapshots}).Register(mux)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		return srv
	}
	post := func(srv *httptest.Server, path string, params url.Values) (int, string) {
		resp, err := http.PostForm(srv.URL+path, params)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}

	disabled := serve(nil, "")
	for _, path := range []string{"/api/v1/admin/tsdb/delete_series", "/api/v1/admin/tsdb/clean_tombstones", "/api/v1/admin/tsdb/snapshot"} {
		if status, body := post(disabled, path, url.Values{"match[]": {"up"}}); status != http.StatusServiceUnavailable || !strings.Contains(body, "admin APIs disabled") {
			t.Errorf("%s while disabled: %d %s", path, status, body)
		}
	}

	snapshots := t.TempDir()
	enabled := serve(db, snapshots)
	if status, body := post(enabled, "/api/v1/admin/tsdb/delete_series", nil); status != http.StatusBadRequest {
		t.Errorf("delete_series without match[]: %d %s", status, body)
	}
	if status, body := post(enabled, "/api/v1/admin/tsdb/delete_series", url.Values{"match[]": {`up{job="a"}`}}); status != http.StatusNoContent {
		t.Fatalf("delete_series: %d %s", status, body)
	}
	_, r := get(t, enabled, "/api/v1/series", url.Values{"match[]": {"up"}})
	if strings.Contains(string(r.Data), `"job":"a"`) || !strings.Contains(string(r.Data), `"job":"b"`) {
		t.Errorf("series after delete: %s", r.Data)
	}
	if status, body := post(enabled, "/api/v1/admin/tsdb/clean_tombstones", nil); status != http.StatusNoContent {
		t.Fatalf("clean_tombstones: %d %s", status, body)
	}
	status, body := post(enabled, "/api/v1/admin/tsdb/snapshot", nil)
	var snap struct {
		Data struct{ Name string } `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &snap); status != http.StatusOK || err != nil || snap.Data.Name == "" {
		t.Fatalf("snapshot: %d %s", status, body)
	}
	copied, err := tsdb.Open(filepath.Join(snapshots, snap.Data.Name), tsdb.Options{})
	if err != nil {
		t.Fatalf("the snapshot does not open: %v", err)
	}
	defer copied.Close()
	if st, _ := copied.Stats(10); st.NumSeries < 1 {
		t.Errorf("snapshot holds %d series", st.NumSeries)
	}
	if status, body := post(enabled, "/api/v1/admin/tsdb/snapshot", url.Values{"skip_head": {"true"}}); status != http.StatusOK {
		t.Errorf("snapshot with skip_head: %d %s", status, body)
	}
	if status, body := post(enabled, "/api/v1/admin/tsdb/snapshot", url.Values{"skip_head": {"maybe"}}); status != http.StatusBadRequest || !strings.Contains(body, "skip_head") {
		t.Errorf("snapshot with a bad skip_head: %d %s", status, body)
	}
}

// TestDeleteSeriesKeepsLaterSamples checks that delete_series without
// start and end, as Prometheus's, deletes the samples the series hold when
// it is called: samples scraped afterwards are answered, also after the
// store is reopened, while the deleted ones stay deleted.
func TestDeleteSeriesKeepsLaterSamples(t *testing.T) {
	dir := t.TempDir()
	db, err := tsdb.Open(dir, tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	a := labels.FromStrings("__name__", "up", "job", "a")
	b := labels.FromStrings("__name__", "up", "job", "b")
	appendAt := func(ts int64, series ...labels.Labels) {
		t.Helper()
		testfixture.AppendEvery(t, db, ts, ts, 1, func(_ int, ts int64) float64 { return float64(ts / 1000) }, series...)
	}
	for ts := int64(1000); ts <= 3000; ts += 1000 {
		appendAt(ts, a, b)
	}
	engine := testfixture.Engine(t)
	serve := func() *httptest.Server {
		mux := http.NewServeMux()
		New(Sources{Engine: engine, Store: db, Admin: db}).Register(mux)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		return srv
	}
	srv := serve()
	resp, err := http.PostForm(srv.URL+"/api/v1/admin/tsdb/delete_series", url.Values{"match[]": {`up{job="a"}`}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete_series: status %d", resp.StatusCode)
	}
	appendAt(4000, a, b)
	appendAt(5000, a, b)

	check := func(stage, want string) {
		t.Helper()
		status, r := get(t, srv, "/api/v1/query", url.Values{"query": {`up[1h]`}, "time": {"100"}})
		if status != http.StatusOK {
			t.Fatalf("%s: query: %d %s", stage, status, r.Error)
		}
		if string(r.Data) != want {
			t.Errorf("%s: samples\n got %s\nwant %s", stage, r.Data, want)
		}
	}
	want := `{"resultType":"matrix","result":[` +
		`{"metric":{"__name__":"up","job":"a"},"values":[[4,"4"],[5,"5"]]},` +
		`{"metric":{"__name__":"up","job":"b"},"values":[[1,"1"],[2,"2"],[3,"3"],[4,"4"],[5,"5"]]}]}`
	check("after the deletion", want)

	srv.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = tsdb.Open(dir, tsdb.Options{}); err != nil {
		t.Fatal(err)
	}
	srv = serve()
	check("after reopening the store", want)
	appendAt(6000, a, b)
	want = `{"resultType":"matrix","result":[` +
		`{"metric":{"__name__":"up","job":"a"},"values":[[4,"4"],[5,"5"],[6,"6"]]},` +
		`{"metric":{"__name__":"up","job":"b"},"values":[[1,"1"],[2,"2"],[3,"3"],[4,"4"],[5,"5"],[6,"6"]]}]}`
	check("a sample appended after reopening", want)
}

// TestCORS checks Access-Control-Allow-Origin on the API v1, for an
// allowed origin only, and the answer to a browser's preflight request.
func TestCORS(t *testing.T) {
	db := testfixture.Store(t)
	mux := http.NewServeMux()
	New(Sources{Engine: testfixture.Engine(t), Store: db, Stats: db.Stats,
		CORSOrigin: func(o string) bool { return o == "https://grafana.example" }}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tc := range []struct{ method, origin, want string }{
		{http.MethodGet, "https://grafana.example", "https://grafana.example"},
		{http.MethodOptions, "https://grafana.example", "https://grafana.example"},
		{http.MethodGet, "https://evil.example", ""},
		{http.MethodGet, "", ""},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+"/api/v1/query?query=1", nil)
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); resp.StatusCode != http.StatusOK || got != tc.want {
			t.Errorf("%s from %q: %d, Access-Control-Allow-Origin %q, want %q", tc.method, tc.origin, resp.StatusCode, got, tc.want)
		}
	}
	// Answering preflight requests leaves the answers of other methods
	// alone: an unknown path is still not found, and a known one refuses
	// a method it does not serve.
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/api/v1/no_such_endpoint", http.StatusNotFound},
		{http.MethodPut, "/api/v1/admin/wipe", http.StatusNotFound},
		{http.MethodDelete, "/api/v1/query", http.StatusMethodNotAllowed},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
}

// TestQueryAdmission checks what bounds the parser's work, which cannot
// be stopped: a query longer than MaxQueryLength is refused before it is
// parsed, format_query refuses a tree too large to format in good time,
// and parsing waits for a query slot, within the query's time.
func TestQueryAdmission(t *testing.T) {
	db := testfixture.Store(t)
	a := New(Sources{Engine: testfixture.Engine(t), Store: db, MaxQueryLength: 4000, MaxConcurrentQueries: 1})
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	long := "1" + strings.Repeat("+1", 2000) // 4001 bytes
	for _, path := range []string{"/api/v1/query", "/api/v1/query_range", "/api/v1/parse_query"} {
		status, r := get(t, srv, path, url.Values{"query": {long}, "start": {"0"}, "end": {"1"}, "step": {"1"}})
		if status != http.StatusBadRequest || r.Error != `invalid parameter "query": the query is 4001 bytes long, more than the 4000 of the query block's max_query_length` {
			t.Errorf("%s of a long query: %d %s", path, status, r.Error)
		}
	}
	for query, want := range map[string]string{
		"up" + strings.Repeat("+up", 200):              `invalid parameter "query": the query has 401 nodes, more than the 256 format_query formats`,
		"up{a=~\"" + strings.Repeat("x", 4096) + "\"}": `invalid parameter "query": the query is 4105 bytes long, more than the 4096 format_query formats`,
	} {
		status, r := get(t, srv, "/api/v1/format_query", url.Values{"query": {query}})
		if status != http.StatusBadRequest || r.Error != want {
			t.Errorf("format_query of %.40s: %d %s, want %s", query, status, r.Error, want)
		}
	}

	a.slots <- struct{}{} // every slot taken
	for _, path := range []string{"/api/v1/query", "/api/v1/query_range", "/api/v1/format_query", "/api/v1/parse_query"} {
		params := url.Values{"query": {"rate("}, "timeout": {"0.1"}, "start": {"0"}, "end": {"1"}, "step": {"1"}}
		status, r := get(t, srv, path, params)
		if status != http.StatusServiceUnavailable || r.ErrorType != "timeout" || !strings.Contains(r.Error, "waiting for a query slot") {
			t.Errorf("%s parsed without a slot: %d %s %s", path, status, r.ErrorType, r.Error)
		}
	}
	<-a.slots
	if status, r := get(t, srv, "/api/v1/format_query", url.Values{"query": {"sum(up)"}}); status != http.StatusOK {
		t.Errorf("format_query with a free slot: %d %s", status, r.Error)
	}
}
