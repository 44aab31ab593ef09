//go:build linux

package main

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/vigilmon/vigil/internal/peers"
)

// allowedLabelDifferences are the label names a family may have on one
// side only, each with why.
var allowedLabelDifferences = map[string]struct {
	plugin, nodeExporter []string
	why                  string
}{
	"node_exporter_build_info": {
		plugin: []string{"version"},
		why: "node_exporter built by go install has no version stamped, so its version label is empty and not stored; " +
			"the plugin reports the version of node_exporter's collector package it is built with",
	},
}

// TestFamiliesMatchNodeExporter runs node_exporter v1.12.1 on a loopback
// port and Vigil with the node exporter plugin on the same machine, has
// Vigil scrape node_exporter as job "anchor" and collect the plugin as
// job "node", both with node_exporter's default collectors, and checks
// that every node_* family of node_exporter is the plugin's, with the
// same label names, and that the plugin has no other.
func TestFamiliesMatchNodeExporter(t *testing.T) {
	anchor := startNodeExporter(t, peers.Path(t, peers.NodeExporter))
	srv := startVigil(t, `
plugin "node" { source = %[1]q }

exporter "node" {
  plugin   = "node"
  interval = "1s"
  timeout  = "1s"
}

scrape "anchor" {
  targets         = ["`+anchor+`"]
  scrape_interval = "1s"
  scrape_timeout  = "1s"
}
`)
	// Two collections of each, so that what shows only from the second on
	// is there.
	for _, job := range []string{"anchor", "node"} {
		srv.waitFor(t, "two collections of job "+job, func() bool {
			return srv.count(t, `count_over_time(up{job="`+job+`"}[1m])`) >= 2 && srv.count(t, `up{job="`+job+`"}`) == 1
		})
	}
	nodeExporter := families(t, srv, "anchor")
	plugin := families(t, srv, "node")

	var missing, labelsDiffer, extra []string
	for _, name := range slices.Sorted(maps.Keys(nodeExporter)) {
		got, ok := plugin[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		want := nodeExporter[name]
		if allowed, ok := allowedLabelDifferences[name]; ok {
			got = without(got, allowed.plugin)
			want = without(want, allowed.nodeExporter)
		}
		if !slices.Equal(got, want) {
			labelsDiffer = append(labelsDiffer, name+": plugin "+strings.Join(got, ",")+", node_exporter "+strings.Join(want, ","))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(plugin)) {
		if _, ok := nodeExporter[name]; !ok {
			extra = append(extra, name)
		}
	}
	t.Logf("| exporter | anchor families | Vigil families | missing |\n|---|---|---|---|\n| node | %d | %d | %d %v |",
		len(nodeExporter), len(plugin), len(missing), missing)
	for name, d := range allowedLabelDifferences {
		t.Logf("allowed difference: %s: %s", name, d.why)
	}
	if len(nodeExporter) < 100 {
		t.Errorf("node_exporter has only %d node_* families", len(nodeExporter))
	}
	if len(missing) > 0 {
		t.Errorf("node_exporter's families missing from the plugin: %v", missing)
	}
	if len(labelsDiffer) > 0 {
		t.Errorf("families whose label names differ:\n%s", strings.Join(labelsDiffer, "\n"))
	}
	if len(extra) > 0 {
		t.Errorf("families of the plugin node_exporter does not have: %v", extra)
	}
}

// families returns the node_* metric names of job's series in Vigil, each
// with the label names its series have (but job and instance, which
// Vigil gives), sorted.
func families(t *testing.T, srv *vigilServer, job string) map[string][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	series, _, _, err := srv.api.Series(ctx, []string{`{__name__=~"node_.+", job="` + job + `"}`}, time.Now().Add(-time.Minute), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]map[string]bool{}
	for _, s := range series {
		name := string(s[model.MetricNameLabel])
		if labels[name] == nil {
			labels[name] = map[string]bool{}
		}
		for l := range s {
			if l != model.MetricNameLabel && l != model.JobLabel && l != model.InstanceLabel {
				labels[name][string(l)] = true
			}
		}
	}
	out := map[string][]string{}
	for name, set := range labels {
		out[name] = slices.Sorted(maps.Keys(set))
	}
	return out
}

// without returns names without those of drop.
func without(names, drop []string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(drop, n) })
}
