package scrape

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilmon/vigil/internal/certgen"
)

// testPKI is a throwaway certificate authority, with a server certificate
// for 127.0.0.1 and a client certificate, written as PEM files.
type testPKI struct {
	pool                                           *x509.CertPool
	server                                         tls.Certificate
	caFile, clientCertFile, clientKeyFile, subject string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	ca, err := certgen.NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.Server("127.0.0.1", []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{pool: x509.NewCertPool(), subject: "scraper"}
	client, err := ca.Client(p.subject, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(ca.Write(dir, "ca"), client.Write(dir, "client")); err != nil {
		t.Fatal(err)
	}
	p.pool.AddCert(ca.Cert)
	if p.server, err = tls.X509KeyPair(server.CertPEM, server.KeyPEM); err != nil {
		t.Fatal(err)
	}
	p.caFile = filepath.Join(dir, "ca.pem")
	p.clientCertFile, p.clientKeyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	return p
}

// TestScrapeMutualTLSAndBasicAuth: a target that asks for a client
// certificate signed by its authority and a user and password is scraped
// with the tls and basic_auth blocks, the password read from a file.
func TestScrapeMutualTLSAndBasicAuth(t *testing.T) {
	pki := newTestPKI(t)
	var mu sync.Mutex
	var peers []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "vigil" || pass != "s3cret" {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		peers = append(peers, r.TLS.PeerCertificates[0].Subject.CommonName)
		mu.Unlock()
		fmt.Fprintln(w, "secured 1")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	passwordFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(passwordFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(srv.URL, "https://")
	config := fmt.Sprintf(`scrape "secure" {
  scheme = "https"
  basic_auth {
    username      = "vigil"
    password_file = %q
  }
  tls {
    ca_file     = %q
    cert_file   = %q
    key_file    = %q
    min_version = "TLS13"
  }
}`, passwordFile, pki.caFile, pki.clientCertFile, pki.clientKeyFile)
	s, _ := newTestScraper(t, config, addr)
	if h := mustScrape(t, s, time.UnixMilli(1000)); !h.Up || h.SamplesScraped != 1 {
		t.Fatalf("scrape with the client certificate and password: %+v", h)
	}
	mu.Lock()
	if len(peers) != 1 || peers[0] != pki.subject {
		t.Errorf("the target saw client certificates %q, want %q", peers, pki.subject)
	}
	mu.Unlock()

	// Without the client certificate, the handshake fails.
	s, _ = newTestScraper(t, fmt.Sprintf(`scrape "secure" {
  scheme = "https"
  tls {
    ca_file = %q
  }
}`, pki.caFile), addr)
	if h := mustScrape(t, s, time.UnixMilli(2000)); h.Up || !strings.Contains(h.LastError, "certificate") {
		t.Errorf("scrape without a client certificate: %+v", h)
	}
}

// TestScrapeBearerTokenFileIsReadEachTime: a rotated token file is taken
// up by the next scrape, without a reload.
func TestScrapeBearerTokenFileIsReadEachTime(t *testing.T) {
	var mu sync.Mutex
	var tokens []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tokens = append(tokens, r.Header.Get("Authorization"))
		mu.Unlock()
		fmt.Fprintln(w, "m 1")
	}))
	t.Cleanup(srv.Close)
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("first\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := newTestScraper(t, fmt.Sprintf(`scrape "app" { bearer_token_file = %q }`, file), strings.TrimPrefix(srv.URL, "http://"))
	mustScrape(t, s, time.UnixMilli(1000))
	if err := os.WriteFile(file, []byte("second\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustScrape(t, s, time.UnixMilli(2000))
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"Bearer first", "Bearer second"}; strings.Join(tokens, ",") != strings.Join(want, ",") {
		t.Errorf("tokens sent: %q, want %q", tokens, want)
	}
}

// TestScrapeThroughProxyWithHeaders: proxy_url sends the scrape to the
// proxy, with the block's headers.
func TestScrapeThroughProxyWithHeaders(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.String()+" "+r.Header.Get("X-Tenant"))
		mu.Unlock()
		fmt.Fprintln(w, "via_proxy 1")
	}))
	t.Cleanup(proxy.Close)
	config := fmt.Sprintf(`scrape "app" {
  headers   = { "X-Tenant" = "a" }
  proxy_url = %q
}`, proxy.URL)
	// The proxy answers for a host that does not exist.
	s, _ := newTestScraper(t, config, "target.invalid:8080")
	if h := mustScrape(t, s, time.UnixMilli(1000)); !h.Up {
		t.Fatalf("scrape through the proxy: %+v", h)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "http://target.invalid:8080/metrics a"; len(asked) != 1 || asked[0] != want {
		t.Errorf("the proxy was asked %q, want only %q", asked, want)
	}
}

// TestScrapeRedirects: redirects are followed unless follow_redirects is
// false, when the scrape fails with the redirect's status.
func TestScrapeRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			http.Redirect(w, r, "/moved", http.StatusFound)
			return
		}
		fmt.Fprintln(w, "moved 1")
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	s, _ := newTestScraper(t, `scrape "app" {}`, addr)
	if h := mustScrape(t, s, time.UnixMilli(1000)); !h.Up || h.SamplesScraped != 1 {
		t.Errorf("redirect followed: %+v", h)
	}
	s, _ = newTestScraper(t, `scrape "app" { follow_redirects = false }`, addr)
	if h := mustScrape(t, s, time.UnixMilli(1000)); h.Up || !strings.Contains(h.LastError, "302") {
		t.Errorf("redirect not followed: %+v", h)
	}
}

// TestScrapeGzipBody: a gzip body is decompressed, by one reader reused
// from scrape to scrape, and body_size_limit bounds what it decompresses
// to.
func TestScrapeGzipBody(t *testing.T) {
	var body bytes.Buffer
	zw := gzip.NewWriter(&body)
	for i := range 1000 {
		fmt.Fprintf(zw, "series{i=\"%d\"} %d\n", i, i)
	}
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("Accept-Encoding %q, want gzip", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(body.Bytes())
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	s, _ := newTestScraper(t, `scrape "app" {}`, addr)
	for i := range 3 {
		if h := mustScrape(t, s, time.UnixMilli(int64(1000*(i+1)))); !h.Up || h.SamplesScraped != 1000 {
			t.Fatalf("scrape %d of a gzip body: %+v", i, h)
		}
	}
	// The compressed body is a few kilobytes, what it gives over 10 KB.
	s, _ = newTestScraper(t, `scrape "app" { body_size_limit = "10KB" }`, addr)
	if h := mustScrape(t, s, time.UnixMilli(1000)); h.Up || !strings.Contains(h.LastError, "body size limit") {
		t.Errorf("gzip body over the limit: %+v", h)
	}
}
