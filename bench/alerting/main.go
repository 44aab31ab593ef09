// Command alerting compares Vigil's alert dispatch with Alertmanager's, in
// one run (make bench-alerting).
//
// The workload is -groups groups of -per-group alerts each (1,000 x 10 =
// 10,000 by default), labelled alertname="BenchAlert", group="gNNN" and
// instance="iN", every one firing for an hour from when it is sent. Both
// systems route on one route grouping by the group label, with the same
// group_wait, group_interval and repeat_interval, to one receiver.
//
// Part 1, in process: core/alert.Dispatcher over a store from
// core/alert.OpenStore in a temporary directory, configured from
// hclconfig.Parse, delivering to a no-op notifier that only counts the
// alerts. The alerts go to Receive in batches of -batch; it reports the
// time spent in Receive, the time until every alert was notified (the
// dispatch throughput) and the Go heap in use with every alert held.
//
// Part 2, end to end: the real servers, one after the other (never both
// at once, the machine has two cores), each from a fresh start in a
// temporary directory and listening on 127.0.0.1:
//
//   - vigil: bin/vigil server --config FILE, its route delivering
//     through the webhook notifier plugin (bin/vigil-notifier-webhook, a
//     child process of the server);
//   - alertmanager: the prometheus-alertmanager binary (Debian's package),
//     clustering off, its route delivering through a webhook_config.
//
// Both are fed the same alerts through POST /api/v2/alerts, in batches of
// -batch posted one after the other as Prometheus does, and both send
// Alertmanager's webhook message (version 4) to one receiver that this
// program serves on 127.0.0.1. The receiver keeps, for every alert, when
// its first firing notification arrived. Per system it reports the
// latency from the start of the POST of an alert's batch to that arrival
// (min, p50, p99, max; lower is better; a minimum near group_wait and a
// higher median mean notifications waited their turn to be delivered),
// the time until every alert had
// arrived, the CPU seconds the system used from the first POST to the
// last arrival (utime+stime of /proc/<pid>/stat; for Vigil the server
// plus its notifier plugin processes, Alertmanager sends in-process), the
// CPU per alert (lower is better) and the peak RSS (VmHWM).
//
// It ends with the line
//
//	alerting ratios (vigil/alertmanager): latency=X cpu=X rss=X
//
// where latency is the ratio of the p50 latencies, cpu that of the CPU
// per alert and rss that of the peak RSS of the server and its children,
// two decimals each. Progress goes to stderr, results to
// stdout. Every child process is killed before it returns, on failure
// too.
//
// Run it from the repository root, after make build plugins, with
//
//	go run ./bench/alerting
//
// (make bench-alerting does all of it, and installs Alertmanager when it
// is missing); see go run ./bench/alerting -h for the flags. With
// -profile-dir it writes a CPU profile of part 1 there. The
// program starts in runBenchmark; part 1 is in inprocess.go, the servers
// in servers.go and process.go, the workload and the receiver in
// workload.go and receiver.go. It takes about 15 seconds.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vigilmon/vigil/bench/harness"
)

// config holds the command-line settings.
type config struct {
	groups, perGroup int
	batch            int
	// groupWait and groupInterval time the route of both systems.
	// The defaults, 1s and 5s, are the smallest that keep Alertmanager's
	// model meaningful while the run stays short: a group_wait of zero
	// would flush a group on its first alert and measure little but the
	// notification of single alerts; 1s is longer than feeding 10k alerts
	// takes, so every group is complete at its first flush and the
	// latency is group_wait plus the cost of flushing and delivering.
	// group_interval only matters for a group whose alerts straddle that
	// first flush; 5s keeps such a case visible in the maximum without
	// dragging the run.
	groupWait, groupInterval time.Duration
	deliverTimeout           time.Duration
	systems                  []string
	vigilBin, webhookBin     string
	alertmanagerBin          string
	dir                      string
	profileDir               string
	inProcess                bool
}

// The systems of part 2.
const (
	systemVigil        = "vigil"
	systemAlertmanager = "alertmanager"
)

// repeatInterval is the route's repeat_interval on both sides: long
// enough that no group is notified again during a run.
const repeatInterval = 24 * time.Hour

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
	groups := flag.Int("groups", 1000, "alert groups")
	perGroup := flag.Int("per-group", 10, "alerts per group")
	batch := flag.Int("batch", 64, "alerts per POST /api/v2/alerts (and per Receive in process)")
	groupWait := flag.Duration("group-wait", time.Second, "group_wait of the route")
	groupInterval := flag.Duration("group-interval", 5*time.Second, "group_interval of the route")
	deliverTimeout := flag.Duration("deliver-timeout", 2*time.Minute, "how long a system may take to deliver every alert")
	systems := flag.String("systems", systemVigil+","+systemAlertmanager, "systems to run end to end, in order, comma-separated (empty: none)")
	vigilBin := flag.String("vigil", "bin/vigil", "the vigil binary (make build)")
	webhookBin := flag.String("webhook-plugin", "bin/vigil-notifier-webhook", "the webhook notifier plugin (make plugins)")
	amBin := flag.String("alertmanager", "prometheus-alertmanager", "the Alertmanager binary, a path or a name in $PATH")
	dir := flag.String("dir", os.TempDir(), "parent of the temporary directories")
	profileDir := flag.String("profile-dir", "", "if set, write there a CPU profile of part 1, as inprocess.cpu.pprof")
	inProcess := flag.Bool("in-process", true, "run part 1, the dispatcher in process")
	flag.Parse()

	cfg := config{
		groups: *groups, perGroup: *perGroup, batch: *batch, groupWait: *groupWait, groupInterval: *groupInterval,
		deliverTimeout: *deliverTimeout, dir: *dir, profileDir: *profileDir, inProcess: *inProcess,
	}
	switch {
	case cfg.groups < 1 || cfg.groups > 100000:
		return config{}, fmt.Errorf("-groups must be 1 to 100000, got %d", cfg.groups)
	case cfg.perGroup < 1:
		return config{}, fmt.Errorf("-per-group must be at least 1, got %d", cfg.perGroup)
	case cfg.batch < 1:
		return config{}, fmt.Errorf("-batch must be at least 1, got %d", cfg.batch)
	case cfg.groupWait < 100*time.Millisecond || cfg.groupWait%time.Millisecond != 0:
		return config{}, fmt.Errorf("-group-wait must be whole milliseconds, at least 100ms, got %s", cfg.groupWait)
	case cfg.groupInterval < cfg.groupWait || cfg.groupInterval%time.Millisecond != 0:
		return config{}, fmt.Errorf("-group-interval must be whole milliseconds, at least -group-wait, got %s", cfg.groupInterval)
	case cfg.deliverTimeout < cfg.groupWait:
		return config{}, fmt.Errorf("-deliver-timeout must be at least -group-wait, got %s", cfg.deliverTimeout)
	}
	for _, name := range strings.Split(*systems, ",") {
		name = strings.TrimSpace(name)
		switch name {
		case "":
			continue
		case systemVigil, systemAlertmanager:
			cfg.systems = append(cfg.systems, name)
		default:
			return config{}, fmt.Errorf("-systems: unknown system %q (want %s or %s)", name, systemVigil, systemAlertmanager)
		}
	}
	var err error
	if cfg.vigilBin, err = filepath.Abs(*vigilBin); err != nil {
		return config{}, fmt.Errorf("-vigil: %w", err)
	}
	if cfg.webhookBin, err = filepath.Abs(*webhookBin); err != nil {
		return config{}, fmt.Errorf("-webhook-plugin: %w", err)
	}
	if cfg.alertmanagerBin, err = exec.LookPath(*amBin); err != nil && slices.Contains(cfg.systems, systemAlertmanager) {
		return config{}, fmt.Errorf("-alertmanager: %w (Debian: apt-get install prometheus-alertmanager)", err)
	}
	return cfg, nil
}

// runBenchmark runs part 1, then every system of part 2 in turn, and
// prints the report.
func runBenchmark(ctx context.Context, cfg config) error {
	began := time.Now()
	w := newWorkload(cfg.groups, cfg.perGroup)
	harness.Logf("%d alerts in %d groups of %d, batches of %d; group_wait %s, group_interval %s, repeat_interval %s",
		w.len(), cfg.groups, cfg.perGroup, cfg.batch, cfg.groupWait, cfg.groupInterval, repeatInterval)
	var ip *inProcessResult
	if cfg.inProcess {
		r, err := runInProcess(ctx, cfg, w)
		if err != nil {
			return fmt.Errorf("in process: %w", err)
		}
		ip = r
	}
	runs := map[string]*systemResult{}
	if len(cfg.systems) > 0 {
		if _, err := os.Stat(cfg.vigilBin); err != nil && slices.Contains(cfg.systems, systemVigil) {
			return fmt.Errorf("the vigil binary: %w (make build)", err)
		}
		if _, err := os.Stat(cfg.webhookBin); err != nil && slices.Contains(cfg.systems, systemVigil) {
			return fmt.Errorf("the webhook plugin: %w (make plugins)", err)
		}
		recv, err := startReceiver(w)
		if err != nil {
			return err
		}
		defer recv.stop()
		for _, name := range cfg.systems {
			r, err := runSystem(ctx, cfg, w, recv, name)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			runs[name] = r
		}
	}
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	harness.Logf("done in %s", time.Since(began).Round(time.Second))
	printReport(os.Stdout, cfg, w, ip, runs)
	return nil
}
