package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
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
	addr := startTestServer(t, "  enable_lifecycle = true\n")
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

// newTestServer makes, without running it, a server of the
// configuration src on a loopback port.
func newTestServer(t *testing.T, src string) (*Server, error) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := New(t.Context(), Options{ConfigFile: file, Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "data")})
	if err == nil {
		t.Cleanup(func() { srv.Close() })
	}
	return srv, err
}

// TestHTTPTimeoutsAndConnectionLimit checks the defaults, Prometheus's,
// and that a write timeout that would cut the answer to a long query is
// refused.
func TestHTTPTimeoutsAndConnectionLimit(t *testing.T) {
	srv, err := newTestServer(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if srv.http.ReadTimeout != 5*time.Minute || srv.http.WriteTimeout != 3*time.Minute || srv.maxConnections != 512 {
		t.Errorf("read timeout %s, write timeout %s, max connections %d; want 5m, the query timeout and a minute, 512",
			srv.http.ReadTimeout, srv.http.WriteTimeout, srv.maxConnections)
	}
	_, err = newTestServer(t, "server {\n  write_timeout = \"1m\"\n}\nquery {\n  timeout = \"2m\"\n}\n")
	if err == nil || !strings.Contains(err.Error(), "write_timeout (1m0s) must exceed the query block's timeout (2m0s)") {
		t.Errorf("a write timeout below the query timeout: %v", err)
	}
}

// TestSlowRequestBodyTimesOut sends the headers of a request and never
// its body: the server closes the connection at its read timeout instead
// of waiting for ever.
func TestSlowRequestBodyTimesOut(t *testing.T) {
	addr := startTestServer(t, "  read_timeout = \"1s\"\n")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/query HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nquery=", addr)
	// The bound only ends a failing test: the server, with its timeout of
	// a second, closes the connection long before.
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := io.Copy(io.Discard, conn); err != nil {
		t.Fatalf("the server did not close the connection of a stalled body: %v", err)
	}
}

// TestMaxConnections holds the connections max_connections allows: a
// request on one more is not served until one of them closes.
func TestMaxConnections(t *testing.T) {
	addr := startTestServer(t, "  max_connections = 2\n")
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	// Each held connection is accepted once the server answers on it.
	for _, c := range held {
		fmt.Fprintf(c, "GET /-/healthy HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.Contains(line, "200") {
			t.Fatalf("a held connection: %q %v", line, err)
		}
	}
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := client.Get("http://" + addr + "/-/healthy"); err == nil {
		resp.Body.Close()
		t.Fatal("a request beyond max_connections was served")
	}
	held[0].Close()
	client.Timeout = time.Minute
	resp, err := client.Get("http://" + addr + "/-/healthy")
	if err != nil {
		t.Fatalf("a request once a connection closed: %v", err)
	}
	resp.Body.Close()
}

// TestOTLPReceiverSetting serves the OTLP receiver only when the server
// block enables it, and otherwise names the setting in a 404.
func TestOTLPReceiverSetting(t *testing.T) {
	for src, want := range map[string]struct {
		status int
		body   string
	}{
		"":                              {http.StatusNotFound, "server { enable_otlp_receiver = true }"},
		"enable_otlp_receiver = true\n": {http.StatusOK, ""},
	} {
		addr := startTestServer(t, src)
		resp, err := http.Post("http://"+addr+"/api/v1/otlp/v1/metrics", "application/json", strings.NewReader(`{"resourceMetrics":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want.status || !strings.Contains(string(body), want.body) {
			t.Errorf("with %q: answered %d %q, want %d and %q", src, resp.StatusCode, body, want.status, want.body)
		}
	}
}

// TestReloadNeedsLifecycle: POST /-/reload answers 403, and reloads
// nothing, unless the server block enables the lifecycle endpoint, as
// Prometheus's without --web.enable-lifecycle; with it, it reloads.
func TestReloadNeedsLifecycle(t *testing.T) {
	for _, tc := range []struct {
		block string
		code  int
		body  string
	}{
		{"", http.StatusForbidden, "Lifecycle API is not enabled"},
		{"  enable_lifecycle = false\n", http.StatusForbidden, "server { enable_lifecycle = true }"},
		{"  enable_lifecycle = true\n", http.StatusOK, "configuration reloaded"},
	} {
		addr := startTestServer(t, tc.block)
		resp, err := http.Post("http://"+addr+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(string(body), tc.body) {
			t.Errorf("server block %q: POST /-/reload answered %d %q, want %d with %q", tc.block, resp.StatusCode, body, tc.code, tc.body)
		}
	}
}
