//go:build linux

package main

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// fixtureConfig is a config reading the fixtures of testdata, with attrs
// on top.
func fixtureConfig(attrs map[string]any) map[string]any {
	raw := map[string]any{"procfs_path": "testdata/proc", "sysfs_path": "testdata/sys"}
	maps.Copy(raw, attrs)
	return raw
}

// newTestNode returns the node collector of a config given as attributes.
func newTestNode(t *testing.T, attrs map[string]any) *nodeCollector {
	t.Helper()
	cfg, err := schema.Values(attrs)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n, err := newNodeCollector(c, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// gatherText collects n through a registry and returns what it gathers
// in the text format, without node_scrape_collector_duration_seconds,
// whose value varies.
func gatherText(t *testing.T, n *nodeCollector) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(n)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range families {
		if f.GetName() == scrapeDuration.name {
			continue
		}
		writeFamily(t, &b, f)
	}
	return b.String()
}

// writeFamily writes f in the text format, its metrics and labels in
// one order whatever order they came in.
func writeFamily(t *testing.T, b *strings.Builder, f *dto.MetricFamily) {
	t.Helper()
	for _, m := range f.Metric {
		slices.SortFunc(m.Label, func(l, m *dto.LabelPair) int { return strings.Compare(l.GetName(), m.GetName()) })
	}
	slices.SortFunc(f.Metric, func(x, y *dto.Metric) int {
		return slices.CompareFunc(x.Label, y.Label, func(l, m *dto.LabelPair) int {
			return strings.Compare(l.GetName()+"\xff"+l.GetValue(), m.GetName()+"\xff"+m.GetValue())
		})
	})
	if _, err := expfmt.MetricFamilyToText(b, f); err != nil {
		t.Fatal(err)
	}
}

// expectText fails the test unless got, in the text format, holds the
// same families as want: names, help, types, labels and values, however
// want writes its numbers.
func expectText(t *testing.T, got, want string) {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(want))
	if err != nil {
		t.Fatalf("the expected text does not parse: %v", err)
	}
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(families)) {
		f := families[name]
		writeFamily(t, &b, f)
	}
	if got != b.String() {
		t.Errorf("got\n%s\nwant\n%s", got, b.String())
	}
}
