package api

import (
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/prometheus/prometheus/util/annotations"

	"github.com/vigilmon/vigil/hclconfig"
)

// errorNotFound is Vigil's, for a dashboard that does not exist (404).
const errorNotFound = "not_found"

// builtinDashboards are Vigil's own dashboards, parsed once.
var builtinDashboards = sync.OnceValues(hclconfig.BuiltinDashboards)

// dashboards returns the dashboards in effect: the configuration's, then
// the built-in ones it does not replace by name, unless its server block
// turns them off.
func (a *API) dashboards() ([]*hclconfig.Dashboard, error) {
	var out []*hclconfig.Dashboard
	cfg := a.src.Config()
	if cfg != nil {
		out = append(out, cfg.Dashboards...)
	}
	if cfg == nil || cfg.Server.BuiltinDashboards {
		builtin, err := builtinDashboards()
		if err != nil {
			return nil, err
		}
		for _, d := range builtin {
			if !slices.ContainsFunc(out, func(o *hclconfig.Dashboard) bool { return o.Name == d.Name }) {
				out = append(out, d)
			}
		}
	}
	return out, nil
}

// dashboardSummary is a dashboard in the list of /api/v1/dashboards.
type dashboardSummary struct {
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Panels      int      `json:"panels"`
	Builtin     bool     `json:"builtin,omitempty"`
	File        string   `json:"file,omitempty"`
}

// dashboardList answers GET /api/v1/dashboards: every dashboard's name,
// title, description, tags and number of panels, in the configuration's
// order, the built-in ones last.
func (a *API) dashboardList(*http.Request) (any, annotations.Annotations, *apiError) {
	ds, err := a.dashboards()
	if err != nil {
		return nil, nil, &apiError{errorInternal, err}
	}
	out := make([]dashboardSummary, 0, len(ds))
	for _, d := range ds {
		out = append(out, dashboardSummary{
			Name: d.Name, Title: d.Title, Description: d.Description, Tags: d.Tags,
			Panels: len(d.AllPanels()), Builtin: d.Builtin, File: d.File,
		})
	}
	return out, nil, nil
}

// dashboard answers GET /api/v1/dashboards/{name}: the dashboard, its
// variables, panels and rows, as its block says them.
func (a *API) dashboard(r *http.Request) (any, annotations.Annotations, *apiError) {
	ds, err := a.dashboards()
	if err != nil {
		return nil, nil, &apiError{errorInternal, err}
	}
	name := r.PathValue("name")
	i := slices.IndexFunc(ds, func(d *hclconfig.Dashboard) bool { return d.Name == name })
	if i < 0 {
		return nil, nil, &apiError{errorNotFound, fmt.Errorf("no dashboard is named %q", name)}
	}
	return ds[i], nil, nil
}
