package hclconfig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/template"
	"github.com/zclconf/go-cty/cty"
)

// ruleParser parses rule expressions as the query engine does.
var ruleParser = parser.NewParser(parser.Options{})

var rulesSpec = &block[rulefmt.RuleGroup]{
	name: "rules", label: "GROUP", doc: "A group of recording and alerting rules, evaluated in order.",
	labelOf: func(g *rulefmt.RuleGroup) *string { return &g.Name },
	checkLabel: func(d *decoder, rng *hcl.Range, name string) string {
		if name == "" {
			d.errorf(rng, "Invalid rule group name", "A rule group needs a name.")
		}
		return name
	},
	init: func(g *rulefmt.RuleGroup) { g.Rules = []rulefmt.Rule{} },
	attrs: []attr[rulefmt.RuleGroup]{
		field("interval", duration[model.Duration](), func(g *rulefmt.RuleGroup) *model.Duration { return &g.Interval },
			"How often the group is evaluated.").inherits("global evaluation_interval"),
		field("limit", count, func(g *rulefmt.RuleGroup) *int { return &g.Limit },
			"The series or alerts a rule may give, or it fails; 0 for no limit."),
		field("query_offset", optionalDuration, func(g *rulefmt.RuleGroup) **model.Duration { return &g.QueryOffset },
			"How far in the past the group is evaluated, so that late samples are in; unset, \"0s\"."),
		field("labels", strMap, func(g *rulefmt.RuleGroup) *map[string]string { return &g.Labels },
			"Labels added to every rule's series and alerts; a rule's own win."),
	},
	children: []child[rulefmt.RuleGroup]{
		valuesOf(func(g *rulefmt.RuleGroup) *[]rulefmt.Rule { return &g.Rules }, recordSpec, alertSpec).spacedOut(),
	},
	check: func(s *scope, g *rulefmt.RuleGroup) {
		for _, k := range slices.Sorted(maps.Keys(g.Labels)) {
			if !model.UTF8Validation.IsValidLabelName(k) || k == model.MetricNameLabel {
				s.errorf("labels", "Invalid label name", "%q is not a valid label name for a rule group's labels.", k)
			}
		}
	},
}

// expr is a PromQL expression.
var expr = codec[string]{
	typ: cty.String, kind: "PromQL",
	decode: func(at attrValue, v cty.Value) (string, bool) {
		e := v.AsString()
		if _, err := ruleParser.ParseExpr(e); e == "" {
			at.errorf("Invalid PromQL expression", "expr must not be empty.")
		} else if err != nil {
			at.errorf("Invalid PromQL expression", "%s.", err)
		}
		return e, true
	},
	render: str.render,
}

var recordSpec = &block[rulefmt.Rule]{
	name: "record", label: "NAME", doc: "A recording rule; NAME is the metric it records.",
	labelOf: func(r *rulefmt.Rule) *string { return &r.Record },
	checkLabel: func(d *decoder, rng *hcl.Range, name string) string {
		if !model.UTF8Validation.IsValidMetricName(name) || strings.ContainsAny(name, "{}") {
			d.errorf(rng, "Invalid metric name", "%q is not a valid metric name for a recording rule; the selector, if any, belongs in expr.", name)
		}
		return name
	},
	attrs: []attr[rulefmt.Rule]{
		field("expr", expr, func(r *rulefmt.Rule) *string { return &r.Expr }, "The expression recorded.").require(),
		field("labels", strMap, func(r *rulefmt.Rule) *map[string]string { return &r.Labels }, "Labels added to the recorded series."),
	},
	check: checkRule,
	is:    func(r *rulefmt.Rule) bool { return r.Record != "" },
}

var alertSpec = &block[rulefmt.Rule]{
	name: "alert", label: "NAME", doc: "An alerting rule; NAME is the alert's name.",
	labelOf: func(r *rulefmt.Rule) *string { return &r.Alert },
	checkLabel: func(d *decoder, rng *hcl.Range, name string) string {
		if name == "" {
			d.errorf(rng, "Invalid alert name", "An alert needs a name.")
		}
		return name
	},
	attrs: []attr[rulefmt.Rule]{
		field("expr", expr, func(r *rulefmt.Rule) *string { return &r.Expr }, "The expression whose series are the alerts.").require(),
		withDefault("for", durationOrZero[model.Duration](), func(r *rulefmt.Rule) *model.Duration { return &r.For }, 0,
			"How long an alert is pending before it fires."),
		withDefault("keep_firing_for", durationOrZero[model.Duration](), func(r *rulefmt.Rule) *model.Duration { return &r.KeepFiringFor }, 0,
			"How long an alert keeps firing after its series are gone."),
		field("labels", strMap, func(r *rulefmt.Rule) *map[string]string { return &r.Labels }, "Labels added to the alerts; templates."),
		field("annotations", strMap, func(r *rulefmt.Rule) *map[string]string { return &r.Annotations }, "Annotations of the alerts; templates."),
	},
	check: checkRule,
}

// checkRule checks a record or alert block as Prometheus checks the rules
// of its rule files, each mistake at its place.
func checkRule(s *scope, r *rulefmt.Rule) {
	for _, k := range slices.Sorted(maps.Keys(r.Labels)) {
		v := r.Labels[k]
		if !model.UTF8Validation.IsValidLabelName(k) || k == model.MetricNameLabel {
			s.errorf("labels", "Invalid label name", "%q is not a valid label name for a rule's labels.", k)
		}
		if !model.LabelValue(v).IsValid() {
			s.errorf("labels", "Invalid label value", "The value of label %q is not valid UTF-8.", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.Annotations)) {
		if !model.UTF8Validation.IsValidLabelName(k) {
			s.errorf("annotations", "Invalid annotation name", "%q is not a valid annotation name.", k)
		}
	}
	if r.Alert != "" {
		s.d.checkTemplates(r.Alert, r.Labels, s.rangeOf("labels"), "label")
		s.d.checkTemplates(r.Alert, r.Annotations, s.rangeOf("annotations"), "annotation")
	}
	// Whatever else Prometheus refuses in a rule file is refused here too,
	// at the block.
	if s.ok() {
		for _, we := range r.Validate(rulefmt.RuleNode{}, model.UTF8Validation, ruleParser) {
			s.blockErrorf("Invalid "+s.block.Type+" rule", "%s.", errors.Unwrap(&we))
		}
	}
}

// checkTemplates parses the templates of an alert's labels or annotations
// (what says which) as Prometheus does when it loads a rule file.
func (d *decoder) checkTemplates(alert string, texts map[string]string, rng *hcl.Range, what string) {
	data := template.AlertTemplateData(map[string]string{}, map[string]string{}, "", promql.Sample{})
	// The variables Prometheus defines for alert templates.
	const defs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	for _, k := range slices.Sorted(maps.Keys(texts)) {
		expander := template.NewTemplateExpander(context.Background(), defs+texts[k], "__alert_"+alert, data, model.Now(), nil, nil, nil)
		if err := expander.ParseTest(); err != nil {
			d.errorf(rng, "Invalid template", "The template of %s %q does not parse: %s.", what, k, err)
		}
	}
}

// checkRuleFiles parses and checks every file the rule_files patterns
// match with the upstream rulefmt, each mistake reported at its line in
// the file.
func (d *decoder) checkRuleFiles(s *scope, patterns []string) {
	rng := s.rangeOf("rule_files")
	for _, p := range patterns {
		files, err := filepath.Glob(p)
		if err != nil {
			d.errorf(rng, "Invalid rule_files pattern", "%q is not a valid pattern: %s.", p, err)
			continue
		}
		for _, f := range files {
			_, errs := rulefmt.ParseFile(f, false, model.UTF8Validation, ruleParser, slog.New(slog.DiscardHandler))
			seen := map[string]bool{} // rulefmt reads the YAML twice, and may say a syntax error twice
			for _, err := range errs {
				if !seen[err.Error()] {
					seen[err.Error()] = true
					d.diags = append(d.diags, ruleFileDiagnostic(f, err, rng))
				}
			}
		}
	}
}

var (
	// ruleErrorPos is the line:col: that rulefmt puts before its checks' errors.
	ruleErrorPos = regexp.MustCompile(`^(\d+):(\d+): `)
	// yamlErrorLine is where YAML errors say their line.
	yamlErrorLine = regexp.MustCompile(`line (\d+):`)
)

// ruleFileDiagnostic turns an error of rulefmt.ParseFile about file into a
// diagnostic at the line and column it names, or at rule_files (rng) when
// it names none.
func ruleFileDiagnostic(file string, err error, rng *hcl.Range) *hcl.Diagnostic {
	msg := strings.TrimPrefix(err.Error(), file+": ")
	diag := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid rule file", Detail: msg + "."}
	line, col := 0, 1
	if m := ruleErrorPos.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		col, _ = strconv.Atoi(m[2])
		diag.Detail = strings.TrimPrefix(msg, m[0]) + "."
	} else if m := yamlErrorLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	if line > 0 {
		diag.Subject = &hcl.Range{Filename: file, Start: hcl.Pos{Line: line, Column: col}, End: hcl.Pos{Line: line, Column: col + 1}}
		return diag
	}
	diag.Detail = fmt.Sprintf("%s: %s", file, diag.Detail)
	diag.Subject = rng
	return diag
}
