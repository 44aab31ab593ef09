package api

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"
)

// queryExemplars answers /api/v1/query_exemplars as Prometheus does: the
// parameters are checked as upstream checks them, in the same order; a
// query without a selector (such as 1 + 1) gets no data, and one with
// selectors the exemplars in [start, end] of the series any of them
// selects, by series. Without an exemplar source the list is empty, as
// Prometheus's with its exemplar storage off.
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
	selectors := parser.ExtractSelectors(expr)
	if len(selectors) == 0 {
		return nil, nil, nil
	}
	if a.src.Exemplars == nil {
		return []exemplarSeries{}, nil, nil
	}
	q, qerr := a.src.Exemplars.ExemplarQuerier(r.Context())
	if qerr != nil {
		return nil, nil, queryError(qerr)
	}
	res, qerr := q.Select(timestamp(start), timestamp(end), selectors...)
	if qerr != nil {
		return nil, nil, queryError(qerr)
	}
	out := make([]exemplarSeries, len(res))
	for i, r := range res {
		out[i] = exemplarSeries{SeriesLabels: r.SeriesLabels, Exemplars: make([]exemplarJSON, len(r.Exemplars))}
		for j, e := range r.Exemplars {
			out[i].Exemplars[j] = exemplarJSON(e)
		}
	}
	return out, nil, nil
}

// exemplarSeries is an exemplar.QueryResult as the API writes it.
type exemplarSeries struct {
	SeriesLabels labels.Labels  `json:"seriesLabels"`
	Exemplars    []exemplarJSON `json:"exemplars"`
}

// exemplarJSON is an exemplar as Prometheus's API writes it: its value as
// a string and its timestamp in seconds, with the milliseconds as
// decimals.
type exemplarJSON exemplar.Exemplar

// MarshalJSON implements json.Marshaler.
func (e exemplarJSON) MarshalJSON() ([]byte, error) {
	lbls, err := json.Marshal(e.Labels)
	if err != nil {
		return nil, err
	}
	b := append([]byte(`{"labels":`), lbls...)
	b = append(b, `,"value":"`...)
	b = appendPromFloat(b, e.Value)
	b = append(b, `","timestamp":`...)
	b = appendPromTimestamp(b, e.Ts)
	return append(b, '}'), nil
}

// appendPromFloat appends v as Prometheus's API writes a sample value
// (jsonutil.MarshalFloat): decimal notation, with an exponent for very
// small and very large magnitudes.
func appendPromFloat(b []byte, v float64) []byte {
	format := byte('f')
	if abs := math.Abs(v); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, v, format, -1, 64)
}

// appendPromTimestamp appends a timestamp in milliseconds as seconds, as
// Prometheus's API writes it (jsonutil.MarshalTimestamp): 1600000000.123,
// 1600000000.100, and 1600000000 for whole seconds.
func appendPromTimestamp(b []byte, ms int64) []byte {
	if ms < 0 {
		b = append(b, '-')
		ms = -ms
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	}
	return b
}
