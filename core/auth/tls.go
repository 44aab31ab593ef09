package auth

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/vigilmon/vigil/hclconfig"
)

// TLSConfig makes the TLS configuration of the server block's tls block,
// by exporter-toolkit's rules for Prometheus's tls_server_config. The
// certificate and key are read now, and again at a handshake when either
// file changed (a look at their modification times and sizes at each
// handshake), so that a renewed certificate is served without a restart.
// A pair that does not load then is logged, and the one before is served.
func TLSConfig(cfg *hclconfig.ServerTLS, logger hclog.Logger) (*tls.Config, error) {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	tc := &web.TLSConfig{
		TLSCertPath: cfg.CertFile,
		TLSKeyPath:  cfg.KeyFile,
		ClientCAs:   cfg.ClientCAFile,
		ClientAuth:  cfg.ClientAuthType,
		MinVersion:  web.TLSVersion(hclconfig.TLSVersions[cfg.MinVersion]),
	}
	ids := map[string]uint16{}
	for _, s := range tls.CipherSuites() {
		ids[s.Name] = s.ID
	}
	for _, name := range cfg.CipherSuites {
		id, ok := ids[name]
		if !ok {
			return nil, fmt.Errorf("the tls block's cipher_suites: %q is not a secure cipher suite", name)
		}
		tc.CipherSuites = append(tc.CipherSuites, web.Cipher(id))
	}
	if cfg.ClientCAFile != "" {
		pem, err := os.ReadFile(cfg.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("the tls block's client_ca_file: %w", err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("the tls block's client_ca_file %q holds no PEM certificate", cfg.ClientCAFile)
		}
	}
	c, err := web.ConfigToTLSConfig(tc)
	if err != nil {
		return nil, fmt.Errorf("the tls block: %w", err)
	}
	r := &certReloader{certFile: cfg.CertFile, keyFile: cfg.KeyFile, logger: logger}
	if _, err := r.reload(); err != nil {
		return nil, fmt.Errorf("the tls block: %w", err)
	}
	c.GetCertificate = r.certificate
	return c, nil
}

// certReloader serves a certificate, read again when its files change.
type certReloader struct {
	certFile, keyFile string
	logger            hclog.Logger

	mu     sync.Mutex
	cert   *tls.Certificate
	stamp  fileStamp // of the files cert was read from
	failed fileStamp // of the files that failed last, logged once
}

// fileStamp tells a change of the certificate's or the key's file.
type fileStamp struct {
	certTime, keyTime time.Time
	certSize, keySize int64
}

func (r *certReloader) stat() (fileStamp, error) {
	cert, err := os.Stat(r.certFile)
	if err != nil {
		return fileStamp{}, fmt.Errorf("cert_file: %w", err)
	}
	key, err := os.Stat(r.keyFile)
	if err != nil {
		return fileStamp{}, fmt.Errorf("key_file: %w", err)
	}
	return fileStamp{certTime: cert.ModTime(), keyTime: key.ModTime(), certSize: cert.Size(), keySize: key.Size()}, nil
}

// reload reads the pair if its files changed since it was read last.
func (r *certReloader) reload() (*tls.Certificate, error) {
	stamp, err := r.stat()
	if err != nil {
		return nil, err
	}
	if r.cert != nil && stamp == r.stamp {
		return r.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("cannot load cert_file %q with key_file %q: %w", r.certFile, r.keyFile, err)
	}
	r.cert, r.stamp = &cert, stamp
	return r.cert, nil
}

// certificate is the tls.Config's GetCertificate.
func (r *certReloader) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cert, err := r.reload()
	if err == nil {
		return cert, nil
	}
	if stamp, _ := r.stat(); stamp != r.failed {
		r.failed = stamp
		r.logger.Error("cannot read the changed certificate; the one read before is served", "error", err)
	}
	return r.cert, nil
}
