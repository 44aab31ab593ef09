// Command remote compares Vigil's agent with Prometheus's agent, side by
// side in one run (make bench-remote).
//
// This program serves -targets scrape targets of -series series each
// (200 x 1,000 by default) on 127.0.0.1, one HTTP server per target, and
// a remote-write receiver. It starts both agents at once, each from a
// fresh start in a temporary directory and listening on 127.0.0.1:
//
//   - vigil: bin/vigil agent --config FILE (core/scrape into upstream's
//     agent DB, tsdb/agent, sent by core/remote over upstream's
//     storage/remote);
//   - prometheus: prometheus --agent, the binary make peers builds.
//
// Both scrape every target every -interval, at paths of their own
// (/metrics/vigil and /metrics/prometheus), and remote-write (Remote-Write
// 1.0, the queue's defaults) to the receiver, at paths of their own. Every
// target answers a sender's scrape with new values: series i is a counter
// that grows by i%13+1 at each scrape.
//
// The targets answer 503 until both agents have tried every one of them
// (Prometheus applies a new target group a few seconds after it is
// ready); then they open for -duration, and close again. The receiver decodes every request and
// counts, per sender, the samples of the targets' series that arrived the
// first time, and those that came again (a sample of a series not newer
// than the newest received of it). Once the targets are closed, the
// program waits until every sample the targets served to a sender has
// reached the receiver, or -drain-timeout has passed, then one more
// -settle (by default an interval and 6s), for late duplicates and for
// the stale markers both agents write when the targets fail.
//
// Per agent it reports the samples the targets served it, the samples it
// delivered (received once) and its delivered fraction, the duplicates,
// the CPU seconds of its process from the opening of the targets to the
// end of the settling time (utime+stime of /proc/<pid>/stat) and per delivered
// sample, its peak RSS (VmHWM of /proc/<pid>/status at the end) and its
// mean RSS over the second half of the open phase (VmRSS sampled every
// two seconds), and what its own metrics say: samples appended to its
// write-ahead log, sent, failed and retried. It ends with the line
//
//	remote ratios (vigil/prometheus): cpu_per_sample=X rss=Y delivered=Z
//
// where cpu_per_sample is the ratio of the CPU seconds per delivered
// sample, rss that of the peak RSS, and delivered Vigil's delivered
// fraction (not a ratio: 1.00 when every sample arrived; the notes say
// whether any arrived twice). Progress
// goes to stderr, the report to stdout. Both agents are killed before it
// returns, on failure too.
//
// Run it from the repository root, after make build peers, with
//
//	go run ./bench/remote -prometheus .cache/peers/prometheus-v0.316.0/prometheus
//
// (make bench-remote does all of it); see go run ./bench/remote -h for the
// flags. With -profile-dir it writes there a CPU profile of each agent
// over -profile-seconds in the middle of the open phase, and a heap
// profile of each at its end, read from their /debug/pprof. It takes
// about -duration and a minute. The program starts in runBenchmark; the
// targets are in targets.go, the receiver in receiver.go, the agents in
// agents.go, the report in report.go.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vigilmon/vigil/bench/harness"
)

// config holds the command-line settings.
type config struct {
	targets, series      int
	interval, duration   time.Duration
	drainTimeout, settle time.Duration
	vigilBin, promBin    string
	dir, profileDir      string
	profileSeconds       int
}

// httpClient reads the agents' metrics and profiles, each request
// bounded by its context.
var httpClient = &http.Client{}

// rssEvery is how often the agents' RSS is sampled.
const rssEvery = 2 * time.Second

func main() {
	harness.Main(func(ctx context.Context) error {
		cfg, err := parseFlags()
		if err != nil {
			return harness.UsageError(err)
		}
		return runBenchmark(ctx, cfg)
	})
}

// parseFlags reads the command line into a config, with the binaries'
// paths made absolute.
func parseFlags() (config, error) {
	var cfg config
	flag.IntVar(&cfg.targets, "targets", 200, "scrape targets")
	flag.IntVar(&cfg.series, "series", 1000, "series per target")
	flag.DurationVar(&cfg.interval, "interval", 10*time.Second, "scrape interval (and timeout) of both agents")
	flag.DurationVar(&cfg.duration, "duration", 4*time.Minute, "how long the targets are open")
	flag.DurationVar(&cfg.drainTimeout, "drain-timeout", 2*time.Minute, "how long the agents may take to deliver, after the targets close")
	flag.DurationVar(&cfg.settle, "settle", 0, "how long to wait once every sample arrived, for late duplicates and the stale markers of the closed targets (0: one interval and 6s)")
	vigilBin := flag.String("vigil", "bin/vigil", "the vigil binary (make build)")
	promBin := flag.String("prometheus", ".cache/peers/prometheus-v0.316.0/prometheus", "the prometheus binary (make peers)")
	flag.StringVar(&cfg.dir, "dir", os.TempDir(), "parent of the temporary directories")
	flag.StringVar(&cfg.profileDir, "profile-dir", "", "if set, write there CPU and heap profiles of both agents")
	flag.IntVar(&cfg.profileSeconds, "profile-seconds", 60, "length of the CPU profiles")
	flag.Parse()
	switch {
	case flag.NArg() > 0:
		return config{}, fmt.Errorf("unexpected arguments %q", flag.Args())
	case cfg.targets < 1 || cfg.targets > 2000:
		return config{}, fmt.Errorf("-targets must be 1 to 2000, got %d", cfg.targets)
	case cfg.series < 1 || cfg.series > 100000:
		return config{}, fmt.Errorf("-series must be 1 to 100000, got %d", cfg.series)
	case cfg.interval < time.Second || cfg.interval%time.Second != 0:
		return config{}, fmt.Errorf("-interval must be whole seconds, at least 1s, got %s", cfg.interval)
	case cfg.duration < 2*cfg.interval:
		return config{}, fmt.Errorf("-duration must be at least two intervals, got %s", cfg.duration)
	case cfg.drainTimeout < cfg.interval:
		return config{}, fmt.Errorf("-drain-timeout must be at least -interval, got %s", cfg.drainTimeout)
	case cfg.settle < 0:
		return config{}, fmt.Errorf("-settle must not be negative, got %s", cfg.settle)
	case cfg.profileSeconds < 1:
		return config{}, fmt.Errorf("-profile-seconds must be at least 1, got %d", cfg.profileSeconds)
	}
	if cfg.settle == 0 {
		// Every target fails a scrape within an interval of closing, and
		// its series' stale markers are sent within a batch deadline
		// (5s), so that both agents do the same work in the window.
		cfg.settle = cfg.interval + 6*time.Second
	}
	var err error
	if cfg.vigilBin, err = filepath.Abs(*vigilBin); err != nil {
		return config{}, fmt.Errorf("-vigil: %w", err)
	}
	if cfg.promBin, err = filepath.Abs(*promBin); err != nil {
		return config{}, fmt.Errorf("-prometheus: %w", err)
	}
	return cfg, nil
}

// agentResult is what was measured of one agent.
type agentResult struct {
	name, version string
	// servedScrapes and served are the scrapes the targets answered the
	// agent in full, and the samples in them.
	servedScrapes, served int64
	recv                  receiverStats
	// cpu is the CPU seconds of the agent's process from the opening of
	// the targets to the end of the drain.
	cpu float64
	// peakRSS is VmHWM at the end; meanRSS the mean of VmRSS over the
	// second half of the open phase.
	peakRSS, meanRSS float64
	// drained is the time from the closing of the targets until every
	// sample served had arrived, -1 when not all did.
	drained time.Duration
	// The agent's own metrics at the end.
	appended, sent, failed, retried float64
	complaints                      []string
}

// delivered returns the fraction of the samples served that arrived once.
func (r *agentResult) delivered() float64 { return float64(r.recv.samples) / float64(r.served) }

// cpuPerSample returns the CPU seconds per delivered sample.
func (r *agentResult) cpuPerSample() float64 { return r.cpu / float64(r.recv.samples) }

// runBenchmark serves the targets and the receiver, runs both agents
// side by side, and prints the report.
func runBenchmark(ctx context.Context, cfg config) error {
	began := time.Now()
	for _, bin := range []string{cfg.vigilBin, cfg.promBin} {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("cannot find an agent's binary: %w (make build peers)", err)
		}
	}
	senders := []string{senderVigil, senderPrometheus}
	recv := newReceiver(senders)
	if err := recv.start(); err != nil {
		return err
	}
	defer recv.stop()
	tg, err := startTargets(cfg.targets, cfg.series, senders)
	if err != nil {
		return err
	}
	defer tg.stop()
	harness.Logf("%d targets of %d series on 127.0.0.1, scraped every %s by both agents; receiver at %s",
		cfg.targets, cfg.series, cfg.interval, recv.url)

	dir, err := os.MkdirTemp(cfg.dir, "remote-bench-")
	if err != nil {
		return fmt.Errorf("cannot create a temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	agents := map[string]*agent{}
	defer func() {
		for _, a := range agents {
			a.proc.Kill()
		}
	}()
	starts := map[string]func(context.Context, string, agentSetup) (*agent, error){
		senderVigil: startVigilAgent, senderPrometheus: startPrometheusAgent,
	}
	bins := map[string]string{senderVigil: cfg.vigilBin, senderPrometheus: cfg.promBin}
	for _, name := range senders {
		setup := agentSetup{targets: tg.addrs(), receiverURL: recv.url, interval: cfg.interval, dir: filepath.Join(dir, name)}
		if err := os.MkdirAll(setup.dir, 0o755); err != nil {
			return fmt.Errorf("cannot create the directory of %s: %w", name, err)
		}
		a, err := starts[name](ctx, bins[name], setup)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		agents[name] = a
		harness.Logf("%s: %s ready at %s (pid %d)", name, a.version, a.baseURL, a.proc.Pid())
	}

	if err := waitScraping(ctx, agents, cfg.targets); err != nil {
		return err
	}
	results := map[string]*agentResult{}
	cpuBefore := map[string]float64{}
	for _, name := range senders {
		results[name] = &agentResult{name: name, version: agents[name].version}
		if cpuBefore[name], err = harness.ProcCPU(agents[name].proc.Pid()); err != nil {
			return err
		}
	}
	tg.setOpen(true)
	opened := time.Now()
	harness.Logf("targets open for %s", cfg.duration)
	rss := sampleRSS(ctx, agents, opened.Add(cfg.duration/2), opened.Add(cfg.duration))
	var profiles sync.WaitGroup
	if cfg.profileDir != "" {
		profiles.Go(func() { profileAgents(ctx, cfg, agents, opened) })
	}
	if err := waitOpen(ctx, cfg, agents, tg, recv); err != nil {
		return err
	}
	tg.setOpen(false)
	closed := time.Now()
	profiles.Wait()
	harness.Logf("targets closed; waiting for the queues to deliver (at most %s)", cfg.drainTimeout)
	if err := drain(ctx, cfg, agents, tg, recv, closed, results); err != nil {
		return err
	}
	meanRSS := rss()
	for _, name := range senders {
		a, r := agents[name], results[name]
		pid := a.proc.Pid()
		cpu, err := harness.ProcCPU(pid)
		if err != nil {
			return err
		}
		r.cpu = cpu - cpuBefore[name]
		peak, err := harness.ProcPeakRSS(pid)
		if err != nil {
			return err
		}
		r.peakRSS, r.meanRSS = float64(peak), meanRSS[name]
		r.servedScrapes, r.served = tg.served(name)
		r.recv = recv.stats(name)
		if r.recv.bad > 0 {
			return fmt.Errorf("%s: the receiver could not read %d requests, the last: %s", name, r.recv.bad, r.recv.lastBad)
		}
		for metric, into := range map[string]*float64{
			"prometheus_agent_samples_appended_total":         &r.appended,
			"prometheus_remote_storage_samples_total":         &r.sent,
			"prometheus_remote_storage_samples_failed_total":  &r.failed,
			"prometheus_remote_storage_samples_retried_total": &r.retried,
		} {
			if *into, err = a.metric(ctx, metric); err != nil {
				harness.Logf("%s: %v", name, err)
				*into = -1
			}
		}
		r.complaints = harness.Complaints(a.proc.Logs(), 5)
		if cfg.profileDir != "" {
			if err := fetchProfile(ctx, a, "heap", filepath.Join(cfg.profileDir, name+".heap.pprof"), time.Minute); err != nil {
				harness.Logf("%s: %v", name, err)
			}
		}
	}
	harness.Logf("done in %s", time.Since(began).Round(time.Second))
	printReport(os.Stdout, cfg, results[senderVigil], results[senderPrometheus])
	return nil
}

// waitOpen waits while the targets are open, logging the progress every
// minute; an agent that exits is an error.
func waitOpen(ctx context.Context, cfg config, agents map[string]*agent, tg *targets, recv *receiver) error {
	end := time.NewTimer(cfg.duration)
	defer end.Stop()
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-end.C:
			return nil
		case <-ctx.Done():
			return errors.New("interrupted")
		case <-tick.C:
			for name := range agents {
				_, served := tg.served(name)
				harness.Logf("%s: %d samples served, %d received", name, served, recv.stats(name).samples)
			}
		}
		if err := exited(agents); err != nil {
			return err
		}
	}
}

// drain waits until every sample served to each agent has arrived, or
// cfg.drainTimeout has passed since closed, and then cfg.settle more.
func drain(ctx context.Context, cfg config, agents map[string]*agent, tg *targets, recv *receiver, closed time.Time, results map[string]*agentResult) error {
	pending := map[string]bool{}
	for name := range agents {
		pending[name] = true
		results[name].drained = -1
	}
	deadline := closed.Add(cfg.drainTimeout)
	for len(pending) > 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return errors.New("interrupted")
		case <-time.After(200 * time.Millisecond):
		}
		if err := exited(agents); err != nil {
			return err
		}
		for name := range pending {
			if _, served := tg.served(name); recv.stats(name).samples >= served {
				results[name].drained = time.Since(closed)
				delete(pending, name)
				harness.Logf("%s: every sample delivered %s after the targets closed", name, results[name].drained.Round(time.Millisecond))
			}
		}
	}
	for name := range pending {
		_, served := tg.served(name)
		harness.Logf("%s: only %d of %d samples delivered %s after the targets closed", name, recv.stats(name).samples, served, cfg.drainTimeout)
	}
	select {
	case <-ctx.Done():
		return errors.New("interrupted")
	case <-time.After(cfg.settle):
	}
	return exited(agents)
}

// exited returns an error when an agent has exited.
func exited(agents map[string]*agent) error {
	for name, a := range agents {
		select {
		case <-a.proc.Exited():
			return a.proc.Failed(fmt.Errorf("%s exited: %v", name, a.proc.Err()))
		default:
		}
	}
	return nil
}

// sampleRSS samples the agents' VmRSS every rssEvery from from to until,
// and returns the function that waits for the end of it and returns each
// agent's mean.
func sampleRSS(ctx context.Context, agents map[string]*agent, from, until time.Time) func() map[string]float64 {
	sums, counts := map[string]float64{}, map[string]int{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-time.After(time.Until(from)):
		case <-ctx.Done():
			return
		}
		tick := time.NewTicker(rssEvery)
		defer tick.Stop()
		for time.Now().Before(until) {
			for name, a := range agents {
				if rss, err := harness.ProcRSS(a.proc.Pid()); err == nil {
					sums[name] += float64(rss)
					counts[name]++
				}
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() map[string]float64 {
		<-done
		out := map[string]float64{}
		for name, sum := range sums {
			out[name] = sum / float64(counts[name])
		}
		return out
	}
}

// profileAgents writes a CPU profile of each agent over
// cfg.profileSeconds, both at once, starting in the middle of the open
// phase less half a profile.
func profileAgents(ctx context.Context, cfg config, agents map[string]*agent, opened time.Time) {
	length := time.Duration(cfg.profileSeconds) * time.Second
	start := opened.Add(cfg.duration/2 - length/2)
	select {
	case <-time.After(time.Until(start)):
	case <-ctx.Done():
		return
	}
	var wg sync.WaitGroup
	for name, a := range agents {
		wg.Go(func() {
			path := filepath.Join(cfg.profileDir, name+".cpu.pprof")
			if err := fetchProfile(ctx, a, fmt.Sprintf("profile?seconds=%d", cfg.profileSeconds), path, length+time.Minute); err != nil {
				harness.Logf("%s: %v", name, err)
				return
			}
			harness.Logf("%s: CPU profile in %s", name, path)
		})
	}
	wg.Wait()
}

// fetchProfile writes the agent's /debug/pprof/<what> into path, giving
// up after timeout.
func fetchProfile(ctx context.Context, a *agent, what, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("cannot create the profile directory: %w", err)
	}
	body, err := harness.Get(ctx, httpClient, a.baseURL+"/debug/pprof/"+what)
	if err != nil {
		return fmt.Errorf("cannot read the profile %s: %w", what, err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		return fmt.Errorf("cannot write the profile %q: %w", path, err)
	}
	return nil
}
