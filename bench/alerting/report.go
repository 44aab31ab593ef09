package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigilmon/vigil/bench/harness"
)

const lowerBetter = "(lower is better)"

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
	latency, cpu := math.NaN(), math.NaN()
	if v != nil && a != nil {
		latency = float64(harness.Percentile(v.latency, 50)) / float64(harness.Percentile(a.latency, 50))
		cpu = float64(v.cpuPerAlert()) / float64(a.cpuPerAlert())
	}
	fmt.Fprintf(out, "alerting ratios (vigil/alertmanager): latency=%s cpu=%s\n", harness.FormatRatio(latency), harness.FormatRatio(cpu))
}

// printInProcess writes part 1's figures.
func printInProcess(out io.Writer, cfg config, r *inProcessResult) {
	n := float64(r.alerts)
	fmt.Fprintln(out, "part 1, in process: core/alert.Dispatcher (store from OpenStore) into a no-op notifier that counts alerts")
	tw := newTable(out)
	fmt.Fprintf(tw, "  Receive, all batches\t%s\t%s alerts/s\t\n", harness.FormatDuration(r.receive), rate(n, r.receive))
	fmt.Fprintf(tw, "  first Receive to every alert notified\t%s\t%s alerts/s\t(of which group_wait %s)\n",
		harness.FormatDuration(r.complete), rate(n, r.complete), cfg.groupWait)
	work := r.complete - cfg.groupWait
	fmt.Fprintf(tw, "  the same less group_wait\t%s\t%s alerts/s\tdispatch throughput (higher is better)\n",
		harness.FormatDuration(work), rate(n, work))
	fmt.Fprintf(tw, "  CPU of this process, over that\t%.3f s\t%s per alert\t%s\n",
		r.cpu.Seconds(), harness.FormatDuration(r.cpu/time.Duration(r.alerts)), lowerBetter)
	fmt.Fprintf(tw, "  heap in use, %d alerts held in %d groups\t%s\t%s per alert\t(+%s over the configured dispatcher; lower is better)\n",
		r.alerts, r.groups, harness.HumanBytes(float64(r.heapAfter)),
		harness.HumanBytes((float64(r.heapAfter)-float64(r.heapBefore))/n),
		harness.HumanBytes(float64(r.heapAfter)-float64(r.heapBefore)))
	fmt.Fprintf(tw, "  notifications\t%d\t%d firing alerts\t\n", r.notifications, r.notified)
	tw.Flush()
}

// printSystems writes part 2's table and notes; either system may be
// missing.
func printSystems(out io.Writer, cfg config, v, a *systemResult) {
	fmt.Fprintln(out, "part 2, end to end: POST /api/v2/alerts to the server, webhook message to a receiver on 127.0.0.1")
	tw := newTable(out)
	fmt.Fprintf(tw, "figure\t%s\t%s\tvigil/alertmanager\t\n", systemVigil, systemAlertmanager)
	row := func(name string, f func(r *systemResult) float64, format func(float64) string, note string) {
		vs, as, rs := "n/a", "n/a", ""
		var vv, av float64
		if v != nil {
			vv = f(v)
			vs = format(vv)
		}
		if a != nil {
			av = f(a)
			as = format(av)
		}
		if v != nil && a != nil {
			rs = harness.FormatRatio(vv / av)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, vs, as, rs, note)
	}
	dur := func(x float64) string { return harness.FormatDuration(time.Duration(x)) }
	secs := func(x float64) string { return fmt.Sprintf("%.2f s", x) }
	count := func(x float64) string { return fmt.Sprintf("%.0f", x) }
	bytes := func(x float64) string { return harness.HumanBytes(x) }
	pct := func(p float64) func(r *systemResult) float64 {
		return func(r *systemResult) float64 { return float64(harness.Percentile(r.latency, p)) }
	}
	row("latency p50, POST to first notification", pct(50), dur, lowerBetter)
	row("latency p99", pct(99), dur, lowerBetter)
	row("latency max", pct(100), dur, lowerBetter)
	row("every alert notified after the first POST", func(r *systemResult) float64 { return float64(r.complete) }, dur, lowerBetter)
	row("feeding: all POSTs", func(r *systemResult) float64 { return float64(r.feed.duration) }, dur, lowerBetter)
	row("CPU, first POST to last notification", func(r *systemResult) float64 { s, c := r.cpu(); return s + c }, secs, lowerBetter)
	row("  server process", func(r *systemResult) float64 { s, _ := r.cpu(); return s }, secs, "")
	row("  notifier plugin process(es)", func(r *systemResult) float64 { _, c := r.cpu(); return c }, secs, "")
	row("CPU per alert", func(r *systemResult) float64 { return float64(r.cpuPerAlert()) }, dur, lowerBetter)
	row("peak RSS, server + children", func(r *systemResult) float64 { return float64(r.after.serverRSS + r.after.childrenRSS) }, bytes, lowerBetter)
	row("  server process", func(r *systemResult) float64 { return float64(r.after.serverRSS) }, bytes, "")
	row("  child processes", func(r *systemResult) float64 { return float64(r.after.childrenRSS) }, bytes, "")
	row("webhook messages", func(r *systemResult) float64 { return float64(r.recv.messages) }, count, "")
	row("firing alerts in them, repeats included", func(r *systemResult) float64 { return float64(r.recv.firing) }, count, "")
	tw.Flush()

	fmt.Fprintln(out, "notes:")
	for _, r := range []*systemResult{v, a} {
		if r != nil {
			fmt.Fprintf(out, "  %s: %s, %d child process(es)\n", r.name, r.version, r.after.children)
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
	x := n / d.Seconds()
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.1fk", x/1e3)
	default:
		return fmt.Sprintf("%.0f", x)
	}
}

// table aligns columns with a tabwriter and writes the lines without
// their trailing blanks when flushed.
type table struct {
	*tabwriter.Writer
	out io.Writer
	buf bytes.Buffer
}

// newTable returns a table that writes to out on Flush.
func newTable(out io.Writer) *table {
	t := &table{out: out}
	t.Writer = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', 0)
	return t
}

// Flush writes the aligned lines to the table's output.
func (t *table) Flush() {
	_ = t.Writer.Flush()
	for line := range strings.Lines(t.buf.String()) {
		fmt.Fprintln(t.out, strings.TrimRight(line, " \n"))
	}
	t.buf.Reset()
}
