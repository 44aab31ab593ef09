package server

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/vigilmon/vigil/core/api"
	"github.com/vigilmon/vigil/core/auth"
)

// routeAccess is what each route needs of a request's identity, by the
// pattern it is registered with; its role must allow it (auth.Role.Allows).
// A route missing here stops the server from starting, so that no route
// is left open by accident: the server's and the agent's tests start
// them with every route registered.
//
//   - Reads (auth.Read): the queries and what the UI shows, federation,
//     remote read, /metrics, the Alertmanager API's reads.
//   - Writes (auth.Write): samples and alerts sent by other programs,
//     pushes, remote write, OTLP and posted alerts, so that a Prometheus
//     or an agent sending both holds one credential that can do nothing
//     else (role writer); operators and admins may write too.
//   - Operations (auth.Operate): silences and reloads.
//   - Administration (auth.Administer): the admin API, profiles, and the
//     configuration, which shows every target, receiver and user name.
//   - Health and readiness need any identity (auth.Authenticated), as in
//     Prometheus, whose web configuration puts every path behind its
//     basic auth; CORS preflights (OPTIONS), which browsers send without
//     credentials, need none.
var routeAccess = map[string]auth.Access{
	"GET /api/v1/query":                        auth.Read,
	"POST /api/v1/query":                       auth.Read,
	"GET /api/v1/query_range":                  auth.Read,
	"POST /api/v1/query_range":                 auth.Read,
	"GET /api/v1/query_exemplars":              auth.Read,
	"POST /api/v1/query_exemplars":             auth.Read,
	"GET /api/v1/series":                       auth.Read,
	"POST /api/v1/series":                      auth.Read,
	"GET /api/v1/labels":                       auth.Read,
	"POST /api/v1/labels":                      auth.Read,
	"GET /api/v1/format_query":                 auth.Read,
	"POST /api/v1/format_query":                auth.Read,
	"GET /api/v1/parse_query":                  auth.Read,
	"POST /api/v1/parse_query":                 auth.Read,
	"GET /api/v1/label/{name}/values":          auth.Read,
	"GET /api/v1/targets":                      auth.Read,
	"GET /api/v1/targets/metadata":             auth.Read,
	"GET /api/v1/metadata":                     auth.Read,
	"GET /api/v1/rules":                        auth.Read,
	"GET /api/v1/alerts":                       auth.Read,
	"GET /api/v1/alertmanagers":                auth.Read,
	"GET /api/v1/status/buildinfo":             auth.Read,
	"GET /api/v1/status/runtimeinfo":           auth.Read,
	"GET /api/v1/status/tsdb":                  auth.Read,
	"GET /api/v1/status/flags":                 auth.Read,
	"GET /api/v1/status/config":                auth.Administer,
	"GET /api/v1/dashboards":                   auth.Read,
	"GET /api/v1/dashboards/{name}":            auth.Read,
	"GET /api/v1/plugins":                      auth.Read,
	"GET /federate":                            auth.Read,
	"POST /api/v1/read":                        auth.Read,
	"GET /{$}":                                 auth.Read,
	"GET /graph":                               auth.Read,
	"GET /metrics":                             auth.Read,
	"GET /api/v2/silences":                     auth.Read,
	"GET /api/v2/silence/{id}":                 auth.Read,
	"GET /api/v2/status":                       auth.Read,
	"GET /api/v2/alerts":                       auth.Read,
	"GET /api/v2/alerts/groups":                auth.Read,
	"GET /api/v1/metrics":                      auth.Read,
	"GET /push/metrics":                        auth.Read,
	"POST /api/v2/alerts":                      auth.Write,
	"POST /api/v1/write":                       auth.Write,
	"POST /api/v1/otlp/v1/metrics":             auth.Write,
	"PUT /metrics/job/":                        auth.Write,
	"POST /metrics/job/":                       auth.Write,
	"DELETE /metrics/job/":                     auth.Write,
	"PUT /metrics/job@base64/":                 auth.Write,
	"POST /metrics/job@base64/":                auth.Write,
	"DELETE /metrics/job@base64/":              auth.Write,
	"POST /api/v2/silences":                    auth.Operate,
	"DELETE /api/v2/silence/{id}":              auth.Operate,
	"POST /-/reload":                           auth.Operate,
	"POST /api/v1/admin/tsdb/delete_series":    auth.Administer,
	"PUT /api/v1/admin/tsdb/delete_series":     auth.Administer,
	"POST /api/v1/admin/tsdb/clean_tombstones": auth.Administer,
	"PUT /api/v1/admin/tsdb/clean_tombstones":  auth.Administer,
	"POST /api/v1/admin/tsdb/snapshot":         auth.Administer,
	"PUT /api/v1/admin/tsdb/snapshot":          auth.Administer,
	"PUT /api/v1/admin/wipe":                   auth.Administer,
	"/debug/pprof/":                            auth.Administer,
	"/debug/pprof/cmdline":                     auth.Administer,
	"/debug/pprof/profile":                     auth.Administer,
	"/debug/pprof/symbol":                      auth.Administer,
	"/debug/pprof/trace":                       auth.Administer,
	"GET /-/healthy":                           auth.Authenticated,
	"GET /-/ready":                             auth.Authenticated,
}

// confinedRoutes are the routes that confine their answers to the tenant
// of a caller bound to label matchers (package tenant): those that read
// series through the store tenant.ByContext wraps (queries, series,
// labels, federation, exemplars, remote read), those that filter alerts,
// silences, targets and metadata by the tenant's matchers, and those that
// answer no data, such as the dashboards, whose panels read their data
// through the confined queries. A caller bound to a tenant is refused (403) every other
// route, such as /metrics, the status of the store and the configuration,
// and the writes of samples, which would reach beyond its tenant.
var confinedRoutes = map[string]bool{
	"GET /api/v1/query":               true,
	"POST /api/v1/query":              true,
	"GET /api/v1/query_range":         true,
	"POST /api/v1/query_range":        true,
	"GET /api/v1/series":              true,
	"POST /api/v1/series":             true,
	"GET /api/v1/labels":              true,
	"POST /api/v1/labels":             true,
	"GET /api/v1/label/{name}/values": true,
	"GET /federate":                   true,
	"GET /api/v1/format_query":        true,
	"POST /api/v1/format_query":       true,
	"GET /api/v1/parse_query":         true,
	"POST /api/v1/parse_query":        true,
	"GET /api/v1/status/buildinfo":    true,
	"GET /api/v1/dashboards":          true,
	"GET /api/v1/dashboards/{name}":   true,
	"GET /api/v1/query_exemplars":     true,
	"POST /api/v1/query_exemplars":    true,
	"POST /api/v1/read":               true,
	"GET /api/v1/targets":             true,
	"GET /api/v1/targets/metadata":    true,
	"GET /api/v1/metadata":            true,
	"GET /api/v1/rules":               true,
	"GET /api/v1/alerts":              true,
	"GET /api/v2/alerts":              true,
	"POST /api/v2/alerts":             true,
	"GET /api/v2/alerts/groups":       true,
	"GET /api/v2/silences":            true,
	"POST /api/v2/silences":           true,
	"GET /api/v2/silence/{id}":        true,
	"DELETE /api/v2/silence/{id}":     true,
	"GET /{$}":                        true,
	"GET /graph":                      true,
	"GET /-/healthy":                  true,
	"GET /-/ready":                    true,
}

// The web UI's pages and assets are read like the pages at / and /graph,
// and hold no data of their own: they confine nothing they could leak.
func init() {
	for _, p := range append(slices.Clone(api.UIPages), "/assets/") {
		if p == "/" {
			p = "/{$}"
		}
		routeAccess["GET "+p] = auth.Read
		confinedRoutes["GET "+p] = true
	}
}

// accessOf is what the route of pattern needs: routeAccess's entry, or
// nothing for a CORS preflight; false for a route missing from both.
func accessOf(pattern string) (auth.Access, bool) {
	if strings.HasPrefix(pattern, http.MethodOptions+" ") {
		return auth.Public, true
	}
	a, ok := routeAccess[pattern]
	return a, ok
}

// routes is the server's mux, which remembers the patterns registered
// with it, to tell what each request's route needs.
type routes struct {
	mux      *http.ServeMux
	patterns []string
}

func newRoutes() *routes { return &routes{mux: http.NewServeMux()} }

// Handle registers handler for pattern.
func (r *routes) Handle(pattern string, handler http.Handler) {
	r.mux.Handle(pattern, handler)
	r.patterns = append(r.patterns, pattern)
}

// HandleFunc registers handler for pattern.
func (r *routes) HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request)) {
	r.Handle(pattern, http.HandlerFunc(handler))
}

// check returns an error naming the registered routes that routeAccess
// does not list.
func (r *routes) check() error {
	var missing []string
	for _, p := range r.patterns {
		if _, ok := accessOf(p); !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("the routes %q have no access in routeAccess: say who may use them", missing)
	}
	return nil
}

// access is what req's route needs, and its pattern. A request no route
// takes (404, 405) needs an identity, as every path does in Prometheus
// behind basic auth, so that the answer tells nothing to strangers.
func (r *routes) access(req *http.Request) (auth.Access, string) {
	_, pattern := r.mux.Handler(req)
	if pattern == "" {
		return auth.Authenticated, req.Method + " " + req.URL.Path
	}
	a, ok := accessOf(pattern)
	if !ok {
		return auth.Administer, pattern // check refuses this at start
	}
	return a, pattern
}
