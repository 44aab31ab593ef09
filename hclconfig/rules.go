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

var rulesSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "interval"}, {Name: "limit"}, {Name: "query_offset"}, {Name: "labels"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "record", LabelNames: []string{"name"}},
		{Type: "alert", LabelNames: []string{"name"}},
	},
}

var recordSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "expr", Required: true}, {Name: "labels"},
}}

var alertSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "expr", Required: true}, {Name: "for"}, {Name: "keep_firing_for"}, {Name: "labels"}, {Name: "annotations"},
}}

// ruleParser parses rule expressions as the query engine does.
var ruleParser = parser.NewParser(parser.Options{})

// ruleGroup decodes a `rules "<group>"` block; its interval is the global
// evaluation_interval unless it sets one.
func (d *decoder) ruleGroup(b *hcl.Block, g *Global) rulefmt.RuleGroup {
	rg := rulefmt.RuleGroup{Name: b.Labels[0]}
	if rg.Name == "" {
		d.errorf(&b.LabelRanges[0], "Invalid rule group name", "A rule group needs a name.")
	}
	content := d.content(b.Body, rulesSchema)
	interval := g.EvaluationInterval
	d.duration(content.Attributes, "interval", &interval)
	rg.Interval = model.Duration(interval)
	d.integer(content.Attributes, "limit", &rg.Limit)
	if _, set := content.Attributes["query_offset"]; set {
		var offset model.Duration
		d.durationOrZero(content.Attributes, "query_offset", &offset)
		rg.QueryOffset = &offset
	}
	d.strMap(content.Attributes, "labels", &rg.Labels)
	for _, k := range slices.Sorted(maps.Keys(rg.Labels)) {
		if !model.UTF8Validation.IsValidLabelName(k) || k == model.MetricNameLabel {
			d.errorf(attrRange(content.Attributes, "labels", b.Body), "Invalid label name", "%q is not a valid label name for a rule group's labels.", k)
		}
	}
	rg.Rules = []rulefmt.Rule{}
	for _, rb := range content.Blocks {
		rg.Rules = append(rg.Rules, d.rule(rb))
	}
	return rg
}

// rule decodes a record or alert block and checks it as Prometheus checks
// the rules of its rule files, each mistake at its place.
func (d *decoder) rule(b *hcl.Block) rulefmt.Rule {
	var r rulefmt.Rule
	name, nameRange := b.Labels[0], &b.LabelRanges[0]
	schema := alertSchema
	if b.Type == "record" {
		schema = recordSchema
	}
	errorsBefore := len(d.diags.Errs())
	attrs := d.content(b.Body, schema).Attributes
	exprAttr, exprSet := d.decodeInto(attrs, "expr", cty.String, &r.Expr)
	d.strMap(attrs, "labels", &r.Labels)
	if b.Type == "record" {
		r.Record = name
		if !model.UTF8Validation.IsValidMetricName(name) || strings.ContainsAny(name, "{}") {
			d.errorf(nameRange, "Invalid metric name", "%q is not a valid metric name for a recording rule; the selector, if any, belongs in expr.", name)
		}
	} else {
		r.Alert = name
		if name == "" {
			d.errorf(nameRange, "Invalid alert name", "An alert needs a name.")
		}
		d.durationOrZero(attrs, "for", &r.For)
		d.durationOrZero(attrs, "keep_firing_for", &r.KeepFiringFor)
		d.strMap(attrs, "annotations", &r.Annotations)
	}
	if exprSet { // a missing or mistyped expr has its diagnostic already
		rng := exprAttr.Expr.Range()
		if _, err := ruleParser.ParseExpr(r.Expr); r.Expr == "" {
			d.errorf(&rng, "Invalid PromQL expression", "expr must not be empty.")
		} else if err != nil {
			d.errorf(&rng, "Invalid PromQL expression", "%s.", err)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.Labels)) {
		v := r.Labels[k]
		if !model.UTF8Validation.IsValidLabelName(k) || k == model.MetricNameLabel {
			d.errorf(attrRange(attrs, "labels", b.Body), "Invalid label name", "%q is not a valid label name for a rule's labels.", k)
		}
		if !model.LabelValue(v).IsValid() {
			d.errorf(attrRange(attrs, "labels", b.Body), "Invalid label value", "The value of label %q is not valid UTF-8.", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.Annotations)) {
		if !model.UTF8Validation.IsValidLabelName(k) {
			d.errorf(attrRange(attrs, "annotations", b.Body), "Invalid annotation name", "%q is not a valid annotation name.", k)
		}
	}
	if r.Alert != "" {
		d.checkTemplates(r.Alert, r.Labels, attrRange(attrs, "labels", b.Body), "label")
		d.checkTemplates(r.Alert, r.Annotations, attrRange(attrs, "annotations", b.Body), "annotation")
	}
	// Whatever else Prometheus refuses in a rule file is refused here too,
	// at the block.
	if len(d.diags.Errs()) == errorsBefore {
		for _, we := range r.Validate(rulefmt.RuleNode{}, model.UTF8Validation, ruleParser) {
			d.errorf(&b.DefRange, "Invalid "+b.Type+" rule", "%s.", errors.Unwrap(&we))
		}
	}
	return r
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

// ruleFiles decodes rule_files: patterns of Prometheus YAML rule files,
// relative to the configuration file's folder. Every file they match is
// parsed and checked by the upstream rulefmt, each mistake reported at its
// line in the file.
func (d *decoder) ruleFiles(attrs hcl.Attributes, body hcl.Body) []string {
	var patterns []string
	d.strList(attrs, "rule_files", &patterns)
	rng := attrRange(attrs, "rule_files", body)
	var out []string
	for _, p := range patterns {
		if !filepath.IsAbs(p) {
			p = filepath.Join(d.baseDir, p)
		}
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
		out = append(out, p)
	}
	return out
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
