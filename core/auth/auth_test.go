package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/go-hclog"
	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/certgen"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// hash is the bcrypt hash of password, at the lowest cost, for tests.
func hash(t *testing.T, password string) hclconfig.Secret {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return hclconfig.Secret(h)
}

func sum(token string) hclconfig.Secret {
	s := sha256.Sum256([]byte(token))
	return hclconfig.Secret(hex.EncodeToString(s[:]))
}

func TestRoleAllows(t *testing.T) {
	want := map[Role][]Access{
		NoRole:   {Public},
		Viewer:   {Public, Authenticated, Read},
		Writer:   {Public, Authenticated, Write},
		Operator: {Public, Authenticated, Read, Write, Operate},
		Admin:    {Public, Authenticated, Read, Write, Operate, Administer},
	}
	for role, allowed := range want {
		for a := Public; a <= Administer; a++ {
			if got, want := role.Allows(a), contains(allowed, a); got != want {
				t.Errorf("%s allows %s: %v, want %v", role, a, got, want)
			}
		}
	}
	for _, name := range hclconfig.Roles {
		if r, err := ParseRole(name); err != nil || r.String() != name {
			t.Errorf("ParseRole(%q) = %v, %v", name, r, err)
		}
	}
	if _, err := ParseRole("none"); err == nil {
		t.Error("none parsed as a role")
	}
}

func contains(list []Access, a Access) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// signer makes JWTs signed by an identity provider's key, whose JWKS it
// writes to a file.
type signer struct {
	key  *certgen.Pair
	jwks string
}

func newSigner(t *testing.T) signer {
	t.Helper()
	key, err := certgen.NewCA("idp", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(file, key.JWKS("k1"), 0o644); err != nil {
		t.Fatal(err)
	}
	return signer{key: key, jwks: file}
}

func (s signer) sign(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = "k1"
	raw, err := tok.SignedString(s.key.Key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestAuthenticate(t *testing.T) {
	idp := newSigner(t)
	a, err := New(context.Background(), &hclconfig.Auth{
		Users:  []*hclconfig.User{{Name: "alice", PasswordHash: hash(t, "alice-pass"), Role: "viewer"}, {Name: "ops", PasswordHash: hash(t, "ops-pass"), Role: "admin"}},
		Tokens: []*hclconfig.Token{{Name: "ci", SHA256: sum("ci-token"), Role: "writer"}},
		JWT: &hclconfig.JWT{
			JWKSFile: idp.jwks, Issuer: "https://idp.example.com/", Audience: "vigil",
			Role: "viewer", RoleClaim: "vigil_role", NameClaim: "sub",
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	valid := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "https://idp.example.com/", "aud": "vigil", "sub": "carol", "exp": time.Now().Add(time.Hour).Unix(), "vigil_role": "operator"}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	other := newSigner(t)
	for name, tc := range map[string]struct {
		header string
		want   Identity
		err    error
	}{
		"no header":          {"", Identity{}, ErrNoCredentials},
		"user":               {basic("alice", "alice-pass"), Identity{Kind: "user", Name: "alice", Role: Viewer}, nil},
		"admin":              {basic("ops", "ops-pass"), Identity{Kind: "user", Name: "ops", Role: Admin}, nil},
		"wrong password":     {basic("alice", "bob-pass"), Identity{}, ErrBadCredentials},
		"unknown user":       {basic("mallory", "alice-pass"), Identity{}, ErrBadCredentials},
		"token":              {"Bearer ci-token", Identity{Kind: "token", Name: "ci", Role: Writer}, nil},
		"token, lower case":  {"bearer ci-token", Identity{Kind: "token", Name: "ci", Role: Writer}, nil},
		"unknown token":      {"Bearer ci-tokem", Identity{}, ErrBadCredentials},
		"other scheme":       {"Digest ci-token", Identity{}, ErrBadCredentials},
		"jwt":                {"Bearer " + idp.sign(t, valid(nil)), Identity{Kind: "jwt", Name: "carol", Role: Operator}, nil},
		"jwt, roles listed":  {"Bearer " + idp.sign(t, valid(jwt.MapClaims{"vigil_role": []any{"staff", "viewer", "admin"}})), Identity{Kind: "jwt", Name: "carol", Role: Admin}, nil},
		"jwt, no role":       {"Bearer " + idp.sign(t, valid(jwt.MapClaims{"vigil_role": "staff"})), Identity{}, ErrBadCredentials},
		"jwt, expired":       {"Bearer " + idp.sign(t, valid(jwt.MapClaims{"exp": time.Now().Add(-time.Hour).Unix()})), Identity{}, ErrBadCredentials},
		"jwt, no expiry":     {"Bearer " + idp.sign(t, jwt.MapClaims{"iss": "https://idp.example.com/", "aud": "vigil", "sub": "carol", "vigil_role": "admin"}), Identity{}, ErrBadCredentials},
		"jwt, other issuer":  {"Bearer " + idp.sign(t, valid(jwt.MapClaims{"iss": "https://evil.example.com/"})), Identity{}, ErrBadCredentials},
		"jwt, other aud":     {"Bearer " + idp.sign(t, valid(jwt.MapClaims{"aud": "grafana"})), Identity{}, ErrBadCredentials},
		"jwt, other key":     {"Bearer " + other.sign(t, valid(nil)), Identity{}, ErrBadCredentials},
		"jwt, HMAC with key": {"Bearer " + hmacToken(t, valid(nil)), Identity{}, ErrBadCredentials},
	} {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/v1/query", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			got, err := a.Authenticate(r)
			if !errors.Is(err, tc.err) || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Authenticate = %+v, %v; want %+v, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// hmacToken is a token signed with HS256 by a secret an attacker chose.
func hmacToken(t *testing.T, claims jwt.MapClaims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"] = "k1"
	raw, err := tok.SignedString([]byte("k1"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func basic(user, pass string) string {
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

// TestPasswordCache has the second check of the same credentials answered
// by the cache, and a wrong password, or another hash, miss it.
func TestPasswordCache(t *testing.T) {
	a, err := New(context.Background(), &hclconfig.Auth{
		Users: []*hclconfig.User{{Name: "alice", PasswordHash: hash(t, "alice-pass"), Role: "viewer"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !a.checkPassword("alice", "alice-pass") {
		t.Fatal("alice-pass refused")
	}
	key := cacheKey("alice", a.users["alice"].hash, "alice-pass")
	if ok, found := a.cache.get(key); !found || !ok {
		t.Fatalf("the check is not cached: %v, %v", ok, found)
	}
	// A cache entry is what answers: poisoned, it turns the answer.
	a.cache.set(key, false)
	if a.checkPassword("alice", "alice-pass") {
		t.Error("the cache was not asked")
	}
	if cacheKey("alice", []byte("other hash"), "alice-pass") == key || cacheKey("alice", a.users["alice"].hash, "alice-pas") == key {
		t.Error("another hash or password has the same key")
	}
	if a.checkPassword("alice", "wrong") {
		t.Error("a wrong password is accepted")
	}
}

func TestCacheBounded(t *testing.T) {
	c := newCache(20)
	for i := range 100 {
		c.set(cacheKey("u", nil, strings.Repeat("x", i)), true)
	}
	if n := len(c.entries); n > 20 {
		t.Errorf("the cache holds %d entries, more than 20", n)
	}
}

func TestGuard(t *testing.T) {
	a, err := New(context.Background(), &hclconfig.Auth{
		Users:  []*hclconfig.User{{Name: "alice", PasswordHash: hash(t, "alice-pass"), Role: "viewer"}},
		Tokens: []*hclconfig.Token{{Name: "ci", SHA256: sum("ci-token"), Role: "writer"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	audit := &Audit{logger: hclog.New(&hclog.LoggerOptions{Output: &log, JSONFormat: true}).Named("audit")}
	routes := map[string]Access{"/query": Read, "/silence": Operate, "/write": Write, "/healthy": Authenticated, "/preflight": Public}
	var seen Identity
	g := &Guard{Auth: func() *Authenticator { return a }, Audit: audit, Route: func(r *http.Request) (Access, string) { return routes[r.URL.Path], r.Method + " " + r.URL.Path }}
	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = IdentityOf(r.Context())
		w.WriteHeader(http.StatusAccepted)
	}))
	for _, tc := range []struct {
		path, auth string
		want       int
		audited    string // the fields of the audit line, in JSON
	}{
		{"/query", "", http.StatusUnauthorized, ""},
		{"/query", basic("alice", "alice-pass"), http.StatusAccepted, ""},
		{"/query", basic("alice", "wrong"), http.StatusUnauthorized, ""},
		{"/query", "Bearer ci-token", http.StatusForbidden, ""},
		{"/silence", basic("alice", "alice-pass"), http.StatusForbidden, `{"who":"user alice","role":"viewer","action":"POST /silence","path":"/silence","remote":"192.0.2.1:1234","status":403,"outcome":"refused"}`},
		{"/silence", "", http.StatusUnauthorized, `{"who":"anonymous","role":"none","action":"POST /silence","status":401,"outcome":"refused"}`},
		{"/write", "Bearer ci-token", http.StatusAccepted, `{"who":"token ci","role":"writer","action":"POST /write","path":"/write","remote":"192.0.2.1:1234","status":202,"outcome":"done"}`},
		{"/healthy", "Bearer ci-token", http.StatusAccepted, ""},
		{"/healthy", "", http.StatusUnauthorized, ""},
		{"/preflight", "", http.StatusAccepted, ""},
	} {
		log.Reset()
		r := httptest.NewRequest("POST", tc.path, nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s with %q: %d, want %d", tc.path, tc.auth, w.Code, tc.want)
		}
		if w.Code == http.StatusUnauthorized && len(w.Header().Values("WWW-Authenticate")) != 2 {
			t.Errorf("%s: 401 with WWW-Authenticate %q", tc.path, w.Header().Values("WWW-Authenticate"))
		}
		if tc.audited == "" {
			if log.Len() > 0 {
				t.Errorf("%s with %q: audited as %s", tc.path, tc.auth, log.String())
			}
			continue
		}
		var got, want map[string]any
		if err := json.Unmarshal(log.Bytes(), &got); err != nil {
			t.Fatalf("%s with %q: audit log %q: %v", tc.path, tc.auth, log.String(), err)
		}
		if err := json.Unmarshal([]byte(tc.audited), &want); err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s with %q: audit line's %s is %v, want %v", tc.path, tc.auth, k, got[k], v)
			}
		}
	}
	if seen.Kind != Anonymous || seen.Role != NoRole {
		t.Errorf("the public route saw %+v", seen)
	}
}

// TestGuardWithoutAuth lets everyone do everything, anonymously, and
// still audits the changes.
func TestGuardWithoutAuth(t *testing.T) {
	var log bytes.Buffer
	audit := &Audit{logger: hclog.New(&hclog.LoggerOptions{Output: &log})}
	g := &Guard{Audit: audit, Route: func(*http.Request) (Access, string) { return Administer, "POST /api/v1/admin/tsdb/snapshot" }}
	w := httptest.NewRecorder()
	g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, httptest.NewRequest("POST", "/api/v1/admin/tsdb/snapshot?skip_head=true", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	if !strings.Contains(log.String(), "who=anonymous role=admin action=\"POST /api/v1/admin/tsdb/snapshot\" path=/api/v1/admin/tsdb/snapshot query=skip_head=true") {
		t.Errorf("audit log %q", log.String())
	}
}

func TestOpenAudit(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenAudit(hclconfig.Audit{Enabled: true, File: "logs/audit.log"}, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Served(httptest.NewRequest("POST", "/-/reload", nil), Identity{Kind: "user", Name: "ops", Role: Admin}, "POST /-/reload", 200)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "logs", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"@module":"audit"`, `"@timestamp":`, `"who":"user ops"`, `"action":"POST /-/reload"`, `"outcome":"done"`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("audit file %s lacks %s", got, want)
		}
	}
	if a, err := OpenAudit(hclconfig.Audit{Enabled: false}, dir, nil); a != nil || err != nil {
		t.Errorf("a disabled audit log: %v, %v", a, err)
	}
	if _, err := OpenAudit(hclconfig.Audit{Enabled: true, File: "audit.log"}, filepath.Join(dir, "logs", "audit.log"), nil); err == nil || !strings.Contains(err.Error(), "audit.log") {
		t.Errorf("an audit log under a file: %v", err)
	}
}

// TestJWKSURL fetches the keys from a JWKS URL: a token signed by one of
// them is accepted, and one signed by a key the URL does not serve is
// not.
func TestJWKSURL(t *testing.T) {
	idp := newSigner(t)
	jwks, err := os.ReadFile(idp.jwks)
	if err != nil {
		t.Fatal(err)
	}
	fetches := make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches <- struct{}{}
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwks)
	}))
	defer srv.Close()
	u, err := url.Parse(srv.URL + "/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), &hclconfig.Auth{JWT: &hclconfig.JWT{
		JWKSURL: u, Issuer: "https://idp.example.com/", Audience: "vigil", Role: "operator", NameClaim: "sub",
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	claims := jwt.MapClaims{"iss": "https://idp.example.com/", "aud": "vigil", "sub": "carol", "exp": time.Now().Add(time.Hour).Unix()}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+idp.sign(t, claims))
	if id, err := a.Authenticate(r); err != nil || !reflect.DeepEqual(id, Identity{Kind: "jwt", Name: "carol", Role: Operator}) {
		t.Errorf("a token of the URL's key: %+v, %v", id, err)
	}
	r.Header.Set("Authorization", "Bearer "+newSigner(t).sign(t, claims))
	if _, err := a.Authenticate(r); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("a token of another key: %v", err)
	}
	if len(fetches) == 0 {
		t.Error("the JWKS was never fetched")
	}
}

// TestJWTMatchersClaim: a jwt block's matchers_claim confines a token's
// holder to the matchers the identity provider put in the claim; a token
// without them, or with a matcher that does not parse, is refused.
func TestJWTMatchersClaim(t *testing.T) {
	idp := newSigner(t)
	a, err := New(context.Background(), &hclconfig.Auth{JWT: &hclconfig.JWT{
		JWKSFile: idp.jwks, Issuer: "https://idp.example.com/", Audience: "vigil",
		Role: "viewer", NameClaim: "sub", MatchersClaim: "vigil_tenant",
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	token := func(tenant any) string {
		c := jwt.MapClaims{"iss": "https://idp.example.com/", "aud": "vigil", "sub": "carol", "exp": time.Now().Add(time.Hour).Unix()}
		if tenant != nil {
			c["vigil_tenant"] = tenant
		}
		return "Bearer " + idp.sign(t, c)
	}
	for name, tc := range map[string]struct {
		header string
		want   string // the matchers, formatted; "" for a refusal
	}{
		"one":           {token(`team="a"`), `[team="a"]`},
		"a list":        {token([]any{`team="a"`, `env=~"prod|staging"`}), `[team="a" env=~"prod|staging"]`},
		"missing":       {token(nil), ""},
		"empty list":    {token([]any{}), ""},
		"not a matcher": {token(`team=~"("`), ""},
		"not strings":   {token([]any{1}), ""},
	} {
		r := httptest.NewRequest("GET", "/api/v1/query", nil)
		r.Header.Set("Authorization", tc.header)
		id, err := a.Authenticate(r)
		switch {
		case tc.want == "" && !errors.Is(err, ErrBadCredentials):
			t.Errorf("%s: %+v, %v; want refused", name, id, err)
		case tc.want != "" && (err != nil || fmt.Sprint(id.Matchers) != tc.want):
			t.Errorf("%s: matchers %v, %v; want %s", name, id.Matchers, err, tc.want)
		}
	}
}
