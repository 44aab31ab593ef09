package main

import (
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

// TestCrossSiteAndSlowClientsEndToEnd: the real binary refuses a silence
// posted by another site's page (by its browser's Origin and
// Sec-Fetch-Site headers) and one posted as text, answers the same silence
// from a client that is not a browser, and closes a connection whose body
// never comes at its read timeout.
func TestCrossSiteAndSlowClientsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(cfg, []byte("server {\n  read_timeout = \"1s\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--config", cfg, "--data", filepath.Join(dir, "data"))
	now := time.Now().UTC()
	silence := fmt.Sprintf(`{"matchers":[{"name":"alertname","value":".+","isRegex":true}],"startsAt":%q,"endsAt":%q,"createdBy":"page","comment":"mute all"}`,
		now.Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
	post := func(contentType string, headers map[string]string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, "http://"+srv.addr+"/api/v2/silences", strings.NewReader(silence))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	page := map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
	if code, body := post("text/plain", page); code != http.StatusForbidden {
		t.Errorf("a silence from another site's page: %d %s, want 403", code, body)
	}
	if code, body := post("application/json", page); code != http.StatusForbidden {
		t.Errorf("a JSON silence from another site's page: %d %s, want 403", code, body)
	}
	if code, body := post("text/plain", nil); code != http.StatusUnsupportedMediaType {
		t.Errorf("a silence sent as text: %d %s, want 415", code, body)
	}
	if code, body := post("application/json", nil); code != http.StatusOK {
		t.Errorf("a silence from a client that is not a browser: %d %s", code, body)
	}
	if _, body := srv.get(t, "/api/v2/silences"); strings.Count(body, `"comment":"mute all"`) != 1 {
		t.Errorf("silences: want only the non-browser one: %s", body)
	}

	conn, err := net.Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/query HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nquery=", srv.addr)
	// The bound only ends a failing test: the server closes the
	// connection after its read timeout of a second.
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := io.Copy(io.Discard, conn); err != nil {
		t.Errorf("the server did not close the connection of a stalled body: %v", err)
	}
}
