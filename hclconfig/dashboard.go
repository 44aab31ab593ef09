package hclconfig

import (
	"embed"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/prometheus/common/model"
	"github.com/zclconf/go-cty/cty"
)

// Dashboard is a `dashboard "NAME"` block: panels of PromQL queries laid
// out on a grid, in rows, with variables the queries use as $NAME. The
// web UI shows it at /dashboards/NAME.
type Dashboard struct {
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	// Refresh is how often the page reloads the panels' data, 0 for
	// never; Range is the time range it shows first, back from now.
	Refresh   model.Duration `json:"refresh"`
	Range     model.Duration `json:"range"`
	Variables []*Variable    `json:"variables"`
	// Panels are those above the first row; Rows hold the others.
	Panels []*Panel `json:"panels"`
	Rows   []*Row   `json:"rows"`
	// File is the file the block is in; Builtin says it is one of
	// Vigil's own dashboards.
	File    string `json:"file,omitempty"`
	Builtin bool   `json:"builtin,omitempty"`
	// included says the block is in a file of dashboard_files, not in
	// the configuration file, which renders without it.
	included bool
}

// Variable is a dashboard's `variable "NAME"` block: a value chosen on
// the page and put in the queries in place of $NAME.
type Variable struct {
	Name  string `json:"name"`
	Label string `json:"label,omitempty"`
	// Kind is VariableQuery, VariableCustom or VariableInterval.
	Kind string `json:"kind"`
	// Query, for a query variable, is label_values(LABEL),
	// label_values(EXPR, LABEL), label_names(), metrics(REGEX) or
	// query_result(EXPR); Regex, when set, keeps the values it matches,
	// or its first group of them.
	Query string `json:"query,omitempty"`
	Regex string `json:"regex,omitempty"`
	// Values are the choices of a custom or interval variable.
	Values []string `json:"values,omitempty"`
	// Default is the value chosen first; the first value when empty.
	Default    string `json:"default,omitempty"`
	Multi      bool   `json:"multi,omitempty"`
	IncludeAll bool   `json:"include_all,omitempty"`
	Hidden     bool   `json:"hidden,omitempty"`
	// queryRange is where Query is written, for its diagnostics.
	queryRange hcl.Range
}

// The kinds of variables.
const (
	VariableQuery    = "query"
	VariableCustom   = "custom"
	VariableInterval = "interval"
)

// Row is a dashboard's `row "TITLE"` block: a titled band of panels,
// which the page may fold.
type Row struct {
	Title     string   `json:"title"`
	Collapsed bool     `json:"collapsed,omitempty"`
	Panels    []*Panel `json:"panels"`
}

// Panel is a `panel "TITLE"` block: one graph, number, gauge, table, bar
// chart or heatmap of its queries' results.
type Panel struct {
	Title       string `json:"title"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
	// Unit says how values print, by Grafana's unit names (PanelUnits).
	Unit     string   `json:"unit,omitempty"`
	Decimals *int     `json:"decimals,omitempty"`
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
	Stacked  bool     `json:"stacked,omitempty"`
	// Grid is the panel's place: column and line of its top left
	// corner in its row, width and height, on a grid 24 columns wide.
	// Empty, the panel follows the one before, 12 wide and 8 high.
	Grid       []int         `json:"grid,omitempty"`
	Queries    []*PanelQuery `json:"queries"`
	Thresholds []*Threshold  `json:"thresholds,omitempty"`
}

// PanelQuery is a panel's `query` block.
type PanelQuery struct {
	Expr string `json:"expr"`
	// Legend names each series, a template such as "{{instance}}";
	// empty, the series' labels name it.
	Legend string `json:"legend,omitempty"`
	// Instant asks for the values at the end of the range only, as
	// stat, gauge, bar and table panels show by default.
	Instant bool `json:"instant,omitempty"`
	// Step, when not 0, is the smallest resolution of the query.
	Step model.Duration `json:"step,omitempty"`
	// exprRange is where Expr is written, for its diagnostics.
	exprRange hcl.Range
}

// Threshold is a panel's `threshold` block: from Value up, values show
// in Color.
type Threshold struct {
	Value float64 `json:"value"`
	Color string  `json:"color"`
}

// PanelTypes are the types of panels.
var PanelTypes = []string{"timeseries", "stat", "gauge", "bar", "table", "heatmap"}

// PanelUnits are the units of panels, by Grafana's names.
var PanelUnits = []string{
	"none", "short", "percent", "percentunit", "bytes", "decbytes", "bits", "decbits",
	"Bps", "binBps", "bps", "binbps", "pps", "ops", "reqps", "rps", "wps", "iops", "eps",
	"s", "ms", "µs", "ns", "dtdurations", "hertz", "celsius", "rotrpm", "watt", "volt",
	"bool", "bool_yes_no", "bool_on_off",
}

// Grafana's variables that every query may use: the step of the query,
// Grafana's rate interval, the time range, and in seconds or
// milliseconds.
var builtinVariables = map[string]string{
	"__interval": "5m", "__rate_interval": "5m", "__range": "5m",
	"__interval_ms": "1", "__range_s": "1", "__range_ms": "1",
}

var number = plain[float64](cty.Number, "number")

// optionalNumber is a number kept as a pointer, nil when not set.
var optionalNumber = codec[*float64]{
	typ: cty.Number, kind: "number",
	decode: func(at attrValue, v cty.Value) (*float64, bool) {
		f, ok := number.decode(at, v)
		return &f, ok
	},
	render: func(f *float64, o renderOptions) cty.Value {
		if f == nil {
			return cty.NullVal(cty.Number)
		}
		return number.render(*f, o)
	},
}

// optionalCount is a count kept as a pointer, nil when not set.
var optionalCount = codec[*int]{
	typ: cty.Number, kind: "number",
	decode: func(at attrValue, v cty.Value) (*int, bool) {
		n, ok := count.decode(at, v)
		return &n, ok
	},
	render: func(n *int, o renderOptions) cty.Value {
		if n == nil {
			return cty.NullVal(cty.Number)
		}
		return count.render(*n, o)
	},
}

// grid is a panel's place: four numbers, not negative, the width 1 to 24.
var grid = codec[[]int]{
	typ: cty.List(cty.Number), kind: "list of number",
	decode: func(at attrValue, v cty.Value) ([]int, bool) {
		g, ok := plain[[]int](cty.List(cty.Number), "").decode(at, v)
		if !ok {
			return nil, false
		}
		switch {
		case len(g) != 4:
			at.errorf("Invalid grid", "grid is [column, line, width, height], four numbers; got %d.", len(g))
		case slices.Min(g) < 0:
			at.errorf("Invalid grid", "grid's numbers must not be negative.")
		case g[2] < 1 || g[0]+g[2] > 24:
			at.errorf("Invalid grid", "A panel is 1 to 24 columns wide and ends by column 24; column %d and width %d do not fit.", g[0], g[2])
		case g[3] < 1:
			at.errorf("Invalid grid", "A panel is at least 1 line high.")
		default:
			return g, true
		}
		return nil, false
	},
	render: func(g []int, _ renderOptions) cty.Value {
		vals := make([]cty.Value, len(g))
		for i, n := range g {
			vals[i] = cty.NumberIntVal(int64(n))
		}
		if len(vals) == 0 {
			return cty.ListValEmpty(cty.Number)
		}
		return cty.ListVal(vals)
	},
}

var dashboardSpec = &block[Dashboard]{
	name: "dashboard", label: "NAME", doc: "A dashboard of the web UI, at /dashboards/NAME.",
	labelOf: func(d *Dashboard) *string { return &d.Name },
	checkLabel: func(d *decoder, rng *hcl.Range, name string) string {
		if strings.TrimSpace(name) == "" || strings.ContainsAny(name, "/?#") {
			d.errorf(rng, "Invalid dashboard name", "%q is not a dashboard name: it is part of the dashboard's address, and must not be empty or hold /, ? or #.", name)
		}
		return name
	},
	init: func(d *Dashboard) {
		d.Variables, d.Panels, d.Rows = []*Variable{}, []*Panel{}, []*Row{}
	},
	attrs: []attr[Dashboard]{
		field("title", str, func(d *Dashboard) *string { return &d.Title }, "The title shown; the name when unset."),
		field("description", str, func(d *Dashboard) *string { return &d.Description }, "What the dashboard shows."),
		field("tags", strList, func(d *Dashboard) *[]string { return &d.Tags }, "Words to find the dashboard by in the list."),
		withDefault("range", duration[model.Duration](), func(d *Dashboard) *model.Duration { return &d.Range }, model.Duration(time.Hour),
			"The time range shown first, back from now."),
		withDefault("refresh", durationOrZero[model.Duration](), func(d *Dashboard) *model.Duration { return &d.Refresh }, 0,
			"How often the page fetches the panels' data again; \"0s\" for never."),
	},
	children: []child[Dashboard]{
		listOf(func(d *Dashboard) *[]*Variable { return &d.Variables }, variableSpec).spacedOut(),
		listOf(func(d *Dashboard) *[]*Panel { return &d.Panels }, panelSpec).spacedOut(),
		listOf(func(d *Dashboard) *[]*Row { return &d.Rows }, rowSpec).spacedOut(),
	},
	check: checkDashboard,
	is:    func(d *Dashboard) bool { return !d.included },
}

var variableSpec = &block[Variable]{
	name: "variable", label: "NAME", doc: "A variable, chosen on the page from a list; queries use it as $NAME.",
	labelOf: func(v *Variable) *string { return &v.Name },
	checkLabel: func(d *decoder, rng *hcl.Range, name string) string {
		if !variableName.MatchString(name) || strings.HasPrefix(name, "__") {
			d.errorf(rng, "Invalid variable name", "%q is not a variable name: letters, digits and _, not first a digit, not first __.", name)
		}
		return name
	},
	attrs: []attr[Variable]{
		withDefault("kind", oneOf(VariableQuery, VariableCustom, VariableInterval), func(v *Variable) *string { return &v.Kind }, VariableQuery,
			"Where the values come from: \"query\" (query), \"custom\" (values) or \"interval\" (values, durations)."),
		field("label", str, func(v *Variable) *string { return &v.Label }, "The name shown beside the list; NAME when unset."),
		field("query", str, func(v *Variable) *string { return &v.Query }, "For kind \"query\": label_values(LABEL), label_values(EXPR, LABEL), label_names(), metrics(REGEX) or query_result(EXPR)."),
		field("regex", goRegex, func(v *Variable) *string { return &v.Regex }, "Keeps the values it matches whole; with a group, the group's text of each."),
		field("values", strList, func(v *Variable) *[]string { return &v.Values }, "For kinds \"custom\" and \"interval\": the choices."),
		field("default", str, func(v *Variable) *string { return &v.Default }, "The value chosen first; the first value when unset."),
		withDefault("multi", boolean, func(v *Variable) *bool { return &v.Multi }, false, "Whether several values may be chosen; a query gets them as one regular expression, for =~."),
		withDefault("include_all", boolean, func(v *Variable) *bool { return &v.IncludeAll }, false, "Whether the list offers \"All\", every value, as .* in a query."),
		withDefault("hidden", boolean, func(v *Variable) *bool { return &v.Hidden }, false, "Whether the list is left off the page; the default is used."),
	},
	check: checkVariable,
}

// variableName is the name of a variable, which Grafana's $NAME reads.
var variableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// goRegex is a regular expression of Go's syntax, kept as text.
var goRegex = codec[string]{
	typ: cty.String, kind: "regex",
	decode: func(at attrValue, v cty.Value) (string, bool) {
		s := v.AsString()
		if _, err := regexp.Compile(s); err != nil {
			at.errorf("Invalid regular expression", "%s.", err)
			return "", false
		}
		return s, true
	},
	render: str.render,
}

var rowSpec = &block[Row]{
	name: "row", label: "TITLE", doc: "A band of panels under a title, which the page may fold.",
	labelOf: func(r *Row) *string { return &r.Title },
	init:    func(r *Row) { r.Panels = []*Panel{} },
	attrs: []attr[Row]{
		withDefault("collapsed", boolean, func(r *Row) *bool { return &r.Collapsed }, false, "Whether the row is folded when the page opens."),
	},
	children: []child[Row]{
		listOf(func(r *Row) *[]*Panel { return &r.Panels }, panelSpec).spacedOut(),
	},
}

var panelSpec = &block[Panel]{
	name: "panel", label: "TITLE", doc: "A panel showing its queries' results.",
	labelOf: func(p *Panel) *string { return &p.Title },
	init:    func(p *Panel) { p.Queries = []*PanelQuery{} },
	attrs: []attr[Panel]{
		withDefault("type", oneOf(PanelTypes...), func(p *Panel) *string { return &p.Type }, "timeseries",
			"How the results show: \"timeseries\" (a graph), \"stat\" (the last value of each series), \"gauge\", \"bar\" (a bar per series), \"table\" or \"heatmap\" (of a histogram's buckets)."),
		field("description", str, func(p *Panel) *string { return &p.Description }, "What the panel shows, in the panel's tooltip."),
		field("unit", oneOf(PanelUnits...), func(p *Panel) *string { return &p.Unit }, "How values print, by Grafana's unit names: "+strings.Join(PanelUnits, ", ")+"."),
		field("decimals", optionalCount, func(p *Panel) **int { return &p.Decimals }, "How many decimals values print with; as suits the value when unset."),
		field("min", optionalNumber, func(p *Panel) **float64 { return &p.Min }, "The low end of the axis or gauge; from the values when unset."),
		field("max", optionalNumber, func(p *Panel) **float64 { return &p.Max }, "The high end of the axis or gauge; from the values when unset."),
		withDefault("stacked", boolean, func(p *Panel) *bool { return &p.Stacked }, false, "Whether a graph's series are stacked."),
		field("grid", grid, func(p *Panel) *[]int { return &p.Grid }, "[column, line, width, height] of the panel in its row, on a grid 24 columns wide whose lines are 30 pixels high; unset, it follows the panel before, 12 wide and 8 high."),
	},
	children: []child[Panel]{
		listOf(func(p *Panel) *[]*PanelQuery { return &p.Queries }, querySpecBlock),
		listOf(func(p *Panel) *[]*Threshold { return &p.Thresholds }, thresholdSpec),
	},
	check: func(s *scope, p *Panel) {
		if len(p.Queries) == 0 {
			s.blockErrorf("Panel without query", "Panel %q has no query block.", p.Title)
		}
	},
}

var querySpecBlock = &block[PanelQuery]{
	name: "query", doc: "A PromQL query of the panel.",
	attrs: []attr[PanelQuery]{
		field("expr", str, func(q *PanelQuery) *string { return &q.Expr }, "The PromQL expression; $NAME, ${NAME} and [[NAME]] are the dashboard's variables, or Grafana's $__interval, $__rate_interval, $__range.").require(),
		field("legend", str, func(q *PanelQuery) *string { return &q.Legend }, "The name of each series, where {{LABEL}} is the value of a label; the series' labels when unset."),
		withDefault("instant", boolean, func(q *PanelQuery) *bool { return &q.Instant }, false, "Whether the values at the end of the range are asked for, not a range."),
		withDefault("step", durationOrZero[model.Duration](), func(q *PanelQuery) *model.Duration { return &q.Step }, 0, "The smallest resolution of the query; \"0s\" lets the page choose from the range and the width."),
	},
	check: func(s *scope, q *PanelQuery) { q.exprRange = *s.rangeOf("expr") },
}

var thresholdSpec = &block[Threshold]{
	name: "threshold", doc: "From value up, values show in color; below the lowest threshold, in green.",
	attrs: []attr[Threshold]{
		field("value", number, func(t *Threshold) *float64 { return &t.Value }, "Where the threshold starts.").require(),
		field("color", str, func(t *Threshold) *string { return &t.Color }, "A CSS color: a name such as \"red\" or \"#e02f44\".").require(),
	},
}

// checkVariable checks that a variable has what its kind needs, and
// parses the PromQL of a query variable.
func checkVariable(s *scope, v *Variable) {
	v.queryRange = *s.rangeOf("query")
	switch v.Kind {
	case VariableQuery:
		if v.Query == "" {
			s.errorf("query", "Missing query", "Variable %q of kind \"query\" needs a query.", v.Name)
		} else if _, err := variableQueryExpr(v.Query); err != nil {
			s.errorf("query", "Invalid variable query", "%s.", err)
		}
	case VariableCustom, VariableInterval:
		if len(v.Values) == 0 {
			s.errorf("values", "Missing values", "Variable %q of kind %q needs values.", v.Name, v.Kind)
		}
		if v.Kind == VariableInterval {
			for i, val := range v.Values {
				if _, err := model.ParseDuration(val); err != nil {
					s.elemErrorf("values", i, "Invalid duration", "%q is not a duration, which an interval variable's values are.", val)
				}
			}
		}
	}
}

var (
	labelValuesCall = regexp.MustCompile(`(?s)^\s*label_values\(\s*(?:(.*)\s*,)?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$`)
	otherCall       = regexp.MustCompile(`(?s)^\s*(label_names|metrics|query_result)\((.*)\)\s*$`)
)

// variableQueryExpr returns the PromQL expression of a query variable's
// query, "" for one without. It is an error for a query that is none of
// the forms a variable takes.
func variableQueryExpr(q string) (string, error) {
	if m := labelValuesCall.FindStringSubmatch(q); m != nil {
		return strings.TrimSpace(m[1]), nil
	}
	if m := otherCall.FindStringSubmatch(q); m != nil {
		switch m[1] {
		case "query_result", "label_names":
			return strings.TrimSpace(m[2]), nil
		default: // metrics(REGEX)
			return "", nil
		}
	}
	return "", fmt.Errorf("%q is not label_values(LABEL), label_values(EXPR, LABEL), label_names(), metrics(REGEX) or query_result(EXPR)", q)
}

// variableRef finds a variable in a query: $NAME, ${NAME}, ${NAME:FORMAT}
// or [[NAME]]. $1 and the like, label_replace's groups, are not.
var variableRef = regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_]*)|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[A-Za-z0-9_]+)?\}|\[\[([A-Za-z_][A-Za-z0-9_]*)(?::[A-Za-z0-9_]+)?\]\]`)

// SubstituteVariables replaces each variable of expr by what value
// returns for its name, given whether it stands where PromQL wants a
// duration (in [ ], after offset). It returns the names of the
// variables value does not know, for which it returned false.
func SubstituteVariables(expr string, value func(name string, isDuration bool) (string, bool)) (string, []string) {
	var unknown []string
	var b strings.Builder
	last := 0
	for _, m := range variableRef.FindAllStringSubmatchIndex(expr, -1) {
		name := ""
		for g := 1; g <= 3; g++ {
			if m[2*g] >= 0 {
				name = expr[m[2*g]:m[2*g+1]]
			}
		}
		before := strings.TrimRight(expr[:m[0]], " \t\n")
		after := strings.TrimLeft(expr[m[1]:], " \t\n")
		isDuration := strings.HasSuffix(before, "[") || strings.HasSuffix(before, ":") || strings.HasSuffix(before, "offset") || strings.HasPrefix(after, "]")
		v, ok := value(name, isDuration)
		if !ok {
			unknown = append(unknown, name)
		}
		b.WriteString(expr[last:m[0]])
		b.WriteString(v)
		last = m[1]
	}
	b.WriteString(expr[last:])
	return b.String(), unknown
}

// placeholders returns the function SubstituteVariables takes to check a
// query of dashboard d: each variable becomes a value of the right kind
// of token, a duration, a number or a name.
func placeholders(d *Dashboard) func(name string, isDuration bool) (string, bool) {
	return func(name string, isDuration bool) (string, bool) {
		if v, ok := builtinVariables[name]; ok {
			return v, true
		}
		i := slices.IndexFunc(d.Variables, func(v *Variable) bool { return v.Name == name })
		switch {
		case isDuration || i >= 0 && d.Variables[i].Kind == VariableInterval:
			return "5m", i >= 0
		case i >= 0 && len(d.Variables[i].Values) > 0 && allNumbers(d.Variables[i].Values):
			return "1", true
		}
		return "vigil_variable", i >= 0
	}
}

func allNumbers(values []string) bool {
	for _, v := range values {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return false
		}
	}
	return true
}

// checkDashboard checks that variable names are unique and parses every
// PromQL expression of the dashboard, its variables put in.
func checkDashboard(s *scope, d *Dashboard) {
	d.File = s.block.DefRange.Filename
	if d.Title == "" {
		d.Title = d.Name
	}
	seen := map[string]bool{}
	for _, v := range d.Variables {
		if seen[v.Name] {
			s.blockErrorf("Duplicate variable name", "Dashboard %q has two variables named %q.", d.Name, v.Name)
		}
		seen[v.Name] = true
	}
	for _, p := range d.AllPanels() {
		for _, q := range p.Queries {
			if err := CheckPanelQuery(d, q.Expr); err != nil {
				s.d.errorf(&q.exprRange, err.Summary, "The query of panel %q %s.", p.Title, err.Detail)
			}
		}
	}
	for _, v := range d.Variables {
		if e, err := variableQueryExpr(v.Query); v.Kind == VariableQuery && err == nil && e != "" {
			if err := CheckPanelQuery(d, e); err != nil {
				s.d.errorf(&v.queryRange, err.Summary, "The query of variable %q %s.", v.Name, err.Detail)
			}
		}
	}
}

// QueryError is what is wrong with a query of a dashboard: Summary is
// the diagnostic's summary, Detail what follows "The query of ..." in it.
type QueryError struct{ Summary, Detail string }

// Error implements error.
func (e *QueryError) Error() string { return e.Detail }

// CheckPanelQuery returns what is wrong with expr, a query of dashboard
// d: that it uses a variable d does not have, or does not parse as PromQL
// once its variables are put in; nil when it is right.
func CheckPanelQuery(d *Dashboard, expr string) *QueryError {
	if strings.TrimSpace(expr) == "" {
		return &QueryError{"Invalid PromQL expression", "is empty"}
	}
	e, unknown := SubstituteVariables(expr, placeholders(d))
	if len(unknown) > 0 {
		return &QueryError{"Unknown variable", fmt.Sprintf("uses $%s, which is not a variable of dashboard %q", strings.Join(unknown, ", $"), d.Name)}
	}
	if _, err := ruleParser.ParseExpr(e); err != nil {
		return &QueryError{"Invalid PromQL expression", fmt.Sprintf("does not parse: %s", err)}
	}
	return nil
}

// CheckVariableQuery returns what is wrong with q, the query of a query
// variable of dashboard d: not a form a variable takes, or a PromQL
// expression in it that CheckPanelQuery refuses; nil when it is right.
func CheckVariableQuery(d *Dashboard, q string) error {
	e, err := variableQueryExpr(q)
	if err != nil {
		return err
	}
	if e == "" {
		return nil
	}
	if err := CheckPanelQuery(d, e); err != nil {
		return err
	}
	return nil
}

// AllPanels returns the dashboard's panels, those above the rows first,
// then each row's.
func (d *Dashboard) AllPanels() []*Panel {
	out := slices.Clone(d.Panels)
	for _, r := range d.Rows {
		out = append(out, r.Panels...)
	}
	return out
}

// HCL renders the dashboard as a block of the configuration.
func (d *Dashboard) HCL() []byte {
	f := hclwrite.NewEmptyFile()
	c := *d
	c.included = false
	dashboardSpec.appendTo(f.Body(), &c, false, renderOptions{secrets: true})
	return hclwrite.Format(f.Bytes())
}

// dashboardFileSpec is a file of dashboard_files: dashboard blocks only.
var dashboardFileSpec = &block[Config]{
	children: []child[Config]{dashboardList()},
}

// dashboardList is the configuration's list of dashboard blocks.
func dashboardList() *list[Config, Dashboard] {
	return listOf(func(c *Config) *[]*Dashboard { return &c.Dashboards }, dashboardSpec).unique("dashboard").spacedOut()
}

// checkDashboardFiles decodes the dashboard blocks of the files the
// dashboard_files patterns match, in the order of the patterns and of
// the names of the files each matches.
func (d *decoder) checkDashboardFiles(s *scope, patterns []string) {
	rng := s.rangeOf("dashboard_files")
	for _, p := range patterns {
		files, err := filepath.Glob(p)
		if err != nil {
			d.errorf(rng, "Invalid dashboard_files pattern", "%q is not a valid pattern: %s.", p, err)
			continue
		}
		for _, f := range files {
			src, diags := readConfig(f)
			d.diags = append(d.diags, diags...)
			if diags.HasErrors() {
				continue
			}
			file, diags := hclsyntax.ParseConfig(src, f, hcl.InitialPos)
			d.diags = append(d.diags, diags...)
			if diags.HasErrors() {
				continue
			}
			first := len(d.cfg.Dashboards)
			dashboardFileSpec.decode(d, nil, file.Body, d.cfg)
			for _, db := range d.cfg.Dashboards[first:] {
				db.included = true
			}
		}
	}
}

//go:embed dashboards/*.hcl
var builtinDashboardFiles embed.FS

// BuiltinDashboards returns Vigil's own dashboards: "vigil", of the
// server itself, and "node", of the node exporter plugin. The server
// block's builtin_dashboards turns them off.
func BuiltinDashboards() ([]*Dashboard, error) {
	names, err := builtinDashboardFiles.ReadDir("dashboards")
	if err != nil {
		return nil, fmt.Errorf("cannot list the built-in dashboards: %w", err)
	}
	var out []*Dashboard
	for _, n := range names {
		name := "dashboards/" + n.Name()
		src, err := builtinDashboardFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("cannot read built-in dashboard %s: %w", name, err)
		}
		file, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		if diags.HasErrors() {
			return nil, fmt.Errorf("built-in dashboard %s: %s", name, diags.Error())
		}
		d := newDecoder(name)
		dashboardFileSpec.decode(d, nil, file.Body, d.cfg)
		if d.diags.HasErrors() {
			return nil, fmt.Errorf("built-in dashboard %s: %s", name, d.diags.Error())
		}
		for _, db := range d.cfg.Dashboards {
			db.Builtin, db.File = true, ""
		}
		out = append(out, d.cfg.Dashboards...)
	}
	return out, nil
}
