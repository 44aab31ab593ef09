package hclconfig

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestServerAuthDecoded checks what the tls, auth and audit blocks decode
// to, paths joined to the file's folder, and that the password hashes and
// token sums never show in the rendered configuration.
func TestServerAuthDecoded(t *testing.T) {
	cfg, diags := Load(filepath.Join("testdata", "server_auth.good.hcl"))
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	s := cfg.Server
	if s.TLS == nil || s.TLS.CertFile != filepath.Join("testdata", "certs", "server.pem") || s.TLS.MinVersion != "TLS13" || s.TLS.ClientAuthType != "VerifyClientCertIfGiven" {
		t.Errorf("tls block decoded as %+v", s.TLS)
	}
	if s.Auth == nil || len(s.Auth.Users) != 2 || s.Auth.Users[1].Name != "ops" || s.Auth.Users[1].Role != RoleAdmin {
		t.Fatalf("auth block decoded as %+v", s.Auth)
	}
	if m := s.Auth.Users[0].Matchers; len(m) != 2 || m[0].String() != `team="a"` || m[1].String() != `env=~"prod|staging"` {
		t.Errorf("alice's matchers: %v", m)
	}
	if len(s.Auth.Tokens) != 1 || s.Auth.Tokens[0].Role != RoleWriter || s.Auth.JWT == nil || s.Auth.JWT.NameClaim != "email" {
		t.Errorf("tokens %+v and jwt %+v", s.Auth.Tokens, s.Auth.JWT)
	}
	if !s.Audit.Enabled || s.Audit.File != "audit.log" {
		t.Errorf("audit block decoded as %+v", s.Audit)
	}
	text := string(cfg.HCL())
	for _, secret := range []string{s.Auth.Users[0].PasswordHash.Value(), s.Auth.Tokens[0].SHA256.Value()} {
		if strings.Contains(text, secret) {
			t.Fatalf("a secret is in the rendered config:\n%s", text)
		}
	}
	if !regexp.MustCompile(`password_hash\s+= "<secret>"`).MatchString(text) || !regexp.MustCompile(`sha256\s+= "<secret>"`).MatchString(text) {
		t.Errorf("the secrets are not shown as <secret>:\n%s", text)
	}
}

// TestAuditDefault has the audit log on, into the server's log, when the
// server block does not say.
func TestAuditDefault(t *testing.T) {
	cfg, diags := Parse("vigil.hcl", []byte("server {}\n"))
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	if want := (Audit{Enabled: true}); cfg.Server.Audit != want {
		t.Errorf("audit = %+v, want %+v", cfg.Server.Audit, want)
	}
	if cfg.Server.TLS != nil || cfg.Server.Auth != nil {
		t.Errorf("tls %+v and auth %+v without their blocks", cfg.Server.TLS, cfg.Server.Auth)
	}
}
