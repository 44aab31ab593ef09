package hclconfig

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/vigilmon/vigil/internal/amatcher"
	"github.com/vigilmon/vigil/sdk"
)

// HCL renders the configuration as it is in effect, defaults included, in
// the canonical format. Secrets render as "<secret>", so the text is safe
// to show, as /api/v1/status/config does.
func (c *Config) HCL() []byte {
	f := hclwrite.NewEmptyFile()
	root := f.Body()
	if len(c.RuleFiles) > 0 {
		root.SetAttributeValue("rule_files", stringList(c.RuleFiles))
		root.AppendNewline()
	}

	server := root.AppendNewBlock("server", nil).Body()
	server.SetAttributeValue("listen", cty.StringVal(c.Server.Listen))
	server.SetAttributeValue("data_dir", cty.StringVal(c.Server.DataDir))
	server.SetAttributeValue("retention", durationVal(c.Server.Retention)) // "0s": forever
	server.SetAttributeValue("enable_admin_api", cty.BoolVal(c.Server.EnableAdminAPI))
	if c.Server.ExternalURL != nil {
		server.SetAttributeValue("external_url", cty.StringVal(c.Server.ExternalURL.Redacted()))
	}

	root.AppendNewline()
	global := root.AppendNewBlock("global", nil).Body()
	global.SetAttributeValue("scrape_interval", durationVal(c.Global.ScrapeInterval))
	global.SetAttributeValue("scrape_timeout", durationVal(c.Global.ScrapeTimeout))
	global.SetAttributeValue("evaluation_interval", durationVal(c.Global.EvaluationInterval))
	if len(c.Global.ExternalLabels) > 0 {
		global.SetAttributeValue("external_labels", stringMap(c.Global.ExternalLabels))
	}
	global.SetAttributeValue("scrape_protocols", stringList(c.Global.ScrapeProtocols))
	global.SetAttributeValue("resolve_timeout", durationVal(c.Global.ResolveTimeout))

	root.AppendNewline()
	q := root.AppendNewBlock("query", nil).Body()
	q.SetAttributeValue("timeout", durationVal(c.Query.Timeout))
	q.SetAttributeValue("max_samples", cty.NumberIntVal(int64(c.Query.MaxSamples)))
	q.SetAttributeValue("max_concurrency", cty.NumberIntVal(int64(c.Query.MaxConcurrency)))
	q.SetAttributeValue("lookback_delta", durationVal(c.Query.LookbackDelta))

	for _, p := range c.Plugins {
		root.AppendNewline()
		b := root.AppendNewBlock("plugin", []string{p.Name}).Body()
		switch {
		case p.Registry != nil:
			b.SetAttributeValue("source", cty.StringVal(p.Registry.Address))
			if p.Registry.Constraint != "" {
				b.SetAttributeValue("version", cty.StringVal(p.Registry.Constraint))
			}
		default:
			b.SetAttributeValue("source", cty.StringVal(p.Source))
		}
		if p.Checksum != nil && p.Registry == nil {
			b.SetAttributeValue("checksum", cty.StringVal(fmt.Sprintf("sha256:%x", p.Checksum)))
		}
		if p.IsWasm() {
			b.SetAttributeValue("allow_hosts", stringList(p.AllowHosts))
			b.SetAttributeValue("memory_limit", cty.StringVal(bytesString(p.MemoryLimit)))
			b.SetAttributeValue("call_timeout", durationVal(p.CallTimeout))
		}
	}
	for _, inst := range c.Discoveries {
		root.AppendNewline()
		renderInstance(root.AppendNewBlock("discovery", []string{inst.Name}).Body(), inst)
	}
	for _, inst := range c.Notifiers {
		root.AppendNewline()
		renderInstance(root.AppendNewBlock("notifier", []string{inst.Name}).Body(), inst)
	}

	for _, s := range c.Scrapes {
		root.AppendNewline()
		if s.Exporter != nil {
			renderExporter(root.AppendNewBlock("exporter", []string{s.Name}).Body(), s)
			continue
		}
		b := root.AppendNewBlock("scrape", []string{s.Name}).Body()
		b.SetAttributeValue("targets", stringList(s.Targets))
		if len(s.Discovery) > 0 {
			b.SetAttributeValue("discovery", stringList(s.Discovery))
		}
		b.SetAttributeValue("metrics_path", cty.StringVal(s.MetricsPath))
		b.SetAttributeValue("scheme", cty.StringVal(s.Scheme))
		if len(s.Params) > 0 {
			params := map[string]cty.Value{}
			for k, v := range s.Params {
				params[k] = stringList(v)
			}
			b.SetAttributeValue("params", cty.ObjectVal(params))
		}
		b.SetAttributeValue("scrape_interval", durationVal(s.ScrapeInterval))
		b.SetAttributeValue("scrape_timeout", durationVal(s.ScrapeTimeout))
		renderJobOptions(b, s)
		b.SetAttributeValue("scrape_protocols", stringList(s.ScrapeProtocols))
		b.SetAttributeValue("fallback_scrape_protocol", cty.StringVal(s.FallbackScrapeProtocol))
		if s.BearerToken != "" {
			b.SetAttributeValue("bearer_token", cty.StringVal(s.BearerToken.String()))
		}
		if s.BasicAuth != nil {
			ba := b.AppendNewBlock("basic_auth", nil).Body()
			ba.SetAttributeValue("username", cty.StringVal(s.BasicAuth.Username))
			if s.BasicAuth.Password != "" {
				ba.SetAttributeValue("password", cty.StringVal(s.BasicAuth.Password.String()))
			}
		}
		if s.TLS != nil {
			tb := b.AppendNewBlock("tls", nil).Body()
			for _, a := range []struct{ name, v string }{
				{"ca_file", s.TLS.CAFile}, {"cert_file", s.TLS.CertFile}, {"key_file", s.TLS.KeyFile}, {"server_name", s.TLS.ServerName},
			} {
				if a.v != "" {
					tb.SetAttributeValue(a.name, cty.StringVal(a.v))
				}
			}
			tb.SetAttributeValue("insecure_skip_verify", cty.BoolVal(s.TLS.InsecureSkipVerify))
		}
		renderRelabel(b, "relabel", s.Relabel)
		renderRelabel(b, "metric_relabel", s.MetricRelabel)
	}
	for _, g := range c.RuleGroups {
		root.AppendNewline()
		renderRuleGroup(root.AppendNewBlock("rules", []string{g.Name}).Body(), g)
	}
	renderAlerting(root, c)
	return hclwrite.Format(f.Bytes())
}

func renderRuleGroup(b *hclwrite.Body, g rulefmt.RuleGroup) {
	b.SetAttributeValue("interval", durationVal(time.Duration(g.Interval)))
	if g.Limit > 0 {
		b.SetAttributeValue("limit", cty.NumberIntVal(int64(g.Limit)))
	}
	if g.QueryOffset != nil {
		b.SetAttributeValue("query_offset", durationVal(time.Duration(*g.QueryOffset)))
	}
	if len(g.Labels) > 0 {
		b.SetAttributeValue("labels", stringMap(g.Labels))
	}
	for _, r := range g.Rules {
		b.AppendNewline()
		if r.Record != "" {
			rb := b.AppendNewBlock("record", []string{r.Record}).Body()
			rb.SetAttributeValue("expr", cty.StringVal(r.Expr))
			if len(r.Labels) > 0 {
				rb.SetAttributeValue("labels", stringMap(r.Labels))
			}
			continue
		}
		ab := b.AppendNewBlock("alert", []string{r.Alert}).Body()
		ab.SetAttributeValue("expr", cty.StringVal(r.Expr))
		ab.SetAttributeValue("for", durationVal(time.Duration(r.For)))
		if r.KeepFiringFor > 0 {
			ab.SetAttributeValue("keep_firing_for", durationVal(time.Duration(r.KeepFiringFor)))
		}
		if len(r.Labels) > 0 {
			ab.SetAttributeValue("labels", stringMap(r.Labels))
		}
		if len(r.Annotations) > 0 {
			ab.SetAttributeValue("annotations", stringMap(r.Annotations))
		}
	}
}

// renderJobOptions writes what scrape and exporter blocks share.
func renderJobOptions(b *hclwrite.Body, s *Scrape) {
	b.SetAttributeValue("honor_labels", cty.BoolVal(s.HonorLabels))
	b.SetAttributeValue("honor_timestamps", cty.BoolVal(s.HonorTimestamps))
	for _, l := range []struct {
		name string
		v    int
	}{
		{"sample_limit", s.SampleLimit}, {"label_limit", s.LabelLimit},
		{"label_name_length_limit", s.LabelNameLengthLimit}, {"label_value_length_limit", s.LabelValueLengthLimit},
	} {
		if l.v > 0 {
			b.SetAttributeValue(l.name, cty.NumberIntVal(int64(l.v)))
		}
	}
	if s.BodySizeLimit > 0 {
		b.SetAttributeValue("body_size_limit", cty.StringVal(bytesString(s.BodySizeLimit)))
	}
}

func renderExporter(b *hclwrite.Body, s *Scrape) {
	b.SetAttributeValue("plugin", cty.StringVal(s.Exporter.Plugin.Name))
	b.SetAttributeValue("interval", durationVal(s.ScrapeInterval))
	b.SetAttributeValue("timeout", durationVal(s.ScrapeTimeout))
	renderJobOptions(b, s)
	renderConfig(b, s.Exporter)
	renderRelabel(b, "relabel", s.Relabel)
	renderRelabel(b, "metric_relabel", s.MetricRelabel)
}

func renderInstance(b *hclwrite.Body, inst *PluginInstance) {
	b.SetAttributeValue("plugin", cty.StringVal(inst.Plugin.Name))
	if inst.Kind == sdk.KindNotifier {
		b.SetAttributeValue("send_resolved", cty.BoolVal(inst.SendResolved))
		timeout := inst.Timeout
		if timeout == 0 {
			timeout = DefaultNotifyTimeout
		}
		b.SetAttributeValue("timeout", durationVal(timeout))
	}
	renderConfig(b, inst)
}

// renderConfig writes an instance's config block as decoded, sensitive
// values hidden; before decoding there is nothing to show.
func renderConfig(b *hclwrite.Body, inst *PluginInstance) {
	if inst.Values == nil {
		return
	}
	values := inst.Values.Redacted()
	if len(values) == 0 {
		return
	}
	cb := b.AppendNewBlock("config", nil).Body()
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v, err := gocty.ImpliedType(values[name])
		if err != nil {
			continue
		}
		cv, err := gocty.ToCtyValue(values[name], v)
		if err != nil {
			continue
		}
		cb.SetAttributeValue(name, cv)
	}
}

func renderRelabel(b *hclwrite.Body, block string, cfgs []*relabel.Config) {
	for _, c := range cfgs {
		r := b.AppendNewBlock(block, nil).Body()
		if len(c.SourceLabels) > 0 {
			names := make([]string, len(c.SourceLabels))
			for i, n := range c.SourceLabels {
				names[i] = string(n)
			}
			r.SetAttributeValue("source_labels", stringList(names))
		}
		r.SetAttributeValue("separator", cty.StringVal(c.Separator))
		r.SetAttributeValue("regex", cty.StringVal(c.Regex.String()))
		if c.Modulus > 0 {
			r.SetAttributeValue("modulus", cty.NumberUIntVal(c.Modulus))
		}
		if c.TargetLabel != "" {
			r.SetAttributeValue("target_label", cty.StringVal(c.TargetLabel))
		}
		r.SetAttributeValue("replacement", cty.StringVal(c.Replacement))
		r.SetAttributeValue("action", cty.StringVal(string(c.Action)))
	}
}

func durationVal(d time.Duration) cty.Value { return cty.StringVal(model.Duration(d).String()) }

func stringList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

func stringMap(m map[string]string) cty.Value {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := map[string]cty.Value{}
	for _, k := range keys {
		vals[k] = cty.StringVal(m[k])
	}
	return cty.ObjectVal(vals)
}

// bytesString writes a size in the largest unit of 1024 that divides it.
func bytesString(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}} {
		if n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// renderAlerting writes the time_interval, route and inhibit blocks.
// Routes render with what they inherit written out.
func renderAlerting(root *hclwrite.Body, c *Config) {
	for _, ti := range c.TimeIntervals {
		root.AppendNewline()
		renderTimeInterval(root.AppendNewBlock("time_interval", []string{ti.Name}).Body(), ti)
	}
	if c.Route != nil {
		root.AppendNewline()
		renderRoute(root.AppendNewBlock("route", nil).Body(), c.Route, true)
	}
	for _, in := range c.Inhibits {
		root.AppendNewline()
		b := root.AppendNewBlock("inhibit", nil).Body()
		b.SetAttributeValue("source_matchers", matcherList(in.SourceMatchers))
		b.SetAttributeValue("target_matchers", matcherList(in.TargetMatchers))
		b.SetAttributeValue("equal", stringList(in.Equal))
	}
	for _, am := range c.Alertmanagers {
		root.AppendNewline()
		b := root.AppendNewBlock("alertmanager", nil).Body()
		var urls []string
		for _, u := range am.URLs {
			urls = append(urls, u.Redacted()) // a password in the URL stays hidden
		}
		b.SetAttributeValue("urls", stringList(urls))
		b.SetAttributeValue("timeout", durationVal(am.Timeout))
	}
}

func renderRoute(b *hclwrite.Body, r *Route, root bool) {
	b.SetAttributeValue("receiver", cty.StringVal(r.Receiver))
	if r.GroupByAll {
		b.SetAttributeValue("group_by", stringList([]string{GroupByAll}))
	} else {
		b.SetAttributeValue("group_by", stringList(r.GroupBy))
	}
	b.SetAttributeValue("group_wait", durationVal(r.GroupWait))
	b.SetAttributeValue("group_interval", durationVal(r.GroupInterval))
	b.SetAttributeValue("repeat_interval", durationVal(r.RepeatInterval))
	if !root {
		b.SetAttributeValue("matchers", matcherList(r.Matchers))
		b.SetAttributeValue("continue", cty.BoolVal(r.Continue))
		if len(r.MuteTimeIntervals) > 0 {
			b.SetAttributeValue("mute_time_intervals", stringList(r.MuteTimeIntervals))
		}
		if len(r.ActiveTimeIntervals) > 0 {
			b.SetAttributeValue("active_time_intervals", stringList(r.ActiveTimeIntervals))
		}
	}
	for _, child := range r.Routes {
		b.AppendNewline()
		renderRoute(b.AppendNewBlock("route", nil).Body(), child, false)
	}
}

func renderTimeInterval(b *hclwrite.Body, ti *TimeInterval) {
	for _, tr := range ti.Times {
		tb := b.AppendNewBlock("times", nil).Body()
		tb.SetAttributeValue("start_time", cty.StringVal(clock(tr.StartMinute)))
		tb.SetAttributeValue("end_time", cty.StringVal(clock(tr.EndMinute)))
	}
	for _, f := range ti.rangeFields() {
		if len(f.entries) > 0 {
			b.SetAttributeValue(f.name, stringList(f.entries))
		}
	}
	if ti.Location != nil {
		b.SetAttributeValue("location", cty.StringVal(ti.Location.String()))
	}
}

// rangeField is a field of ranges of a time interval, written as in the
// configuration: "monday:friday", "1:5", "-1".
type rangeField struct {
	name    string
	entries []string
}

// rangeFields writes the weekdays, days_of_month, months and years of a
// time interval, each empty when the block leaves it out; the names and
// the text are Alertmanager's.
func (ti *TimeInterval) rangeFields() []rangeField {
	named := func(names []string, offset int) func(int) string {
		return func(i int) string { return names[i-offset] }
	}
	number := func(i int) string { return fmt.Sprint(i) }
	var fields []rangeField
	for _, f := range []struct {
		name   string
		ranges []InclusiveRange
		format func(int) string
	}{
		{"weekdays", ti.Weekdays, named(weekdayNames, 0)},
		{"days_of_month", ti.DaysOfMonth, number},
		{"months", ti.Months, named(monthNames, 1)},
		{"years", ti.Years, number},
	} {
		entries := make([]string, len(f.ranges))
		for i, r := range f.ranges {
			entries[i] = f.format(r.Begin)
			if r.End != r.Begin {
				entries[i] += ":" + f.format(r.End)
			}
		}
		fields = append(fields, rangeField{f.name, entries})
	}
	return fields
}

func clock(minutes int) string {
	return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60)
}

func matcherList(ms []*labels.Matcher) cty.Value {
	texts := make([]string, len(ms))
	for i, m := range ms {
		texts[i] = amatcher.Format(m)
	}
	return stringList(texts)
}
