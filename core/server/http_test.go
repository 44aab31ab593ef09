package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startTestServer runs a server of the configuration src, with a route
// and the admin API, until the test ends, and returns its address.
func startTestServer(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "vigil.hcl")
	src = fmt.Sprintf("server {\n  listen   = \"127.0.0.1:0\"\n  data_dir = %q\n  enable_admin_api = true\n%s}\n", filepath.Join(dir, "data"), src)
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(ctx, Options{ConfigFile: file})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return srv.Addr()
}

// TestCrossOriginRequestsRefused sends the requests a web page of
// another site can make a browser send: those that change state are
// refused with 403, whatever their body; queries are answered, with
// Access-Control-Allow-Origin. Clients that are not browsers pass.
func TestCrossOriginRequestsRefused(t *testing.T) {
	addr := startTestServer(t, "")
	now := time.Now().UTC()
	silence := fmt.Sprintf(`{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":%q,"endsAt":%q,"createdBy":"x","comment":"x"}`,
		now.Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
	type request struct{ method, path, contentType, body string }
	send := func(r request, headers map[string]string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(r.method, "http://"+addr+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if r.contentType != "" {
			req.Header.Set("Content-Type", r.contentType)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(body)
	}
	changes := []request{
		{"POST", "/api/v2/silences", "text/plain", silence},
		{"POST", "/api/v2/silences", "application/json", silence},
		{"POST", "/api/v2/alerts", "text/plain", `[{"labels":{"alertname":"A"}}]`},
		{"DELETE", "/api/v2/silence/5a6f1d4e-0000-4000-8000-000000000000", "", ""},
		{"POST", "/-/reload", "", ""},
		{"POST", "/api/v1/admin/tsdb/delete_series", "application/x-www-form-urlencoded", "match[]=up"},
		{"PUT", "/api/v1/admin/tsdb/snapshot", "", ""},
	}
	browsers := map[string]map[string]string{
		"Sec-Fetch-Site": {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
		"Origin only":    {"Origin": "https://evil.example"},
	}
	for name, headers := range browsers {
		for _, r := range changes {
			if code, _, body := send(r, headers); code != http.StatusForbidden {
				t.Errorf("%s %s as %q from another site (%s): %d %s, want 403", r.method, r.path, r.contentType, name, code, body)
			}
		}
		query := request{"POST", "/api/v1/query", "application/x-www-form-urlencoded", "query=1"}
		if code, h, body := send(query, headers); code != http.StatusOK || h.Get("Access-Control-Allow-Origin") != "https://evil.example" {
			t.Errorf("a query from another site (%s): %d %s, Access-Control-Allow-Origin %q", name, code, body, h.Get("Access-Control-Allow-Origin"))
		}
	}
	// The same requests from the server's own page, and from a client
	// that is not a browser, pass the check.
	for _, headers := range []map[string]string{{"Sec-Fetch-Site": "same-origin", "Origin": "http://" + addr}, nil} {
		if code, _, body := send(request{"POST", "/api/v2/silences", "application/json", silence}, headers); code != http.StatusOK {
			t.Errorf("a silence with %v: %d %s", headers, code, body)
		}
		if code, _, body := send(request{"POST", "/-/reload", "", ""}, headers); code != http.StatusOK {
			t.Errorf("a reload with %v: %d %s", headers, code, body)
		}
	}
}

// TestCORSOrigin sets the server block's cors_origin: only its origins
// get Access-Control-Allow-Origin.
func TestCORSOrigin(t *testing.T) {
	addr := startTestServer(t, `  cors_origin = "https://(grafana|dash)\\.example"`+"\n")
	for origin, want := range map[string]string{
		"https://grafana.example":      "https://grafana.example",
		"https://grafana.example.evil": "",
		"https://evil.example":         "",
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/query?query=1", nil)
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("origin %s: Access-Control-Allow-Origin %q, want %q", origin, got, want)
		}
	}
}
