// Package certgen makes certificate authorities and the certificates they
// sign, ECDSA P-256, PEM-encoded: the throwaway certificates of
// examples/secure and of the tests of HTTPS and client certificates.
package certgen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Pair is a certificate with its key.
type Pair struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	// CertPEM and KeyPEM are the certificate and the key (PKCS #8), PEM.
	CertPEM, KeyPEM []byte
}

// NewCA makes a self-signed certificate authority named cn, valid from
// an hour ago for validity.
func NewCA(cn string, validity time.Duration) (*Pair, error) {
	tmpl := template(cn, validity)
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	return sign(tmpl, nil)
}

// Server makes a certificate signed by ca for a server reached at hosts:
// names, and IP addresses as written.
func (ca *Pair) Server(cn string, hosts []string, validity time.Duration) (*Pair, error) {
	tmpl := template(cn, validity)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return sign(tmpl, ca)
}

// Client makes a client certificate signed by ca whose common name is cn.
func (ca *Pair) Client(cn string, validity time.Duration) (*Pair, error) {
	tmpl := template(cn, validity)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return sign(tmpl, ca)
}

// Write writes the certificate to dir/name.pem and the key to
// dir/name-key.pem, readable by the owner only.
func (p *Pair) Write(dir, name string) error {
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), p.CertPEM, 0o644); err != nil {
		return fmt.Errorf("cannot write the certificate %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+"-key.pem"), p.KeyPEM, 0o600); err != nil {
		return fmt.Errorf("cannot write the key of %s: %w", name, err)
	}
	return nil
}

func template(cn string, validity time.Duration) *x509.Certificate {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
	}
}

// sign makes tmpl's certificate, with a new key, signed by ca, or by
// itself when ca is nil.
func sign(tmpl *x509.Certificate, ca *Pair) (*Pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("cannot make a key for %q: %w", tmpl.Subject.CommonName, err)
	}
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.Cert, ca.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("cannot sign the certificate of %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("cannot read back the certificate of %q: %w", tmpl.Subject.CommonName, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the key of %q: %w", tmpl.Subject.CommonName, err)
	}
	return &Pair{
		Cert: cert, Key: key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// JWKS is a JSON Web Key Set holding p's public key, as key kid for
// ES256 signatures: what an identity provider publishes for the JWTs it
// signs with p's key.
func (p *Pair) JWKS(kid string) []byte {
	point, err := p.Key.PublicKey.Bytes() // 4, then X and Y
	if err != nil {
		panic(err) // a P-256 key made by GenerateKey encodes
	}
	enc := base64.RawURLEncoding.EncodeToString
	return fmt.Appendf(nil, `{"keys":[{"kty":"EC","crv":"P-256","kid":%q,"alg":"ES256","use":"sig","x":%q,"y":%q}]}`,
		kid, enc(point[1:33]), enc(point[33:65]))
}
