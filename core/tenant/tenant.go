// Package tenant confines a request to the series of its tenant: the
// label matchers a user or token is bound to, such as {team="payments"}.
// It does inside the server what prom-label-proxy does from outside:
// every selector a confined request evaluates gets the tenant's matchers
// added, at the storage interface, so PromQL, series, label names and
// values, federation, exports, remote read and exemplars see only the
// tenant's series, whatever the request's own matchers say. Alerts,
// targets and silences are filtered, and checked, with Matches.
//
// Start with WithMatchers, which the authentication middleware calls for
// a confined request, and ByContext, which wraps the store the API reads
// so that every call made with such a request's context is confined.
package tenant

import (
	"context"
	"strings"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

type matchersKey struct{}

// WithMatchers returns ctx confining its request to the series matching
// ms. Nil or empty ms confine nothing.
func WithMatchers(ctx context.Context, ms []*labels.Matcher) context.Context {
	if len(ms) == 0 {
		return ctx
	}
	return context.WithValue(ctx, matchersKey{}, ms)
}

// MatchersOf returns the matchers the request of ctx is confined to; nil
// when it is not confined.
func MatchersOf(ctx context.Context) []*labels.Matcher {
	ms, _ := ctx.Value(matchersKey{}).([]*labels.Matcher)
	return ms
}

// Matches reports whether lset matches every one of ms: whether a series,
// an alert or a target with these labels belongs to the tenant.
func Matches(ms []*labels.Matcher, lset labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

// String writes ms as a selector, {team="payments"}, for errors and logs.
func String(ms []*labels.Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// Queryable returns q confined to the series matching ms; q itself when
// ms is empty.
func Queryable(q storage.Queryable, ms []*labels.Matcher) storage.Queryable {
	if len(ms) == 0 {
		return q
	}
	return queryable{q: q, ms: ms}
}

type queryable struct {
	q  storage.Queryable
	ms []*labels.Matcher
}

func (c queryable) Querier(mint, maxt int64) (storage.Querier, error) {
	q, err := c.q.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	return querier{q: q, ms: c.ms}, nil
}

// querier adds the tenant's matchers to every call that takes matchers.
// Matchers are ANDed, so no matcher of the request can widen what the
// tenant's select.
type querier struct {
	q  storage.Querier
	ms []*labels.Matcher
}

func (c querier) with(ms []*labels.Matcher) []*labels.Matcher { return confine(ms, c.ms) }

// confine returns a call's matchers ms with the tenant's added, in a new
// slice; ms itself when there are none to add.
func confine(ms, tenant []*labels.Matcher) []*labels.Matcher {
	if len(tenant) == 0 {
		return ms
	}
	return append(append(make([]*labels.Matcher, 0, len(ms)+len(tenant)), ms...), tenant...)
}

func (c querier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	return c.q.Select(ctx, sortSeries, hints, c.with(ms)...)
}

func (c querier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return c.q.LabelValues(ctx, name, hints, c.with(ms)...)
}

func (c querier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return c.q.LabelNames(ctx, hints, c.with(ms)...)
}

func (c querier) Close() error { return c.q.Close() }

// ByContext returns q confined, at each call, to the matchers of the
// call's context (MatchersOf): a request's context confines what it reads,
// and a context without matchers, such as the rules', reads everything.
// Every call that reads series takes a context, so a path of the API that
// passes its request's context on cannot escape.
func ByContext(q storage.Queryable) storage.Queryable { return byContext{q: q} }

type byContext struct{ q storage.Queryable }

func (c byContext) Querier(mint, maxt int64) (storage.Querier, error) {
	q, err := c.q.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	return contextQuerier{q: q}, nil
}

type contextQuerier struct{ q storage.Querier }

func (c contextQuerier) of(ctx context.Context) storage.Querier {
	if ms := MatchersOf(ctx); len(ms) > 0 {
		return querier{q: c.q, ms: ms}
	}
	return c.q
}

func (c contextQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	return c.of(ctx).Select(ctx, sortSeries, hints, ms...)
}

func (c contextQuerier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return c.of(ctx).LabelValues(ctx, name, hints, ms...)
}

func (c contextQuerier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return c.of(ctx).LabelNames(ctx, hints, ms...)
}

func (c contextQuerier) Close() error { return c.q.Close() }

// SampleAndChunksByContext returns q confined as ByContext, for the
// samples and for the chunks (remote read) it reads.
func SampleAndChunksByContext(q storage.SampleAndChunkQueryable) storage.SampleAndChunkQueryable {
	return sampleAndChunks{Queryable: ByContext(q), q: q}
}

type sampleAndChunks struct {
	storage.Queryable
	q storage.SampleAndChunkQueryable
}

func (c sampleAndChunks) ChunkQuerier(mint, maxt int64) (storage.ChunkQuerier, error) {
	q, err := c.q.ChunkQuerier(mint, maxt)
	if err != nil {
		return nil, err
	}
	return contextChunkQuerier{q}, nil
}

// contextChunkQuerier adds the matchers of the call's context to every
// call that takes matchers, as contextQuerier.
type contextChunkQuerier struct{ q storage.ChunkQuerier }

func (c contextChunkQuerier) with(ctx context.Context, ms []*labels.Matcher) []*labels.Matcher {
	return confine(ms, MatchersOf(ctx))
}

func (c contextChunkQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.ChunkSeriesSet {
	return c.q.Select(ctx, sortSeries, hints, c.with(ctx, ms)...)
}

func (c contextChunkQuerier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return c.q.LabelValues(ctx, name, hints, c.with(ctx, ms)...)
}

func (c contextChunkQuerier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return c.q.LabelNames(ctx, hints, c.with(ctx, ms)...)
}

func (c contextChunkQuerier) Close() error { return c.q.Close() }

// ExemplarsByContext returns q confined to the matchers of the context
// its querier is made with, as ByContext.
func ExemplarsByContext(q storage.ExemplarQueryable) storage.ExemplarQueryable {
	if q == nil {
		return nil
	}
	return exemplarsByContext{q: q}
}

type exemplarsByContext struct{ q storage.ExemplarQueryable }

func (c exemplarsByContext) ExemplarQuerier(ctx context.Context) (storage.ExemplarQuerier, error) {
	return ExemplarQueryable(c.q, MatchersOf(ctx)).ExemplarQuerier(ctx)
}

// ExemplarQueryable returns q confined to the exemplars of the series
// matching ms; q itself when ms is empty.
func ExemplarQueryable(q storage.ExemplarQueryable, ms []*labels.Matcher) storage.ExemplarQueryable {
	if len(ms) == 0 || q == nil {
		return q
	}
	return exemplarQueryable{q: q, ms: ms}
}

type exemplarQueryable struct {
	q  storage.ExemplarQueryable
	ms []*labels.Matcher
}

func (c exemplarQueryable) ExemplarQuerier(ctx context.Context) (storage.ExemplarQuerier, error) {
	q, err := c.q.ExemplarQuerier(ctx)
	if err != nil {
		return nil, err
	}
	return exemplarQuerier{q: q, ms: c.ms}, nil
}

type exemplarQuerier struct {
	q  storage.ExemplarQuerier
	ms []*labels.Matcher
}

// Select adds the tenant's matchers to each selector: a selector is one
// slice of matchers, and the exemplars are those of any selector.
func (c exemplarQuerier) Select(start, end int64, selectors ...[]*labels.Matcher) ([]exemplar.QueryResult, error) {
	confined := make([][]*labels.Matcher, len(selectors))
	for i, ms := range selectors {
		confined[i] = confine(ms, c.ms)
	}
	return c.q.Select(start, end, confined...)
}

// ConfineSilence returns the matchers of a silence made by a tenant
// confined by ms: the silence's own, and each of ms it lacks. The matchers
// of a silence are ANDed, so it mutes only the tenant's alerts, whatever
// its own matchers say.
func ConfineSilence(ms, silence []*labels.Matcher) []*labels.Matcher {
	out := append([]*labels.Matcher(nil), silence...)
	for _, m := range ms {
		if !hasMatcher(silence, m) {
			out = append(out, m)
		}
	}
	return out
}

// OwnsSilence reports whether a silence with these matchers belongs to
// the tenant confined by ms: whether it has each of them, so that it
// mutes only the tenant's alerts.
func OwnsSilence(ms, silence []*labels.Matcher) bool {
	for _, m := range ms {
		if !hasMatcher(silence, m) {
			return false
		}
	}
	return true
}

func hasMatcher(ms []*labels.Matcher, m *labels.Matcher) bool {
	for _, o := range ms {
		if o.Name == m.Name && o.Type == m.Type && o.Value == m.Value {
			return true
		}
	}
	return false
}
