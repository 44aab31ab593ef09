package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/prometheus/model/labels"
	"golang.org/x/crypto/bcrypt"

	"github.com/vigilmon/vigil/hclconfig"
)

// ErrNoCredentials is what Authenticate returns for a request without an
// Authorization header; ErrBadCredentials for one whose credentials are
// not valid. Both are answered 401.
var (
	ErrNoCredentials  = errors.New("no credentials")
	ErrBadCredentials = errors.New("invalid credentials")
)

// Authenticator finds who a request comes from, by the users, tokens and
// JWTs of an auth block.
type Authenticator struct {
	users  map[string]user
	tokens map[[sha256.Size]byte]token
	jwt    *jwtChecker // nil without a jwt block
	cache  *cache
	// bcryptMu runs one bcrypt comparison at a time, as exporter-toolkit
	// does: each takes a core for tens of milliseconds, and many at once
	// would starve the server.
	bcryptMu sync.Mutex
	close    func()
}

type user struct {
	hash     []byte
	role     Role
	matchers []*labels.Matcher
}

type token struct {
	name     string
	role     Role
	matchers []*labels.Matcher
}

// fakeHash is compared with the password of an unknown user, so that the
// answer takes as long as for a known one and does not tell which users
// exist. It is the bcrypt hash, of cost 10, of a password nobody has.
var fakeHash = []byte("$2a$10$SzdYvCBXbkhqxXDFOeypRuJnivteKRdfhD4rsRbfH4pMaka1HYahG")

// New makes an Authenticator of cfg. A jwt block's keys are read, or
// fetched, now; Close ends the fetching.
func New(ctx context.Context, cfg *hclconfig.Auth, logger hclog.Logger) (*Authenticator, error) {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	a := &Authenticator{users: map[string]user{}, tokens: map[[sha256.Size]byte]token{}, cache: newCache(cacheSize), close: func() {}}
	for _, u := range cfg.Users {
		role, err := ParseRole(u.Role)
		if err != nil {
			return nil, fmt.Errorf("user %q: %w", u.Name, err)
		}
		a.users[u.Name] = user{hash: []byte(u.PasswordHash.Value()), role: role, matchers: u.Matchers}
	}
	for _, t := range cfg.Tokens {
		role, err := ParseRole(t.Role)
		if err != nil {
			return nil, fmt.Errorf("token %q: %w", t.Name, err)
		}
		sum, err := hex.DecodeString(t.SHA256.Value())
		if err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("token %q: sha256 is not a SHA-256 sum in hexadecimal", t.Name)
		}
		a.tokens[[sha256.Size]byte(sum)] = token{name: t.Name, role: role, matchers: t.Matchers}
	}
	if cfg.JWT != nil {
		j, closeJWT, err := newJWTChecker(ctx, cfg.JWT, logger.Named("jwks"))
		if err != nil {
			return nil, fmt.Errorf("the jwt block: %w", err)
		}
		a.jwt, a.close = j, closeJWT
	}
	return a, nil
}

// Close stops fetching a jwt block's keys.
func (a *Authenticator) Close() error {
	a.close()
	return nil
}

// Authenticate returns the identity r proves with its Authorization
// header: basic auth of a user, or a bearer token that is one of the
// tokens or a JWT. The identity carries the name of a verified client
// certificate as well.
func (a *Authenticator) Authenticate(r *http.Request) (Identity, error) {
	cert := certificateName(r)
	header := r.Header.Get("Authorization")
	if header == "" {
		return Identity{}, ErrNoCredentials
	}
	if name, pass, ok := r.BasicAuth(); ok {
		if !a.checkPassword(name, pass) {
			return Identity{}, fmt.Errorf("%w: basic auth of user %q", ErrBadCredentials, name)
		}
		u := a.users[name]
		return Identity{Kind: "user", Name: name, Role: u.role, Certificate: cert, Matchers: u.matchers}, nil
	}
	scheme, credential, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") || credential == "" {
		return Identity{}, fmt.Errorf("%w: the Authorization header is neither Basic nor Bearer", ErrBadCredentials)
	}
	if t, ok := a.tokens[sha256.Sum256([]byte(credential))]; ok {
		return Identity{Kind: "token", Name: t.name, Role: t.role, Certificate: cert, Matchers: t.matchers}, nil
	}
	if a.jwt != nil && strings.Count(credential, ".") == 2 {
		id, err := a.jwt.check(r.Context(), credential)
		if err != nil {
			return Identity{}, fmt.Errorf("%w: %w", ErrBadCredentials, err)
		}
		id.Certificate = cert
		return id, nil
	}
	return Identity{}, fmt.Errorf("%w: unknown bearer token", ErrBadCredentials)
}

// checkPassword says whether pass is the password of user name. The
// answers are cached by a hash of the name, the user's hash
// and the password, so that a client sending the same credentials with
// every request pays for bcrypt once; a changed hash changes the key.
func (a *Authenticator) checkPassword(name, pass string) bool {
	u, known := a.users[name]
	hash := u.hash
	if !known {
		hash = fakeHash
	}
	key := cacheKey(name, hash, pass)
	ok, cached := a.cache.get(key)
	if !cached {
		a.bcryptMu.Lock()
		err := bcrypt.CompareHashAndPassword(hash, []byte(pass))
		a.bcryptMu.Unlock()
		ok = known && err == nil
		a.cache.set(key, ok)
	}
	return ok
}

// cacheKey is the SHA-256 of the name, the hash and the password, each
// preceded by its length so that no two triples give the same input.
// The cache keeps no password.
func cacheKey(name string, hash []byte, pass string) [sha256.Size]byte {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(name), hash, []byte(pass)} {
		fmt.Fprintf(h, "%d:", len(part))
		h.Write(part)
	}
	return [sha256.Size]byte(h.Sum(nil))
}

// cacheSize bounds the cached password checks.
const cacheSize = 256

// cache remembers the results of password checks, at most size of them;
// when it is full, a tenth of them, any, make room.
type cache struct {
	mu      sync.Mutex
	size    int
	entries map[[sha256.Size]byte]bool
}

func newCache(size int) *cache {
	return &cache{size: size, entries: make(map[[sha256.Size]byte]bool, size)}
}

func (c *cache) get(key [sha256.Size]byte) (ok, found bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ok, found = c.entries[key]
	return ok, found
}

func (c *cache) set(key [sha256.Size]byte, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.size {
		evict := max(c.size/10, 1)
		for k := range c.entries {
			delete(c.entries, k)
			if evict--; evict == 0 {
				break
			}
		}
	}
	c.entries[key] = ok
}
