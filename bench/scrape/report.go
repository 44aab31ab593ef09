package main

import (
	"fmt"
	"io"
	"math"

	"github.com/vigilmon/vigil/bench/harness"
)

// reportSeries is the number of report series a scraper appends per scrape
// besides the target's samples.
const reportSeries = 5

// printReport writes the result table, the notes and the final ratio line.
func printReport(out io.Writer, cfg config, f *fixture, runs map[string]sideRun) {
	v, vok := runs[vigilSide.name]
	p, pok := runs[prometheusSide.name]
	value := func(r sideRun, ok bool, fv func(sideRun) float64) float64 {
		if !ok {
			return math.NaN()
		}
		return fv(r)
	}
	t := harness.NewTable(out, "figure", vigilSide.name, prometheusSide.name, vigilSide.name+"/"+prometheusSide.name)
	compare := func(name string, fv func(sideRun) float64, format func(float64) string, note string) float64 {
		return t.Compare(name, value(v, vok, fv), value(p, pok, fv), format, note)
	}
	values := func(name string, fv func(sideRun) float64, format func(float64) string) {
		t.Values(name, value(v, vok, fv), value(p, pok, fv), format, "")
	}
	secs := func(x float64) string { return fmt.Sprintf("%.2f s", x) }

	compare("samples ingested (store counter)", func(r sideRun) float64 { return r.SamplesAppended }, harness.HumanCount, "")
	compare("samples scraped (sum of scrape_samples_scraped)", func(r sideRun) float64 { return r.SamplesScraped }, harness.HumanCount, "")
	compare("scrapes (up samples)", func(r sideRun) float64 { return float64(r.Scrapes) }, harness.HumanCount, "")
	values("failed scrapes (up == 0)", func(r sideRun) float64 { return float64(r.Scrapes - r.ScrapesUp) }, harness.HumanCount)
	compare("series in the store", func(r sideRun) float64 { return r.Series }, harness.HumanCount, "")
	values("scrape window", func(r sideRun) float64 { return r.Window.Seconds() }, secs)
	compare("CPU seconds (user+sys, scrape window)", func(r sideRun) float64 { return r.Usage.CPU().Seconds() }, secs, "")
	cpuRatio := compare("CPU seconds per million samples", cpuPerMillion, func(x float64) string { return fmt.Sprintf("%.3f s", x) }, harness.LowerIsBetter)
	rssRatio := compare("peak RSS (to the end of the window)", func(r sideRun) float64 { return float64(r.Usage.MaxRSS) }, harness.HumanBytes, harness.LowerIsBetter)
	t.Gap()
	compare("whole child: CPU seconds (user+sys)", func(r sideRun) float64 { return r.process.Usage.CPU().Seconds() }, secs, "")
	compare("whole child: peak RSS", func(r sideRun) float64 { return float64(r.process.Usage.MaxRSS) }, harness.HumanBytes, "")
	values("whole child: wall time", func(r sideRun) float64 { return r.process.Wall.Seconds() }, secs)
	t.Flush()

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
	fmt.Fprintln(out, harness.RatioLine("scrape", "vigil/prometheus", harness.Ratio{Key: "cpu_per_sample", Value: cpuRatio}, harness.Ratio{Key: "rss", Value: rssRatio}))
}

// cpuPerMillion is the CPU seconds of the scrape window per million samples
// ingested.
func cpuPerMillion(r sideRun) float64 {
	return r.Usage.CPU().Seconds() / (r.SamplesAppended / 1e6)
}
