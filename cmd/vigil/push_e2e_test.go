package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	"github.com/prometheus/common/model"
)

// startPushServer runs vigil with pushes enabled, the admin API on and a
// one-second scrape interval, keeping its data in dataDir.
func startPushServer(t *testing.T, dataDir string) *runningServer {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "vigil.hcl")
	src := fmt.Sprintf(`server {
  data_dir         = %q
  enable_push      = true
  enable_admin_api = true
}

global {
  scrape_interval = "1s"
  scrape_timeout  = "1s"
}
`, dataDir)
	if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return startServer(t, "--config", cfg)
}

// querySeries returns the series expr gives now, as label sets with their
// values, or nil on an error.
func querySeries(s *runningServer, t *testing.T, expr string) map[string]float64 {
	v, _, _, err := s.api(t).Query(context.Background(), expr, time.Now())
	vec, ok := v.(model.Vector)
	if err != nil || !ok {
		return nil
	}
	out := map[string]float64{}
	for _, sample := range vec {
		out[sample.Metric.String()] = float64(sample.Value)
	}
	return out
}

// TestPushClientGolang pushes with client_golang's push package: the
// values show in PromQL with the grouping labels, a deleted group goes
// stale, and the groups outlive a restart of the server.
func TestPushClientGolang(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	srv := startPushServer(t, dataDir)
	url := "http://" + srv.addr

	done := prometheus.NewGauge(prometheus.GaugeOpts{Name: "backup_last_success_seconds", Help: "When the backup last succeeded."})
	done.Set(1700000000)
	size := prometheus.NewGauge(prometheus.GaugeOpts{Name: "backup_bytes", Help: "Bytes backed up."})
	size.Set(12345)
	files := prometheus.NewCounter(prometheus.CounterOpts{Name: "backup_files_total", Help: "Files backed up."})
	files.Add(7)

	// PUT, then POST (Add) another family to the same group; a second
	// group whose label value has a slash, which the client sends in
	// base64.
	if err := push.New(url, "backup").Grouping("instance", "db1").Collector(done).Collector(size).Push(); err != nil {
		t.Fatal(err)
	}
	if err := push.New(url, "backup").Grouping("instance", "db1").Collector(files).Add(); err != nil {
		t.Fatal(err)
	}
	if err := push.New(url, "backup").Grouping("instance", "db2").Grouping("path", "/var/lib").Collector(size).Push(); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		`backup_bytes{instance="db1", job="backup"}`:                  12345,
		`backup_bytes{instance="db2", job="backup", path="/var/lib"}`: 12345,
	}
	waitFor(t, "the pushed values in PromQL", func() bool {
		return fmt.Sprint(querySeries(srv, t, `backup_bytes`)) == fmt.Sprint(want)
	})
	if got := querySeries(srv, t, `backup_files_total`); got[`backup_files_total{instance="db1", job="backup"}`] != 7 {
		t.Errorf("the family added with POST: %v", got)
	}
	if got := querySeries(srv, t, `backup_last_success_seconds{instance="db1"}`); len(got) != 1 {
		t.Errorf("POST removed the family it did not name: %v", got)
	}
	if got := querySeries(srv, t, `push_time_seconds{job="backup"} > 0`); len(got) != 2 {
		t.Errorf("push_time_seconds: %v", got)
	}
	if got := querySeries(srv, t, `up{job="pushgateway"}`); len(got) != 1 {
		t.Errorf("up of the push target: %v", got)
	}

	// A deleted group goes stale at the next scrape of the push store.
	if err := push.New(url, "backup").Grouping("instance", "db1").Delete(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deleted group stale", func() bool {
		got := querySeries(srv, t, `backup_bytes`)
		return len(got) == 1 && got[`backup_bytes{instance="db2", job="backup", path="/var/lib"}`] == 12345
	})
	if got := querySeries(srv, t, `{job="backup", instance="db1"}`); len(got) != 0 {
		t.Errorf("series of the deleted group still answer: %v", got)
	}

	// After a restart the group is still there, and sampled again.
	srv.stop(t)
	srv = startPushServer(t, dataDir)
	start := time.Now()
	resp, err := http.Get("http://" + srv.addr + "/api/v1/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"labels":{"instance":"db2","job":"backup","path":"/var/lib"}`) || strings.Contains(string(body), `"db1"`) {
		t.Errorf("/api/v1/metrics after the restart: %s", body)
	}
	waitFor(t, "the kept group sampled after the restart", func() bool {
		v, _, _, err := srv.api(t).Query(context.Background(), `timestamp(backup_bytes{instance="db2"})`, time.Now())
		vec, ok := v.(model.Vector)
		return err == nil && ok && len(vec) == 1 && float64(vec[0].Value) >= float64(start.Unix())
	})
	srv.stop(t)
}

// put pushes body with PUT to path, and fails t unless it is answered
// 200.
func (s *runningServer) put(t *testing.T, path, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://"+s.addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: %s", path, resp.Status)
	}
}

// TestPushJSONShape checks the keys /api/v1/metrics gives a group, as
// the Pushgateway's API documents them.
func TestPushJSONShape(t *testing.T) {
	srv := startPushServer(t, filepath.Join(t.TempDir(), "data"))
	srv.put(t, "/metrics/job/j/instance/i", "# HELP m Help.\n# TYPE m summary\nm{quantile=\"0.5\"} 1\nm_sum 2\nm_count 3\n")
	resp, err := http.Get("http://" + srv.addr + "/api/v1/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Status string
		Data   []map[string]json.RawMessage
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Status != "success" || len(doc.Data) != 1 {
		t.Fatalf("%+v", doc)
	}
	g := doc.Data[0]
	if string(g["labels"]) != `{"instance":"i","job":"j"}` || string(g["last_push_successful"]) != "true" {
		t.Errorf("group: %s %s", g["labels"], g["last_push_successful"])
	}
	var m struct {
		TimeStamp time.Time `json:"time_stamp"`
		Type      string
		Help      string
		Metrics   []map[string]any
	}
	if err := json.Unmarshal(g["m"], &m); err != nil {
		t.Fatal(err)
	}
	if m.Type != "SUMMARY" || m.Help != "Help." || m.TimeStamp.IsZero() || len(m.Metrics) != 1 ||
		fmt.Sprint(m.Metrics[0]) != `map[count:3 labels:map[instance:i job:j] quantiles:map[0.5:1] sum:2]` {
		t.Errorf("family: %s", g["m"])
	}
	srv.stop(t)
}

// requirePythonClientEnv names the environment variable that, when set,
// makes a missing python3 or prometheus_client fail TestPushPython
// instead of skipping it.
const requirePythonClientEnv = "VIGIL_REQUIRE_PYTHON_PROMETHEUS_CLIENT"

// pythonWithClient returns a python3 that imports prometheus_client
// (Debian's python3-prometheus-client installs it for /usr/bin/python3),
// skipping t without one unless VIGIL_REQUIRE_PYTHON_PROMETHEUS_CLIENT is
// set.
func pythonWithClient(t *testing.T) string {
	t.Helper()
	var tried []string
	for _, name := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(name)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		out, err := exec.Command(path, "-c", "import prometheus_client").CombinedOutput()
		if err == nil {
			return path
		}
		tried = append(tried, fmt.Sprintf("%s: %v: %s", path, err, bytes.TrimSpace(out)))
	}
	if os.Getenv(requirePythonClientEnv) != "" {
		t.Fatalf("python3 with prometheus_client is required (%s is set) but missing: %s", requirePythonClientEnv, strings.Join(tried, "; "))
	}
	t.Skipf("needs python3 with prometheus_client (apt-get install python3-prometheus-client); set %s=1 to fail instead of skipping; tried %s",
		requirePythonClientEnv, strings.Join(tried, "; "))
	return ""
}

// pythonPush is what TestPushPython runs: the Python client's
// push_to_gateway, pushadd_to_gateway and delete_from_gateway.
const pythonPush = `
import sys
from prometheus_client import CollectorRegistry, Counter, Gauge, delete_from_gateway, push_to_gateway, pushadd_to_gateway

gateway = sys.argv[1]
grouping = {"instance": "h1", "path": "/tmp/x"}
first = CollectorRegistry()
Gauge("py_last_success", "When the job last succeeded.", registry=first).set(42)
push_to_gateway(gateway, job="pyjob", registry=first, grouping_key=grouping)
second = CollectorRegistry()
Counter("py_items", "Items done.", registry=second).inc(3)
pushadd_to_gateway(gateway, job="pyjob", registry=second, grouping_key=grouping)
push_to_gateway(gateway, job="pyjob2", registry=first)
delete_from_gateway(gateway, job="pyjob2")
`

// TestPushPython pushes with the Python client against the real binary:
// replace, add and delete, with a grouping label the client sends in
// base64.
func TestPushPython(t *testing.T) {
	python := pythonWithClient(t)
	srv := startPushServer(t, filepath.Join(t.TempDir(), "data"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, python, "-c", pythonPush, srv.addr).CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	waitFor(t, "the Python pushes in PromQL", func() bool {
		return querySeries(srv, t, `py_last_success`)[`py_last_success{instance="h1", job="pyjob", path="/tmp/x"}`] == 42 &&
			querySeries(srv, t, `py_items_total`)[`py_items_total{instance="h1", job="pyjob", path="/tmp/x"}`] == 3
	})
	resp, err := http.Get("http://" + srv.addr + "/api/v1/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "pyjob2") {
		t.Errorf("the group the client deleted is still there: %s", body)
	}
	srv.stop(t)
}

// TestPushReadmeLines runs the push lines of the README, pasted into a
// shell, against a server with pushes enabled: each is answered with
// success, and the pushed value shows in PromQL before the delete.
func TestPushReadmeLines(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl: the README's push lines are not run")
	}
	srv := startPushServer(t, t.TempDir())
	data, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if !strings.Contains(line, "curl") || !strings.Contains(line, "http://127.0.0.1:9090/metrics/job/") {
			continue
		}
		if strings.Contains(line, "-X DELETE") {
			waitFor(t, "the pushed value in PromQL", func() bool {
				return len(querySeries(srv, t, `backup_bytes{job="backup",instance="db1"}`)) == 1
			})
		}
		cmd := strings.ReplaceAll(line, "http://127.0.0.1:9090", "http://"+srv.addr) + ` -s -o /dev/null -w '%{http_code}'`
		out, err := exec.Command("sh", "-c", cmd).Output()
		if err != nil || len(out) != 3 || out[0] != '2' {
			t.Errorf("README.md:%d: %s: %v, HTTP status %q", i+1, line, err, out)
		}
		ran++
	}
	if ran < 2 {
		t.Fatalf("%d push lines found in the README, want the push and the delete", ran)
	}
}
