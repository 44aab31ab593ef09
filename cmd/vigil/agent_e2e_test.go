package main

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// countingTarget serves app_scrapes_total, the number of scrapes it
// answered, this one included; scrapes gives that number.
func countingTarget(t *testing.T) (srv *httptest.Server, scrapes func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		n++
		v := n
		mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# TYPE app_scrapes_total counter\napp_scrapes_total %d\n", v)
	}))
	t.Cleanup(srv.Close)
	return srv, func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// receiverConfig is the configuration of a vigil that takes remote writes
// into dir.
func receiverConfig(t *testing.T, dir string) string {
	return writeFile(t, "receiver.hcl", fmt.Sprintf(`server {
  data_dir                     = %q
  enable_remote_write_receiver = true
}
`, dir))
}

// kill9 kills a vigil process with SIGKILL and waits for it to end.
func (s *runningServer) kill9(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.done
}

// get answers a GET of path on s: the status code and the body.
func (s *runningServer) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + s.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// rawSamples gives the samples of the series expr selects over the last
// ten minutes, by series, as the store keeps them.
func rawSamples(t *testing.T, s *runningServer, expr string) map[string][]model.SamplePair {
	t.Helper()
	v, _, _, err := s.api(t).Query(context.Background(), expr+"[10m]", time.Now())
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	out := map[string][]model.SamplePair{}
	for _, series := range v.(model.Matrix) {
		out[series.Metric.String()] = series.Values
	}
	return out
}

// TestAgentEndToEnd runs `vigil agent` scraping a target and remote-writing
// to a vigil server, and checks what the agent answers and what it
// refuses. Then it kills the receiver, lets the agent scrape on, kills
// the agent with SIGKILL and starts it again on the same data directory,
// and starts the receiver again: the receiver has every scrape the agent
// made, each value of the target's scrape counter once, at timestamps a
// scrape interval apart but for the one gap while the agent was down.
func TestAgentEndToEnd(t *testing.T) {
	target, scrapes := countingTarget(t)
	dir := t.TempDir()
	receiverAddr := freeLoopbackAddr(t)
	receiverCfg := receiverConfig(t, filepath.Join(dir, "receiver"))
	receiver := startServer(t, "--config", receiverCfg, "--listen", receiverAddr)
	agentArgs := []string{"--config", writeFile(t, "agent.hcl", fmt.Sprintf(`server {
  data_dir = %q
}

global {
  scrape_interval = "1s"
  scrape_timeout  = "1s"
  external_labels = { agent = "a" }
}

scrape "app" {
  targets = [%q]
}

remote_write "central" {
  url = "http://%s/api/v1/write"
  queue {
    max_backoff = "1s"
  }
}
`, filepath.Join(dir, "agent"), strings.TrimPrefix(target.URL, "http://"), receiverAddr))}
	agent := startVigil(t, "agent", agentArgs...)

	// What an agent answers, and what it says is not there.
	for _, path := range []string{"/-/ready", "/-/healthy", "/metrics", "/api/v1/targets", "/api/v1/status/buildinfo",
		"/api/v1/status/runtimeinfo", "/api/v1/status/config", "/api/v1/status/flags"} {
		if code, body := agent.get(t, path); code != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	for _, path := range []string{"/api/v1/query?query=up", "/api/v1/query_range?query=up", "/api/v1/series?match[]=up",
		"/api/v1/labels", "/api/v1/label/job/values", "/api/v1/rules", "/api/v1/alerts", "/api/v1/status/tsdb"} {
		code, body := agent.get(t, path)
		var answer struct{ Status, ErrorType, Error string }
		if err := json.Unmarshal([]byte(body), &answer); err != nil || code != http.StatusUnprocessableEntity ||
			answer.ErrorType != "execution" || answer.Error != "not available in agent mode" {
			t.Errorf("GET %s: %d %s; want 422, an execution error, not available in agent mode", path, code, body)
		}
	}
	if code, body := agent.get(t, "/federate?match[]=up"); code != http.StatusNotFound || !strings.Contains(body, "not available in agent mode") {
		t.Errorf("GET /federate: %d %s", code, body)
	}
	if _, body := agent.get(t, "/api/v1/status/flags"); !strings.Contains(body, `"agent":"true"`) {
		t.Errorf("the flags do not say agent mode: %s", body)
	}

	series := `app_scrapes_total{agent="a"}`
	waitFor(t, "the first samples at the receiver", func() bool {
		return len(rawSamples(t, receiver, series)) == 1
	})
	receiver.kill9(t)
	down := scrapes()
	waitFor(t, "five scrapes while the receiver is down", func() bool { return scrapes() >= down+5 })
	agent.kill9(t)
	agent = startVigil(t, "agent", agentArgs...)
	waitFor(t, "two scrapes by the restarted agent", func() bool { return scrapes() >= down+7 })
	receiver = startServer(t, "--config", receiverCfg, "--listen", receiverAddr)
	made := scrapes()
	var samples []model.SamplePair
	waitFor(t, fmt.Sprintf("the receiver to have the first %d scrapes", made), func() bool {
		for _, s := range rawSamples(t, receiver, series) {
			samples = s
		}
		return len(samples) > 0 && int(samples[len(samples)-1].Value) >= made
	})
	checkContiguous(t, samples, time.Second, 1)
	if samples[0].Value != 1 {
		t.Errorf("the receiver's first sample is scrape %v, want 1", samples[0].Value)
	}
	agent.stop(t)
	receiver.stop(t)

	// The receiver's data directory is a server's store, which an agent
	// must not take for its log.
	code, _, stderr := runCLI("agent", "--data", filepath.Join(dir, "receiver"), "--listen", "127.0.0.1:0")
	if want := "holds a server's store: an agent needs a directory of its own"; code != exitFailure || !strings.Contains(stderr, want) {
		t.Errorf("an agent on a server's data directory: exit code %d, stderr %q; want %d and %q", code, stderr, exitFailure, want)
	}
}

// checkContiguous checks that samples of a scrape counter hold each of its
// values once, in order, at timestamps about interval apart but for at
// most gaps longer steps, when the scraper was down. Across such a gap
// one value may be missing: the scrape in progress when the scraper was
// killed, which the target counted and the scraper never committed.
func checkContiguous(t *testing.T, samples []model.SamplePair, interval time.Duration, gaps int) {
	t.Helper()
	for i := 1; i < len(samples); i++ {
		prev, cur := samples[i-1], samples[i]
		step, next := cur.Timestamp.Sub(prev.Timestamp), prev.Value+1
		if step > interval*3/2 && gaps > 0 {
			gaps--
			step = interval
			if cur.Value == prev.Value+2 {
				next = cur.Value
			}
		}
		if cur.Value != next || step < interval/2 || step > interval*3/2 {
			t.Fatalf("sample %d is %v@%v after %v@%v: want the next scrape about %v later", i, cur.Value, cur.Timestamp, prev.Value, prev.Timestamp, interval)
		}
	}
}

// TestAgentRefusesRulesAndAlerting checks that `vigil agent` and `vigil
// config validate --agent` refuse a configuration with blocks an agent
// cannot honour, naming each, which a server takes.
func TestAgentRefusesRulesAndAlerting(t *testing.T) {
	cfg := writeFile(t, "agent.hcl", fmt.Sprintf(`server {
  data_dir = %q
}

rules "recording" {
  record "job:up:sum" {
    expr = "sum by (job) (up)"
  }
}

alertmanager {
  urls = ["http://127.0.0.1:9093"]
}
`, t.TempDir()))
	if code, _, stderr := runCLI("config", "validate", cfg); code != exitOK {
		t.Errorf("config validate: exit code %d, want %d:\n%s", code, exitOK, stderr)
	}
	for _, args := range [][]string{{"agent", "--config", cfg, "--listen", "127.0.0.1:0"}, {"config", "validate", "--agent", cfg}} {
		code, _, stderr := runCLI(args...)
		if code != exitFailure {
			t.Errorf("%v: exit code %d, want %d", args, code, exitFailure)
		}
		for _, want := range []string{`rules block "recording": not available in agent mode`, "alertmanager block: not available in agent mode"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%v: stderr lacks %q:\n%s", args, want, stderr)
			}
		}
	}
}

// hashmodShard is the shard a relabel hashmod with modulus 2 gives an
// address, as Prometheus computes it.
func hashmodShard(addr string) string {
	sum := md5.Sum([]byte(addr))
	return fmt.Sprint(binary.BigEndian.Uint64(sum[8:]) % 2)
}

// TestTwoShardsOneStore runs two agents that each scrape their hashmod
// share of ten targets and remote-write to one vigil server, and finds
// every target there once, from the shard its address hashes to.
func TestTwoShardsOneStore(t *testing.T) {
	dir := t.TempDir()
	receiver := startServer(t, "--config", receiverConfig(t, filepath.Join(dir, "receiver")))
	var targets []string
	for range 10 {
		srv, _ := countingTarget(t)
		targets = append(targets, strings.TrimPrefix(srv.URL, "http://"))
	}
	quoted, _ := json.Marshal(targets)
	var agents []*runningServer
	for _, shard := range []string{"0", "1"} {
		agents = append(agents, startVigil(t, "agent", "--config", writeFile(t, "shard"+shard+".hcl", fmt.Sprintf(`server {
  data_dir = %q
}

global {
  scrape_interval = "1s"
  scrape_timeout  = "1s"
  external_labels = { shard = %q }
}

scrape "app" {
  targets = %s

  relabel {
    source_labels = ["__address__"]
    modulus       = 2
    target_label  = "__tmp_hash"
    action        = "hashmod"
  }
  relabel {
    source_labels = ["__tmp_hash"]
    regex         = %q
    action        = "keep"
  }
}

remote_write "central" {
  url = "http://%s/api/v1/write"
}
`, filepath.Join(dir, "shard"+shard), shard, quoted, shard, receiver.addr))))
	}
	prom := receiver.api(t)
	var vec model.Vector
	waitFor(t, "ten instances at the receiver", func() bool {
		v, _, _, err := prom.Query(context.Background(), `count by (instance, shard) (up{job="app"})`, time.Now())
		vec, _ = v.(model.Vector)
		return err == nil && len(vec) >= 10
	})
	seen := map[string]string{}
	for _, s := range vec {
		instance, shard := string(s.Metric["instance"]), string(s.Metric["shard"])
		if s.Value != 1 {
			t.Errorf("instance %s has %v up series from shard %s, want 1", instance, s.Value, shard)
		}
		if other, ok := seen[instance]; ok {
			t.Errorf("instance %s comes from shards %s and %s", instance, other, shard)
		}
		seen[instance] = shard
		if want := hashmodShard(instance); shard != want {
			t.Errorf("instance %s comes from shard %s, want %s", instance, shard, want)
		}
	}
	for _, target := range targets {
		if _, ok := seen[target]; !ok {
			t.Errorf("target %s is missing from the receiver", target)
		}
	}
	if len(seen) != 10 {
		t.Errorf("the receiver has %d instances, want 10: %v", len(seen), seen)
	}
	for _, a := range agents {
		a.stop(t)
	}
	receiver.stop(t)
}
