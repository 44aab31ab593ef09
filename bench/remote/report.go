package main

import (
	"fmt"
	"io"

	"github.com/vigilmon/vigil/bench/harness"
)

// printReport writes the table of both agents, the notes and the last
// line.
func printReport(out io.Writer, cfg config, v, p *agentResult) {
	fmt.Fprintf(out, "remote write: %d targets x %d series scraped every %s for %s by both agents at once, sent to one receiver on 127.0.0.1\n",
		cfg.targets, cfg.series, cfg.interval, cfg.duration)
	t := harness.NewTable(out, "figure", senderVigil, senderPrometheus, "vigil/prometheus")
	count := func(x float64) string {
		if x < 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.0f", x)
	}
	secs := func(x float64) string { return fmt.Sprintf("%.2f s", x) }
	micros := func(x float64) string { return fmt.Sprintf("%.3f us", x*1e6) }
	fraction := func(x float64) string { return fmt.Sprintf("%.4f", x) }
	t.Values("scrapes served in full", float64(v.servedScrapes), float64(p.servedScrapes), count, "")
	t.Values("samples served", float64(v.served), float64(p.served), count, "")
	t.Values("samples delivered (received once)", float64(v.recv.samples), float64(p.recv.samples), count, "")
	t.Values("delivered fraction", v.delivered(), p.delivered(), fraction, "(1.0000 is every sample)")
	t.Values("duplicates received", float64(v.recv.duplicates), float64(p.recv.duplicates), count, "(0 is right)")
	t.Values("series received", float64(v.recv.series), float64(p.recv.series), count, "")
	t.Values("sum of scrape_samples_scraped received", v.recv.scraped, p.recv.scraped, count, "(the agent's own count of samples scraped)")
	t.Values("stale markers, own series' samples", float64(v.recv.stale+v.recv.own), float64(p.recv.stale+p.recv.own), count, "(up, scrape_*; markers when the targets closed)")
	t.Values("remote-write requests", float64(v.recv.requests), float64(p.recv.requests), count, "")
	t.Compare("drained after the targets closed", harness.Seconds(v.drained), harness.Seconds(p.drained), harness.FormatSeconds, "")
	t.Compare("CPU, targets open to drained", v.cpu, p.cpu, secs, "")
	t.Compare("CPU per delivered sample", v.cpuPerSample(), p.cpuPerSample(), micros, harness.LowerIsBetter)
	t.Compare("peak RSS (VmHWM)", v.peakRSS, p.peakRSS, harness.HumanBytes, harness.LowerIsBetter)
	t.Compare("mean RSS, second half of the open phase", v.meanRSS, p.meanRSS, harness.HumanBytes, "")
	t.Values("own metrics: samples appended to the WAL", v.appended, p.appended, count, "")
	t.Values("  samples sent", v.sent, p.sent, count, "")
	t.Values("  failed", v.failed, p.failed, count, "")
	t.Values("  retried", v.retried, p.retried, count, "")
	t.Flush()

	fmt.Fprintln(out, "notes:")
	for _, r := range []*agentResult{v, p} {
		fmt.Fprintf(out, "  %s: %s; %s\n", r.name, r.version, r.exactlyOnce())
		for _, line := range r.complaints {
			fmt.Fprintf(out, "    logged: %s\n", line)
		}
	}
	fmt.Fprintln(out, "  delivered: samples of the targets' series received the first time, over the samples the targets served the agent in full; a sample of a series not newer than the newest received is a duplicate")
	fmt.Fprintln(out, "  CPU: utime+stime from /proc/<pid>/stat (10 ms ticks) of the agent's process, from the opening of the targets until every sample arrived and a settling time after")
	fmt.Fprintln(out, "  rss: the peak, VmHWM of /proc/<pid>/status at the end; the mean samples VmRSS every 2s")
	fmt.Fprintln(out, "  both agents ran at once, each from a fresh start in a new temporary directory, with the remote-write queue's defaults")

	cpu := v.cpuPerSample() / p.cpuPerSample()
	rss := v.peakRSS / p.peakRSS
	delivered := v.delivered()
	fmt.Fprintln(out, harness.RatioLine("remote", "vigil/prometheus",
		harness.Ratio{Key: "cpu_per_sample", Value: cpu}, harness.Ratio{Key: "rss", Value: rss}, harness.Ratio{Key: "delivered", Value: delivered}))
}

// exactlyOnce says whether every sample served arrived exactly once, or
// how many did not arrive and how many came more than once.
func (r *agentResult) exactlyOnce() string {
	missing := r.served - r.recv.samples
	if missing == 0 && r.recv.duplicates == 0 {
		return "every sample served arrived exactly once"
	}
	return fmt.Sprintf("NOT exactly once: %d samples missing, %d duplicates", missing, r.recv.duplicates)
}
