package main

import (
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vigilmon/vigil/bench/harness"
)

// The agents compared, and the path each scrapes and sends to.
const (
	senderVigil      = "vigil"
	senderPrometheus = "prometheus"
)

// agent is one agent under test, running.
type agent struct {
	name    string
	version string
	baseURL string
	proc    *harness.Process
}

// agentSetup is what both agents are given: the targets' addresses, the
// receiver's base URL, the scrape interval and a directory of their own.
type agentSetup struct {
	targets     []string
	receiverURL string
	interval    time.Duration
	dir         string
}

// startVigilAgent starts bin/vigil agent with a configuration that
// scrapes every target's /metrics/vigil and remote-writes to the receiver
// with the queue's defaults, and waits until it is ready.
func startVigilAgent(ctx context.Context, bin string, s agentSetup) (*agent, error) {
	addr, err := harness.FreeAddr()
	if err != nil {
		return nil, err
	}
	quoted := make([]string, len(s.targets))
	for i, t := range s.targets {
		quoted[i] = strconv.Quote(t)
	}
	hcl := fmt.Sprintf(`server {
  listen   = %q
  data_dir = %q
}

global {
  scrape_interval = %q
  scrape_timeout  = %q
}

scrape "bench" {
  metrics_path = "/metrics/%s"
  targets      = [%s]
}

remote_write "bench" {
  url = "%s/%s"
}
`, addr, filepath.Join(s.dir, "data"), s.interval, s.interval, senderVigil, strings.Join(quoted, ", "), s.receiverURL, senderVigil)
	file := filepath.Join(s.dir, "agent.hcl")
	if err := os.WriteFile(file, []byte(hcl), 0o644); err != nil {
		return nil, fmt.Errorf("cannot write the configuration %q: %w", file, err)
	}
	version := "vigil"
	if out, err := harness.RunOutput(ctx, bin, "version"); err == nil {
		version = strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	}
	return startAgent(ctx, senderVigil, version, addr, []string{bin, "agent", "--config", file, "--log.level", "warn"})
}

// startAgent starts the agent called name by argv, listening on addr,
// and waits until it is ready.
func startAgent(ctx context.Context, name, version, addr string, argv []string) (*agent, error) {
	p, err := harness.StartProcess(name, argv)
	if err != nil {
		return nil, err
	}
	a := &agent{name: name, version: version, baseURL: "http://" + addr, proc: p}
	if err := p.WaitReady(ctx, a.baseURL+"/-/ready", func(string) bool { return true }); err != nil {
		p.Kill()
		return nil, err
	}
	return a, nil
}

// startPrometheusAgent starts prometheus --agent with a configuration
// that scrapes every target's /metrics/prometheus and remote-writes to
// the receiver with the queue's defaults, and waits until it is ready.
func startPrometheusAgent(ctx context.Context, bin string, s agentSetup) (*agent, error) {
	addr, err := harness.FreeAddr()
	if err != nil {
		return nil, err
	}
	quoted := make([]string, len(s.targets))
	for i, t := range s.targets {
		quoted[i] = strconv.Quote(t)
	}
	yml := fmt.Sprintf(`global:
  scrape_interval: %s
  scrape_timeout: %s
scrape_configs:
  - job_name: bench
    metrics_path: /metrics/%s
    static_configs:
      - targets: [%s]
remote_write:
  - url: %s/%s
`, harness.PromDuration(s.interval), harness.PromDuration(s.interval), senderPrometheus, strings.Join(quoted, ", "), s.receiverURL, senderPrometheus)
	file := filepath.Join(s.dir, "prometheus.yml")
	if err := os.WriteFile(file, []byte(yml), 0o644); err != nil {
		return nil, fmt.Errorf("cannot write the configuration %q: %w", file, err)
	}
	// A binary built with go install has no version stamped: its module
	// version says which it is.
	version := "prometheus"
	if info, err := buildinfo.ReadFile(bin); err == nil {
		version = fmt.Sprintf("prometheus %s (%s)", info.Main.Version, info.GoVersion)
	}
	return startAgent(ctx, senderPrometheus, version, addr, []string{
		bin, "--agent",
		"--config.file=" + file,
		"--storage.agent.path=" + filepath.Join(s.dir, "data"),
		"--web.listen-address=" + addr,
		"--log.level=warn",
	})
}

// metric returns the sum of every series of the metric name on the
// agent's /metrics, an error when it has none.
func (a *agent) metric(ctx context.Context, name string) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	body, err := harness.Get(ctx, httpClient, a.baseURL+"/metrics")
	if err != nil {
		return 0, fmt.Errorf("cannot read the metrics of %s: %w", a.name, err)
	}
	return sumMetric(body, name)
}

// sumMetric returns the sum of the values of the series of the metric
// name in a text exposition, an error when it has none.
func sumMetric(exposition, name string) (float64, error) {
	var sum float64
	found := false
	for line := range strings.SplitSeq(exposition, "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		if i := strings.LastIndexByte(rest, '}'); i >= 0 {
			rest = rest[i+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, fmt.Errorf("metric %s: cannot read the value of %q: %w", name, line, err)
		}
		sum += v
		found = true
	}
	if !found {
		return 0, fmt.Errorf("no metric %s", name)
	}
	return sum, nil
}

// waitScraping waits until every agent has tried to scrape each of the n
// targets at least once, so that both scrape at full pace when the
// targets open: Prometheus applies new targets a few seconds after it is
// ready.
func waitScraping(ctx context.Context, agents map[string]*agent, n int) error {
	for name, a := range agents {
		err := a.proc.WaitReady(ctx, a.baseURL+"/api/v1/targets", func(body string) bool {
			var resp struct {
				Data struct {
					ActiveTargets []struct {
						Health string `json:"health"`
					} `json:"activeTargets"`
				} `json:"data"`
			}
			if json.Unmarshal([]byte(body), &resp) != nil || len(resp.Data.ActiveTargets) != n {
				return false
			}
			for _, t := range resp.Data.ActiveTargets {
				if t.Health == "unknown" || t.Health == "" {
					return false
				}
			}
			return true
		})
		if err != nil {
			return fmt.Errorf("%s has not scraped every target: %w", name, err)
		}
	}
	return nil
}
