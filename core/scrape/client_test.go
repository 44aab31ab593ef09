package scrape

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &testPKI{pool: x509.NewCertPool(), subject: "scraper"}
	p.pool.AddCert(ca)
	p.caFile = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)
	issue := func(serial int64, name string, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
		}, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	serverDER, serverKey := issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	p.server = tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey}
	clientDER, clientKey := issue(3, p.subject, x509.ExtKeyUsageClientAuth, nil)
	keyDER, err := x509.MarshalECPrivateKey(clientKey)
	if err != nil {
		t.Fatal(err)
	}
	p.clientCertFile = writePEM(t, dir, "client.pem", "CERTIFICATE", clientDER)
	p.clientKeyFile = writePEM(t, dir, "client-key.pem", "EC PRIVATE KEY", keyDER)
	return p
}

func writePEM(t *testing.T, dir, name, kind string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
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
