package api

import (
	"net/http"
	"slices"
	"sort"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/vigilmon/vigil/core/tenant"
)

// targetMetadata is one entry of /api/v1/targets/metadata.
type targetMetadata struct {
	Target map[string]string `json:"target"`
	Metric string            `json:"metric,omitempty"`
	Type   string            `json:"type"`
	Help   string            `json:"help"`
	Unit   string            `json:"unit"`
}

// metadataEntry is one entry of /api/v1/metadata.
type metadataEntry struct {
	Type string `json:"type"`
	Help string `json:"help"`
	Unit string `json:"unit"`
}

// limitParam parses a limit parameter; 0 (or absent, or negative) means none.
func limitParam(r *http.Request, name string) (int, *apiError) {
	s := r.FormValue(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badData("invalid parameter %q: %v", name, err)
	}
	return max(n, 0), nil
}

func (a *API) targetsMetadata(r *http.Request) (any, annotations.Annotations, *apiError) {
	limit, err := limitParam(r, "limit")
	if err != nil {
		return nil, nil, err
	}
	var matchers []*labels.Matcher
	if s := r.FormValue("match_target"); s != "" {
		ms, perr := a.parser.ParseMetricSelector(s)
		if perr != nil {
			return nil, nil, badData("invalid parameter \"match_target\": %v", perr)
		}
		matchers = ms
	}
	metric := r.FormValue("metric")
	out := []targetMetadata{}
	if a.src.Targets == nil {
		return out, nil, nil
	}
	confined := tenant.MatchersOf(r.Context())
	for _, t := range a.src.Targets.Targets() {
		lset := t.SeriesLabels()
		if !matchAll(matchers, lset) || !tenant.Matches(confined, lset) {
			continue
		}
		names := make([]string, 0, len(t.Metadata))
		for name := range t.Metadata {
			if metric == "" || name == metric {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			if limit > 0 && len(out) >= limit {
				return out, nil, nil
			}
			m := t.Metadata[name]
			entry := targetMetadata{Target: lset.Map(), Type: m.Type, Help: m.Help, Unit: m.Unit}
			if metric == "" {
				entry.Metric = name
			}
			out = append(out, entry)
		}
	}
	return out, nil, nil
}

func (a *API) metadata(r *http.Request) (any, annotations.Annotations, *apiError) {
	limit, err := limitParam(r, "limit")
	if err != nil {
		return nil, nil, err
	}
	perMetric, err := limitParam(r, "limit_per_metric")
	if err != nil {
		return nil, nil, err
	}
	metric := r.FormValue("metric")
	out := map[string][]metadataEntry{}
	if a.src.Targets == nil {
		return out, nil, nil
	}
	// A request confined to a tenant sees the metadata of its targets.
	confined := tenant.MatchersOf(r.Context())
	for _, t := range a.src.Targets.Targets() {
		if !tenant.Matches(confined, t.SeriesLabels()) {
			continue
		}
		for name, m := range t.Metadata {
			if metric != "" && name != metric {
				continue
			}
			entry := metadataEntry{Type: m.Type, Help: m.Help, Unit: m.Unit}
			if slices.Contains(out[name], entry) || (perMetric > 0 && len(out[name]) >= perMetric) {
				continue
			}
			if _, known := out[name]; !known && limit > 0 && len(out) >= limit {
				continue
			}
			out[name] = append(out[name], entry)
		}
	}
	return out, nil, nil
}

func matchAll(ms []*labels.Matcher, lset labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}
