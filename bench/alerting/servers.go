package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigilmon/vigil/bench/harness"
)

// systemResult is what was measured of one system end to end.
type systemResult struct {
	name     string
	version  string
	feed     feedResult
	recv     receiverStats
	latency  []time.Duration // by alert: first firing arrival less the start of its batch's POST
	complete time.Duration   // from the first POST to the last first arrival
	// before and after are the server's usage when the first POST began
	// and when the last alert arrived.
	before, after harness.TreeUsage
}

// cpu returns the CPU seconds the system used from the first POST to the
// last arrival: the server's, and its children's.
func (r *systemResult) cpu() (server, children float64) {
	return r.after.ServerCPU - r.before.ServerCPU, r.after.ChildrenCPU - r.before.ChildrenCPU
}

// cpuPerAlert returns the CPU time the system used per alert.
func (r *systemResult) cpuPerAlert() time.Duration {
	s, c := r.cpu()
	return time.Duration((s + c) / float64(len(r.latency)) * float64(time.Second))
}

// peakRSS returns the peak RSS of the server and its children when the
// last alert arrived: the sum of each process's VmHWM.
func (r *systemResult) peakRSS() int64 { return r.after.ServerRSS + r.after.ChildrenRSS }

// system starts one of the servers under test.
type system struct {
	// start writes the server's configuration into dir, starts it
	// delivering to receiverURL, waits until it is ready and returns it
	// with its base URL and version.
	start func(ctx context.Context, cfg config, dir, receiverURL string) (p *harness.Process, baseURL, version string, err error)
}

// systems are the servers of part 2, by name.
var systems = map[string]system{
	systemVigil:        {start: startVigil},
	systemAlertmanager: {start: startAlertmanager},
}

// runSystem runs system name from a fresh start in a temporary
// directory, feeds it w's alerts, waits until recv has taken every one of
// them and kills it.
func runSystem(ctx context.Context, cfg config, w *workload, recv *receiver, name string) (*systemResult, error) {
	dir, err := os.MkdirTemp(cfg.dir, "alerting-bench-"+name+"-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	harness.Logf("%s: starting", name)
	p, baseURL, version, err := systems[name].start(ctx, cfg, dir, recv.url)
	if err != nil {
		return nil, err
	}
	defer p.Kill()
	harness.Logf("%s: %s ready at %s (pid %d)", name, version, baseURL, p.Pid())

	recv.reset()
	res := &systemResult{name: name, version: version}
	if res.before, err = p.Usage(); err != nil {
		return nil, err
	}
	all := recv.allDelivered()
	if res.feed, err = feed(ctx, w, baseURL, cfg.batch); err != nil {
		return nil, p.Failed(err)
	}
	harness.Logf("%s: %d alerts posted in %d requests in %s; waiting for their notifications",
		name, w.len(), res.feed.requests, res.feed.duration.Round(time.Millisecond))
	deadline := time.NewTimer(cfg.deliverTimeout)
	defer deadline.Stop()
	select {
	case <-all:
	case <-deadline.C:
		s := recv.stats()
		return nil, p.Failed(fmt.Errorf("only %d of %d alerts notified within %s (%d messages, %d bad)",
			s.delivered, w.len(), cfg.deliverTimeout, s.messages, s.bad))
	case <-p.Exited():
		return nil, p.Failed(fmt.Errorf("%s exited while delivering: %v", name, p.Err()))
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if res.after, err = p.Usage(); err != nil {
		return nil, err
	}
	res.recv = recv.stats()
	if res.recv.bad > 0 {
		return nil, fmt.Errorf("the receiver got %d bad messages or alerts, the last: %s", res.recv.bad, res.recv.lastBad)
	}
	res.latency = make([]time.Duration, w.len())
	var last time.Time
	for i, t := range res.recv.first {
		res.latency[i] = t.Sub(res.feed.sent[i])
		if t.After(last) {
			last = t
		}
	}
	res.complete = last.Sub(res.feed.sent[0])
	for _, line := range harness.Complaints(p.Logs(), 5) {
		harness.Logf("%s logged: %s", name, line)
	}
	server, children := res.cpu()
	harness.Logf("%s: every alert notified %s after the first POST, in %d messages; %.2f CPU s (server %.2f, children %.2f)",
		name, res.complete.Round(time.Millisecond), res.recv.messages, server+children, server, children)
	return res, nil
}

// startVigil starts bin/vigil server with a configuration that routes
// every alert to the webhook plugin, and waits until the plugin runs.
func startVigil(ctx context.Context, cfg config, dir, receiverURL string) (*harness.Process, string, string, error) {
	addr, err := harness.FreeAddr()
	if err != nil {
		return nil, "", "", err
	}
	hcl := fmt.Sprintf(`server {
  listen   = %q
  data_dir = %q
}

plugin "webhook" { source = %q }

notifier "bench" {
  plugin = "webhook"
  config { url = %q }
}

`, addr, filepath.Join(dir, "data"), cfg.webhookBin, receiverURL) + vigilRoute(cfg)
	file := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(file, []byte(hcl), 0o644); err != nil {
		return nil, "", "", fmt.Errorf("write the configuration: %w", err)
	}
	p, err := harness.StartProcess(systemVigil, []string{cfg.vigilBin, "server", "--config", file})
	if err != nil {
		return nil, "", "", err
	}
	baseURL := "http://" + addr
	ready := func() error {
		if err := p.WaitReady(ctx, baseURL+"/-/ready", func(string) bool { return true }); err != nil {
			return err
		}
		// The notifier plugin starts after the server listens; alerts
		// sent before would wait for a retry.
		return p.WaitReady(ctx, baseURL+"/metrics", notifierUp)
	}
	if err := ready(); err != nil {
		p.Kill()
		return nil, "", "", err
	}
	version := "vigil"
	if out, err := harness.RunOutput(ctx, cfg.vigilBin, "version"); err == nil {
		version = strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	}
	return p, baseURL, version, nil
}

// vigilRoute is the route block of Vigil's configuration in both parts:
// every alert to the notifier block "bench", grouped by the group label.
func vigilRoute(cfg config) string {
	return fmt.Sprintf(`route {
  receiver        = "bench"
  group_by        = ["group"]
  group_wait      = %q
  group_interval  = %q
  repeat_interval = %q
}
`, cfg.groupWait, cfg.groupInterval, repeatInterval)
}

// notifierUp says whether Vigil's metrics report a notifier plugin up.
func notifierUp(metrics string) bool {
	for line := range strings.SplitSeq(metrics, "\n") {
		if strings.HasPrefix(line, "vigil_plugin_up{") && strings.Contains(line, `kind="notifier"`) && strings.HasSuffix(line, " 1") {
			return true
		}
	}
	return false
}

// startAlertmanager starts Alertmanager, clustering off, with a
// configuration that routes every alert to a webhook_config.
func startAlertmanager(ctx context.Context, cfg config, dir, receiverURL string) (*harness.Process, string, string, error) {
	addr, err := harness.FreeAddr()
	if err != nil {
		return nil, "", "", err
	}
	yml := fmt.Sprintf(`route:
  receiver: bench
  group_by: [group]
  group_wait: %s
  group_interval: %s
  repeat_interval: %s
receivers:
  - name: bench
    webhook_configs:
      - url: %q
        send_resolved: true
`, harness.PromDuration(cfg.groupWait), harness.PromDuration(cfg.groupInterval), harness.PromDuration(repeatInterval), receiverURL)
	file := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(file, []byte(yml), 0o644); err != nil {
		return nil, "", "", fmt.Errorf("write the configuration: %w", err)
	}
	p, err := harness.StartProcess(systemAlertmanager, []string{
		cfg.alertmanagerBin,
		"--config.file=" + file,
		"--storage.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--cluster.listen-address=", // empty: no clustering, no gossip settling
	})
	if err != nil {
		return nil, "", "", err
	}
	baseURL := "http://" + addr
	version := "alertmanager"
	ready := func() error {
		if err := p.WaitReady(ctx, baseURL+"/-/ready", func(string) bool { return true }); err != nil {
			return err
		}
		return p.WaitReady(ctx, baseURL+"/api/v2/status", func(body string) bool {
			var st struct {
				VersionInfo struct {
					Version string `json:"version"`
				} `json:"versionInfo"`
			}
			if json.Unmarshal([]byte(body), &st) == nil && st.VersionInfo.Version != "" {
				version = "alertmanager " + st.VersionInfo.Version
			}
			return true
		})
	}
	if err := ready(); err != nil {
		p.Kill()
		return nil, "", "", err
	}
	return p, baseURL, version, nil
}
