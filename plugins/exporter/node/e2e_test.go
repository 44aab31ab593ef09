//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"

	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/sdk"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// startPlugin builds the plugin and starts it as Vigil does.
func startPlugin(t *testing.T) (*client.Plugin, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := testplugins.Build(t, "plugins/exporter/node")
	p, err := client.Start(client.Options{Path: bin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p, bin
}

// configure configures p with attrs, given as Go values.
func configure(t *testing.T, ctx context.Context, p *client.Plugin, attrs map[string]any) {
	t.Helper()
	raw, err := json.Marshal(attrs)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Configure(ctx, raw); err != nil {
		t.Fatalf("configure %s: %v", raw, err)
	}
}

// collect collects p, checks the families and returns them by name.
func collect(t *testing.T, ctx context.Context, p *client.Plugin) map[string]*dto.MetricFamily {
	t.Helper()
	families, err := p.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkFamilies(t, families)
	byName := map[string]*dto.MetricFamily{}
	for _, f := range families {
		byName[f.GetName()] = f
	}
	return byName
}

// TestPlugin builds the plugin, starts it as Vigil does and collects the
// host's real /proc and /sys through node_exporter's collectors, then
// changes its config: collectors, filters, paths and the textfile
// folder.
func TestPlugin(t *testing.T) {
	p, bin := startPlugin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

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
	// The attributes of the plugin's first version are all still there.
	for _, want := range []string{"collectors", "procfs_path", "sysfs_path", "rootfs_path", "filesystem_mount_points_exclude",
		"filesystem_fs_types_exclude", "netdev_device_exclude", "diskstats_device_exclude", "textfile_directory"} {
		if !slices.Contains(names, want) {
			t.Errorf("no attribute %s in %v", want, names)
		}
	}

	if _, err := p.Collect(ctx); err == nil {
		t.Error("collected before being configured")
	}
	var ae *sdk.AttributeError
	for config, attr := range map[string]string{
		`{"collectors": ["cpu", "gpu"]}`:                   "collectors",
		`{"collectors": "cpu"}`:                            "collectors",
		`{"netdev_device_exclude": "(eth"}`:                "netdev_device_exclude",
		`{"procfs_path": "/proc/no/such"}`:                 "procfs_path",
		`{"filesystem_fs_type_exclude": ""}`:               "filesystem_fs_type_exclude",
		`{"filesystem_mount_timeout": "soon"}`:             "filesystem_mount_timeout",
		`{"enable_collectors": ["systemd", "systemd"]}`:    "enable_collectors",
		`{"ntp_server_port": 12.5}`:                        "ntp_server_port",
		`{"textfile_directory": "/var/lib/node_exporter"}`: "textfile_directory",
	} {
		if err := p.Configure(ctx, []byte(config)); !errors.As(err, &ae) || ae.Attribute != attr {
			t.Errorf("configure %s: %v, want an error naming %q", config, err, attr)
		}
	}
	// node_exporter's own check of its flags is reported too, naming the
	// attribute of a flag it names.
	if err := p.Configure(ctx, []byte(`{"filesystem_mount_points_exclude": "^/x", "filesystem_mount_points_include": "^/y"}`)); !errors.As(err, &ae) ||
		!strings.HasPrefix(ae.Attribute, "filesystem_mount_points_") || !strings.Contains(err.Error(), "mutually exclusive") {
		t.Errorf("configure with both filters: %v", err)
	}
	if n := len(childProcesses(t, bin)); n != 0 {
		t.Errorf("%d collectors' processes run after configs that failed", n)
	}

	// node_exporter's defaults.
	configure(t, ctx, p, map[string]any{})
	byName := collect(t, ctx, p)
	for name, typ := range map[string]dto.MetricType{
		"node_cpu_seconds_total":                 dto.MetricType_COUNTER,
		"node_memory_MemTotal_bytes":             dto.MetricType_GAUGE,
		"node_load1":                             dto.MetricType_GAUGE,
		"node_time_seconds":                      dto.MetricType_GAUGE,
		"node_uname_info":                        dto.MetricType_GAUGE,
		"node_netstat_Tcp_ActiveOpens":           dto.MetricType_UNTYPED,
		"node_sockstat_sockets_used":             dto.MetricType_GAUGE,
		"node_timex_sync_status":                 dto.MetricType_GAUGE,
		"node_vmstat_pgfault":                    dto.MetricType_UNTYPED,
		"node_filefd_allocated":                  dto.MetricType_GAUGE,
		"node_os_info":                           dto.MetricType_GAUGE,
		"node_textfile_scrape_error":             dto.MetricType_GAUGE,
		"node_exporter_build_info":               dto.MetricType_GAUGE,
		"node_scrape_collector_success":          dto.MetricType_GAUGE,
		"node_scrape_collector_duration_seconds": dto.MetricType_GAUGE,
		"process_cpu_seconds_total":              dto.MetricType_COUNTER,
		"go_goroutines":                          dto.MetricType_GAUGE,
	} {
		if f := byName[name]; f == nil || f.GetType() != typ || len(f.Metric) == 0 {
			t.Errorf("%s: %v, want a %v", name, f, typ)
		}
	}
	if m := byName["node_memory_MemTotal_bytes"]; m != nil && m.Metric[0].GetGauge().GetValue() <= 0 {
		t.Errorf("MemTotal %v", m.Metric[0].GetGauge().GetValue())
	}
	if got, want := collectorsReported(byName), defaultCollectors(); !slices.Equal(got, want) {
		t.Errorf("collectors %v, want node_exporter's defaults %v", got, want)
	}
	if f := byName["node_exporter_build_info"]; f != nil && labelValue(f.Metric[0], "version") != strings.TrimPrefix(moduleVersion(nodeExporterModule), "v") {
		t.Errorf("node_exporter_build_info %v", f.Metric[0])
	}
	procs := childProcesses(t, bin)
	if len(procs) != 1 {
		t.Fatalf("collectors' processes %v, want one", procs)
	}

	// A second config replaces the first, and its process the first's.
	configure(t, ctx, p, map[string]any{"collectors": []string{"loadavg"}, "exporter_metrics": false})
	byName = collect(t, ctx, p)
	if got, want := slices.Sorted(maps.Keys(byName)), []string{"node_exporter_build_info", "node_load1", "node_load15", "node_load5",
		"node_scrape_collector_duration_seconds", "node_scrape_collector_success"}; !slices.Equal(got, want) {
		t.Errorf("families %v, want %v", got, want)
	}
	if now := childProcesses(t, bin); len(now) != 1 || now[0] == procs[0] {
		t.Errorf("collectors' processes %v after %v, want one new one", now, procs)
	}

	// The paths: node_exporter's collectors read the fixtures.
	proc, err := filepath.Abs("testdata/proc")
	if err != nil {
		t.Fatal(err)
	}
	configure(t, ctx, p, map[string]any{"collectors": []string{"loadavg", "meminfo"}, "procfs_path": proc})
	byName = collect(t, ctx, p)
	for name, want := range map[string]float64{
		"node_load1":                     0.21,
		"node_load15":                    0.39,
		"node_memory_MemTotal_bytes":     15666184 * 1024,
		"node_memory_Active_anon_bytes":  5365132 * 1024,
		"node_memory_HugePages_Total":    4,
		"node_memory_Committed_AS_bytes": 12108116 * 1024,
	} {
		if f := byName[name]; f == nil || f.Metric[0].GetGauge().GetValue() != want {
			t.Errorf("%s: %v, want %v", name, f, want)
		}
	}

	// The filters.
	configure(t, ctx, p, map[string]any{"collectors": []string{"filesystem", "netdev", "diskstats"}})
	before := collect(t, ctx, p)
	configure(t, ctx, p, map[string]any{
		"collectors":                      []string{"filesystem", "netdev", "diskstats"},
		"filesystem_mount_points_exclude": ".",
		"netdev_device_exclude":           ".",
		"diskstats_device_exclude":        ".",
	})
	after := collect(t, ctx, p)
	for _, name := range []string{"node_filesystem_size_bytes", "node_network_receive_bytes_total", "node_disk_io_now"} {
		if before[name] == nil {
			t.Logf("%s: none on this host", name)
		}
		if after[name] != nil && len(after[name].Metric) > 0 {
			t.Errorf("%s: %d series though everything is left out", name, len(after[name].Metric))
		}
	}
	if before["node_network_receive_bytes_total"] == nil {
		t.Error("no network device reported")
	}

	// The textfile collector: a second folder replaces the first.
	for i, dir := range []string{t.TempDir(), t.TempDir()} {
		text := "# HELP app_jobs_done_total Jobs done.\n# TYPE app_jobs_done_total counter\napp_jobs_done_total{queue=\"q" + strconv.Itoa(i) + "\"} 42\n"
		if err := os.WriteFile(filepath.Join(dir, "app.prom"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		configure(t, ctx, p, map[string]any{"collectors": []string{"textfile"}, "textfile_directory": []string{dir}})
		byName = collect(t, ctx, p)
		f := byName["app_jobs_done_total"]
		if f == nil || len(f.Metric) != 1 || labelValue(f.Metric[0], "queue") != "q"+strconv.Itoa(i) || f.Metric[0].GetCounter().GetValue() != 42 {
			t.Errorf("folder %d: app_jobs_done_total %v", i, f)
		}
		if f := byName["node_textfile_mtime_seconds"]; f == nil || len(f.Metric) != 1 {
			t.Errorf("folder %d: node_textfile_mtime_seconds %v", i, f)
		}
	}

	// A collectors' process that ends is started again.
	procs = childProcesses(t, bin)
	if len(procs) != 1 {
		t.Fatalf("collectors' processes %v, want one", procs)
	}
	if err := syscall.Kill(procs[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, procs[0])
	if byName = collect(t, ctx, p); byName["app_jobs_done_total"] == nil {
		t.Errorf("after the collectors' process was killed: %v", slices.Sorted(maps.Keys(byName)))
	}

	// The collectors' process ends with the plugin, however it ends.
	procs = childProcesses(t, bin)
	p.Kill()
	for _, pid := range procs {
		waitGone(t, pid)
	}
}

// collectorsReported returns the collectors of node_scrape_collector_success.
func collectorsReported(byName map[string]*dto.MetricFamily) []string {
	var names []string
	if f := byName["node_scrape_collector_success"]; f != nil {
		for _, m := range f.Metric {
			names = append(names, labelValue(m, "collector"))
		}
	}
	sort.Strings(names)
	return names
}

// labelValue returns the value of m's label name.
func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// childProcesses returns the process IDs of the collectors' processes of
// the plugin program bin.
func childProcesses(t *testing.T, bin string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 1 && args[0] == bin && args[1] == childArg {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitGone waits until process pid has ended, for at most a minute.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		// A zombie has ended; its parent has not reaped it yet.
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkFamilies checks that every name is valid, every family has help
// and no series is there twice.
func checkFamilies(t *testing.T, families []*dto.MetricFamily) {
	t.Helper()
	seen := map[string]bool{}
	for _, f := range families {
		name := f.GetName()
		if !model.LegacyValidation.IsValidMetricName(name) {
			t.Errorf("invalid metric name %q", name)
		}
		if f.GetHelp() == "" {
			t.Errorf("%s: no help", name)
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
