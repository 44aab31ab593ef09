//go:build windows

package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus-community/windows_exporter/pkg/collector"

	"github.com/vigilmon/vigil/sdk/plugintest"
)

// TestFlags checks options against the flags windows_exporter's
// collector package registers: each is one, with the same default and
// help, and every flag of the plugin's collectors is an option.
func TestFlags(t *testing.T) {
	app := kingpin.New("windows_exporter", "")
	collector.NewWithFlags(app)
	flags := map[string]*kingpin.FlagModel{}
	for _, f := range app.Model().Flags {
		flags[f.Name] = f
	}
	for _, o := range options {
		f, ok := flags[o.flag]
		if !ok {
			t.Errorf("windows_exporter has no flag --%s", o.flag)
			continue
		}
		def := ""
		if len(f.Default) > 0 {
			def = f.Default[0]
		}
		if want := fmt.Sprint(o.def); def != want {
			t.Errorf("--%s: default %q, the option's %q", o.flag, def, want)
		}
		if f.Help != o.help {
			t.Errorf("--%s: help %q, the option's %q", o.flag, f.Help, o.help)
		}
	}
	for name := range flags {
		for _, c := range collectorNames {
			if strings.HasPrefix(name, "collector."+c+".") && !slices.ContainsFunc(options, func(o option) bool { return o.flag == name }) {
				t.Errorf("--%s of collector %s is not an option", name, c)
			}
		}
	}
}

// TestCollect runs the collectors on this host: each reports its
// families, and windows_exporter_collector_success says each succeeded.
func TestCollect(t *testing.T) {
	cfg, err := schema.Values(map[string]any{"service_services_where": "Name='EventLog'"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := newExporter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	families, err := e.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
		if f.GetName() == "windows_exporter_collector_success" {
			for _, m := range f.GetMetric() {
				if m.GetGauge().GetValue() != 1 {
					t.Errorf("collector %s failed", m.GetLabel()[0].GetValue())
				}
			}
		}
	}
	for _, name := range []string{"windows_cpu_time_total", "windows_cs_physical_memory_bytes", "windows_logical_disk_free_bytes",
		"windows_memory_available_bytes", "windows_net_bytes_total", "windows_os_info", "windows_service_state",
		"windows_system_system_up_time", "windows_exporter_collector_duration_seconds", "windows_exporter_build_info", "go_goroutines"} {
		if !names[name] {
			t.Errorf("no %s", name)
		}
	}
}

// TestConformance runs vigil conformance run on the plugin with
// sample.hcl, every check included: on Windows, the collecting checks
// run against the real collectors. It runs the vigil that VIGIL_BINARY
// names, and is skipped without one.
func TestConformance(t *testing.T) {
	p := plugintest.Build(t, "vigil-exporter-windows.exe")
	t.Run("Sample", func(t *testing.T) { p.ValidateConfig(t, "sample.hcl") })
	p.Conformance(t, "--config", "sample.hcl")
}
