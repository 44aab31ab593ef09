package hclconfig

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/model"
)

func TestDashboards(t *testing.T) {
	cfg, diags := Load("testdata/dashboards.good.hcl")
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	if cfg.Server.BuiltinDashboards {
		t.Error("builtin_dashboards = false did not turn the built-in dashboards off")
	}
	var names []string
	for _, d := range cfg.Dashboards {
		names = append(names, d.Name)
	}
	if !slices.Equal(names, []string{"hosts", "extra"}) {
		t.Fatalf("dashboards %q, want the file's then dashboard_files'", names)
	}
	d := cfg.Dashboards[0]
	if d.Title != "Hosts" || d.Range != model.Duration(6*60*60e9) || d.Refresh != model.Duration(30e9) || len(d.Variables) != 4 {
		t.Errorf("dashboard hosts decoded as %+v", d)
	}
	if v := d.Variables[0]; v.Kind != VariableQuery || v.Query != "label_values(node_uname_info, job)" {
		t.Errorf("variable job decoded as %+v", v)
	}
	if v := d.Variables[2]; v.Kind != VariableInterval || !slices.Equal(v.Values, []string{"1m", "5m", "1h"}) || v.Default != "5m" {
		t.Errorf("variable interval decoded as %+v", v)
	}
	if len(d.Panels) != 1 || len(d.Rows) != 1 || len(d.Rows[0].Panels) != 1 || !d.Rows[0].Collapsed {
		t.Fatalf("panels %d and rows %+v, want a panel and a folded row of one", len(d.Panels), d.Rows)
	}
	load := d.Panels[0]
	want := []*Threshold{{Value: 4, Color: "orange"}, {Value: 8, Color: "red"}}
	if load.Type != "stat" || *load.Decimals != 2 || !slices.Equal(load.Grid, []int{0, 0, 6, 4}) || !load.Queries[0].Instant {
		t.Errorf("panel Load decoded as %+v", load)
	}
	if diff := cmp.Diff(want, load.Thresholds); diff != "" {
		t.Errorf("thresholds (-want +got):\n%s", diff)
	}
	cpu := d.Rows[0].Panels[0]
	if cpu.Type != "timeseries" || cpu.Unit != "percentunit" || *cpu.Min != 0 || *cpu.Max != 1 || !cpu.Stacked || cpu.Queries[0].Legend != "{{mode}}" {
		t.Errorf("panel CPU busy decoded as %+v", cpu)
	}
	if e := cfg.Dashboards[1]; e.Title != "extra" || e.File != "testdata/dashboards/extra.hcl" {
		t.Errorf("the included dashboard's title %q and file %q, want its name and its file", e.Title, e.File)
	}

	def, diags := Parse("empty.hcl", nil)
	if diags.HasErrors() || !def.Server.BuiltinDashboards {
		t.Errorf("the built-in dashboards are not on by default: %s", diagText(diags))
	}
}

func TestSubstituteVariables(t *testing.T) {
	for expr, want := range map[string]string{
		`rate(x{a="$v"}[$__rate_interval])`:            `rate(x{a="N"}[D])`,
		`rate(x{a="${v}"}[ ${iv} ]) offset $iv`:        `rate(x{a="N"}[ D ]) offset D`,
		`sum(x{a=~"[[v]]"})`:                           `sum(x{a=~"N"})`,
		`label_replace(x, "a", "$1", "b", "(.*)")`:     `label_replace(x, "a", "$1", "b", "(.*)")`,
		`avg_over_time(x[$__range:${__interval:raw}])`: `avg_over_time(x[D:D])`,
	} {
		got, unknown := SubstituteVariables(expr, func(name string, isDuration bool) (string, bool) {
			if isDuration {
				return "D", true
			}
			return "N", true
		})
		if got != want || len(unknown) > 0 {
			t.Errorf("SubstituteVariables(%q) = %q, %q; want %q", expr, got, unknown, want)
		}
	}
}

// TestBuiltinDashboards parses Vigil's own dashboards, which the server
// serves unless builtin_dashboards = false.
func TestBuiltinDashboards(t *testing.T) {
	ds, err := BuiltinDashboards()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range ds {
		names = append(names, d.Name)
		if !d.Builtin || len(d.AllPanels()) < 6 {
			t.Errorf("built-in dashboard %q: builtin %v, %d panels", d.Name, d.Builtin, len(d.AllPanels()))
		}
	}
	if !slices.Equal(names, []string{"node", "vigil"}) {
		t.Errorf("built-in dashboards %q, want node and vigil", names)
	}
}
