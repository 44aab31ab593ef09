package hclconfig

import (
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/crypto/bcrypt"
)

// The server block's tls, auth and audit blocks: HTTPS, who may use the
// server and what they may do, and the log of what they changed. TLS and
// users have the semantics of Prometheus's web configuration file
// (exporter-toolkit's tls_server_config and basic_auth_users).

// Roles are the roles a user, a token or a JWT may have, from the least
// to the most allowed; writer stands apart, only sending data.
var Roles = []string{RoleViewer, RoleWriter, RoleOperator, RoleAdmin}

// The roles: what each allows is in core/auth, and in the README.
const (
	RoleViewer   = "viewer"
	RoleWriter   = "writer"
	RoleOperator = "operator"
	RoleAdmin    = "admin"
)

// ClientAuthTypes are the values of client_auth_type, as exporter-toolkit
// names Go's tls.ClientAuthType.
var ClientAuthTypes = []string{
	"NoClientCert", "RequestClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert",
}

// TLSVersions are the values of min_version.
var TLSVersions = map[string]uint16{"TLS12": tls.VersionTLS12, "TLS13": tls.VersionTLS13}

// ServerTLS is the server block's tls block: the server answers HTTPS
// only.
type ServerTLS struct {
	// CertFile and KeyFile are the server's certificate and key, PEM;
	// they are read again when they change.
	CertFile, KeyFile string
	// ClientCAFile holds the authorities that client certificates are
	// checked with, PEM; ClientAuthType says whether clients must give
	// one, one of ClientAuthTypes.
	ClientCAFile   string
	ClientAuthType string
	// MinVersion is the oldest TLS version accepted, a key of
	// TLSVersions.
	MinVersion string
	// CipherSuites, when set, are the TLS 1.2 cipher suites accepted,
	// by Go's names; TLS 1.3's are not configurable.
	CipherSuites []string
}

// Auth is the server block's auth block: once it is there, every request
// needs a user, a token or a JWT, and a role that allows it.
type Auth struct {
	Users  []*User
	Tokens []*Token
	// JWT, when set, accepts JSON Web Tokens signed by a key of a JWKS.
	JWT *JWT
}

// User is a `user "NAME"` block: a user who signs in with basic auth.
type User struct {
	Name string
	// PasswordHash is the bcrypt hash of the password.
	PasswordHash Secret
	Role         string
	// Matchers, when set, confine the user to a tenant: the series that
	// match all of them.
	Matchers []*labels.Matcher
}

// Token is a `token "NAME"` block: a bearer token, kept as the hex
// SHA-256 of the token.
type Token struct {
	Name   string
	SHA256 Secret
	Role   string
	// Matchers, when set, confine the token to a tenant, as a user's.
	Matchers []*labels.Matcher
}

// JWT is the auth block's jwt block: bearer tokens that are JSON Web
// Tokens, checked against the keys of a JWKS.
type JWT struct {
	// JWKSFile or JWKSURL, one of them, hold the keys.
	JWKSFile string
	JWKSURL  *url.URL
	// Issuer and Audience are what the iss and aud claims must hold.
	Issuer, Audience string
	// Role is the role of a valid token, unless RoleClaim names a claim
	// that holds one.
	Role      string
	RoleClaim string
	// NameClaim names the claim the audit log names the caller by.
	NameClaim string
	// MatchersClaim, when set, names a claim holding the matchers that
	// confine the token's holder to a tenant (see package tenant): a
	// string or a list of strings in Alertmanager's syntax. A token
	// without it is refused.
	MatchersClaim string
}

// Audit is the server block's audit block: where each change a request
// makes is logged.
type Audit struct {
	// Enabled writes the audit log.
	Enabled bool
	// File, when set, is the file the lines are appended to as JSON,
	// relative to the data folder unless absolute; otherwise they go to
	// the server's log, under the name "audit".
	File string
}

// oneOf is a string that must be one of names.
func oneOf(names ...string) codec[string] {
	return codec[string]{
		typ: cty.String, kind: "string",
		decode: func(at attrValue, v cty.Value) (string, bool) {
			s := v.AsString()
			if !slices.Contains(names, s) {
				at.errorf("Invalid "+at.name(), "%q is not a valid %s; use one of %s.", s, at.name(), strings.Join(names, ", "))
				return "", false
			}
			return s, true
		},
		render: str.render,
	}
}

// cipherSuites are names of the TLS 1.2 cipher suites Go considers
// secure.
var cipherSuites = listOfEach("list of string", "Invalid cipher_suites", func(name string) (string, error) {
	var known []string
	for _, c := range tls.CipherSuites() {
		if c.Name == name {
			return name, nil
		}
		if slices.Contains(c.SupportedVersions, tls.VersionTLS12) {
			known = append(known, c.Name)
		}
	}
	return "", fmt.Errorf("%q is not a secure TLS 1.2 cipher suite; use one of %s", name, strings.Join(known, ", "))
}, func(s string, _ renderOptions) string { return s })

var serverTLSSpec = &block[ServerTLS]{
	name: "tls", doc: "HTTPS: the server answers only HTTPS, as with tls_server_config in Prometheus's web configuration.",
	attrs: []attr[ServerTLS]{
		field("cert_file", filePath, func(t *ServerTLS) *string { return &t.CertFile },
			"The server's certificate, PEM, relative to this file's folder; read again when it changes.").require(),
		field("key_file", filePath, func(t *ServerTLS) *string { return &t.KeyFile },
			"The certificate's key, PEM; read again when it changes.").require(),
		withDefault("client_auth_type", oneOf(ClientAuthTypes...), func(t *ServerTLS) *string { return &t.ClientAuthType }, "NoClientCert",
			"Whether clients must show a certificate, and whether it is checked: "+strings.Join(ClientAuthTypes, ", ")+"."),
		field("client_ca_file", filePath, func(t *ServerTLS) *string { return &t.ClientCAFile },
			"The authorities client certificates are checked with, PEM."),
		withDefault("min_version", oneOf(slices.Sorted(maps.Keys(TLSVersions))...), func(t *ServerTLS) *string { return &t.MinVersion }, "TLS12",
			"The oldest TLS version accepted: \"TLS12\" or \"TLS13\"."),
		field("cipher_suites", cipherSuites, func(t *ServerTLS) *[]string { return &t.CipherSuites },
			"The TLS 1.2 cipher suites accepted, by Go's names; unset, Go's secure defaults. TLS 1.3's cannot be chosen."),
	},
	check: func(s *scope, t *ServerTLS) {
		verifies := t.ClientAuthType == "VerifyClientCertIfGiven" || t.ClientAuthType == "RequireAndVerifyClientCert"
		if verifies && t.ClientCAFile == "" {
			s.errorf("client_ca_file", "Missing client_ca_file", "client_auth_type %q checks client certificates: set client_ca_file to the authorities they are checked with.", t.ClientAuthType)
		}
		if !verifies && t.ClientCAFile != "" {
			s.errorf("client_ca_file", "Unused client_ca_file", "client_ca_file is set but client_auth_type %q does not check client certificates: set client_auth_type to \"RequireAndVerifyClientCert\" or \"VerifyClientCertIfGiven\".", t.ClientAuthType)
		}
	},
}

var roleAttr = oneOf(Roles...)

var userSpec = &block[User]{
	name: "user", label: "NAME", doc: "A user who signs in with basic auth; NAME is the user name.",
	labelOf: func(u *User) *string { return &u.Name },
	attrs: []attr[User]{
		field("password_hash", bcryptHash, func(u *User) *Secret { return &u.PasswordHash },
			"The bcrypt hash of the password (vigil hash-password makes one).").require(),
		field("role", roleAttr, func(u *User) *string { return &u.Role },
			"The user's role: "+strings.Join(Roles, ", ")+".").require(),
		field("matchers", matchers, func(u *User) *[]*labels.Matcher { return &u.Matchers },
			tenantDoc),
	},
}

// tenantDoc documents the matchers of users and tokens.
const tenantDoc = "Label matchers, in Alertmanager's syntax such as team=\"a\", confining the caller to a tenant: it reads only the series matching them all, and may use only the routes that confine it."

// bcryptHash is a bcrypt hash, a secret.
var bcryptHash = codec[Secret]{
	typ: cty.String, kind: "string, secret",
	decode: func(at attrValue, v cty.Value) (Secret, bool) {
		if _, err := bcrypt.Cost([]byte(v.AsString())); err != nil {
			at.errorf("Invalid "+at.name(), "The %s is not a bcrypt hash (%s); make one with vigil hash-password.", at.name(), err)
			return "", false
		}
		return Secret(v.AsString()), true
	},
	render: secret.render,
}

var tokenSpec = &block[Token]{
	name: "token", label: "NAME", doc: "A bearer token; NAME names its holder in the audit log.",
	labelOf: func(t *Token) *string { return &t.Name },
	attrs: []attr[Token]{
		field("sha256", sha256Hex, func(t *Token) *Secret { return &t.SHA256 },
			"The SHA-256 of the token, 64 hexadecimal digits (vigil hash-password --token makes it).").require(),
		field("role", roleAttr, func(t *Token) *string { return &t.Role },
			"The token's role: "+strings.Join(Roles, ", ")+".").require(),
		field("matchers", matchers, func(t *Token) *[]*labels.Matcher { return &t.Matchers },
			tenantDoc),
	},
}

// sha256Hex is a SHA-256 sum in hexadecimal, a secret.
var sha256Hex = codec[Secret]{
	typ: cty.String, kind: "string, secret",
	decode: func(at attrValue, v cty.Value) (Secret, bool) {
		s := strings.ToLower(v.AsString())
		if b, err := hex.DecodeString(s); err != nil || len(b) != 32 {
			at.errorf("Invalid "+at.name(), "The %s must be a SHA-256 sum, 64 hexadecimal digits; make one with vigil hash-password --token.", at.name())
			return "", false
		}
		return Secret(s), true
	},
	render: secret.render,
}

var jwtSpec = &block[JWT]{
	name: "jwt", doc: "JSON Web Tokens sent as bearer tokens, such as an OpenID Connect provider issues, checked against the keys of a JWKS.",
	attrs: []attr[JWT]{
		field("jwks_file", filePath, func(j *JWT) *string { return &j.JWKSFile },
			"A file holding the JWKS, read at start; not with jwks_url."),
		field("jwks_url", httpURL("Invalid jwks_url"), func(j *JWT) **url.URL { return &j.JWKSURL },
			"Where the JWKS is fetched, then again every hour and for a key it does not know; not with jwks_file."),
		field("issuer", str, func(j *JWT) *string { return &j.Issuer },
			"What the iss claim must be.").require(),
		field("audience", str, func(j *JWT) *string { return &j.Audience },
			"What the aud claim must hold.").require(),
		withDefault("role", roleAttr, func(j *JWT) *string { return &j.Role }, RoleViewer,
			"The role of a valid token, unless role_claim gives one."),
		field("role_claim", str, func(j *JWT) *string { return &j.RoleClaim },
			"A claim that holds the token's role, a string or a list of strings (the most allowed wins); unset, every token has role."),
		withDefault("name_claim", str, func(j *JWT) *string { return &j.NameClaim }, "sub",
			"The claim that names the caller in the audit log."),
		field("matchers_claim", str, func(j *JWT) *string { return &j.MatchersClaim },
			"A claim that holds the matchers confining the token's holder to a tenant, as a user block's matchers: a string or a list of strings; a token without it is refused. Unset, tokens are not confined."),
	},
	check: func(s *scope, j *JWT) {
		if (j.JWKSFile == "") == (j.JWKSURL == nil) {
			s.blockErrorf("Invalid jwt block", "Set one of jwks_file and jwks_url.")
		}
	},
}

var authSpec = &block[Auth]{
	name: "auth", doc: "Who may use the server: every request needs a user, a token or a JWT, and a role that allows it. A reload applies it.",
	children: []child[Auth]{
		listOf(func(a *Auth) *[]*User { return &a.Users }, userSpec).unique("user"),
		listOf(func(a *Auth) *[]*Token { return &a.Tokens }, tokenSpec).unique("token"),
		optional[Auth, JWT]{spec: jwtSpec, ptr: func(a *Auth) **JWT { return &a.JWT }},
	},
	check: func(s *scope, a *Auth) {
		if len(a.Users) == 0 && len(a.Tokens) == 0 && a.JWT == nil {
			s.blockErrorf("Empty auth block", "The auth block has no user, token or jwt block: nobody could use the server. Add one, or remove the block.")
		}
	},
}

var auditSpec = &block[Audit]{
	name: "audit", doc: "The audit log: a line for each request that changes something, with who, what, when and from where.",
	attrs: []attr[Audit]{
		withDefault("enabled", boolean, func(a *Audit) *bool { return &a.Enabled }, true,
			"Whether the audit log is written."),
		field("file", str, func(a *Audit) *string { return &a.File },
			"A file the lines are appended to, as JSON, relative to data_dir; unset, they go to the server's log under the name \"audit\"."),
	},
}
