package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/amatcher"
)

// signingMethods are the algorithms a JWT may be signed with: those of
// public keys only, so that a key of the JWKS can never serve as an HMAC
// secret, and never "none".
var signingMethods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// jwtChecker checks JWTs against the keys of a JWKS, with golang-jwt, the
// keys found by keyfunc.
type jwtChecker struct {
	keys          keyfunc.Keyfunc
	parser        *jwt.Parser
	role          Role
	roleClaim     string
	nameClaim     string
	matchersClaim string
}

// newJWTChecker reads cfg's JWKS file, or starts fetching its URL; the
// function it returns stops the fetching.
func newJWTChecker(ctx context.Context, cfg *hclconfig.JWT, logger hclog.Logger) (*jwtChecker, func(), error) {
	role, err := ParseRole(cfg.Role)
	if err != nil {
		return nil, nil, err
	}
	j := &jwtChecker{
		role: role, roleClaim: cfg.RoleClaim, nameClaim: cfg.NameClaim, matchersClaim: cfg.MatchersClaim,
		parser: jwt.NewParser(
			jwt.WithValidMethods(signingMethods),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
		),
	}
	stop := func() {}
	if cfg.JWKSFile != "" {
		raw, err := os.ReadFile(cfg.JWKSFile)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read jwks_file: %w", err)
		}
		if j.keys, err = keyfunc.NewJWKSetJSON(json.RawMessage(raw)); err != nil {
			return nil, nil, fmt.Errorf("jwks_file %q is not a JWKS: %w", cfg.JWKSFile, err)
		}
		return j, stop, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	url := cfg.JWKSURL.String()
	j.keys, err = keyfunc.NewDefaultOverrideCtx(ctx, []string{url}, keyfunc.Override{
		RefreshErrorHandlerFunc: func(string) func(context.Context, error) {
			return func(_ context.Context, err error) {
				logger.Error("cannot fetch the JWKS; the keys fetched before stay", "url", url, "error", err)
			}
		},
	})
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("cannot fetch jwks_url %q: %w", url, err)
	}
	return j, cancel, nil
}

// check returns the identity of the holder of a valid token.
func (j *jwtChecker) check(ctx context.Context, raw string) (Identity, error) {
	claims := jwt.MapClaims{}
	if _, err := j.parser.ParseWithClaims(raw, claims, j.keys.KeyfuncCtx(ctx)); err != nil {
		return Identity{}, fmt.Errorf("JWT refused: %w", err)
	}
	id := Identity{Kind: "jwt", Role: j.role}
	id.Name, _ = claims[j.nameClaim].(string)
	if id.Name == "" {
		return Identity{}, fmt.Errorf("JWT refused: it has no %s claim to name the caller", j.nameClaim)
	}
	if j.roleClaim != "" {
		role, err := roleOfClaim(claims[j.roleClaim])
		if err != nil {
			return Identity{}, fmt.Errorf("JWT of %q refused: claim %s: %w", id.Name, j.roleClaim, err)
		}
		id.Role = role
	}
	if j.matchersClaim != "" {
		ms, err := matchersOfClaim(claims[j.matchersClaim])
		if err != nil {
			return Identity{}, fmt.Errorf("JWT of %q refused: claim %s: %w", id.Name, j.matchersClaim, err)
		}
		id.Matchers = ms
	}
	return id, nil
}

// matchersOfClaim are the matchers a claim holds: a string or a list of
// strings, each in Alertmanager's syntax. A claim without any is refused,
// so that a token the identity provider did not bind to a tenant is not
// taken for one that sees everything.
func matchersOfClaim(v any) ([]*labels.Matcher, error) {
	var texts []string
	switch v := v.(type) {
	case string:
		texts = []string{v}
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%v is not a string", e)
			}
			texts = append(texts, s)
		}
	case nil:
		return nil, errors.New("missing")
	default:
		return nil, errors.New("neither a string nor a list of strings")
	}
	var out []*labels.Matcher
	for _, t := range texts {
		ms, err := amatcher.Parse(t)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", t, err)
		}
		out = append(out, ms...)
	}
	if len(out) == 0 {
		return nil, errors.New("it holds no matcher")
	}
	return out, nil
}

// roleOfClaim is the role a claim holds: a role's name, or a list of
// them, of which the most allowed counts. Names that are not roles are
// left out, as an identity provider's groups may hold other things.
func roleOfClaim(v any) (Role, error) {
	var names []string
	switch v := v.(type) {
	case string:
		names = []string{v}
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				names = append(names, s)
			}
		}
	case nil:
		return NoRole, errors.New("missing")
	default:
		return NoRole, fmt.Errorf("neither a string nor a list of strings")
	}
	var roles []Role
	for _, n := range names {
		if r, err := ParseRole(n); err == nil {
			roles = append(roles, r)
		}
	}
	if len(roles) == 0 {
		return NoRole, fmt.Errorf("%q holds no role", names)
	}
	// Writer only sends data; any other role it is listed with is more.
	roles = slices.DeleteFunc(roles, func(r Role) bool { return r == Writer && len(roles) > 1 })
	return slices.Max(roles), nil
}
