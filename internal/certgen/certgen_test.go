package certgen

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestChain checks that the server and client certificates verify
// against their authority for what they are for, and not for the other
// use, and that the files written load as a key pair.
func TestChain(t *testing.T) {
	ca, err := NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.Server("127.0.0.1", []string{"127.0.0.1", "localhost"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.Client("ops", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if _, err := server.Cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: host}); err != nil {
			t.Errorf("the server certificate for %s: %v", host, err)
		}
	}
	if _, err := server.Cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "example.com"}); err == nil {
		t.Error("the server certificate verifies for example.com")
	}
	clientUse := x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if _, err := client.Cert.Verify(clientUse); err != nil || client.Cert.Subject.CommonName != "ops" {
		t.Errorf("the client certificate of %q: %v", client.Cert.Subject.CommonName, err)
	}
	if _, err := server.Cert.Verify(clientUse); err == nil {
		t.Error("the server certificate verifies as a client's")
	}
	other, err := NewCA("other CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	others := x509.NewCertPool()
	others.AddCert(other.Cert)
	if _, err := client.Cert.Verify(x509.VerifyOptions{Roots: others, KeyUsages: clientUse.KeyUsages}); err == nil {
		t.Error("the client certificate verifies against another authority")
	}
	dir := t.TempDir()
	if err := server.Write(dir, "server"); err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")); err != nil {
		t.Errorf("the written pair does not load: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "server-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the key's mode: %v, %v", fi.Mode(), err)
	}
	var jwks struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(ca.JWKS("k1"), &jwks); err != nil || len(jwks.Keys) != 1 || jwks.Keys[0]["kid"] != "k1" || len(jwks.Keys[0]["x"]) != 43 {
		t.Errorf("JWKS %s: %v", ca.JWKS("k1"), err)
	}
}
