// Package grafanaimport turns a Grafana dashboard, saved as JSON, whose
// panels query a Prometheus data source, into a dashboard block of
// Vigil's configuration (hclconfig.Dashboard). Start with Convert: it
// returns the dashboard, its HCL, and a report of what could not be
// carried over, by panel title.
//
// Carried over: the title, description, tags, time range and refresh;
// the query, custom, interval, constant and text box variables; the
// panels of types timeseries and graph, stat and singlestat, gauge,
// bargauge and barchart, table and heatmap, with their queries (expr,
// legendFormat, instant, interval), unit, decimals, min, max, stacking,
// thresholds and gridPos; and the rows, folded or not.
package grafanaimport

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/vigilmon/vigil/hclconfig"
)

// Options say how to convert.
type Options struct {
	// Name is the dashboard block's name; empty, it is made of the
	// dashboard's title ("Node Exporter Full" gives
	// "node-exporter-full").
	Name string
}

// Result is a converted dashboard.
type Result struct {
	Dashboard *hclconfig.Dashboard
	// HCL is the dashboard block, in the canonical format.
	HCL []byte
	// Panels counts the panels of the Grafana dashboard (rows aside), and
	// Converted those carried over.
	Panels, Converted int
	// Notes say what was not carried over, each naming its panel or
	// variable.
	Notes []string
}

// WriteReport writes the notes to w, a line each, after the name of the
// file converted, and a line of the panels carried over.
func (r *Result) WriteReport(w io.Writer, file string) error {
	for _, n := range r.Notes {
		if _, err := fmt.Fprintf(w, "%s: %s\n", file, n); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%s: %d of %d panels carried over\n", file, r.Converted, r.Panels)
	return err
}

// The parts of Grafana's dashboard JSON the conversion reads.
type (
	gDashboard struct {
		Title       string   `json:"title"`
		Description string   `json:"description"`
		Tags        []string `json:"tags"`
		Refresh     any      `json:"refresh"`
		Time        struct {
			From string `json:"from"`
			To   string `json:"to"`
		} `json:"time"`
		Templating struct {
			List []gVariable `json:"list"`
		} `json:"templating"`
		Panels []*gPanel `json:"panels"`
		// Rows are the rows of dashboards before schema version 16.
		Rows []struct {
			Title     string    `json:"title"`
			Collapse  bool      `json:"collapse"`
			Panels    []*gPanel `json:"panels"`
			Collapsed bool      `json:"collapsed"`
		} `json:"rows"`
	}
	gVariable struct {
		Name       string          `json:"name"`
		Label      string          `json:"label"`
		Type       string          `json:"type"`
		Query      json.RawMessage `json:"query"`
		Definition string          `json:"definition"`
		Regex      string          `json:"regex"`
		Multi      bool            `json:"multi"`
		IncludeAll bool            `json:"includeAll"`
		Hide       int             `json:"hide"`
		Current    struct {
			Value any `json:"value"`
		} `json:"current"`
		Options []struct {
			Value string `json:"value"`
		} `json:"options"`
		Auto bool `json:"auto"`
	}
	gPanel struct {
		Title       string     `json:"title"`
		Type        string     `json:"type"`
		Description string     `json:"description"`
		Datasource  any        `json:"datasource"`
		GridPos     *gGridPos  `json:"gridPos"`
		Collapsed   bool       `json:"collapsed"`
		Panels      []*gPanel  `json:"panels"`
		Targets     []gTarget  `json:"targets"`
		FieldConfig gFieldConf `json:"fieldConfig"`
		Repeat      string     `json:"repeat"`
		Transforms  []any      `json:"transformations"`
		Links       []any      `json:"links"`
		Stack       bool       `json:"stack"`
		Format      string     `json:"format"`
		Yaxes       []gAxis    `json:"yaxes"`
	}
	gGridPos struct {
		X int `json:"x"`
		Y int `json:"y"`
		W int `json:"w"`
		H int `json:"h"`
	}
	gTarget struct {
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
		Instant      bool   `json:"instant"`
		Range        *bool  `json:"range"`
		Format       string `json:"format"`
		Hide         bool   `json:"hide"`
		Interval     string `json:"interval"`
		Datasource   any    `json:"datasource"`
	}
	gFieldConf struct {
		Defaults struct {
			Unit       string   `json:"unit"`
			Decimals   *int     `json:"decimals"`
			Min        *float64 `json:"min"`
			Max        *float64 `json:"max"`
			Mappings   []any    `json:"mappings"`
			Links      []any    `json:"links"`
			Thresholds *struct {
				Mode  string `json:"mode"`
				Steps []struct {
					Value *float64 `json:"value"`
					Color string   `json:"color"`
				} `json:"steps"`
			} `json:"thresholds"`
			Custom struct {
				Stacking struct {
					Mode string `json:"mode"`
				} `json:"stacking"`
				ThresholdsStyle struct {
					Mode string `json:"mode"`
				} `json:"thresholdsStyle"`
				DrawStyle string `json:"drawStyle"`
			} `json:"custom"`
		} `json:"defaults"`
		Overrides []any `json:"overrides"`
	}
	gAxis struct {
		Format string `json:"format"`
	}
)

// panelTypes maps Grafana's panel types to Vigil's.
var panelTypes = map[string]string{
	"timeseries": "timeseries", "graph": "timeseries", "trend": "timeseries",
	"stat": "stat", "singlestat": "stat",
	"gauge":    "gauge",
	"bargauge": "bar", "barchart": "bar",
	"table": "table", "table-old": "table",
	"heatmap": "heatmap",
}

// units maps Grafana's unit names Vigil does not have to one it has of
// the same meaning.
var units = map[string]string{
	"dtdhms": "dtdurations", "sishort": "short", "cps": "ops", "us": "µs", "hz": "hertz",
}

// Convert turns src, a Grafana dashboard's JSON, into a dashboard block.
// It is an error for src not to be a dashboard; what it holds that Vigil
// cannot show is in the result's notes.
func Convert(src []byte, opts Options) (*Result, error) {
	var g gDashboard
	if err := json.Unmarshal(src, &g); err != nil {
		return nil, fmt.Errorf("not a Grafana dashboard: %w", err)
	}
	// A dashboard exported for sharing sits in a "dashboard" field of
	// what the API answers.
	if g.Title == "" && len(g.Panels) == 0 {
		var wrapped struct {
			Dashboard json.RawMessage `json:"dashboard"`
		}
		if json.Unmarshal(src, &wrapped) == nil && len(wrapped.Dashboard) > 0 {
			return Convert(wrapped.Dashboard, opts)
		}
		return nil, fmt.Errorf("not a Grafana dashboard: it has neither a title nor panels")
	}
	c := &converter{res: &Result{}}
	name := opts.Name
	if name == "" {
		name = slug(g.Title)
	}
	d := &hclconfig.Dashboard{
		Name: name, Title: g.Title, Description: g.Description, Tags: g.Tags,
		Range: model.Duration(time.Hour), Variables: []*hclconfig.Variable{}, Panels: []*hclconfig.Panel{}, Rows: []*hclconfig.Row{},
	}
	if g.Title == "" {
		d.Title = name
	}
	c.dashboard = d
	c.timing(&g)
	for _, v := range g.Templating.List {
		c.variable(v)
	}
	c.panels(&g)
	c.res.Dashboard = d
	c.res.HCL = d.HCL()
	return c.res, nil
}

type converter struct {
	res       *Result
	dashboard *hclconfig.Dashboard
}

func (c *converter) note(format string, args ...any) {
	c.res.Notes = append(c.res.Notes, fmt.Sprintf(format, args...))
}

// slug makes a dashboard name of a title: lower case words joined by -.
func slug(title string) string {
	s := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(title), "-"), "-")
	if s == "" {
		return "imported"
	}
	return s
}

// timing carries over the time range, relative to now, and the refresh.
func (c *converter) timing(g *gDashboard) {
	if from, ok := strings.CutPrefix(g.Time.From, "now-"); ok && (g.Time.To == "now" || g.Time.To == "") {
		if d, err := model.ParseDuration(from); err == nil && d > 0 {
			c.dashboard.Range = d
		}
	} else if g.Time.From != "" {
		c.note("dashboard: the time range from %q to %q is not carried over: Vigil's dashboards show a range back from now", g.Time.From, g.Time.To)
	}
	if r, ok := g.Refresh.(string); ok && r != "" {
		if d, err := model.ParseDuration(r); err == nil {
			c.dashboard.Refresh = d
		} else {
			c.note("dashboard: the refresh %q is not a duration, not carried over", r)
		}
	}
}

// variable carries over a template variable.
func (c *converter) variable(g gVariable) {
	v := &hclconfig.Variable{Name: g.Name, Label: g.Label, Multi: g.Multi, IncludeAll: g.IncludeAll, Hidden: g.Hide == 2}
	query := variableQuery(g.Query)
	if query == "" {
		query = g.Definition
	}
	switch g.Type {
	case "query":
		v.Kind = hclconfig.VariableQuery
		v.Query = strings.TrimSpace(query)
		if err := hclconfig.CheckVariableQuery(c.dashboard, v.Query); err != nil {
			c.note("variable %q: %s; not carried over", g.Name, err)
			return
		}
		if g.Regex != "" {
			re := strings.TrimPrefix(g.Regex, "/")
			if i := strings.LastIndex(re, "/"); i >= 0 && strings.HasPrefix(g.Regex, "/") {
				if flags := re[i+1:]; strings.Contains(flags, "i") {
					re = "(?i)" + re[:i]
				} else {
					re = re[:i]
				}
			}
			if _, err := regexp.Compile(re); err != nil {
				c.note("variable %q: its regex %q is not a regular expression Vigil reads (%s); not carried over", g.Name, g.Regex, err)
			} else {
				v.Regex = re
			}
		}
	case "custom", "interval":
		v.Kind = hclconfig.VariableCustom
		if g.Type == "interval" {
			v.Kind = hclconfig.VariableInterval
		}
		for _, part := range strings.Split(query, ",") {
			part = strings.TrimSpace(part)
			if _, val, ok := strings.Cut(part, " : "); ok {
				part = strings.TrimSpace(val)
			}
			if part != "" {
				v.Values = append(v.Values, part)
			}
		}
		if g.Type == "interval" {
			v.Values = slices.DeleteFunc(v.Values, func(s string) bool {
				_, err := model.ParseDuration(s)
				return err != nil
			})
			if g.Auto {
				c.note("variable %q: the interval \"auto\" is not carried over; the page's own step is $__interval", g.Name)
			}
		}
	case "constant", "textbox":
		v.Kind = hclconfig.VariableCustom
		if query != "" {
			v.Values = []string{query}
		}
		v.Hidden = v.Hidden || g.Type == "constant"
	case "datasource":
		c.note("variable %q: a data source variable is not carried over: Vigil's dashboards query Vigil", g.Name)
		return
	default:
		c.note("variable %q: variables of type %q are not carried over", g.Name, g.Type)
		return
	}
	if len(v.Values) == 0 && v.Kind != hclconfig.VariableQuery {
		c.note("variable %q: it has no values; not carried over", g.Name)
		return
	}
	switch cur := g.Current.Value.(type) {
	case string:
		if cur != "$__all" && cur != "" && !strings.Contains(cur, "${") {
			v.Default = cur
		}
	case []any:
		if len(cur) == 1 {
			if s, ok := cur[0].(string); ok && s != "$__all" {
				v.Default = s
			}
		}
	}
	c.dashboard.Variables = append(c.dashboard.Variables, v)
}

// variableQuery is the query of a variable: a string, or the query field
// of an object, as Grafana 9 and later save it.
func variableQuery(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return o.Query
	}
	return ""
}

// section is the panels above the rows, or a row's.
type section struct {
	row    *hclconfig.Row
	panels []*gPanel
}

// panels carries over the panels, row by row.
func (c *converter) panels(g *gDashboard) {
	var sections []*section
	top := &section{}
	sections = append(sections, top)
	cur := top
	for _, p := range g.Panels {
		if p.Type == "row" {
			cur = &section{row: &hclconfig.Row{Title: p.Title, Collapsed: p.Collapsed, Panels: []*hclconfig.Panel{}}}
			sections = append(sections, cur)
			cur.panels = append(cur.panels, p.Panels...)
			continue
		}
		cur.panels = append(cur.panels, p)
	}
	// Before schema version 16, rows held their panels, and a panel's
	// width was its span of 12.
	for _, r := range g.Rows {
		s := &section{row: &hclconfig.Row{Title: r.Title, Collapsed: r.Collapse || r.Collapsed, Panels: []*hclconfig.Panel{}}}
		sections = append(sections, s)
		s.panels = r.Panels
	}
	for _, s := range sections {
		top := -1
		for _, p := range s.panels {
			if p.GridPos != nil && (top < 0 || p.GridPos.Y < top) {
				top = p.GridPos.Y
			}
		}
		var out []*hclconfig.Panel
		for _, p := range s.panels {
			c.res.Panels++
			if vp := c.panel(p, top); vp != nil {
				c.res.Converted++
				out = append(out, vp)
			}
		}
		if s.row == nil {
			c.dashboard.Panels = append(c.dashboard.Panels, out...)
			continue
		}
		if s.row.Title == "" {
			s.row.Title = "Row"
		}
		s.row.Panels = append(s.row.Panels, out...)
		c.dashboard.Rows = append(c.dashboard.Rows, s.row)
	}
}

// prometheus says whether a data source is Prometheus's, or unsaid (the
// dashboard's default), or a variable.
func prometheus(ds any) bool {
	switch v := ds.(type) {
	case nil:
		return true
	case string:
		return true // a name, or a variable: taken as Prometheus
	case map[string]any:
		t, _ := v["type"].(string)
		return t == "" || t == "prometheus" || strings.HasPrefix(t, "$")
	}
	return false
}

// panel carries over one panel, top the line its section starts at; nil
// for one that cannot be.
func (c *converter) panel(g *gPanel, top int) *hclconfig.Panel {
	title := g.Title
	typ, ok := panelTypes[g.Type]
	if !ok {
		c.note("panel %q: panels of type %q are not carried over", title, g.Type)
		return nil
	}
	if !prometheus(g.Datasource) {
		c.note("panel %q: its data source is not Prometheus; not carried over", title)
		return nil
	}
	p := &hclconfig.Panel{Title: title, Type: typ, Description: g.Description, Queries: []*hclconfig.PanelQuery{}}
	def := g.FieldConfig.Defaults
	unit := def.Unit
	if unit == "" && len(g.Yaxes) > 0 {
		unit = g.Yaxes[0].Format
	}
	if unit == "" {
		unit = g.Format
	}
	c.unit(p, unit)
	p.Decimals, p.Min, p.Max = def.Decimals, def.Min, def.Max
	if p.Decimals != nil && *p.Decimals < 0 {
		p.Decimals = nil
	}
	switch def.Custom.Stacking.Mode {
	case "normal":
		p.Stacked = true
	case "percent":
		p.Stacked = true
		c.note("panel %q: stacked as percentages, it is stacked as values", title)
	}
	if g.Stack {
		p.Stacked = true
	}
	if def.Thresholds != nil && (typ != "timeseries" || def.Custom.ThresholdsStyle.Mode != "" && def.Custom.ThresholdsStyle.Mode != "off") {
		if def.Thresholds.Mode == "percentage" {
			c.note("panel %q: thresholds in percent of the range are not carried over", title)
		} else {
			for _, s := range def.Thresholds.Steps {
				if s.Value != nil {
					p.Thresholds = append(p.Thresholds, &hclconfig.Threshold{Value: *s.Value, Color: color(s.Color)})
				}
			}
		}
	}
	if g.GridPos != nil && g.GridPos.W > 0 && g.GridPos.H > 0 {
		x := min(max(g.GridPos.X, 0), 23)
		p.Grid = []int{x, max(g.GridPos.Y-top, 0), min(g.GridPos.W, 24-x), g.GridPos.H}
	}
	for i, t := range g.Targets {
		c.target(p, i, t)
	}
	if len(p.Queries) == 0 {
		c.note("panel %q: no Prometheus query is left; not carried over", title)
		return nil
	}
	c.lost(g, title)
	return p
}

// unit sets the panel's unit from Grafana's, or notes that it has none.
func (c *converter) unit(p *hclconfig.Panel, unit string) {
	switch {
	case unit == "":
	case slices.Contains(hclconfig.PanelUnits, unit):
		p.Unit = unit
	case units[unit] != "":
		p.Unit = units[unit]
	default:
		c.note("panel %q: the unit %q is not one Vigil has; values print as numbers", p.Title, unit)
	}
}

// target carries over query i of a panel.
func (c *converter) target(p *hclconfig.Panel, i int, t gTarget) {
	what := fmt.Sprintf("panel %q: query %d", p.Title, i+1)
	switch {
	case t.Hide:
		c.note("%s is hidden; not carried over", what)
		return
	case strings.TrimSpace(t.Expr) == "":
		c.note("%s has no PromQL expression; not carried over", what)
		return
	case t.Datasource != nil && !prometheus(t.Datasource):
		c.note("%s is not of a Prometheus data source; not carried over", what)
		return
	}
	if err := hclconfig.CheckPanelQuery(c.dashboard, t.Expr); err != nil {
		c.note("%s: %s; not carried over", what, err)
		return
	}
	q := &hclconfig.PanelQuery{Expr: t.Expr, Instant: t.Instant && (t.Range == nil || !*t.Range)}
	if t.LegendFormat != "__auto" {
		q.Legend = t.LegendFormat
	}
	if t.Interval != "" {
		if d, err := model.ParseDuration(strings.TrimPrefix(t.Interval, ">")); err == nil {
			q.Step = d
		} else if !strings.HasPrefix(t.Interval, "$") {
			c.note("%s: its interval %q is not a duration; not carried over", what, t.Interval)
		}
	}
	p.Queries = append(p.Queries, q)
}

// lost notes what a panel has that Vigil's panels do not.
func (c *converter) lost(g *gPanel, title string) {
	var lost []string
	if n := len(g.FieldConfig.Overrides); n > 0 {
		lost = append(lost, fmt.Sprintf("%d overrides of series' settings", n))
	}
	if len(g.FieldConfig.Defaults.Mappings) > 0 {
		lost = append(lost, "value mappings")
	}
	if len(g.Transforms) > 0 {
		lost = append(lost, "transformations")
	}
	if len(g.Links) > 0 || len(g.FieldConfig.Defaults.Links) > 0 {
		lost = append(lost, "links")
	}
	if g.Repeat != "" {
		lost = append(lost, fmt.Sprintf("the repeat by $%s", g.Repeat))
	}
	if ds := g.FieldConfig.Defaults.Custom.DrawStyle; ds == "bars" || ds == "points" {
		lost = append(lost, fmt.Sprintf("the draw style %q (drawn as lines)", ds))
	}
	if len(lost) > 0 {
		c.note("panel %q: not carried over: %s", title, strings.Join(lost, ", "))
	}
}

// color is a CSS color of Grafana's color name: "dark-red" and the like
// are the base color.
func color(c string) string {
	for _, prefix := range []string{"super-light-", "light-", "semi-dark-", "dark-"} {
		if s, ok := strings.CutPrefix(c, prefix); ok {
			return s
		}
	}
	if c == "" || c == "text" {
		return "gray"
	}
	return c
}
