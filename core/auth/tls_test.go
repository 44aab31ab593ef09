package auth

import (
	"bytes"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/certgen"
)

// writeServerCert writes a certificate for 127.0.0.1 signed by ca, named
// cn, to dir/server.pem and dir/server-key.pem.
func writeServerCert(t *testing.T, ca *certgen.Pair, dir, cn string) {
	t.Helper()
	p, err := ca.Server(cn, []string{"127.0.0.1", "localhost"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(dir, "server"); err != nil {
		t.Fatal(err)
	}
}

// TestTLSConfigReloads serves the certificate the files hold at each
// handshake: a new one once they change, and the one before while they
// hold something that does not load.
func TestTLSConfigReloads(t *testing.T) {
	dir := t.TempDir()
	ca, err := certgen.NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	writeServerCert(t, ca, dir, "first")
	var log bytes.Buffer
	c, err := TLSConfig(&hclconfig.ServerTLS{
		CertFile: filepath.Join(dir, "server.pem"), KeyFile: filepath.Join(dir, "server-key.pem"),
		ClientAuthType: "NoClientCert", MinVersion: "TLS12",
	}, hclog.New(&hclog.LoggerOptions{Output: &log}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MinVersion != tls.VersionTLS12 || c.ClientAuth != tls.NoClientCert {
		t.Errorf("min version %x, client auth %v", c.MinVersion, c.ClientAuth)
	}
	served := func() string {
		t.Helper()
		cert, err := c.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		return cert.Leaf.Subject.CommonName
	}
	if got := served(); got != "first" {
		t.Fatalf("serves %q, want first", got)
	}
	writeServerCert(t, ca, dir, "second")
	if got := served(); got != "second" {
		t.Fatalf("after the files changed, serves %q, want second", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "server.pem"), []byte("half written"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := served(); got != "second" {
		t.Fatalf("with a broken file, serves %q, want the second still", got)
	}
	served()
	if n := strings.Count(log.String(), "cannot read the changed certificate"); n != 1 {
		t.Errorf("the broken file is logged %d times, want once:\n%s", n, log.String())
	}
}

func TestTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	ca, err := certgen.NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	writeServerCert(t, ca, dir, "server")
	if err := os.WriteFile(filepath.Join(dir, "empty.pem"), []byte("no PEM here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ca.Write(dir, "ca"); err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	for name, tc := range map[string]struct {
		cfg  hclconfig.ServerTLS
		want string
	}{
		"missing cert": {hclconfig.ServerTLS{CertFile: filepath.Join(dir, "nope.pem"), KeyFile: key, MinVersion: "TLS12"}, "nope.pem"},
		"key of another": {hclconfig.ServerTLS{CertFile: cert, KeyFile: filepath.Join(dir, "ca-key.pem"), MinVersion: "TLS12"},
			"private key does not match public key"},
		"CA without PEM": {hclconfig.ServerTLS{CertFile: cert, KeyFile: key, MinVersion: "TLS12", ClientAuthType: "RequireAndVerifyClientCert", ClientCAFile: filepath.Join(dir, "empty.pem")},
			"client_ca_file \"" + filepath.Join(dir, "empty.pem") + "\" holds no PEM certificate"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := TLSConfig(&tc.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to hold %q", err, tc.want)
			}
		})
	}
	c, err := TLSConfig(&hclconfig.ServerTLS{
		CertFile: cert, KeyFile: key, MinVersion: "TLS13", ClientAuthType: "RequireAndVerifyClientCert", ClientCAFile: filepath.Join(dir, "ca.pem"),
		CipherSuites: []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientAuth != tls.RequireAndVerifyClientCert || c.ClientCAs == nil || c.MinVersion != tls.VersionTLS13 ||
		len(c.CipherSuites) != 1 || c.CipherSuites[0] != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 {
		t.Errorf("config %+v", c)
	}
}
