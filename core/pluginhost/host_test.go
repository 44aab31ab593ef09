package pluginhost

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/sdk"
)

var (
	buildOnce sync.Once
	pluginBin string
	buildErr  error
)

// testPlugin builds testdata/grpcplugin once per test run.
func testPlugin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vigil-pluginhost-test")
		if err != nil {
			buildErr = err
			return
		}
		pluginBin = filepath.Join(dir, "vigil-exporter-test")
		out, err := exec.Command("go", "build", "-o", pluginBin, "./testdata/grpcplugin").CombinedOutput()
		if err != nil {
			buildErr = err
			pluginBin = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("cannot build the test plugin: %v\n%s", buildErr, pluginBin)
	}
	return pluginBin
}

// loadConfig parses src, with the test plugin as plugin "test", and
// resolves its plugins.
func loadConfig(t *testing.T, h *Host, src string) (*hclconfig.Config, hcl.Diagnostics) {
	t.Helper()
	// After src, which starts on line 2, as the tests' diagnostics say.
	src = "\n" + src + "\n" + `plugin "test" {
  source = "` + testPlugin(t) + `"
  env    = ["VIGIL_TEST_KIND", "VIGIL_TEST_GRANTED"]
}` + "\n"
	cfg, diags := hclconfig.Parse("test.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return h.Resolve(context.Background(), cfg)
}

func newHost(t *testing.T) *Host {
	h := New(Options{})
	t.Cleanup(func() { h.Close() })
	return h
}

// newLoggedHost is newHost with its log lines, from level up, in the
// returned buffer as text.
func newLoggedHost(t *testing.T, level hclog.Level) (*Host, *logBuffer) {
	logs := &logBuffer{}
	h := New(Options{Logger: hclog.New(&hclog.LoggerOptions{Output: logs, Level: level})})
	t.Cleanup(func() { h.Close() })
	return h, logs
}

// TestResolveStopsPluginsQuietly checks the log of Resolve, which starts
// each plugin to read its schema and then stops it: at info, nothing says
// a plugin exited; at debug, the stop is logged as a stop.
func TestResolveStopsPluginsQuietly(t *testing.T) {
	src := `exporter "e" {
  plugin = "test"
  config { series = 1 }
}`
	h, logs := newLoggedHost(t, hclog.Info)
	if _, diags := loadConfig(t, h, src); diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if strings.Contains(logs.String(), "exited") {
		t.Errorf("the schema check's stop is logged as an exit at info:\n%s", logs)
	}
	h, logs = newLoggedHost(t, hclog.Debug)
	if _, diags := loadConfig(t, h, src); diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	text := logs.String()
	if strings.Contains(text, "plugin process exited") || !strings.Contains(text, "[DEBUG] plugins.test: plugin process stopped") ||
		!strings.Contains(text, "[DEBUG] plugins: stopping the plugin started to check the configuration") {
		t.Errorf("at debug, the schema check's stop is not logged as a stop:\n%s", text)
	}
}

func TestResolveDiagnostics(t *testing.T) {
	h := newHost(t)
	for src, want := range map[string]string{
		`exporter "e" {
  plugin = "test"
  config { mod = "ok" }
}`: `test.hcl:4:12: error: Unsupported argument; An argument named "mod" is not expected here. Did you mean "mode"?`,
		`exporter "e" {
  plugin = "test"
  config { mode = "sideways" }
}`: `test.hcl:4:19: error: Invalid plugin config; Plugin "test" refuses the config of exporter "e": attribute "mode": unknown mode "sideways".`,
		`exporter "e" {
  plugin = "test"
  config { token = "wrong" }
}`: `test.hcl:4:20: error: Invalid plugin config; Plugin "test" refuses the config of exporter "e": attribute "token": the token is wrong.`,
		`exporter "e" {
  plugin  = "test"
  targets = ["a:1"]
}`: `test.hcl:4:13: error: Plugin takes no targets; Exporter "e" has targets, but plugin "test" (test) is not a multi-target exporter`,
		`notifier "n" { plugin = "test" }`: `test.hcl:2:25: error: Wrong kind of plugin; Plugin "test" (test) is an exporter plugin; a notifier block needs a notifier plugin.`,
		`exporter "e" {
  plugin = "test"
  config { mode = "panic" }
}`: `panicked in Configure: configure panics on purpose`,
	} {
		_, diags := loadConfig(t, h, src)
		var text strings.Builder
		hclconfig.WriteDiagnostics(&text, diags)
		if got := text.String(); !strings.Contains(got, want) {
			t.Errorf("config:\n%s\ngot:  %s\nwant: %s", src, got, want)
		}
		if strings.Contains(text.String(), "wrong\"") {
			t.Errorf("a sensitive value is in a diagnostic: %s", diags.Error())
		}
	}
}

// TestSupervisionRestartsAKilledPlugin kills a plugin with SIGKILL: it
// comes back, counted in vigil_plugin_restarts_total, and the log says it
// died and was restarted.
func TestSupervisionRestartsAKilledPlugin(t *testing.T) {
	h, logs := newLoggedHost(t, hclog.Info)
	cfg, diags := loadConfig(t, h, `exporter "e" {
  plugin = "test"
  config { series = 3 }
}`)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if err := h.ApplyConfig(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	exp, ok := h.Exporter("e")
	if !ok {
		t.Fatal("no exporter e")
	}
	ctx := context.Background()
	fams, err := exp.Collect(ctx)
	if err != nil || len(fams) != 1 || len(fams[0].Metric) != 3 {
		t.Fatalf("collect: %v %v", fams, err)
	}
	if got := testutil.ToFloat64(h.metrics.up.WithLabelValues("test", "e", "exporter")); got != 1 {
		t.Errorf("vigil_plugin_up = %v", got)
	}

	// kill -9: the next health check notices, and the plugin comes back.
	inst := exp.(*Instance)
	inst.mu.Lock()
	pid := inst.conn.(*GRPCPlugin).ReattachConfig().Pid
	inst.mu.Unlock()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		inst.Check(ctx)
		if _, err := exp.Collect(ctx); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the plugin did not come back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := testutil.ToFloat64(h.metrics.restarts.WithLabelValues("test", "e", "exporter")); got != 1 {
		t.Errorf("vigil_plugin_restarts_total = %v, want 1", got)
	}
	// The status the plugins page shows says the same: up again,
	// restarted once, what the plugin is, and its collections.
	var st Status
	for _, s := range h.Status() {
		if s.Kind == sdk.KindExporter && s.Name == "e" {
			st = s
		}
	}
	if !st.Up || st.Restarts != 1 || st.Plugin != "test" || st.Info.Name != "test" || st.Info.Version != "1.0.0" || st.StartedAt.IsZero() {
		t.Errorf("status after the restart: %+v", st)
	}
	if c := st.Calls["collect"]; c.Count < 2 || c.Errors == c.Count || c.Last <= 0 || c.Total < c.Last {
		t.Errorf("collect figures after a collection before and one after the restart: %+v", c)
	}
	text := logs.String()
	if !strings.Contains(text, "[ERROR] plugins.test: plugin process exited:") || !strings.Contains(text, "error=\"signal: killed\"") {
		t.Errorf("the killed plugin's end is not logged as an exit:\n%s", text)
	}
	if !regexp.MustCompile(`\[INFO\]  plugins: plugin restarted: .*plugin=test .*attempt=1`).MatchString(text) {
		t.Errorf("the restart is not logged:\n%s", text)
	}
}

func TestMisbehavingExportersAreContained(t *testing.T) {
	h := newHost(t)
	cfg, diags := loadConfig(t, h, `exporter "hang" {
  plugin = "test"
  config { mode = "hang" }
}
exporter "crash" {
  plugin = "test"
  config { mode = "crash" }
}
exporter "huge" {
  plugin = "test"
  config { mode = "huge" }
}`)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if err := h.ApplyConfig(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	collect := func(name string) error {
		exp, _ := h.Exporter(name)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := exp.Collect(ctx)
		return err
	}
	if err := collect("hang"); err == nil || !strings.Contains(err.Error(), "DeadlineExceeded") {
		t.Errorf("a hanging collection: %v", err)
	}
	if err := collect("crash"); err == nil {
		t.Error("a crashing collection succeeded")
	}
	exp, _ := h.Exporter("huge")
	fams, err := exp.Collect(context.Background())
	if err != nil || len(fams[0].Metric) != 200_000 {
		t.Errorf("a 100 MB collection: %v", err)
	}
}

// TestTargetDownIsNoPluginFailure collects an exporter whose target is
// down: its families come with the target error, and the call counts as
// one that worked, without a restart.
func TestTargetDownIsNoPluginFailure(t *testing.T) {
	h := newHost(t)
	cfg, diags := loadConfig(t, h, `exporter "down" {
  plugin = "test"
  config {
    mode   = "down"
    series = 2
  }
}`)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if err := h.ApplyConfig(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	exp, _ := h.Exporter("down")
	for range 2 {
		fams, err := exp.Collect(context.Background())
		if te := sdk.AsTargetError(err); te == nil || te.Err.Error() != "the target refused the connection" {
			t.Fatalf("collect: %v, want the target error", err)
		}
		if len(fams) != 1 || len(fams[0].Metric) != 2 {
			t.Fatalf("families with the target error: %v", fams)
		}
	}
	found := false
	for _, st := range h.Status() {
		if st.Name != "down" {
			continue
		}
		found = true
		if c := st.Calls["collect"]; c.Count != 2 || c.Errors != 0 || st.Restarts != 0 || !st.Up {
			t.Errorf("status after two collections of a down target: %+v, calls %+v", st, c)
		}
	}
	if !found {
		t.Error("no status for exporter down")
	}
}

func TestDiscoveryResumesAfterACrash(t *testing.T) {
	t.Setenv("VIGIL_TEST_KIND", "discovery")
	h := newHost(t)
	cfg, diags := loadConfig(t, h, `discovery "d" { plugin = "test" }`)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if err := h.ApplyConfig(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	d, _ := h.Discoverer("d")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	updates := make(chan []sdk.TargetGroup, 10)
	done := make(chan error, 1)
	go func() { done <- d.Discover(ctx, func(g []sdk.TargetGroup) error { updates <- g; return nil }) }()
	first := <-updates
	if len(first) != 1 || !strings.HasPrefix(first[0].Source, "pid-") {
		t.Fatalf("first update %+v", first)
	}
	inst := d.(*Instance)
	inst.mu.Lock()
	pid := inst.conn.(*GRPCPlugin).ReattachConfig().Pid
	inst.mu.Unlock()
	syscall.Kill(pid, syscall.SIGKILL)
	// The restarted plugin sends its group (with its new pid), and the old
	// group is sent as gone.
	second := <-updates
	var gone, fresh bool
	for _, g := range second {
		gone = gone || (g.Source == first[0].Source && len(g.Targets) == 0)
		fresh = fresh || (g.Source != first[0].Source && len(g.Targets) == 1)
	}
	if !gone || !fresh {
		t.Fatalf("update after the restart: %+v", second)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestNotifierErrorsKeepTheirKind(t *testing.T) {
	t.Setenv("VIGIL_TEST_KIND", "notifier")
	h := newHost(t)
	cfg, diags := loadConfig(t, h, `notifier "n" { plugin = "test" }`)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if err := h.ApplyConfig(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	n, _ := h.Notifier("n")
	if err := n.Notify(context.Background(), &sdk.Notification{Receiver: "ok"}); err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), &sdk.Notification{Receiver: "permanent"}); !sdk.IsPermanent(err) {
		t.Fatalf("a permanent error: %v", err)
	}
}

// TestPluginEnvironment checks that a plugin program gets, of the
// server's environment, only the variables its block names.
func TestPluginEnvironment(t *testing.T) {
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		t.Skip("no /proc to read a process's environment from")
	}
	t.Setenv("VIGIL_TEST_GRANTED", "granted")
	t.Setenv("VIGIL_TEST_SECRET", "s3cret")
	h := newHost(t)
	cfg, diags := loadConfig(t, h, `exporter "e" { plugin = "test" }`)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	pid := exporterPID(t, h, cfg, "e")
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	env := strings.Split(string(data), "\x00")
	if !slices.Contains(env, "VIGIL_TEST_GRANTED=granted") {
		t.Errorf("the granted variable is missing from the plugin's environment %q", env)
	}
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if name == "VIGIL_TEST_SECRET" || name == "PATH" || name == "HOME" {
			t.Errorf("the plugin got %s, which its block does not name", name)
		}
	}
}

// exporterPID applies cfg to h, has its exporter name collect once, and
// returns the process ID of its plugin program.
func exporterPID(t *testing.T, h *Host, cfg *hclconfig.Config, name string) int {
	t.Helper()
	if err := h.ApplyConfig(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	exp, _ := h.Exporter(name)
	if _, err := exp.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	inst := exp.(*Instance)
	inst.mu.Lock()
	defer inst.mu.Unlock()
	return inst.conn.(*GRPCPlugin).ReattachConfig().Pid
}

// TestPluginRunsInTheConfigFolder: a plugin program's working directory
// is the folder of the configuration file that declares it, so the
// relative paths of its blocks start where the server's own do, whatever
// the server's working directory.
func TestPluginRunsInTheConfigFolder(t *testing.T) {
	if _, err := os.Stat("/proc/self/cwd"); err != nil {
		t.Skip("no /proc to read a process's working directory from")
	}
	dir := t.TempDir()
	h := newHost(t)
	src := `exporter "e" { plugin = "test" }
plugin "test" {
  source = "` + testPlugin(t) + `"
}
`
	cfg, diags := hclconfig.Parse(filepath.Join(dir, "vigil.hcl"), []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	cfg, diags = h.Resolve(context.Background(), cfg)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	pid := exporterPID(t, h, cfg, "e")
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cwd != want {
		t.Errorf("the plugin runs in %q, want the configuration's folder %q", cwd, want)
	}
}

// TestPluginLogsOnceServed: what a plugin logs with sdk.Logger, or writes
// to os.Stderr, once it is served (in its constructor, at Configure)
// reaches the host's log under the plugin's name; go-plugin would
// discard the second, and did the first when sdk.Logger wrote to the
// os.Stderr it redirects.
func TestPluginLogsOnceServed(t *testing.T) {
	h, logs := newLoggedHost(t, hclog.Info)
	cfg, diags := loadConfig(t, h, `exporter "e" {
  plugin = "test"
  config { mode = "log" }
}`)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	// The instance's plugin, started by its first collection, logs at
	// its Configure; Resolve's, stopped at once after it, may not have
	// had its raw line forwarded yet.
	pid := exporterPID(t, h, cfg, "e")
	for _, want := range []string{"configured to log: mode=log", "[INFO]  plugins.test: a raw line on stderr: stream=stderr"} {
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(logs.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("the host's log lacks %q from plugin process %d:\n%s", want, pid, logs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestRunStartsPluginsAtOnce checks that Run starts the plugins of the
// instances at once, not at its first periodic check: a notifier is
// ready before its first notification.
func TestRunStartsPluginsAtOnce(t *testing.T) {
	h := newHost(t)
	h.checkEvery = time.Hour
	cfg, diags := loadConfig(t, h, `exporter "e" {
  plugin = "test"
  config { series = 1 }
}`)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if err := h.ApplyConfig(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	deadline := time.Now().Add(30 * time.Second)
	for testutil.ToFloat64(h.metrics.up.WithLabelValues("test", "e", "exporter")) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the plugin was not started by Run within 30s, with no call made")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCheckedPluginsStartOnce checks Options.KeepCheckedPlugins: the
// plugin Resolve started to check the configuration is the one the new
// instance runs, a checked plugin no new instance takes stops with
// ApplyConfig, and a configuration with errors keeps none.
func TestCheckedPluginsStartOnce(t *testing.T) {
	h := New(Options{KeepCheckedPlugins: true})
	t.Cleanup(func() { h.Close() })
	one := `exporter "e" {
  plugin = "test"
  config { series = 2 }
}`
	collect := func(name string) {
		t.Helper()
		e, ok := h.Exporter(name)
		if !ok {
			t.Fatalf("no exporter %q", name)
		}
		fams, err := e.Collect(context.Background())
		if err != nil || len(fams) == 0 {
			t.Fatalf("collect %s: %v, %d families", name, err, len(fams))
		}
	}
	apply := func(src string) {
		t.Helper()
		cfg, diags := loadConfig(t, h, src)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		if err := h.ApplyConfig(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	apply(one)
	collect("e")
	if n := h.opened.Load(); n != 1 {
		t.Errorf("the plugin was started %d times to check and run one exporter, want 1", n)
	}

	// A reload that keeps exporter e as it is: the plugin checked for it
	// stops.
	cfg, diags := loadConfig(t, h, one)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	h.mu.Lock()
	if len(h.checked) != 1 {
		t.Fatalf("Resolve kept %d plugins, want 1", len(h.checked))
	}
	checked := h.checked[0].conn.(*GRPCPlugin)
	h.mu.Unlock()
	if err := h.ApplyConfig(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	waitExited(t, checked)
	collect("e")

	// A reload that adds exporter e2: it runs the plugin checked for it.
	apply(one + `
exporter "e2" {
  plugin = "test"
  config { series = 3 }
}`)
	collect("e2")
	collect("e")
	if n := h.opened.Load(); n != 3 {
		t.Errorf("the plugin was started %d times in all, want 3 (one per Resolve)", n)
	}

	// A resolved configuration that is not applied (a reload refused
	// for another reason): DiscardChecked stops what Resolve kept.
	if _, diags := loadConfig(t, h, one); diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	h.mu.Lock()
	unapplied := h.checked[0].conn.(*GRPCPlugin)
	h.mu.Unlock()
	h.DiscardChecked()
	waitExited(t, unapplied)

	// A configuration with an error keeps nothing running.
	if _, diags := loadConfig(t, h, `exporter "bad" {
  plugin = "test"
  config { series = "many" }
}`); !diags.HasErrors() {
		t.Fatal("a config with a string for a number was accepted")
	}
	h.mu.Lock()
	kept := len(h.checked)
	h.mu.Unlock()
	if kept != 0 {
		t.Errorf("Resolve kept %d plugins of a configuration with errors", kept)
	}

	// Without the option, Resolve stops what it checked.
	plain := newHost(t)
	cfg, diags = loadConfig(t, plain, one)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if err := plain.ApplyConfig(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	e, ok := plain.Exporter("e")
	if !ok {
		t.Fatal("no exporter e")
	}
	if _, err := e.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := plain.opened.Load(); n != 2 {
		t.Errorf("without KeepCheckedPlugins the plugin was started %d times, want 2", n)
	}
}

// waitExited waits up to 10 s for p's process to end.
func waitExited(t *testing.T, p *GRPCPlugin) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !p.Exited(); {
		if time.Now().After(deadline) {
			t.Fatal("the checked plugin no instance took still runs")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
