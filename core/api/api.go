// Package api serves the Prometheus HTTP API (v1) over Vigil's store, query
// engine, scrape manager and rules, with Prometheus's JSON shapes, status codes and
// error types, so that Grafana, promtool and client_golang's API client
// work unchanged. Start with New and Register.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/index"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/vigilmon/vigil/core/pluginhost"
	"github.com/vigilmon/vigil/core/query"
	"github.com/vigilmon/vigil/core/scrape"
	"github.com/vigilmon/vigil/core/tenant"
	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/hclconfig"
)

// Sources are what the API reads from.
type Sources struct {
	Engine *promql.Engine
	Store  storage.Queryable
	// Exemplars, when set, are the exemplars of /api/v1/query_exemplars;
	// without it that endpoint answers an empty list, as Prometheus with
	// its exemplar storage off.
	Exemplars storage.ExemplarQueryable
	Stats     func(limit int) (*tsdb.Stats, error)
	Targets   *scrape.Manager
	// Rules, when set, are the rule groups of /api/v1/rules and the alerts
	// of /api/v1/alerts; without it both are empty.
	Rules RuleSource
	// Silences, when set, are the silences of the Alertmanager API v2
	// (/api/v2/silences and /api/v2/status); without it those endpoints
	// answer 503, alerting is not configured.
	Silences SilenceStore
	// Alerts, when set, are the dispatcher's current alerts that
	// /api/v2/alerts and /api/v2/alerts/groups answer; without it those
	// endpoints answer 503, alerting is not configured.
	Alerts AlertSource
	// Alertmanagers, when set, returns the URLs of the external
	// Alertmanagers alerts are posted to, for /api/v1/alertmanagers.
	Alertmanagers func() []string
	// Plugins, when set, returns the status of the plugin instances, for
	// /api/v1/plugins, which lists the configuration's plugin blocks;
	// without it every plugin is listed without instances.
	Plugins func() []pluginhost.Status
	// Config returns the configuration in effect; Flags are the command
	// line flags of the server.
	Config func() *hclconfig.Config
	Flags  map[string]string
	// Admin, when set, enables the admin endpoints; snapshots go into
	// SnapshotDir.
	Admin       Admin
	SnapshotDir string
	// MaxConcurrentQueries bounds the queries that run at once, their
	// parsing included; others wait for a slot. 0 means no bound.
	MaxConcurrentQueries int
	// MaxQueryLength bounds the length in bytes of a PromQL expression,
	// which bounds the time the parser, which cannot be interrupted,
	// takes. 0 means no bound.
	MaxQueryLength int
	// QueryTimeout, when set, bounds a query from the moment it arrives:
	// waiting for a slot and parsing count, not only the evaluation the
	// engine bounds.
	QueryTimeout time.Duration
	// ExternalLabels returns the labels added to federated series that
	// lack them; nil adds none.
	ExternalLabels func() labels.Labels
	// CORSOrigin, when set, says whether web pages of an origin may read
	// the API v1: its answers to them carry Access-Control-Allow-Origin,
	// as Prometheus's do.
	CORSOrigin func(origin string) bool
	// Version and Revision are the version and source revision of
	// /api/v1/status/buildinfo and of /api/v2/status.
	Version, Revision string
	Logger            hclog.Logger
	// Agent says the server runs in agent mode, without a store to read:
	// the endpoints that query it, and those of rules and alerts, answer
	// 422 with an error of type execution, "not available in agent mode",
	// as Prometheus's agent answers them; federation answers 404, and the
	// admin and Alertmanager endpoints are not served. Engine, Store,
	// Exemplars, Stats, Rules, Silences and Alerts may then be nil.
	Agent bool
}

// API serves the endpoints of the Prometheus HTTP API v1.
type API struct {
	src    Sources
	parser parser.Parser
	start  time.Time
	slots  chan struct{} // a token per running query, when bounded
}

// New returns an API over src.
func New(src Sources) *API {
	if src.Logger == nil {
		src.Logger = hclog.NewNullLogger()
	}
	a := &API{src: src, parser: parser.NewParser(parser.Options{}), start: time.Now()}
	if src.MaxConcurrentQueries > 0 {
		a.slots = make(chan struct{}, src.MaxConcurrentQueries)
	}
	return a
}

// readPOSTPaths are the endpoints that take POST as well as GET, only to
// read: a form's parameters may be too long for a URL.
var readPOSTPaths = []string{
	"/api/v1/query", "/api/v1/query_range", "/api/v1/query_exemplars", "/api/v1/series",
	"/api/v1/labels", "/api/v1/format_query", "/api/v1/parse_query",
}

// ReadPOSTPatterns are the route patterns of the POST requests that only
// read, such as a query sent as a form. Web pages of any origin may send
// them, as to Prometheus; a server refuses every other POST, PUT and
// DELETE from another origin's page (http.CrossOriginProtection).
func ReadPOSTPatterns() []string {
	out := make([]string, 0, len(readPOSTPaths))
	for _, p := range readPOSTPaths {
		out = append(out, http.MethodPost+" "+p)
	}
	return out
}

// Mux is what the endpoints are registered with: an *http.ServeMux, or
// what wraps one to know its routes.
type Mux interface {
	Handle(pattern string, handler http.Handler)
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// Register adds the endpoints to mux: /api/v1/..., the Alertmanager
// subset of /api/v2/... and /federate.
func (a *API) Register(mux Mux) {
	var paths []string
	handle := func(pattern string, h http.HandlerFunc) {
		mux.HandleFunc(pattern, h)
		if _, path, _ := strings.Cut(pattern, " "); strings.HasPrefix(path, "/api/v1/") && !slices.Contains(paths, path) {
			paths = append(paths, path)
		}
	}
	read := map[string]handler{
		"/api/v1/query": a.query, "/api/v1/query_range": a.queryRange, "/api/v1/query_exemplars": a.queryExemplars,
		"/api/v1/series": a.series, "/api/v1/labels": a.labelNames, "/api/v1/format_query": a.formatQuery,
		"/api/v1/parse_query": a.parseQuery,
	}
	// store wraps the handlers that need the store, the rules or the
	// alerts: in agent mode they say they are not available.
	store := a.wrap
	federate := a.federate
	if a.src.Agent {
		store = func(handler) http.HandlerFunc { return a.wrap(notInAgentMode) }
		federate = func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "federation is "+errNotInAgentMode.Error(), http.StatusNotFound)
		}
	}
	for _, path := range readPOSTPaths {
		handle(http.MethodGet+" "+path, store(read[path]))
		handle(http.MethodPost+" "+path, store(read[path]))
	}
	handle("GET /api/v1/label/{name}/values", store(a.labelValues))
	handle("GET /api/v1/targets", a.wrap(a.targets))
	handle("GET /api/v1/targets/metadata", a.wrap(a.targetsMetadata))
	handle("GET /api/v1/metadata", a.wrap(a.metadata))
	handle("GET /api/v1/rules", store(a.rules))
	handle("GET /api/v1/alerts", store(a.alerts))
	handle("GET /api/v1/alertmanagers", store(a.alertmanagers))
	handle("GET /api/v1/status/buildinfo", a.wrap(a.buildInfo))
	handle("GET /api/v1/status/runtimeinfo", a.wrap(a.runtimeInfo))
	handle("GET /api/v1/status/tsdb", store(a.tsdbStatus))
	handle("GET /api/v1/status/config", a.wrap(a.configStatus))
	handle("GET /api/v1/status/flags", a.wrap(a.flagsStatus))
	handle("GET /api/v1/dashboards", a.wrap(a.dashboardList))
	handle("GET /api/v1/dashboards/{name}", a.wrap(a.dashboard))
	handle("GET /api/v1/plugins", a.wrap(a.plugins))
	handle("GET /federate", federate)
	// A browser asks before it sends a request a form could not send. Each
	// path has its own OPTIONS pattern: one for all of /api/v1/ would turn
	// the 404 of an unknown path, or of one only other endpoints serve
	// under /api/v1/, into a 405.
	preflight := a.wrap(func(*http.Request) (any, annotations.Annotations, *apiError) { return nil, nil, nil })
	for _, path := range paths {
		mux.HandleFunc(http.MethodOptions+" "+path, preflight)
	}
	if a.src.Agent {
		return
	}
	a.registerAdmin(mux)
	a.registerAlertmanager(mux)
}

// errNotInAgentMode is what the endpoints that need a store answer in
// agent mode.
var errNotInAgentMode = errors.New("not available in agent mode")

// notInAgentMode answers an endpoint that needs a store in agent mode, as
// Prometheus's agent answers it: 422, an error of type execution.
func notInAgentMode(*http.Request) (any, annotations.Annotations, *apiError) {
	return nil, nil, &apiError{errorExecution, errNotInAgentMode}
}

// Error types of the API, as Prometheus names them.
const (
	errorBadData     = "bad_data"
	errorExecution   = "execution"
	errorTimeout     = "timeout"
	errorCanceled    = "canceled"
	errorInternal    = "internal"
	errorUnavailable = "unavailable"
	// errorForbidden is Vigil's, for what a request confined to a tenant
	// may not read (403).
	errorForbidden = "forbidden"
)

// apiError is an error with its API type.
type apiError struct {
	typ string
	err error
}

func (e *apiError) Error() string { return e.err.Error() }

func badData(format string, args ...any) *apiError {
	return &apiError{errorBadData, fmt.Errorf(format, args...)}
}

type response struct {
	Status    string   `json:"status"`
	Data      any      `json:"data,omitempty"`
	ErrorType string   `json:"errorType,omitempty"`
	Error     string   `json:"error,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	Infos     []string `json:"infos,omitempty"`
}

// maxFormBytes bounds the body of a request to the API v1, a form: the
// bound Go's ParseForm sets, made one that answers 413.
const maxFormBytes = 10 << 20

type handler func(r *http.Request) (data any, warnings annotations.Annotations, err *apiError)

// wrap writes a handler's result as Prometheus does.
func (a *API) wrap(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a.setCORS(w, r)
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			status := http.StatusBadRequest
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				status = http.StatusRequestEntityTooLarge
			}
			a.write(w, status, response{Status: "error", ErrorType: errorBadData, Error: fmt.Sprintf("cannot parse the form: %v", err)})
			return
		}
		data, annos, apiErr := h(r)
		if q, ok := data.(queryResult); ok {
			// The result's memory goes back to the engine's pools when the
			// query closes: only once the response is written.
			defer q.query.Close()
		}
		warnings, infos := annos.AsStrings("", 10, 10)
		if apiErr != nil {
			a.write(w, statusOf(apiErr.typ), response{Status: "error", ErrorType: apiErr.typ, Error: apiErr.Error(), Data: data, Warnings: warnings, Infos: infos})
			return
		}
		if _, empty := data.(noContent); empty {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		a.write(w, http.StatusOK, response{Status: "success", Data: data, Warnings: warnings, Infos: infos})
	}
}

// setCORS lets a web page of an origin CORSOrigin matches read the
// answer, as Prometheus's API does.
func (a *API) setCORS(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || a.src.CORSOrigin == nil || !a.src.CORSOrigin(origin) {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Headers", "Accept, Authorization, Content-Type, Origin")
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Expose-Headers", "Date")
}

func statusOf(typ string) int {
	switch typ {
	case errorBadData:
		return http.StatusBadRequest
	case errorExecution:
		return http.StatusUnprocessableEntity
	case errorCanceled, errorTimeout, errorUnavailable:
		return http.StatusServiceUnavailable
	case errorForbidden:
		return http.StatusForbidden
	case errorNotFound:
		return http.StatusNotFound
	default:
		return http.StatusInternalServerError
	}
}

func (a *API) write(w http.ResponseWriter, status int, resp response) {
	b, err := json.Marshal(resp)
	if err != nil {
		a.src.Logger.Error("cannot encode an API response", "error", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// queryResult is the data of a query response. Result lives in memory
// the engine reuses once query is closed, which wrap does after writing
// the response.
type queryResult struct {
	ResultType parser.ValueType `json:"resultType"`
	Result     parser.Value     `json:"result"`
	query      promql.Query
}

func (a *API) query(r *http.Request) (any, annotations.Annotations, *apiError) {
	ts, err := parseTimeParam(r, "time", time.Now())
	if err != nil {
		return nil, nil, err
	}
	return a.runQuery(r, func(ctx context.Context, expr string) (promql.Query, error) {
		return a.src.Engine.NewInstantQuery(ctx, a.src.Store, nil, expr, ts)
	})
}

func (a *API) queryRange(r *http.Request) (any, annotations.Annotations, *apiError) {
	start, err := parseTimeParam(r, "start", time.Time{})
	if err != nil {
		return nil, nil, err
	}
	end, err := parseTimeParam(r, "end", time.Time{})
	if err != nil {
		return nil, nil, err
	}
	if r.FormValue("start") == "" || r.FormValue("end") == "" {
		return nil, nil, badData("start and end are required")
	}
	if end.Before(start) {
		return nil, nil, badData("end timestamp must not be before start time")
	}
	step, derr := parseDuration(r.FormValue("step"))
	if derr != nil {
		return nil, nil, badData("invalid parameter \"step\": %v", derr)
	}
	if step <= 0 {
		return nil, nil, badData("zero or negative query resolution step widths are not accepted. Try a positive integer")
	}
	if end.Sub(start)/step > 11000 {
		return nil, nil, badData("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
	}
	return a.runQuery(r, func(ctx context.Context, expr string) (promql.Query, error) {
		return a.src.Engine.NewRangeQuery(ctx, a.src.Store, nil, expr, start, end, step)
	})
}

// admit lets the request's query parameter in: it refuses one longer
// than MaxQueryLength, then waits for a query slot within the query's
// context. The parser cannot be stopped, so its work is bounded by the
// length of what it parses, and done in a slot. done releases the slot
// and the context.
func (a *API) admit(r *http.Request) (expr string, ctx context.Context, done func(), err *apiError) {
	expr = r.FormValue("query")
	if max := a.src.MaxQueryLength; max > 0 && len(expr) > max {
		return "", nil, nil, badData("invalid parameter \"query\": the query is %d bytes long, more than the %d of the query block's max_query_length", len(expr), max)
	}
	ctx, cancel, err := a.queryContext(r)
	if err != nil {
		return "", nil, nil, err
	}
	release, err := a.takeSlot(ctx)
	if err != nil {
		cancel()
		return "", nil, nil, err
	}
	return expr, ctx, func() { release(); cancel() }, nil
}

// parsed says, after parsing, whether the query should go on: not when
// its client has gone or its time is up.
func parsed(ctx context.Context) *apiError {
	if ctx.Err() != nil {
		return queryError(fmt.Errorf("parsing the query: %w", ctx.Err()))
	}
	return nil
}

// takeSlot waits for a query slot, until ctx ends; release gives it back.
func (a *API) takeSlot(ctx context.Context) (release func(), err *apiError) {
	if a.slots == nil {
		return func() {}, nil
	}
	select {
	case a.slots <- struct{}{}:
		return func() { <-a.slots }, nil
	case <-ctx.Done():
		return nil, queryError(fmt.Errorf("waiting for a query slot: %w", ctx.Err()))
	}
}

// runQuery parses the request's query with newQuery and runs it, within a
// query slot. It closes the query, unless it returns a queryResult, which
// holds it for wrap to close once the response is written.
func (a *API) runQuery(r *http.Request, newQuery func(ctx context.Context, expr string) (promql.Query, error)) (any, annotations.Annotations, *apiError) {
	expr, ctx, done, err := a.admit(r)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	q, qerr := newQuery(ctx, expr)
	if qerr != nil {
		return nil, nil, &apiError{errorBadData, qerr}
	}
	if err := parsed(ctx); err != nil {
		q.Close()
		return nil, nil, err
	}
	if err := query.CheckSubqueries(q); err != nil {
		q.Close()
		return nil, nil, badData("invalid parameter \"query\": %v", err)
	}
	res := q.Exec(ctx)
	if res.Err != nil {
		q.Close()
		return nil, res.Warnings, queryError(res.Err)
	}
	return queryResult{ResultType: res.Value.Type(), Result: nonNilValue(res.Value), query: q}, res.Warnings, nil
}

// nonNilValue gives an empty vector or matrix as an empty list, not nil,
// which JSON would write as null: clients, client_golang's among them,
// expect a list.
func nonNilValue(v parser.Value) parser.Value {
	switch v := v.(type) {
	case promql.Vector:
		if v == nil {
			return promql.Vector{}
		}
	case promql.Matrix:
		if v == nil {
			return promql.Matrix{}
		}
	}
	return v
}

func queryError(err error) *apiError {
	var (
		canceled promql.ErrQueryCanceled
		timeout  promql.ErrQueryTimeout
		storErr  promql.ErrStorage
	)
	switch {
	case errors.As(err, &canceled):
		return &apiError{errorCanceled, err}
	case errors.As(err, &timeout):
		return &apiError{errorTimeout, err}
	case errors.As(err, &storErr):
		return &apiError{errorInternal, err}
	case errors.Is(err, context.Canceled):
		return &apiError{errorCanceled, err}
	case errors.Is(err, context.DeadlineExceeded):
		return &apiError{errorTimeout, err}
	}
	return &apiError{errorExecution, err}
}

// queryContext is the context of a query: it ends when the client goes
// away, at the query block's timeout and at the request's timeout
// parameter, whichever comes first.
func (a *API) queryContext(r *http.Request) (context.Context, context.CancelFunc, *apiError) {
	ctx, cancel := r.Context(), context.CancelFunc(func() {})
	if a.src.QueryTimeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, a.src.QueryTimeout)
	}
	if t := r.FormValue("timeout"); t != "" {
		d, err := parseDuration(t)
		if err != nil {
			cancel()
			return nil, nil, badData("invalid parameter \"timeout\": %v", err)
		}
		var cancelParam context.CancelFunc
		ctx, cancelParam = context.WithTimeout(ctx, d)
		return ctx, func() { cancelParam(); cancel() }, nil
	}
	return ctx, cancel, nil
}

// matchers parses the match[] parameters.
func (a *API) matchers(r *http.Request) ([][]*labels.Matcher, *apiError) {
	var out [][]*labels.Matcher
	for _, s := range r.Form["match[]"] {
		ms, err := a.parser.ParseMetricSelector(s)
		if err != nil {
			return nil, badData("invalid parameter \"match[]\": %v", err)
		}
		out = append(out, ms)
	}
	return out, nil
}

func (a *API) timeRange(r *http.Request) (int64, int64, *apiError) {
	start, err := parseTimeParam(r, "start", minTime)
	if err != nil {
		return 0, 0, err
	}
	end, err := parseTimeParam(r, "end", maxTime)
	if err != nil {
		return 0, 0, err
	}
	return timestamp(start), timestamp(end), nil
}

// selection parses the match[] selectors and the start and end of a
// request; required says whether at least one selector must be given.
func (a *API) selection(r *http.Request, required bool) ([][]*labels.Matcher, int64, int64, *apiError) {
	sets, err := a.matchers(r)
	if err != nil {
		return nil, 0, 0, err
	}
	if required && len(sets) == 0 {
		return nil, 0, 0, badData("no match[] parameter provided")
	}
	mint, maxt, err := a.timeRange(r)
	if err != nil {
		return nil, 0, 0, err
	}
	return sets, mint, maxt, nil
}

func (a *API) series(r *http.Request) (any, annotations.Annotations, *apiError) {
	sets, mint, maxt, err := a.selection(r, true)
	if err != nil {
		return nil, nil, err
	}
	q, qerr := a.src.Store.Querier(mint, maxt)
	if qerr != nil {
		return nil, nil, &apiError{errorExecution, qerr}
	}
	defer q.Close()
	hints := &storage.SelectHints{Start: mint, End: maxt, Func: "series"}
	var sets2 []storage.SeriesSet
	for _, ms := range sets {
		sets2 = append(sets2, q.Select(r.Context(), len(sets) > 1, hints, ms...))
	}
	set := storage.NewMergeSeriesSet(sets2, 0, storage.ChainedSeriesMerge)
	out := []labels.Labels{}
	for set.Next() {
		out = append(out, set.At().Labels())
	}
	if err := set.Err(); err != nil {
		return nil, set.Warnings(), &apiError{errorExecution, err}
	}
	return out, set.Warnings(), nil
}

func (a *API) labelNames(r *http.Request) (any, annotations.Annotations, *apiError) {
	return a.labelStrings(r, func(ctx context.Context, q storage.Querier, ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelNames(ctx, nil, ms...)
	})
}

func (a *API) labelValues(r *http.Request) (any, annotations.Annotations, *apiError) {
	name := r.PathValue("name")
	if strings.HasPrefix(name, "U__") {
		name = model.UnescapeName(name, model.ValueEncodingEscaping)
	}
	if !model.UTF8Validation.IsValidLabelName(name) {
		return nil, nil, badData("invalid label name: %q", name)
	}
	return a.labelStrings(r, func(ctx context.Context, q storage.Querier, ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelValues(ctx, name, nil, ms...)
	})
}

// labelStrings runs fetch, for label names or values, once per match[]
// selector (or once without one) over the request's time range, and
// returns the sorted union.
func (a *API) labelStrings(r *http.Request, fetch func(context.Context, storage.Querier, []*labels.Matcher) ([]string, annotations.Annotations, error)) (any, annotations.Annotations, *apiError) {
	sets, mint, maxt, err := a.selection(r, false)
	if err != nil {
		return nil, nil, err
	}
	q, qerr := a.src.Store.Querier(mint, maxt)
	if qerr != nil {
		return nil, nil, &apiError{errorExecution, qerr}
	}
	defer q.Close()
	if len(sets) == 0 {
		sets = [][]*labels.Matcher{nil}
	}
	var out []string
	var warnings annotations.Annotations
	for _, ms := range sets {
		v, w, err := fetch(r.Context(), q, ms)
		if err != nil {
			return nil, w, &apiError{errorExecution, err}
		}
		warnings.Merge(w)
		out = append(out, v...)
	}
	slices.Sort(out)
	return nonNil(slices.Compact(out)), warnings, nil
}

// Bounds of the expressions format_query formats. The upstream formatter
// cannot be stopped, and its time grows with the cube of an expression's
// nesting: at these bounds the worst expressions found, 256 nested
// aggregations with grouping labels, take about 0.2 s on a small machine
// (1,000 nodes took seconds).
const (
	maxFormatNodes = 256
	maxFormatBytes = 4 << 10
)

func (a *API) formatQuery(r *http.Request) (any, annotations.Annotations, *apiError) {
	if n := len(r.FormValue("query")); n > maxFormatBytes {
		return nil, nil, badData("invalid parameter \"query\": the query is %d bytes long, more than the %d format_query formats", n, maxFormatBytes)
	}
	expr, done, err := a.parseExpr(r)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	if n := countNodes(expr); n > maxFormatNodes {
		return nil, nil, badData("invalid parameter \"query\": the query has %d nodes, more than the %d format_query formats", n, maxFormatNodes)
	}
	return expr.Pretty(0), nil, nil
}

// parseExpr parses the request's query parameter, admitted as a query
// is, for the endpoints that take its syntax tree alone; done releases
// its slot.
func (a *API) parseExpr(r *http.Request) (parser.Expr, func(), *apiError) {
	s, ctx, done, err := a.admit(r)
	if err != nil {
		return nil, nil, err
	}
	expr, perr := a.parser.ParseExpr(s)
	if perr != nil {
		done()
		return nil, nil, &apiError{errorBadData, perr}
	}
	if err := parsed(ctx); err != nil {
		done()
		return nil, nil, err
	}
	return expr, done, nil
}

// countNodes counts the nodes of an expression's tree.
func countNodes(expr parser.Expr) int {
	n := 0
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		if node != nil { // Inspect ends each subtree with a nil node
			n++
		}
		return nil
	})
	return n
}

// target is one entry of activeTargets, in Prometheus's shape.
type target struct {
	DiscoveredLabels   map[string]string `json:"discoveredLabels"`
	Labels             map[string]string `json:"labels"`
	ScrapePool         string            `json:"scrapePool"`
	ScrapeURL          string            `json:"scrapeUrl"`
	GlobalURL          string            `json:"globalUrl"`
	LastError          string            `json:"lastError"`
	LastScrape         time.Time         `json:"lastScrape"`
	LastScrapeDuration float64           `json:"lastScrapeDuration"`
	Health             string            `json:"health"`
	ScrapeInterval     string            `json:"scrapeInterval"`
	ScrapeTimeout      string            `json:"scrapeTimeout"`
}

type droppedTarget struct {
	DiscoveredLabels map[string]string `json:"discoveredLabels"`
	ScrapePool       string            `json:"scrapePool"`
}

func (a *API) targets(r *http.Request) (any, annotations.Annotations, *apiError) {
	active := []target{}
	dropped := []droppedTarget{}
	confined := tenant.MatchersOf(r.Context())
	if a.src.Targets != nil {
		for _, t := range a.src.Targets.Targets() {
			if !tenant.Matches(confined, t.SeriesLabels()) {
				continue
			}
			health := "unknown"
			switch {
			case t.Health.LastScrape.IsZero():
			case t.Health.Up:
				health = "up"
			default:
				health = "down"
			}
			active = append(active, target{
				DiscoveredLabels:   t.Discovered.Map(),
				Labels:             t.SeriesLabels().Map(),
				ScrapePool:         t.ScrapePool,
				ScrapeURL:          t.URL.String(),
				GlobalURL:          t.URL.String(),
				LastError:          t.Health.LastError,
				LastScrape:         t.Health.LastScrape,
				LastScrapeDuration: t.Health.LastDuration.Seconds(),
				Health:             health,
				ScrapeInterval:     model.Duration(t.Interval).String(),
				ScrapeTimeout:      model.Duration(t.Timeout).String(),
			})
		}
		// A dropped target has no labels of its series to confine it by.
		for _, d := range a.src.Targets.DroppedTargets() {
			if confined == nil {
				dropped = append(dropped, droppedTarget{DiscoveredLabels: d.Labels.Map(), ScrapePool: d.ScrapePool})
			}
		}
	}
	switch r.FormValue("state") {
	case "active":
		dropped = []droppedTarget{}
	case "dropped":
		active = []target{}
	}
	return map[string]any{"activeTargets": active, "droppedTargets": dropped, "droppedTargetCounts": map[string]int{}}, nil, nil
}

// configStatus returns the configuration in effect as HCL, secrets hidden.
// The field keeps Prometheus's name, yaml, so that its clients read it.
func (a *API) configStatus(*http.Request) (any, annotations.Annotations, *apiError) {
	if a.src.Config == nil {
		return nil, nil, &apiError{errorUnavailable, errors.New("no configuration")}
	}
	return map[string]string{"yaml": string(a.src.Config().HCL())}, nil, nil
}

func (a *API) flagsStatus(*http.Request) (any, annotations.Annotations, *apiError) {
	flags := map[string]string{}
	for k, v := range a.src.Flags {
		flags[k] = v
	}
	return flags, nil, nil
}

func (a *API) buildInfo(*http.Request) (any, annotations.Annotations, *apiError) {
	return map[string]string{
		"version":   a.src.Version,
		"revision":  a.src.Revision,
		"branch":    "",
		"buildUser": "",
		"buildDate": "",
		"goVersion": runtime.Version(),
	}, nil, nil
}

func (a *API) runtimeInfo(*http.Request) (any, annotations.Annotations, *apiError) {
	retention := ""
	if a.src.Config != nil {
		if cfg := a.src.Config(); cfg != nil {
			retention = retentionString(cfg.Server.Retention)
		}
	}
	return map[string]any{
		"startTime":        a.start,
		"CWD":              "",
		"goroutineCount":   runtime.NumGoroutine(),
		"GOMAXPROCS":       runtime.GOMAXPROCS(0),
		"GOGC":             "",
		"GODEBUG":          "",
		"storageRetention": retention,
	}, nil, nil
}

// retentionString writes a retention as Prometheus shows it in
// storageRetention, such as "15d"; a retention of 0 keeps samples
// forever and says so.
func retentionString(d time.Duration) string {
	if d == 0 {
		return "forever"
	}
	return model.Duration(d).String()
}

type statEntry struct {
	Name  string `json:"name"`
	Value uint64 `json:"value"`
}

// maxTSDBStatusLimit bounds the limit parameter of /api/v1/status/tsdb,
// as Prometheus bounds it.
const maxTSDBStatusLimit = 10000

func (a *API) tsdbStatus(r *http.Request) (any, annotations.Annotations, *apiError) {
	limit := 10
	if s := r.FormValue("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return nil, nil, badData("limit must be a positive number")
		}
		if n > maxTSDBStatusLimit {
			return nil, nil, badData("limit must not exceed %d", maxTSDBStatusLimit)
		}
		limit = n
	}
	if a.src.Stats == nil {
		return nil, nil, &apiError{errorUnavailable, errors.New("no store")}
	}
	if ms := tenant.MatchersOf(r.Context()); ms != nil {
		// The statistics are of every series: their names and cardinality
		// are not the tenant's alone.
		return nil, nil, &apiError{errorForbidden, fmt.Errorf("the store's statistics cover every series, beyond %s", tenant.String(ms))}
	}
	st, err := a.src.Stats(limit)
	if err != nil {
		return nil, nil, &apiError{errorInternal, err}
	}
	convert := func(in []index.Stat) []statEntry {
		out := make([]statEntry, 0, len(in))
		for _, s := range in {
			out = append(out, statEntry{Name: s.Name, Value: s.Count})
		}
		return out
	}
	minT, maxT := st.MinTime, st.MaxTime
	if minT > maxT {
		minT, maxT = 0, 0
	}
	return map[string]any{
		"headStats": map[string]any{
			"numSeries":     st.NumSeries,
			"numLabelPairs": st.Postings.NumLabelPairs,
			"chunkCount":    0,
			"minTime":       minT,
			"maxTime":       maxT,
		},
		"seriesCountByMetricName":     convert(st.Postings.CardinalityMetricsStats),
		"labelValueCountByLabelName":  convert(st.Postings.CardinalityLabelStats),
		"memoryInBytesByLabelName":    convert(st.Postings.LabelValueStats),
		"seriesCountByLabelValuePair": convert(st.Postings.LabelValuePairsStats),
	}, nil, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

var (
	minTime = time.Unix(math.MinInt64/1000+62135596801, 0).UTC()
	maxTime = time.Unix(math.MaxInt64/1000-62135596801, 999999999).UTC()
)

func timestamp(t time.Time) int64 {
	switch {
	case t.Equal(minTime):
		return math.MinInt64
	case t.Equal(maxTime):
		return math.MaxInt64
	}
	return t.UnixMilli()
}

// parseTimeParam parses a time given as Unix seconds (with a fraction) or
// RFC 3339, as Prometheus accepts it; def when the parameter is absent.
func parseTimeParam(r *http.Request, name string, def time.Time) (time.Time, *apiError) {
	v := r.FormValue(name)
	if v == "" {
		return def, nil
	}
	t, err := parseTime(v)
	if err != nil {
		return time.Time{}, badData("invalid parameter %q: invalid time value for '%s': %v", name, name, err)
	}
	return t, nil
}

// parseTime parses a time given as Unix seconds or RFC 3339. NaN,
// infinities and seconds outside the times the API can represent (the
// range of int64 milliseconds) are refused: converted, they would give an
// arbitrary time and a query with an empty answer.
func parseTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || f < float64(minTime.Unix()) || f > float64(maxTime.Unix()) {
			return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp: it is not a number of seconds between %d and %d", s, minTime.Unix(), maxTime.Unix())
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	switch s {
	case minTime.Format(time.RFC3339Nano):
		return minTime, nil
	case maxTime.Format(time.RFC3339Nano):
		return maxTime, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parseDuration parses seconds (with a fraction) or a Prometheus duration.
func parseDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		d := f * float64(time.Second)
		// float64(math.MaxInt64) is 2^63, which int64 cannot hold, and
		// NaN passes every comparison.
		if math.IsNaN(d) || d >= float64(math.MaxInt64) || d < float64(math.MinInt64) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(d), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}
