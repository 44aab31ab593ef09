// Package auth guards the server's HTTP API: who a request comes from
// (a user with a password, a bearer token, a JSON Web Token, a client
// certificate), whether that identity's role allows the route, and the
// audit log of every request that changes something. The server block's
// tls, auth and audit blocks configure it, with the semantics of
// Prometheus's web configuration file.
//
// Start with Guard: it wraps the server's handler, asking an
// Authenticator (New) who a request comes from and an Audit (OpenAudit)
// to log it. TLSConfig makes the server's TLS configuration, with the
// certificate read again when its files change.
package auth

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/hclconfig"
)

// Role is what an identity may do. Viewer reads, Writer sends data
// (pushes, remote write, OTLP), Operator reads, writes and operates
// (silences, alerts, reloads), Admin may do everything.
type Role int

// The roles; NoRole is the role of a request without an identity.
const (
	NoRole Role = iota
	Viewer
	Writer
	Operator
	Admin
)

var roleNames = map[Role]string{
	NoRole: "none", Viewer: hclconfig.RoleViewer, Writer: hclconfig.RoleWriter, Operator: hclconfig.RoleOperator, Admin: hclconfig.RoleAdmin,
}

// String returns the role's name in the configuration.
func (r Role) String() string { return roleNames[r] }

// ParseRole returns the role named s, one of hclconfig.Roles.
func ParseRole(s string) (Role, error) {
	for r, name := range roleNames {
		if name == s && r != NoRole {
			return r, nil
		}
	}
	return NoRole, fmt.Errorf("%q is not a role; use one of %s", s, strings.Join(hclconfig.Roles, ", "))
}

// Access is what a route needs of the request's identity.
type Access int

// The accesses, by what a route does.
const (
	// Public routes need no identity: CORS preflights, which browsers
	// send without credentials.
	Public Access = iota
	// Authenticated routes need an identity of any role: health and
	// readiness.
	Authenticated
	// Read routes read: queries, series, rules, alerts, silences, the UI,
	// /metrics, federation and remote read.
	Read
	// Write routes store data: pushes, remote write and OTLP.
	Write
	// Operate routes change the alerting and the server: silences,
	// posted alerts, reloads.
	Operate
	// Administer routes are the admin API, profiles and the
	// configuration.
	Administer
)

var accessNames = map[Access]string{
	Public: "public", Authenticated: "authenticated", Read: "read", Write: "write", Operate: "operate", Administer: "administer",
}

// String names the access.
func (a Access) String() string { return accessNames[a] }

// Changes says whether routes of this access change something, and so
// are written to the audit log.
func (a Access) Changes() bool { return a >= Write }

// Allows says whether role r may use a route that needs a.
func (r Role) Allows(a Access) bool {
	switch a {
	case Public:
		return true
	case Authenticated:
		return r != NoRole
	case Read:
		return r == Viewer || r == Operator || r == Admin
	case Write:
		return r == Writer || r == Operator || r == Admin
	case Operate:
		return r == Operator || r == Admin
	case Administer:
		return r == Admin
	}
	return false
}

// Identity is who a request comes from.
type Identity struct {
	// Kind is how the caller proved who they are: "user", "token", "jwt",
	// or "anonymous" without credentials.
	Kind string
	// Name is the user's name, the token's, or the JWT's name claim.
	Name string
	Role Role
	// Certificate is the common name of the client certificate, when the
	// connection showed one that was checked against client_ca_file.
	Certificate string
	// Matchers, when set, confine the caller to a tenant: the series
	// matching them all.
	Matchers []*labels.Matcher
}

// Anonymous is the kind of an identity without credentials.
const Anonymous = "anonymous"

// String names the identity as the audit log does: "user alice",
// "token ci", "jwt someone@example.com" or "anonymous".
func (id Identity) String() string {
	if id.Kind == Anonymous || id.Kind == "" {
		return Anonymous
	}
	return id.Kind + " " + id.Name
}

type identityKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityOf returns the identity Guard found for the request of ctx;
// anonymous when there is none.
func IdentityOf(ctx context.Context) Identity {
	if id, ok := ctx.Value(identityKey{}).(Identity); ok {
		return id
	}
	return Identity{Kind: Anonymous}
}

// certificateName is the common name of the request's client
// certificate, when it was verified; "" otherwise.
func certificateName(r *http.Request) string {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return ""
	}
	return r.TLS.VerifiedChains[0][0].Subject.CommonName
}
