package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/vigilmon/vigil/bench/harness"
)

// printReport writes part 1's figures, part 2's table and notes, and the
// final line.
func printReport(out io.Writer, cfg config, w *workload, ip *inProcessResult, runs map[string]*systemResult) {
	fmt.Fprintf(out, "alerting: %d alerts in %d groups of %d, in batches of %d; group_wait %s, group_interval %s, repeat_interval %s\n",
		w.len(), cfg.groups, cfg.perGroup, cfg.batch, cfg.groupWait, cfg.groupInterval, repeatInterval)
	if ip != nil {
		printInProcess(out, cfg, ip)
	}
	v, a := runs[systemVigil], runs[systemAlertmanager]
	if len(runs) > 0 {
		printSystems(out, cfg, v, a)
	}
	latency, cpu, rss := math.NaN(), math.NaN(), math.NaN()
	if v != nil && a != nil {
		latency = float64(harness.Percentile(v.latency, 50)) / float64(harness.Percentile(a.latency, 50))
		cpu = float64(v.cpuPerAlert()) / float64(a.cpuPerAlert())
		rss = float64(v.peakRSS()) / float64(a.peakRSS())
	}
	fmt.Fprintln(out, harness.RatioLine("alerting", "vigil/alertmanager",
		harness.Ratio{Key: "latency", Value: latency}, harness.Ratio{Key: "cpu", Value: cpu}, harness.Ratio{Key: "rss", Value: rss}))
}

// printInProcess writes part 1's figures.
func printInProcess(out io.Writer, cfg config, r *inProcessResult) {
	n := float64(r.alerts)
	fmt.Fprintln(out, "part 1, in process: core/alert.Dispatcher (store from OpenStore) into a no-op notifier that counts alerts")
	t := harness.NewTable(out)
	t.Row("  Receive, all batches", harness.FormatDuration(r.receive), rate(n, r.receive)+" alerts/s", "")
	t.Row("  first Receive to every alert notified", harness.FormatDuration(r.complete), rate(n, r.complete)+" alerts/s",
		fmt.Sprintf("(of which group_wait %s)", cfg.groupWait))
	work := r.complete - cfg.groupWait
	t.Row("  the same less group_wait", harness.FormatDuration(work), rate(n, work)+" alerts/s", "dispatch throughput "+harness.HigherIsBetter)
	t.Row("  CPU of this process, over that", fmt.Sprintf("%.3f s", r.cpu.Seconds()),
		harness.FormatDuration(r.cpu/time.Duration(r.alerts))+" per alert", harness.LowerIsBetter)
	held := float64(r.heapAfter) - float64(r.heapBefore)
	t.Row(fmt.Sprintf("  heap in use, %d alerts held in %d groups", r.alerts, r.groups), harness.HumanBytes(float64(r.heapAfter)),
		harness.HumanBytes(held/n)+" per alert", fmt.Sprintf("(+%s over the configured dispatcher; lower is better)", harness.HumanBytes(held)))
	t.Row("  notifications", strconv.Itoa(r.notifications), fmt.Sprintf("%d firing alerts", r.notified), "")
	t.Flush()
}

// printSystems writes part 2's table and notes; either system may be
// missing.
func printSystems(out io.Writer, cfg config, v, a *systemResult) {
	fmt.Fprintln(out, "part 2, end to end: POST /api/v2/alerts to the server, webhook message to a receiver on 127.0.0.1")
	t := harness.NewTable(out, "figure", systemVigil, systemAlertmanager, "vigil/alertmanager")
	value := func(r *systemResult, f func(r *systemResult) float64) float64 {
		if r == nil {
			return math.NaN()
		}
		return f(r)
	}
	row := func(name string, f func(r *systemResult) float64, format func(float64) string, note string) {
		t.Compare(name, value(v, f), value(a, f), format, note)
	}
	secs := func(x float64) string { return fmt.Sprintf("%.2f s", x) }
	count := func(x float64) string { return fmt.Sprintf("%.0f", x) }
	pct := func(p float64) func(r *systemResult) float64 {
		return func(r *systemResult) float64 { return harness.Seconds(harness.Percentile(r.latency, p)) }
	}
	row("latency min, POST to first notification", pct(0), harness.FormatSeconds, harness.LowerIsBetter)
	row("latency p50", pct(50), harness.FormatSeconds, harness.LowerIsBetter)
	row("latency p99", pct(99), harness.FormatSeconds, harness.LowerIsBetter)
	row("latency max", pct(100), harness.FormatSeconds, harness.LowerIsBetter)
	// The medians of the first and the last tenth of the alerts, in the
	// order they were posted: apart, they are a queue of deliveries.
	tenth := func(last bool) func(r *systemResult) float64 {
		return func(r *systemResult) float64 {
			n := len(r.latency) / 10
			part := r.latency[:n]
			if last {
				part = r.latency[len(r.latency)-n:]
			}
			return harness.Seconds(harness.Percentile(part, 50))
		}
	}
	row("  p50 of the first tenth posted", tenth(false), harness.FormatSeconds, "")
	row("  p50 of the last tenth posted", tenth(true), harness.FormatSeconds, "")
	row("every alert notified after the first POST", func(r *systemResult) float64 { return r.complete.Seconds() }, harness.FormatSeconds, harness.LowerIsBetter)
	row("feeding: all POSTs", func(r *systemResult) float64 { return r.feed.duration.Seconds() }, harness.FormatSeconds, harness.LowerIsBetter)
	row("CPU, first POST to last notification", func(r *systemResult) float64 { s, c := r.cpu(); return s + c }, secs, harness.LowerIsBetter)
	row("  server process", func(r *systemResult) float64 { s, _ := r.cpu(); return s }, secs, "")
	row("  notifier plugin process(es)", func(r *systemResult) float64 { _, c := r.cpu(); return c }, secs, "")
	row("CPU per alert", func(r *systemResult) float64 { return r.cpuPerAlert().Seconds() }, harness.FormatSeconds, harness.LowerIsBetter)
	row("peak RSS, server + children", func(r *systemResult) float64 { return float64(r.peakRSS()) }, harness.HumanBytes, harness.LowerIsBetter)
	row("  server process", func(r *systemResult) float64 { return float64(r.after.ServerRSS) }, harness.HumanBytes, "")
	row("  child processes", func(r *systemResult) float64 { return float64(r.after.ChildrenRSS) }, harness.HumanBytes, "")
	row("webhook messages", func(r *systemResult) float64 { return float64(r.recv.messages) }, count, "")
	row("firing alerts in them, repeats included", func(r *systemResult) float64 { return float64(r.recv.firing) }, count, "")
	t.Flush()

	fmt.Fprintln(out, "notes:")
	for _, r := range []*systemResult{v, a} {
		if r != nil {
			fmt.Fprintf(out, "  %s: %s, %d child process(es)\n", r.name, r.version, r.after.Children)
		}
	}
	fmt.Fprintf(out, "  feeding: %d POSTs of up to %d alerts, one after the other over one connection; each alert starts when its batch is posted and ends %s later\n",
		requests(v, a), cfg.batch, firingFor)
	fmt.Fprintln(out, "  latency: per alert, from the start of its batch's POST to the arrival of its first firing notification; group_wait is part of it")
	fmt.Fprintln(out, "  CPU: utime+stime from /proc/<pid>/stat (10 ms ticks) of the server and its descendants, from the first POST to the last first notification")
	fmt.Fprintln(out, "  peak RSS: VmHWM of /proc/<pid>/status when the last alert was notified; vigil's children are its notifier plugin")
	fmt.Fprintln(out, "  each system ran alone, from a fresh start in a new temporary directory, on 127.0.0.1")
}

// requests returns the POSTs of whichever run there is.
func requests(runs ...*systemResult) int {
	for _, r := range runs {
		if r != nil {
			return r.feed.requests
		}
	}
	return 0
}

// rate formats n per d, as 12.3k.
func rate(n float64, d time.Duration) string {
	if d <= 0 {
		return "n/a"
	}
	return harness.HumanCount(n / d.Seconds())
}
