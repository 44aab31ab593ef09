package grafanaimport

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilmon/vigil/hclconfig"
)

func convertFile(t *testing.T, file string) *Result {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Convert(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The block is a valid configuration, whose dashboard is the one
	// converted.
	cfg, diags := hclconfig.Parse("imported.hcl", res.HCL)
	if diags.HasErrors() {
		t.Fatalf("the imported dashboard is not a valid configuration: %s\n%s", diags.Error(), res.HCL)
	}
	if len(cfg.Dashboards) != 1 || len(cfg.Dashboards[0].AllPanels()) != res.Converted {
		t.Fatalf("the configuration has %d dashboards, want the one of %d panels", len(cfg.Dashboards), res.Converted)
	}
	return res
}

// TestNodeExporterFull imports the most used community dashboard: every
// one of its 125 panels is carried over, and its variables but the data
// source.
func TestNodeExporterFull(t *testing.T) {
	res := convertFile(t, "testdata/node-exporter-full.json")
	if res.Panels != 125 || res.Converted != 125 {
		t.Errorf("%d of %d panels carried over, want 125 of 125:\n%s", res.Converted, res.Panels, strings.Join(res.Notes, "\n"))
	}
	d := res.Dashboard
	var vars []string
	for _, v := range d.Variables {
		vars = append(vars, v.Name)
	}
	if !slices.Equal(vars, []string{"job", "nodename", "node"}) || d.Variables[2].Query != `label_values(node_uname_info{job="$job", nodename="$nodename"}, instance)` {
		t.Errorf("variables %q, want job, nodename and node, each a label_values query", vars)
	}
	if d.Name != "node-exporter-full" || d.Title != "Node Exporter Full" || len(d.Rows) != 16 || len(d.Panels) != 0 {
		t.Errorf("dashboard %q %q with %d rows and %d panels above them, want 16 rows", d.Name, d.Title, len(d.Rows), len(d.Panels))
	}
	if !slices.Contains(res.Notes, `variable "ds_prometheus": a data source variable is not carried over: Vigil's dashboards query Vigil`) {
		t.Errorf("the data source variable is not reported:\n%s", strings.Join(res.Notes, "\n"))
	}
	if !slices.Contains(res.Notes, `panel "CPU Saturation per Core": query 1 is hidden; not carried over`) {
		t.Errorf("the hidden query is not reported:\n%s", strings.Join(res.Notes, "\n"))
	}
	busy := d.Rows[0].Panels[1]
	want := &hclconfig.Panel{
		Title: "CPU Busy", Type: "gauge", Description: "Overall CPU busy percentage (averaged across all cores)",
		Unit: "percent", Decimals: ptr(1), Min: ptr(0.0), Max: ptr(100.0), Grid: []int{3, 0, 3, 4},
		Queries: []*hclconfig.PanelQuery{{
			Expr: `100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle",instance="$node",job="$job"}[$__rate_interval])))`, Instant: true,
		}},
		Thresholds: []*hclconfig.Threshold{{Value: 85, Color: "rgba(237, 129, 40, 0.89)"}, {Value: 95, Color: "rgba(245, 54, 54, 0.9)"}},
	}
	if diff := cmp.Diff(want, busy, cmp.AllowUnexported(hclconfig.PanelQuery{})); diff != "" {
		t.Errorf("panel CPU Busy (-want +got):\n%s", diff)
	}
	// A folded row's panels start at its top.
	if r := d.Rows[2]; r.Title != "CPU / Memory / Net / Disk" || !r.Collapsed || len(r.Panels) != 10 || r.Panels[0].Grid[1] != 0 {
		t.Errorf("row 3: %q folded %v, %d panels, the first at %v", r.Title, r.Collapsed, len(r.Panels), r.Panels[0].Grid)
	}
}

// TestMixed imports a dashboard of the old layout with what Vigil cannot
// show, each reported with its panel's title.
func TestMixed(t *testing.T) {
	res := convertFile(t, "testdata/mixed.json")
	if res.Panels != 5 || res.Converted != 2 {
		t.Errorf("%d of %d panels carried over, want 2 of 5", res.Converted, res.Panels)
	}
	wantNotes := []string{
		`variable "step": the interval "auto" is not carried over; the page's own step is $__interval`,
		`variable "filter": variables of type "adhoc" are not carried over`,
		`panel "Notes": panels of type "text" are not carried over`,
		`panel "Logs": its data source is not Prometheus; not carried over`,
		`panel "Broken": query 1: does not parse: 1:16: parse error: unclosed left parenthesis; not carried over`,
		`panel "Broken": query 2: uses $zone, which is not a variable of dashboard "mixed-old-rows"; not carried over`,
		`panel "Broken": no Prometheus query is left; not carried over`,
		`panel "Odd unit": the unit "lengthm" is not one Vigil has; values print as numbers`,
	}
	if diff := cmp.Diff(wantNotes, res.Notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	d := res.Dashboard
	if d.Range.String() != "6h" || d.Refresh.String() != "10s" || len(d.Rows) != 1 || !d.Rows[0].Collapsed {
		t.Errorf("range %s, refresh %s, rows %d", d.Range, d.Refresh, len(d.Rows))
	}
	rate := d.Rows[0].Panels[0]
	if rate.Type != "timeseries" || rate.Unit != "reqps" || !rate.Stacked || rate.Queries[0].Legend != "{{code}}" {
		t.Errorf("panel Rate: %+v", rate)
	}
	env, cluster := d.Variables[0], d.Variables[2]
	if env.Kind != "custom" || !slices.Equal(env.Values, []string{"prod", "staging"}) || env.Default != "staging" ||
		cluster.Kind != "custom" || !cluster.Hidden || !slices.Equal(cluster.Values, []string{"eu-1"}) {
		t.Errorf("variables env %+v and cluster %+v", env, cluster)
	}
}

func TestNotADashboard(t *testing.T) {
	for name, src := range map[string]string{"not JSON": "{", "no title nor panels": `{"a": 1}`} {
		if _, err := Convert([]byte(src), Options{}); err == nil {
			t.Errorf("%s: converted", name)
		}
	}
}

func ptr[T any](v T) *T { return &v }
