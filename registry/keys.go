package registry

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// PublicKeyPrefix starts the text form of a public key: "ed25519:" and
// the 32 bytes of the key in standard base64, as trusted_keys and .pub
// files hold it.
const PublicKeyPrefix = "ed25519:"

// PublicKey is a trusted ed25519 key in its text form's type.
type PublicKey ed25519.PublicKey

// ParsePublicKey parses "ed25519:BASE64".
func ParsePublicKey(s string) (PublicKey, error) {
	s = strings.TrimSpace(s)
	b64, ok := strings.CutPrefix(s, PublicKeyPrefix)
	if !ok {
		return nil, fmt.Errorf("public key %q does not start with %q", abbreviate(s), PublicKeyPrefix)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("public key %q is not base64: %w", abbreviate(s), err)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key %q has %d bytes, want %d", abbreviate(s), len(raw), ed25519.PublicKeySize)
	}
	return PublicKey(raw), nil
}

// ReadPublicKeyFile reads a .pub file written by GenerateKey.
func ReadPublicKeyFile(path string) (PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read public key file: %w", err)
	}
	k, err := ParsePublicKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("public key file %q: %w", path, err)
	}
	return k, nil
}

// String is the key's text form, "ed25519:BASE64".
func (k PublicKey) String() string { return PublicKeyPrefix + base64.StdEncoding.EncodeToString(k) }

// ID is the key's identifier in signature files: the first 8 bytes of the
// SHA-256 of the raw key, in hex (16 characters).
func (k PublicKey) ID() string {
	sum := sha256.Sum256(k)
	return hex.EncodeToString(sum[:8])
}

// GenerateKey makes a new signing key pair and writes the private key to
// path (PKCS#8 PEM, mode 0600) and the public key to path+".pub" in its
// text form. It creates path's folder when missing (mode 0700: it holds a
// private key) and refuses to overwrite either file.
func GenerateKey(path string) (PublicKey, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the folder of key file %q: %w", path, err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("cannot generate a key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the private key: %w", err)
	}
	if err := writeNew(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(path+".pub", []byte(PublicKey(pub).String()+"\n"), 0o644); err != nil {
		os.Remove(path)
		return nil, err
	}
	return PublicKey(pub), nil
}

// writeNew writes a file that must not exist yet.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("cannot create key file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("cannot write key file %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("cannot write key file %q: %w", path, err)
	}
	return nil
}

// ReadPrivateKeyFile reads a private key written by GenerateKey (or any
// PKCS#8 PEM ed25519 key, as `openssl genpkey -algorithm ed25519` makes).
func ReadPrivateKeyFile(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read private key file: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("private key file %q is not a PEM \"PRIVATE KEY\" block", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key file %q: %w", path, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key file %q holds a %T, not an ed25519 key", path, key)
	}
	return priv, nil
}

// SignatureLine is the text of one signature in a SHA256SUMS.sig file:
// "ed25519 KEYID BASE64SIGNATURE".
func SignatureLine(priv ed25519.PrivateKey, message []byte) string {
	pub := PublicKey(priv.Public().(ed25519.PublicKey))
	return fmt.Sprintf("ed25519 %s %s\n", pub.ID(), base64.StdEncoding.EncodeToString(ed25519.Sign(priv, message)))
}

// Errors of VerifySignature, to be told apart with errors.Is.
var (
	// ErrUnknownKey: no signature is by a trusted key.
	ErrUnknownKey = errors.New("signed by no trusted key")
	// ErrBadSignature: a signature by a trusted key does not verify.
	ErrBadSignature = errors.New("signature does not verify")
)

// VerifySignature checks a SHA256SUMS.sig file (sig) against the
// SHA256SUMS content (message): it succeeds when one line is a valid
// signature by one of the trusted keys. It returns an error wrapping
// ErrBadSignature when a trusted key's signature does not verify, and
// ErrUnknownKey when no line is by a trusted key; the message names the
// key IDs. what names the signature file for the messages.
func VerifySignature(message, sig []byte, trusted []PublicKey, what string) (PublicKey, error) {
	byID := map[string]PublicKey{}
	for _, k := range trusted {
		byID[k.ID()] = k
	}
	var signers []string
	var bad error
	sc := bufio.NewScanner(bytes.NewReader(sig))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "ed25519" {
			return nil, fmt.Errorf("%s line %d is not \"ed25519 KEYID SIGNATURE\": %w", what, n, ErrBadSignature)
		}
		signers = append(signers, f[1])
		key, ok := byID[f[1]]
		if !ok {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(f[2])
		if err == nil && ed25519.Verify(ed25519.PublicKey(key), message, raw) {
			return key, nil
		}
		bad = fmt.Errorf("%s: the signature by trusted key %s (%s) does not match the SHA256SUMS file: it was altered or the signature is corrupt: %w", what, f[1], key, ErrBadSignature)
	}
	if bad != nil {
		return nil, bad
	}
	if len(signers) == 0 {
		return nil, fmt.Errorf("%s holds no signature: %w", what, ErrUnknownKey)
	}
	ids := make([]string, 0, len(trusted))
	for _, k := range trusted {
		ids = append(ids, k.ID())
	}
	return nil, fmt.Errorf("%s is signed by key %s, which is not trusted (trusted keys: %s): %w", what, strings.Join(signers, ", "), strings.Join(ids, ", "), ErrUnknownKey)
}

// abbreviate shortens a long input for an error message.
func abbreviate(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
