// Command plugins measures what running a plugin costs Vigil, in two parts,
// in one run.
//
// Part 1, collect: the same collection of -series series (10k by default)
// through an exporter plugin (gRPC) and through an HTTP scrape of the same
// metrics in the Prometheus text format. In both cases the producer is a
// child process (this program, re-executed in a child mode) holding the
// same series, the same client_golang collectors, in a client_golang
// registry: families of 100 series, half counters with uneven integer
// increments, half gauges (integer and float random walks), each with two
// or three labels; every value moves before every collection, in the same
// sequence for both. The plugin child registers them in the SDK's
// registry, sdk/promexport, and serves its exporter with sdk.Serve, as a
// plugin author does; the HTTP child registers them in a
// prometheus.Registry served by promhttp on 127.0.0.1, in the text
// format, without compression. The parent, the consumer, does what
// Vigil's scrape path does up to parsing:
//
//   - plugin: client.CollectDelimited (gRPC over go-plugin's mutual TLS,
//     as Vigil starts plugins), whose delimited protobuf bytes, as the
//     plugin sent them, go to upstream textparse's protobuf parser, which
//     parses every entry;
//   - http: GET, read the body, and parse every entry with textparse's
//     text parser.
//
// Parsing takes every series' metric bytes and value, and builds its
// labels the first time it is seen, as Vigil's series cache does. Each
// collection is checked to hold every series. After -warmup collections
// per mode, -collections collections per mode are timed, in blocks in the
// order plugin, http, http, plugin so that a drift of the machine weighs
// on both. It reports the collection latency (p50, p99; lower is better)
// and the CPU seconds per million samples of consumer and producer
// together (lower is better): the parent's getrusage and the child's
// utime+stime from /proc/<pid>/stat (Linux only), over the timed blocks.
//
// Part 2, notify: the same notifier (package ./notifier, which posts a
// short JSON message per notification to a receiver this program runs on
// 127.0.0.1) built as a WebAssembly module (GOOS=wasip1 GOARCH=wasm
// -buildmode=c-shared -ldflags='-s -w', as make plugins builds modules,
// posting through sdk/wasm.HTTPClient) and as a gRPC
// plugin program (posting with net/http), both with go build into a
// temporary directory at start. It reports:
//
//   - warm Notify latency, p50 and p99 over -notifies calls after
//     -notify-warmup, for the module loaded with pluginhost.LoadWasm
//     (allow_hosts: the receiver) and for the program started with
//     client.Start (lower is better);
//   - cold start, the median over -cold-runs: for the module, LoadWasm with
//     a warm compilation cache (as a restarted server finds it) until the
//     first Notify is done, each run in a fresh child process; for the
//     program, client.Start until the first Notify is done (lower is
//     better);
//   - the compile time of the module without a cache: LoadWasm in a child
//     process with an empty compilation cache, which fills the cache the
//     cold starts use.
//
// It prints a table per part and ends with the line
//
//	plugins ratios (vigil-plugin/vigil-http): collect=X cpu=X; wasm notify p50=Xus p99=Xus cold=Xms
//
// where collect is the plugin/http ratio of the p50 collection latency,
// cpu that of the CPU seconds per sample (two decimals, lower is better;
// at most 1.00 means the plugin path costs no more than the scrape), and
// the Wasm figures are absolute. Progress goes to stderr, results to
// stdout. Everything listens on and talks to 127.0.0.1 only.
//
// Run it from the repository root with
//
//	go run ./bench/plugins
//
// and see go run ./bench/plugins -h for the flags. With the
// defaults it takes about a minute once the Go build cache is warm.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/vigilmon/vigil/bench/harness"
)

// The child modes.
const (
	childProducerPlugin = "producer-plugin" // serves the series as an exporter plugin
	childProducerHTTP   = "producer-http"   // serves the series over HTTP
	childWasmLoad       = "wasm-load"       // loads the module once and notifies once
)

// The parts of the benchmark.
const (
	partCollect = "collect"
	partNotify  = "notify"
)

// config holds the command-line settings.
type config struct {
	series       int
	collections  int
	warmup       int
	blocks       int
	notifies     int
	notifyWarmup int
	coldRuns     int
	parts        map[string]bool
	dir          string
	profileDir   string
	seed         uint64
}

func main() {
	harness.Main(func(ctx context.Context) error {
		cfg, err := parseFlags()
		if err != nil {
			return harness.UsageError(err)
		}
		if mode := harness.ChildMode(); mode != "" {
			return runChild(mode, cfg)
		}
		return runBenchmark(ctx, cfg)
	})
}

// parseFlags reads the command line into a config; a child takes its
// settings from it too.
func parseFlags() (config, error) {
	series := flag.Int("series", 10000, "series the producer holds (part 1)")
	collections := flag.Int("collections", 300, "timed collections per mode (part 1)")
	warmup := flag.Int("warmup", 30, "untimed collections per mode before the timed ones (part 1)")
	notifies := flag.Int("notifies", 1000, "timed notifications per notifier (part 2)")
	notifyWarmup := flag.Int("notify-warmup", 100, "untimed notifications per notifier first (part 2)")
	coldRuns := flag.Int("cold-runs", 5, "cold starts per notifier (part 2)")
	parts := flag.String("parts", partCollect+","+partNotify, "parts to run, comma-separated")
	dir := flag.String("dir", os.TempDir(), "parent of the temporary build and cache directory")
	profileDir := flag.String("profile-dir", "", "if set, write there a CPU profile of this process over the first timed block of each mode, as collect-<mode>.cpu.pprof and notify-<notifier>.cpu.pprof, and one of each producer child over its first timed block, as producer-<mode>.cpu.pprof")
	seed := flag.Uint64("seed", 1, "seed of the producer's values")
	flag.Parse()
	cfg := config{
		series: *series, collections: *collections, warmup: *warmup, blocks: 4,
		notifies: *notifies, notifyWarmup: *notifyWarmup, coldRuns: *coldRuns,
		parts: map[string]bool{}, dir: *dir, profileDir: *profileDir, seed: *seed,
	}
	if harness.ChildMode() != "" {
		return cfg, nil
	}
	switch {
	case cfg.series < 1:
		return config{}, fmt.Errorf("-series must be at least 1, got %d", cfg.series)
	case cfg.collections < cfg.blocks:
		return config{}, fmt.Errorf("-collections must be at least %d, got %d", cfg.blocks, cfg.collections)
	case cfg.warmup < 0 || cfg.notifyWarmup < 0:
		return config{}, fmt.Errorf("-warmup and -notify-warmup must not be negative")
	case cfg.notifies < cfg.blocks:
		return config{}, fmt.Errorf("-notifies must be at least %d, got %d", cfg.blocks, cfg.notifies)
	case cfg.coldRuns < 1:
		return config{}, fmt.Errorf("-cold-runs must be at least 1, got %d", cfg.coldRuns)
	}
	for _, p := range strings.Split(*parts, ",") {
		p = strings.TrimSpace(p)
		if p != partCollect && p != partNotify {
			return config{}, fmt.Errorf("-parts: unknown part %q (want %s or %s)", p, partCollect, partNotify)
		}
		cfg.parts[p] = true
	}
	return cfg, nil
}

// runChild runs one of the child modes.
func runChild(mode string, cfg config) error {
	switch mode {
	case childProducerPlugin:
		return runProducerPlugin(cfg)
	case childProducerHTTP:
		return runProducerHTTP(cfg)
	case childWasmLoad:
		return runWasmLoad()
	}
	return fmt.Errorf("unknown child mode %q", mode)
}

// runBenchmark runs the parts and prints the report.
func runBenchmark(ctx context.Context, cfg config) error {
	began := time.Now()
	var (
		cr  *collectResult
		nr  *notifyResult
		err error
	)
	if cfg.parts[partCollect] {
		if cr, err = runCollect(ctx, cfg); err != nil {
			return fmt.Errorf("part 1, collect: %w", err)
		}
	}
	if cfg.parts[partNotify] {
		if nr, err = runNotify(ctx, cfg); err != nil {
			return fmt.Errorf("part 2, notify: %w", err)
		}
	}
	harness.Logf("done in %s", time.Since(began).Round(time.Second))
	printReport(os.Stdout, cfg, cr, nr)
	return nil
}
