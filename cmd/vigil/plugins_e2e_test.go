package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilmon/vigil/internal/testplugins"
)

// childPIDs lists the processes the server started, with their command
// lines.
func childPIDs(t *testing.T, pid int) map[int]string {
	t.Helper()
	out := map[int]string{}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, field := range strings.Fields(string(data)) {
			child, _ := strconv.Atoi(field)
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", child))
			out[child] = strings.ReplaceAll(string(cmdline), "\x00", " ")
		}
	}
	return out
}

// pluginPID is the process of the plugin program whose path contains name.
func pluginPID(t *testing.T, srv *runningServer, name string) int {
	t.Helper()
	for pid, cmdline := range childPIDs(t, srv.cmd.Process.Pid) {
		if strings.Contains(cmdline, name) {
			return pid
		}
	}
	return 0
}

// TestServerWithPlugins runs the server with the node exporter and file
// discovery plugins, built from source as a third-party plugin would be.
// Its log says nothing of plugins exiting at startup, and says that the
// plugin it kills is restarted.
func TestServerWithPlugins(t *testing.T) {
	node := testplugins.Build(t, "plugins/exporter/node")
	file := testplugins.Build(t, "plugins/discovery/file")
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "app_requests_total 42")
	}))
	defer target.Close()

	dir := t.TempDir()
	targets := filepath.Join(dir, "targets.json")
	writeTargets := func(addrs ...string) {
		var list []string
		for _, a := range addrs {
			list = append(list, strconv.Quote(a))
		}
		body := fmt.Sprintf(`[{"targets": [%s], "labels": {"team": "infra"}}]`, strings.Join(list, ", "))
		if err := os.WriteFile(targets+".tmp", []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(targets+".tmp", targets); err != nil {
			t.Fatal(err)
		}
	}
	writeTargets(strings.TrimPrefix(target.URL, "http://"))
	config := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`
plugin "node" { source = %q }
plugin "file" { source = %q }

exporter "node" {
  plugin   = "node"
  interval = "1s"
  timeout  = "1s"
  config {
    collectors = ["cpu", "meminfo", "loadavg"]
  }
}

discovery "files" {
  plugin = "file"
  config {
    files            = [%q]
    refresh_interval = "1s"
  }
}

scrape "apps" {
  discovery       = ["files"]
  scrape_interval = "1s"
  scrape_timeout  = "1s"
}
`, node, file, targets)), 0o644); err != nil {
		t.Fatal(err)
	}

	srv := startServer(t, "--config", config, "--data", filepath.Join(dir, "data"))
	prom := srv.api(t)
	waitFor(t, "the node exporter's memory", func() bool {
		v, ok := queryValue(t, prom, `node_memory_MemTotal_bytes{job="node"}`)
		return ok && v > 0
	})
	waitFor(t, "the discovered target", func() bool {
		v, ok := queryValue(t, prom, `app_requests_total{job="apps", team="infra"}`)
		return ok && v == 42
	})
	// The startup log, at the default level info: the plugins started to
	// read their schemas were stopped, which is no news; none exited.
	if log := srv.logText(); strings.Contains(log, "exited") || strings.Contains(log, "[DEBUG]") {
		t.Errorf("the startup log at info has an exit or a debug line:\n%s", log)
	}

	// A target that leaves the file leaves the scrapes: its series go stale.
	writeTargets()
	waitFor(t, "the removed target to go stale", func() bool {
		_, ok := queryValue(t, prom, `app_requests_total{job="apps"}`)
		return !ok
	})

	// kill -9 of a plugin: it is restarted, and the core keeps serving.
	pid := pluginPID(t, srv, "vigil-exporter-node")
	if pid == 0 {
		t.Fatalf("no node exporter process among %v", childPIDs(t, srv.cmd.Process.Pid))
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	metricsText := func() string {
		resp, err := http.Get("http://" + srv.addr + "/metrics")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	waitFor(t, "the plugin restarted", func() bool {
		return strings.Contains(metricsText(), `vigil_plugin_restarts_total{instance="node",kind="exporter",plugin="node"} 1`)
	})
	waitFor(t, "a new node exporter process", func() bool {
		p := pluginPID(t, srv, "vigil-exporter-node")
		return p != 0 && p != pid
	})
	restarted := regexp.MustCompile(`\[INFO\]  vigil\.plugins: plugin restarted: .*plugin=node .*attempt=1`)
	waitFor(t, "the restart in the log", func() bool { return restarted.MatchString(srv.logText()) })
	start := time.Now()
	waitFor(t, "node metrics after the restart", func() bool {
		ts, ok := queryValue(t, prom, `timestamp(node_load1{job="node"})`)
		return ok && ts > float64(start.Unix())
	})

	// SIGTERM stops the server and every plugin with it.
	children := childPIDs(t, srv.cmd.Process.Pid)
	srv.stop(t)
	for child, cmdline := range children {
		if err := syscall.Kill(child, 0); err == nil {
			t.Errorf("plugin %d (%s) outlived the server", child, cmdline)
		}
	}
}

// processRuns says whether the process pid runs: it exists and is not a
// zombie waiting for its parent to collect it.
func processRuns(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil // no /proc: a zombie counts as running
	}
	// The state follows the command name, which is in parentheses.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

// TestPluginsEndWithAKilledServer kills the server with SIGKILL, which
// it cannot catch to stop its plugins: the plugin processes end with it
// all the same.
func TestPluginsEndWithAKilledServer(t *testing.T) {
	plugin := testplugins.Build(t, "core/pluginhost/testdata/grpcplugin")
	dir := t.TempDir()
	config := filepath.Join(dir, "vigil.hcl")
	os.WriteFile(config, []byte(fmt.Sprintf(`plugin "test" { source = %q }
exporter "e" {
  plugin   = "test"
  interval = "1s"
}
`, plugin)), 0o644)
	srv := startServer(t, "--config", config, "--data", filepath.Join(dir, "data"))
	prom := srv.api(t)
	waitFor(t, "a collection from the plugin", func() bool {
		v, ok := queryValue(t, prom, `up{job="e"}`)
		return ok && v == 1
	})
	pid := pluginPID(t, srv, "grpcplugin")
	if pid == 0 {
		t.Fatalf("no plugin process among %v", childPIDs(t, srv.cmd.Process.Pid))
	}
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	deadline := time.Now().Add(30 * time.Second)
	for processRuns(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("plugin process %d still runs 30s after its server was killed", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConfigValidateChecksPluginConfigs shows a plugin config mistake at
// its place in the file, found by asking the plugin for its schema.
func TestConfigValidateChecksPluginConfigs(t *testing.T) {
	node := testplugins.Build(t, "plugins/exporter/node")
	config := filepath.Join(t.TempDir(), "vigil.hcl")
	os.WriteFile(config, []byte(fmt.Sprintf(`plugin "node" { source = %q }
exporter "node" {
  plugin = "node"
  config {
    colectors = ["cpu"]
  }
}
`, node)), 0o644)
	code, _, stderr := runCLI("config", "validate", config)
	if code != exitFailure || !strings.Contains(stderr, `vigil.hcl:5:5: error: Unsupported argument; An argument named "colectors" is not expected here. Did you mean "collectors"?`) {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
}

// TestNotifyTest sends a test notification through the webhook plugin to
// a local receiver, which gets Alertmanager's version 4 message.
func TestNotifyTest(t *testing.T) {
	webhook := testplugins.Build(t, "plugins/notifier/webhook")
	got := make(chan map[string]any, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg map[string]any
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- msg
	}))
	defer receiver.Close()
	config := filepath.Join(t.TempDir(), "vigil.hcl")
	os.WriteFile(config, []byte(fmt.Sprintf(`plugin "webhook" { source = %q }
notifier "ops" {
  plugin = "webhook"
  config { url = %q }
}
`, webhook, receiver.URL)), 0o644)
	code, stdout, stderr := runCLI("notify", "test", "--config", config, "ops")
	if code != exitOK || !strings.Contains(stdout, `notifier "ops" delivered the test notification`) {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	msg := <-got
	alerts, _ := msg["alerts"].([]any)
	if msg["version"] != "4" || msg["receiver"] != "ops" || msg["status"] != "firing" || len(alerts) != 1 {
		t.Fatalf("message %v", msg)
	}
	if code, _, stderr := runCLI("notify", "test", "--config", config, "nobody"); code != exitFailure || !strings.Contains(stderr, `no notifier block "nobody"`) {
		t.Fatalf("an unknown notifier: exit %d: %s", code, stderr)
	}
}

// TestMisbehavingPluginsAreContained runs exporters that hang, crash,
// return garbage and return 100 MB: each target reports up=0 with a clear lastError, and the
// server goes on. A plugin that panics on configure is refused at reload.
func TestMisbehavingPluginsAreContained(t *testing.T) {
	bad := testplugins.Build(t, "core/pluginhost/testdata/grpcplugin")
	dir := t.TempDir()
	config := filepath.Join(dir, "vigil.hcl")
	exporter := func(name, mode, extra string) string {
		if extra == "" {
			extra = `interval = "3s"` + "\n" + `timeout = "3s"`
		}
		return fmt.Sprintf(`exporter %q {
  plugin = "bad"
  %s
  config { mode = %q }
}
`, name, extra, mode)
	}
	os.WriteFile(config, []byte("server { enable_lifecycle = true }\n"+fmt.Sprintf("plugin \"bad\" { source = %q }\n", bad)+
		exporter("hang", "hang", "")+exporter("crash", "crash", "")+
		exporter("huge", "huge", `body_size_limit = "10MB"`+"\n"+`interval = "30s"`+"\n"+`timeout = "30s"`)+exporter("garbage", "garbage", "")+exporter("fine", "ok", "")), 0o644)
	srv := startServer(t, "--config", config, "--data", filepath.Join(dir, "data"))
	prom := srv.api(t)
	ctx := context.Background()
	want := map[string]string{
		"hang":    "DeadlineExceeded",
		"crash":   "exporter plugin bad:",
		"huge":    "body size limit exceeded",
		"garbage": "cannot parse the exposition: invalid metric name",
	}
	waitFor(t, "every misbehaving target to report its error", func() bool {
		targets, err := prom.Targets(ctx)
		if err != nil {
			return false
		}
		seen := 0
		for _, tg := range targets.Active {
			job := string(tg.Labels["job"])
			switch {
			case job == "fine" && tg.Health == "up":
				seen++
			case want[job] != "" && tg.Health == "down" && strings.Contains(tg.LastError, want[job]):
				seen++
			}
		}
		return seen == 5
	})
	if v, ok := queryValue(t, prom, `up{job="fine"}`); !ok || v != 1 {
		t.Errorf("the well-behaved exporter: up=%v %v", v, ok)
	}

	// A reload whose plugin panics on configure is refused; the server stays.
	os.WriteFile(config, []byte(fmt.Sprintf("plugin \"bad\" { source = %q }\n", bad)+exporter("fine", "panic", "")), 0o644)
	if status, body := srv.reload(t); status != http.StatusInternalServerError || !strings.Contains(body, "panicked in Configure") {
		t.Fatalf("reload with a panicking plugin: %d %s", status, body)
	}
	if _, ok := queryValue(t, prom, `up{job="fine"}`); !ok {
		t.Error("the server stopped serving after a refused reload")
	}
}

// TestWasmPluginsAreSandboxed runs Wasm exporters in the server: one that
// loops forever is stopped at its deadline, one that allocates without
// bound hits its memory limit, and a well-behaved one goes on. A Wasm
// notifier reaches only the hosts of allow_hosts.
func TestWasmPluginsAreSandboxed(t *testing.T) {
	guest := testplugins.BuildWasm(t, "core/pluginhost/testdata/wasmguest/exporter")
	dir := t.TempDir()
	config := filepath.Join(dir, "vigil.hcl")
	exporter := func(name, mode string) string {
		return fmt.Sprintf(`exporter %q {
  plugin   = "guest"
  interval = "2s"
  timeout  = "2s"
  config {
    greeting = "hi"
    mode     = %q
  }
}
`, name, mode)
	}
	os.WriteFile(config, []byte(fmt.Sprintf(`plugin "guest" {
  source       = %q
  call_timeout = "1s"
  memory_limit = "64MB"
}
`, guest)+exporter("loop", "loop")+exporter("alloc", "alloc")+exporter("fine", "ok")), 0o644)
	srv := startServer(t, "--config", config, "--data", filepath.Join(dir, "data"))
	prom := srv.api(t)
	want := map[string]string{"loop": "deadline", "alloc": "memory"}
	waitFor(t, "the runaway guests to be stopped and the good one to serve", func() bool {
		targets, err := prom.Targets(context.Background())
		if err != nil {
			return false
		}
		seen := 0
		for _, tg := range targets.Active {
			job := string(tg.Labels["job"])
			switch {
			case job == "fine" && tg.Health == "up":
				seen++
			case want[job] != "" && tg.Health == "down" && strings.Contains(strings.ToLower(tg.LastError), want[job]):
				seen++
			}
		}
		return seen == 3
	})
	if v, ok := queryValue(t, prom, `guest_factor{job="fine"}`); !ok || v != 1 {
		t.Errorf("the well-behaved guest: %v %v", v, ok)
	}

	// The Slack notifier, a Wasm module, may post only to allow_hosts.
	slack := testplugins.BuildWasm(t, "plugins/notifier/slack")
	posted := make(chan string, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		posted <- string(b)
	}))
	defer receiver.Close()
	notify := func(allow string) (string, error) {
		cfg := filepath.Join(dir, "notify.hcl")
		// A loaded machine may take a while to start a module instance.
		os.WriteFile(cfg, []byte(fmt.Sprintf(`plugin "slack" {
  source       = %q
  allow_hosts  = [%q]
  call_timeout = "2m"
}
notifier "team" {
  plugin = "slack"
  config { webhook_url = %q }
}
`, slack, allow, receiver.URL+"/services/T0/B0/secret")), 0o644)
		// Without a compilation cache, each run compiles the module: give it time.
		out, err := exec.Command(vigilBinary(t), "notify", "test", "--timeout", "5m", "--config", cfg, "team").CombinedOutput()
		return string(out), err
	}
	out, err := notify("hooks.slack.com")
	if err == nil || !strings.Contains(out, "(permanent)") || !strings.Contains(out, "is not in the plugin's allow_hosts") || strings.Contains(out, "secret") {
		t.Fatalf("a post to a host outside allow_hosts: %v\n%s", err, out)
	}
	select {
	case body := <-posted:
		t.Fatalf("the refused post arrived: %s", body)
	default:
	}
	if out, err := notify("127.0.0.1"); err != nil {
		t.Fatalf("a post to an allowed host: %v\n%s", err, out)
	}
	if body := <-posted; !strings.Contains(body, "VigilTestNotification") {
		t.Errorf("slack message %s", body)
	}
}
