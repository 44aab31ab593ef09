package api

import (
	"errors"
	"net/http"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"
)

// queryExemplars answers /api/v1/query_exemplars as Prometheus does with
// its exemplar storage off, since the store keeps no exemplars yet: the
// parameters are checked as upstream checks them, in the same order, and
// a query with a selector gets an empty list, one without (such as 1 + 1)
// no data.
func (a *API) queryExemplars(r *http.Request) (any, annotations.Annotations, *apiError) {
	start, err := parseTimeParam(r, "start", minTime)
	if err != nil {
		return nil, nil, err
	}
	end, err := parseTimeParam(r, "end", maxTime)
	if err != nil {
		return nil, nil, err
	}
	if end.Before(start) {
		return nil, nil, &apiError{errorBadData, errors.New("end timestamp must not be before start timestamp")}
	}
	expr, perr := a.parser.ParseExpr(r.FormValue("query"))
	if perr != nil {
		return nil, nil, &apiError{errorBadData, perr}
	}
	if len(parser.ExtractSelectors(expr)) == 0 {
		return nil, nil, nil
	}
	return []exemplar.QueryResult{}, nil, nil
}
