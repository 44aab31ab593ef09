package main

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/vigilmon/vigil/bench/harness"
)

// printReport writes a table per part, the notes and the final line.
func printReport(out io.Writer, cfg config, cr *collectResult, nr *notifyResult) {
	collectRatio, cpuRatio := math.NaN(), math.NaN()
	if cr != nil {
		collectRatio, cpuRatio = printCollect(out, cfg, cr)
	}
	wasmP50, wasmP99, wasmCold := time.Duration(-1), time.Duration(-1), time.Duration(-1)
	if nr != nil {
		if cr != nil {
			fmt.Fprintln(out)
		}
		w := nr.notifiers[notifierWasm]
		wasmP50, wasmP99, wasmCold = harness.Percentile(w.latencies, 50), harness.Percentile(w.latencies, 99), harness.Median(w.cold)
		printNotify(out, cfg, nr)
	}
	// The Wasm figures, absolute, follow the ratios on the same line.
	line := harness.RatioLine("plugins", modePlugin+"/"+modeHTTP, harness.Ratio{Key: "collect", Value: collectRatio}, harness.Ratio{Key: "cpu", Value: cpuRatio})
	fmt.Fprintf(out, "%s; wasm notify p50=%sus p99=%sus cold=%sms\n", line, micros(wasmP50), micros(wasmP99), millis(wasmCold))
}

// printCollect writes part 1's table and notes, and returns the ratios
// of the final line.
func printCollect(out io.Writer, cfg config, cr *collectResult) (collectRatio, cpuRatio float64) {
	p, h := cr.modes[modePlugin], cr.modes[modeHTTP]
	fmt.Fprintf(out, "part 1: one collection of %s series, through an exporter plugin (gRPC) and through an HTTP scrape (text format)\n", harness.HumanCount(float64(cr.series)))
	t := harness.NewTable(out, "figure", modePlugin, modeHTTP, "plugin/http")
	cpu := func(x float64) string { return fmt.Sprintf("%.3f s", x) }
	perMillion := func(r *modeResult, x float64) float64 { return x / (float64(r.samples) / 1e6) }
	latency := func(r *modeResult, q float64) float64 { return harness.Seconds(harness.Percentile(r.latencies, q)) }

	collectRatio = t.Compare("collection latency p50", latency(p, 50), latency(h, 50), harness.FormatSeconds, harness.LowerIsBetter)
	t.Compare("collection latency p99", latency(p, 99), latency(h, 99), harness.FormatSeconds, harness.LowerIsBetter)
	t.Compare("collections per second, one at a time", 1/harness.Seconds(mean(p.latencies)), 1/harness.Seconds(mean(h.latencies)), func(x float64) string { return fmt.Sprintf("%.1f", x) }, harness.HigherIsBetter)
	cpuRatio = t.Compare("CPU s per million samples, consumer+producer", p.cpuPerMillion(), h.cpuPerMillion(), cpu, harness.LowerIsBetter)
	t.Compare("  consumer (this process)", perMillion(p, p.consumerCPU), perMillion(h, h.consumerCPU), cpu, "")
	t.Compare("  producer (child process)", perMillion(p, p.producerCPU), perMillion(h, h.producerCPU), cpu, "")
	t.Compare("payload per collection", float64(p.payload), float64(h.payload), harness.HumanBytes, "")
	t.Values("samples parsed, timed collections", float64(p.samples), float64(h.samples), func(x float64) string { return fmt.Sprintf("%.0f", x) }, "")
	t.Flush()

	fmt.Fprintln(out, "notes:")
	fmt.Fprintf(out, "  producer: a child process holding %d series in a client_golang registry (families of %d: counters labelled method, code, handler; gauges labelled shard, zone); every value moves before every collection\n",
		cr.series, familySize)
	fmt.Fprintln(out, "  vigil-plugin: the registry is sdk/promexport's, served by sdk.Serve with its exporter; client.CollectDelimited over go-plugin's gRPC (mutual TLS): the delimited protobuf bytes as the plugin sent them, parsed by textparse's protobuf parser, as the scraper does")
	fmt.Fprintln(out, "  vigil-http: a prometheus.Registry served by promhttp on 127.0.0.1, text format, uncompressed; GET + read body over a kept-alive connection, parsed by textparse's text parser")
	fmt.Fprintln(out, "  parsing: every entry, metric bytes and value of every series, labels built once per series (as Vigil's series cache does); every collection checked to hold every series")
	fmt.Fprintf(out, "  timing: %d warm-up collections per mode, then %d timed per mode in %d blocks ordered plugin, http, http, plugin, one collection at a time\n",
		cfg.warmup, cfg.collections, cfg.blocks)
	fmt.Fprintln(out, "  CPU: consumer = this process's getrusage, producer = the child's utime+stime in /proc/<pid>/stat (10 ms ticks), both over the timed blocks")
	fmt.Fprintln(out, "  payload: the delimited protobuf encoding Vigil parses / the text body")
	return collectRatio, cpuRatio
}

// printNotify writes part 2's table and notes.
func printNotify(out io.Writer, cfg config, nr *notifyResult) {
	w, g := nr.notifiers[notifierWasm], nr.notifiers[notifierGRPC]
	fmt.Fprintln(out, "part 2: one notifier, built as a Wasm module and as a gRPC plugin, posting to a receiver on 127.0.0.1")
	t := harness.NewTable(out, "figure", notifierWasm, notifierGRPC, "wasm/grpc")
	row := func(name string, wv, gv time.Duration, note string) {
		t.Compare(name, harness.Seconds(wv), harness.Seconds(gv), harness.FormatSeconds, note)
	}
	row("warm Notify p50", harness.Percentile(w.latencies, 50), harness.Percentile(g.latencies, 50), harness.LowerIsBetter)
	row("warm Notify p99", harness.Percentile(w.latencies, 99), harness.Percentile(g.latencies, 99), harness.LowerIsBetter)
	row(fmt.Sprintf("cold start to first Notify done, median of %d", len(w.cold)), harness.Median(w.cold), harness.Median(g.cold), harness.LowerIsBetter)
	row("  of which LoadWasm / client.Start", harness.Median(w.load), harness.Median(g.load), "")
	t.Values("compile without cache (LoadWasm)", harness.Seconds(nr.compile), math.NaN(), harness.FormatSeconds, harness.LowerIsBetter)
	t.Compare("size of the build", float64(w.size), float64(g.size), harness.HumanBytes, "")
	t.Flush()

	fmt.Fprintln(out, "notes:")
	fmt.Fprintln(out, "  notifier: bench/plugins/notifier, one package built with go build for GOOS=wasip1 GOARCH=wasm -buildmode=c-shared -ldflags='-s -w' as make plugins does (posts through sdk/wasm.HTTPClient) and natively (posts with net/http)")
	fmt.Fprintln(out, "  wasm: pluginhost.LoadWasm with allow_hosts = the receiver, default pool; grpc: client.Start (go-plugin, mutual TLS)")
	fmt.Fprintf(out, "  warm: %d warm-up notifications each, then %d timed each in %d blocks ordered wasm, grpc, grpc, wasm, one at a time; the receiver checked %d of %d messages\n",
		cfg.notifyWarmup, cfg.notifies, cfg.blocks, nr.received, nr.sent)
	fmt.Fprintln(out, "  cold: wasm = a fresh process running LoadWasm with the warm compilation cache on disk, Configure, first Notify; grpc = client.Start (process start, handshake), Configure, first Notify")
	fmt.Fprintln(out, "  compile: LoadWasm in a fresh process with an empty compilation cache, which fills the cache the cold starts use")
}

// mean returns the mean of ds.
func mean(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return -1
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

// micros formats a duration in whole microseconds, for the final line.
func micros(d time.Duration) string {
	if d < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", float64(d)/float64(time.Microsecond))
}

// millis formats a duration in milliseconds, for the final line.
func millis(d time.Duration) string {
	if d < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", float64(d)/float64(time.Millisecond))
}
