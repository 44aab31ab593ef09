package auth

import (
	"net/http"

	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/core/tenant"
	"github.com/vigilmon/vigil/internal/httprec"
)

// Guard lets a request through to its handler when its identity's role
// allows its route, and writes the requests that change something to the
// audit log.
type Guard struct {
	// Auth returns what finds who a request comes from, the one in
	// effect at each request, so that a reload may change it. When it or
	// what it returns is nil, everyone may do everything, as with a
	// server without an auth block, the identity being anonymous.
	Auth func() *Authenticator
	// Route returns what a request's route needs, and the route's name
	// (its pattern) for the audit log.
	Route func(*http.Request) (Access, string)
	// Confines says whether a route confines what it answers to the
	// caller's tenant (see Confine); a caller bound to a tenant is refused
	// (403) the other routes. Nil: no route does.
	Confines func(route string) bool
	// Audit, when set, receives a line for each request that changes
	// something, served or refused.
	Audit *Audit
	// Logger receives the refusals, at debug level.
	Logger hclog.Logger
}

// Realm is the realm of the WWW-Authenticate header of a 401.
const Realm = "Vigil"

// Handler wraps next. A request without valid credentials is answered
// 401 with a WWW-Authenticate header; one whose role does not allow its
// route 403. next finds the identity with IdentityOf.
func (g *Guard) Handler(next http.Handler) http.Handler {
	logger := g.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		access, route := g.Route(r)
		id := Identity{Kind: Anonymous, Role: Admin, Certificate: certificateName(r)}
		var authn *Authenticator
		if g.Auth != nil {
			authn = g.Auth()
		}
		if authn != nil {
			id.Role = NoRole
			if access != Public {
				found, err := authn.Authenticate(r)
				if err != nil {
					logger.Debug("request refused", "route", route, "remote", r.RemoteAddr, "error", err)
					if access.Changes() {
						g.Audit.Refused(r, id, route, http.StatusUnauthorized)
					}
					w.Header().Add("WWW-Authenticate", `Basic realm="`+Realm+`", charset="UTF-8"`)
					w.Header().Add("WWW-Authenticate", `Bearer realm="`+Realm+`"`)
					http.Error(w, "Unauthorized: "+route+" needs credentials (basic auth or a bearer token)", http.StatusUnauthorized)
					return
				}
				id = found
			}
		}
		if len(id.Matchers) > 0 && (g.Confines == nil || !g.Confines(route)) {
			logger.Debug("request refused", "route", route, "remote", r.RemoteAddr, "who", id.String(), "tenant", true)
			if access.Changes() {
				g.Audit.Refused(r, id, route, http.StatusForbidden)
			}
			http.Error(w, "Forbidden: "+id.String()+" is confined to a tenant, and "+route+" does not confine its answers to one", http.StatusForbidden)
			return
		}
		if !id.Role.Allows(access) {
			logger.Debug("request refused", "route", route, "remote", r.RemoteAddr, "who", id.String(), "role", id.Role)
			if access.Changes() {
				g.Audit.Refused(r, id, route, http.StatusForbidden)
			}
			http.Error(w, "Forbidden: the role "+id.Role.String()+" of "+id.String()+" does not allow "+route, http.StatusForbidden)
			return
		}
		// A caller bound to a tenant reads only its tenant's series and
		// alerts (package tenant), on the routes that confine them.
		r = r.WithContext(tenant.WithMatchers(WithIdentity(r.Context(), id), id.Matchers))
		if !access.Changes() || g.Audit == nil {
			next.ServeHTTP(w, r)
			return
		}
		rec := httprec.New(w)
		next.ServeHTTP(rec, r)
		g.Audit.Served(r, id, route, rec.Status)
	})
}
