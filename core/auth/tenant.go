package auth

import (
	"context"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// Confine returns q confined to the tenant of each request: a querier's
// Select, LabelNames and LabelValues add the matchers of the identity in
// their context (IdentityOf) to the matchers they are given, so that a
// caller bound to {team="a"} reads only the series of team a, whatever it
// asks, regular expressions and label_values included, as
// prom-label-proxy confines a Prometheus from outside. Without matchers,
// q answers as it is.
func Confine(q storage.Queryable) storage.Queryable { return confined{q} }

type confined struct{ q storage.Queryable }

func (c confined) Querier(mint, maxt int64) (storage.Querier, error) {
	q, err := c.q.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	return confinedQuerier{q}, nil
}

type confinedQuerier struct{ storage.Querier }

// with returns ms and the matchers of the tenant of ctx.
func with(ctx context.Context, ms []*labels.Matcher) []*labels.Matcher {
	tenant := IdentityOf(ctx).Matchers
	if len(tenant) == 0 {
		return ms
	}
	return append(append(make([]*labels.Matcher, 0, len(ms)+len(tenant)), ms...), tenant...)
}

func (q confinedQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	return q.Querier.Select(ctx, sortSeries, hints, with(ctx, ms)...)
}

func (q confinedQuerier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return q.Querier.LabelValues(ctx, name, hints, with(ctx, ms)...)
}

func (q confinedQuerier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return q.Querier.LabelNames(ctx, hints, with(ctx, ms)...)
}
