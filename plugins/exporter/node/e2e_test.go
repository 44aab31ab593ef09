//go:build linux

package main

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"

	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/sdk"
)

// TestPlugin builds the plugin, starts it as Vigil does and collects the
// host's real /proc and /sys through it.
func TestPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	bin := filepath.Join(t.TempDir(), "vigil-exporter-node")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	p, err := client.Start(client.Options{Path: bin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)

	info, kind, err := p.Info(ctx)
	if err != nil || kind != sdk.KindExporter || info.Name != "node" || info.Version != version {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	got, err := p.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range got {
		names = append(names, a.Name)
	}
	if want := []string{"collectors", "procfs_path", "sysfs_path", "rootfs_path", "filesystem_mount_points_exclude",
		"filesystem_fs_types_exclude", "netdev_device_exclude", "diskstats_device_exclude"}; !slices.Equal(names, want) {
		t.Errorf("attributes %v, want %v", names, want)
	}
	if d, _ := got[0].Default.([]any); len(d) != len(collectorNames) || got[0].Type != sdk.TypeStringList {
		t.Errorf("collectors: %+v, want a list defaulting to every collector", got[0])
	}

	if _, err := p.Collect(ctx); err == nil {
		t.Error("collected before being configured")
	}
	var ae *sdk.AttributeError
	for config, attr := range map[string]string{
		`{"collectors": ["cpu", "gpu"]}`:     "collectors",
		`{"collectors": "cpu"}`:              "collectors",
		`{"netdev_device_exclude": "(eth"}`:  "netdev_device_exclude",
		`{"procfs_path": "/proc/no/such"}`:   "procfs_path",
		`{"filesystem_fs_type_exclude": ""}`: "filesystem_fs_type_exclude",
	} {
		if err := p.Configure(ctx, []byte(config)); !errors.As(err, &ae) || ae.Attribute != attr {
			t.Errorf("configure %s: %v, want an error naming %q", config, err, attr)
		}
	}

	if err := p.Configure(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	families, err := p.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkFamilies(t, families)
	byName := map[string]*dto.MetricFamily{}
	for _, f := range families {
		byName[f.GetName()] = f
	}
	for name, typ := range map[string]dto.MetricType{
		"node_cpu_seconds_total":     dto.MetricType_COUNTER,
		"node_memory_MemTotal_bytes": dto.MetricType_GAUGE,
		"node_load1":                 dto.MetricType_GAUGE,
		"node_time_seconds":          dto.MetricType_GAUGE,
		"node_uname_info":            dto.MetricType_GAUGE,
	} {
		if f := byName[name]; f == nil || f.GetType() != typ || len(f.Metric) == 0 {
			t.Errorf("%s: %v, want a %v", name, f, typ)
		}
	}
	if m := byName["node_memory_MemTotal_bytes"]; m != nil && m.Metric[0].GetGauge().GetValue() <= 0 {
		t.Errorf("MemTotal %v", m.Metric[0].GetGauge().GetValue())
	}
	success := map[string]float64{}
	if f := byName["node_scrape_collector_success"]; f != nil {
		for _, m := range f.Metric {
			success[m.Label[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	for _, name := range collectorNames {
		v, ok := success[name]
		switch {
		case !ok:
			t.Errorf("no node_scrape_collector_success for %s", name)
		case v != 1 && slices.Contains([]string{"cpu", "loadavg", "meminfo", "stat", "uname", "time"}, name):
			t.Errorf("collector %s failed", name)
		case v != 1:
			t.Logf("collector %s failed on this host", name)
		}
	}

	// A second config replaces the first.
	if err := p.Configure(ctx, []byte(`{"collectors": ["loadavg"]}`)); err != nil {
		t.Fatal(err)
	}
	families, err = p.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkFamilies(t, families)
	var got2 []string
	for _, f := range families {
		got2 = append(got2, f.GetName())
	}
	if want := []string{"node_load1", "node_load15", "node_load5", "node_scrape_collector_duration_seconds", "node_scrape_collector_success"}; !slices.Equal(got2, want) {
		t.Errorf("families %v, want %v", got2, want)
	}
}

// checkFamilies checks that every name is valid, every family has help
// and a type, and no series is there twice.
func checkFamilies(t *testing.T, families []*dto.MetricFamily) {
	t.Helper()
	seen := map[string]bool{}
	for _, f := range families {
		name := f.GetName()
		if !model.LegacyValidation.IsValidMetricName(name) {
			t.Errorf("invalid metric name %q", name)
		}
		if f.GetHelp() == "" || (f.GetType() != dto.MetricType_GAUGE && f.GetType() != dto.MetricType_COUNTER) {
			t.Errorf("%s: help %q, type %v", name, f.GetHelp(), f.GetType())
		}
		if f.GetType() == dto.MetricType_COUNTER && !strings.HasSuffix(name, "_total") {
			t.Errorf("counter %s does not end in _total", name)
		}
		for _, m := range f.Metric {
			var labels []string
			for _, l := range m.Label {
				if !model.LegacyValidation.IsValidLabelName(l.GetName()) {
					t.Errorf("%s: invalid label name %q", name, l.GetName())
				}
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(labels)
			series := name + "{" + strings.Join(labels, ",") + "}"
			if seen[series] {
				t.Errorf("duplicate series %s", series)
			}
			seen[series] = true
		}
	}
}
