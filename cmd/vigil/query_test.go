package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/core/api"
	"github.com/vigilmon/vigil/internal/testfixture"
)

// apiServer serves the API over a store holding up{job="a"} and
// up{job="b"} every 15s over the last 10 minutes.
func apiServer(t *testing.T) *httptest.Server {
	t.Helper()
	db := testfixture.Store(t)
	now := time.Now().UnixMilli()
	testfixture.AppendEvery(t, db, now-600_000, now, 15_000, func(i int, _ int64) float64 { return float64(i) },
		labels.FromStrings("__name__", "up", "job", "a"), labels.FromStrings("__name__", "up", "job", "b"))
	engine := testfixture.Engine(t)
	mux := http.NewServeMux()
	api.New(api.Sources{Engine: engine, Store: db}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestQueryCommand(t *testing.T) {
	srv := apiServer(t)
	for name, tc := range map[string]struct {
		args []string
		code int
		want []string
	}{
		"instant":             {[]string{"query", "--server", srv.URL, "up"}, exitOK, []string{"SERIES", `up{job="a"}  0`, `up{job="b"}  1`}},
		"scalar":              {[]string{"query", "--server", srv.URL, "1+1"}, exitOK, []string{"2"}},
		"json":                {[]string{"query", "--server", srv.URL, "--json", `up{job="b"}`}, exitOK, []string{`"job": "b"`, `"value": [`}},
		"range":               {[]string{"query", "--server", srv.URL, "--start", "-5m", "--step", "1m", `up{job="a"}`}, exitOK, []string{`up{job="a"}  0`}},
		"bad expression":      {[]string{"query", "--server", srv.URL, "rate("}, exitFailure, []string{"bad_data"}},
		"range without start": {[]string{"query", "--server", srv.URL, "--step", "1m", "up"}, exitUsage, []string{"needs --start"}},
		"bad step":            {[]string{"query", "--server", srv.URL, "--start", "-5m", "--step", "often", "up"}, exitUsage, []string{`invalid --step "often"`}},
		"unreachable server":  {[]string{"query", "--server", "http://127.0.0.1:1", "up"}, exitFailure, []string{"127.0.0.1:1"}},
	} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout+stderr, w) {
					t.Errorf("output lacks %q:\n%s%s", w, stdout, stderr)
				}
			}
		})
	}
	if n := strings.Count(func() string {
		_, out, _ := runCLI("query", "--server", srv.URL, "--start", "-5m", "--step", "1m", `up{job="a"}`)
		return out
	}(), `up{job="a"}`); n < 5 {
		t.Errorf("range query printed %d points, want at least 5", n)
	}
}
