//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// dashboard is what the test reads of a Grafana dashboard: its panels,
// those of rows included, and their queries.
type dashboard struct {
	Panels []panel `json:"panels"`
}

type panel struct {
	Title   string   `json:"title"`
	Type    string   `json:"type"`
	Panels  []panel  `json:"panels"`
	Targets []target `json:"targets"`
}

type target struct {
	Expr string `json:"expr"`
	Hide bool   `json:"hide"`
}

// flatPanels returns the panels that show data, those folded in rows
// included.
func flatPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		if p.Type != "row" {
			out = append(out, p)
		}
		out = append(out, flatPanels(p.Panels)...)
	}
	return out
}

// dashboardCollectors are the collectors the dashboard test runs besides
// node_exporter's defaults: node_exporter leaves them off, and the
// dashboard has panels for them ("System Processes", "Interrupts
// Detail", "TCP Stat", "Systemd"). systemd's panels stay empty where no
// systemd runs.
var dashboardCollectors = []string{"processes", "interrupts", "tcpstat", "systemd"}

// minDashboardShare is the share of the dashboard's panels that must show
// data: 113 of 125 (90%) do on a virtual machine without systemd, CPU
// frequency scaling, scheduler statistics, hardware sensors, cooling
// devices or power supplies, which 11 of the 12 others show, the last
// being TCP connections in transient states, which come and go (the test
// logs the empty panels with their queries); the floor leaves room for a
// host that lacks a few more of those.
const minDashboardShare = 0.88

// rateInterval is what Grafana's $__rate_interval is for the test's 1s
// collections and a $__interval of dashboardInterval: the larger of
// $__interval plus the collection interval, and four collection
// intervals.
const (
	dashboardInterval = 5 * time.Second
	rateInterval      = dashboardInterval + time.Second
)

// TestNodeExporterFullDashboard runs the queries of "Node Exporter Full"
// on Vigil collecting the node exporter plugin every second, its
// variables filled in as Grafana would fill them, over the range the
// collections cover, and checks the share of panels that show data.
func TestNodeExporterFullDashboard(t *testing.T) {
	raw, err := os.ReadFile("testdata/node-exporter-full.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("testdata/node-exporter-full.json: %v", err)
	}
	panels := flatPanels(d.Panels)
	if len(panels) != 125 {
		t.Fatalf("%d panels, want the dashboard's 125", len(panels))
	}

	list, err := json.Marshal(dashboardCollectors)
	if err != nil {
		t.Fatal(err)
	}
	srv := startVigil(t, `
plugin "node" { source = %[1]q }

exporter "node" {
  plugin   = "node"
  interval = "1s"
  timeout  = "1s"
  config {
    enable_collectors = `+string(list)+`
  }
}
`)
	start := time.Now()
	// Enough collections for rate() over $__rate_interval.
	srv.waitFor(t, "collections for rate()", func() bool {
		return srv.count(t, `count_over_time(node_uname_info{job="node"}[1m])`) >= 2*rateInterval.Seconds() &&
			srv.count(t, `count(rate(node_cpu_seconds_total{job="node"}[`+model.Duration(rateInterval).String()+`]))`) > 0
	})

	// The variables, as Grafana fills them: the job and the instance and
	// node name of its node_uname_info.
	v, err := srv.query(t, `node_uname_info{job="node"}`)
	if err != nil {
		t.Fatal(err)
	}
	vec, _ := v.(model.Vector)
	if len(vec) != 1 {
		t.Fatalf("node_uname_info: %v", v)
	}
	end := time.Now()
	vars := map[string]string{
		"job":             "node",
		"node":            string(vec[0].Metric[model.InstanceLabel]),
		"nodename":        string(vec[0].Metric["nodename"]),
		"__interval":      model.Duration(dashboardInterval).String(),
		"__interval_ms":   fmt.Sprint(dashboardInterval.Milliseconds()),
		"__rate_interval": model.Duration(rateInterval).String(),
		"__range":         model.Duration(end.Sub(start).Round(time.Second)).String(),
		"__range_s":       fmt.Sprint(int(end.Sub(start).Seconds())),
	}

	var (
		shown int
		empty []string
	)
	for _, p := range panels {
		data, queries := false, []string{}
		for _, tg := range p.Targets {
			if tg.Hide || tg.Expr == "" {
				continue
			}
			q := fillVariables(tg.Expr, vars)
			n, err := rangeSeries(srv, q, start, end)
			switch {
			case err != nil:
				t.Errorf("panel %q: %s: %v", p.Title, q, err)
				queries = append(queries, q+" (error)")
			case n > 0:
				data = true
			default:
				queries = append(queries, q)
			}
		}
		if data {
			shown++
		} else {
			empty = append(empty, fmt.Sprintf("%s: %s", p.Title, strings.Join(queries, " ; ")))
		}
	}
	sort.Strings(empty)
	share := float64(shown) / float64(len(panels))
	t.Logf("%d of %d panels (%.0f%%) show data; the empty ones:\n%s", shown, len(panels), 100*share, strings.Join(empty, "\n"))
	if share < minDashboardShare {
		t.Errorf("%d of %d panels show data (%.0f%%), want at least %.0f%%", shown, len(panels), 100*share, 100*minDashboardShare)
	}
}

// grafanaVariable is a variable in a query, as $name, ${name} or [[name]].
var grafanaVariable = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)|\[\[(\w+)\]\]`)

// fillVariables replaces the variables of q with their values; an unknown
// one stays.
func fillVariables(q string, vars map[string]string) string {
	return grafanaVariable.ReplaceAllStringFunc(q, func(m string) string {
		sub := grafanaVariable.FindStringSubmatch(m)
		for _, name := range sub[1:] {
			if v, ok := vars[name]; ok {
				return v
			}
		}
		return m
	})
}

// rangeSeries runs q over [start, end] as a time series panel would and
// returns how many series it gives.
func rangeSeries(srv *vigilServer, q string, start, end time.Time) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, _, _, err := srv.api.QueryRange(ctx, q, v1.Range{Start: start, End: end, Step: time.Second})
	if err != nil {
		return 0, err
	}
	switch v := v.(type) {
	case model.Matrix:
		return len(v), nil
	case model.Vector:
		return len(v), nil
	case *model.Scalar:
		return 1, nil
	}
	return 0, nil
}
