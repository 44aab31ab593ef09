package api

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/internal/testfixture"
)

// FuzzParseTime holds parseTime and parseDuration to their contract for
// any text: no panic; an accepted time lies in the range the API can
// represent, and an accepted duration in seconds is that many seconds.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"0", "1.5", "-1", "1e9", "1e300", "NaN", "Inf", "-Inf", "0x1p-2", "1_000",
		"2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123456789+02:00", "5m", "1h30m", "1y", "-5m", "",
		"9223372036854775807", "-9223372036854775808ms",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ts, err := parseTime(s); err == nil {
			if ts.Before(minTime) || ts.After(maxTime) {
				t.Fatalf("parseTime(%q) = %v, outside [%v, %v]", s, ts, minTime, maxTime)
			}
		}
		if d, err := parseDuration(s); err == nil {
			if f, ferr := strconv.ParseFloat(s, 64); ferr == nil && math.Abs(float64(d)-f*float64(time.Second)) > 1 {
				t.Fatalf("parseDuration(%q) = %d ns, not the %g seconds it says", s, d, f)
			}
		}
	})
}

// fuzzedPaths are the endpoints FuzzAPI sends requests to: every one the
// test server serves from its store.
var fuzzedPaths = []string{
	"/api/v1/query", "/api/v1/query_range", "/api/v1/query_exemplars", "/api/v1/series",
	"/api/v1/labels", "/api/v1/label/job/values", "/api/v1/label/U__a_2e_b/values", "/api/v1/format_query",
	"/api/v1/parse_query", "/api/v1/status/tsdb", "/api/v1/targets", "/api/v1/metadata",
	"/api/v1/targets/metadata", "/api/v1/rules", "/api/v1/alerts", "/federate",
}

// FuzzAPI sends requests with any parameters, in the URL or as a POSTed
// form, to the API's read endpoints over a small store: no request may
// panic, every answer of the API v1 is JSON, and every refusal is the
// client's (4xx): a parameter the server cannot take is bad data, never
// an internal error.
func FuzzAPI(f *testing.F) {
	db := testfixture.Store(f)
	testfixture.AppendEvery(f, db, 0, 600_000, 15_000, func(_ int, ts int64) float64 { return float64(ts / 1000) },
		labels.FromStrings("__name__", "requests_total", "job", "api"), labels.FromStrings("__name__", "requests_total", "job", "db"))
	mux := http.NewServeMux()
	// The bounds a server sets by default: a query's length and its time.
	New(Sources{Engine: testfixture.Engine(f), Store: db, Stats: db.Stats, Version: "test",
		MaxQueryLength: 4096, QueryTimeout: time.Minute}).Register(mux)

	for i, q := range []string{
		"query=sum(requests_total)&time=600",
		"query=requests_total&start=0&end=30&step=15s",
		"query=1&time=1970-01-01T00:10:00Z",
		"query=rate(",
		"query=1&time=NaN",
		"query=1&start=30&end=0&step=1",
		"query=1&start=0&end=1e9&step=0.001",
		"match[]=requests_total{job=\"db\"}&start=-Inf",
		"match[]={job=~\"a|d.*\"}&limit=2000000000",
		"query=sum(rate(x[5m]))by(job)",
		"limit=-1",
		"query=up&timeout=NaN",
		"query=x[5m:1ms]&time=600",
		"match[]={__name__=~\".+\"}",
		"%zz=1",
	} {
		f.Add(uint8(i%len(fuzzedPaths)), q, false)
		f.Add(uint8(i%len(fuzzedPaths)), q, true)
	}
	f.Fuzz(func(t *testing.T, path uint8, params string, post bool) {
		target := fuzzedPaths[int(path)%len(fuzzedPaths)]
		var req *http.Request
		if post {
			req = httptest.NewRequest(http.MethodPost, target, strings.NewReader(params))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(http.MethodGet, target, nil)
			req.URL.RawQuery = params
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s?%s: %d %s", req.Method, target, params, rec.Code, rec.Body)
		}
		if strings.HasPrefix(target, "/api/") && rec.Code != http.StatusMethodNotAllowed && rec.Code != http.StatusNoContent {
			var r struct {
				Status string `json:"status"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || (r.Status != "success" && r.Status != "error") {
				t.Fatalf("%s %s?%s: %d, not an API answer (%v): %s", req.Method, target, params, rec.Code, err, rec.Body)
			}
		}
	})
}
