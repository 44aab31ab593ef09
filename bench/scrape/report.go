package main

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/vigilmon/vigil/bench/harness"
)

const lowerBetter = "(lower is better)"

// reportSides are the two sides in the order of the table's columns.
var reportSides = []string{vigilSide.name, prometheusSide.name}

// reportSeries is the number of report series a scraper appends per scrape
// besides the target's samples.
const reportSeries = 5

// printReport writes the result table, the notes and the final ratio line.
func printReport(out io.Writer, cfg config, f *fixture, runs map[string]sideRun) {
	v, vok := runs[vigilSide.name]
	p, pok := runs[prometheusSide.name]

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "figure\t%s\t%s\t%s/%s\t\n", reportSides[0], reportSides[1], reportSides[0], reportSides[1])
	row := func(name string, fv func(sideRun) float64, format func(float64) string, withRatio bool, note string) float64 {
		cell := func(r sideRun, ok bool) (string, float64) {
			if !ok {
				return "n/a", math.NaN()
			}
			x := fv(r)
			return format(x), x
		}
		vs, vx := cell(v, vok)
		ps, px := cell(p, pok)
		ratio := vx / px
		rs := ""
		if withRatio {
			rs = harness.FormatRatio(ratio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, vs, ps, rs, note)
		return ratio
	}
	count := func(x float64) string { return humanCount(x) }
	secs := func(x float64) string { return fmt.Sprintf("%.2f s", x) }
	mib := func(x float64) string { return fmt.Sprintf("%.1f MiB", x/(1<<20)) }

	row("samples ingested (store counter)", func(r sideRun) float64 { return r.SamplesAppended }, count, true, "")
	row("samples scraped (sum of scrape_samples_scraped)", func(r sideRun) float64 { return r.SamplesScraped }, count, true, "")
	row("scrapes (up samples)", func(r sideRun) float64 { return float64(r.Scrapes) }, count, true, "")
	row("failed scrapes (up == 0)", func(r sideRun) float64 { return float64(r.Scrapes - r.ScrapesUp) }, count, false, "")
	row("series in the store", func(r sideRun) float64 { return r.Series }, count, true, "")
	row("scrape window", func(r sideRun) float64 { return r.Window.Seconds() }, secs, false, "")
	row("CPU seconds (user+sys, scrape window)", func(r sideRun) float64 { return r.Usage.CPU().Seconds() }, secs, true, "")
	cpuRatio := row("CPU seconds per million samples", cpuPerMillion, func(x float64) string { return fmt.Sprintf("%.3f s", x) }, true, lowerBetter)
	rssRatio := row("peak RSS (to the end of the window)", func(r sideRun) float64 { return float64(r.Usage.MaxRSS) }, mib, true, lowerBetter)
	fmt.Fprintln(tw, "\t\t\t\t")
	row("whole child: CPU seconds (user+sys)", func(r sideRun) float64 { return r.process.Usage.CPU().Seconds() }, secs, true, "")
	row("whole child: peak RSS", func(r sideRun) float64 { return float64(r.process.Usage.MaxRSS) }, mib, true, "")
	row("whole child: wall time", func(r sideRun) float64 { return r.process.Wall.Seconds() }, secs, false, "")
	tw.Flush()

	fmt.Fprintln(out)
	fmt.Fprintln(out, "notes:")
	fmt.Fprintf(out, "  fixture: %d targets x %d series on 127.0.0.1, text format, %s per body uncompressed; %d classic histograms of %d series each, the rest half counters, half gauges; values move at every scrape\n",
		cfg.targets, cfg.series, harness.HumanBytes(float64(f.bodyBytes())), histogramsPerTarget, seriesPerHistogram)
	fmt.Fprintf(out, "  scraping: every %s, timeout %s, for %s per side, one side at a time, each in a child process with its store's server defaults in a fresh temp dir\n",
		cfg.interval, cfg.timeout, cfg.duration)
	fmt.Fprintln(out, "  samples ingested: vigil_tsdb_samples_appended_total / sum of prometheus_tsdb_head_samples_appended_total, read in the child after Stop")
	fmt.Fprintln(out, "  CPU and peak RSS: the child's getrusage over the scrape window (manager start to the end of Stop); whole child: the kernel's figures at exit")
	fmt.Fprintln(out, "  GC: each child runs as its server does: prometheus with GOGC=75 (its runtime config default), vigil with GOGC=75 (vigil server's default)")
	for _, name := range cfg.sides {
		r := runs[name]
		failed := r.Scrapes - r.ScrapesUp
		fmt.Fprintf(out, "  %s: the fixture answered %d scrapes, the store holds %d\n", name, r.served, r.Scrapes)
		want := float64(cfg.targets) * (r.Window.Seconds() / cfg.interval.Seconds())
		switch {
		case failed > 0:
			fmt.Fprintf(out, "  WARNING %s: %d of %d scrapes failed (up == 0: the fetch failed or timed out); each then appended stale markers too\n", name, failed, r.Scrapes)
		case float64(r.Scrapes) < 0.9*want:
			fmt.Fprintf(out, "  WARNING %s: %d scrapes stored, about %.0f expected: it did not keep up with the interval\n", name, r.Scrapes, want)
		}
		// The counter holds the scraped samples, the report series and at
		// most one stale marker per series for each failed scrape.
		low := r.SamplesScraped + float64(reportSeries*r.Scrapes)
		high := low + float64(failed)*float64(cfg.series)
		if r.SamplesAppended < 0.999*low || r.SamplesAppended > 1.001*high {
			fmt.Fprintf(out, "  WARNING %s: the store counted %.0f samples, scraped + report series + stale markers make %.0f to %.0f\n", name, r.SamplesAppended, low, high)
		}
	}
	fmt.Fprintf(out, "scrape ratios (vigil/prometheus): cpu_per_sample=%s rss=%s\n", harness.FormatRatio(cpuRatio), harness.FormatRatio(rssRatio))
}

// cpuPerMillion is the CPU seconds of the scrape window per million samples
// ingested.
func cpuPerMillion(r sideRun) float64 {
	return r.Usage.CPU().Seconds() / (r.SamplesAppended / 1e6)
}

// humanCount formats a count: 950, 12.3k, 11.95M.
func humanCount(x float64) string {
	switch {
	case math.IsNaN(x):
		return "n/a"
	case x >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case x >= 1e4:
		return fmt.Sprintf("%.1fk", x/1e3)
	default:
		return fmt.Sprintf("%.0f", x)
	}
}
