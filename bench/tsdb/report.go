package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigilmon/vigil/bench/harness"
)

const (
	higherBetter = "(higher is better)"
	lowerBetter  = "(lower is better)"
)

// figureRows collects the table rows and the ratios of one combined figure.
type figureRows struct {
	ratios []float64
}

// printReport writes the result table, the notes and the final ratio line.
func printReport(out io.Writer, cfg config, results []*sizeResult) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tworkload\tvigil\tupstream\tvigil/upstream\t")
	var ingest, disk, query, memory, restartFig figureRows
	row := func(fig *figureRows, name, workload string, v, u float64, format func(float64) string, better string) {
		ratio := v / u
		fig.ratios = append(fig.ratios, ratio)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, workload, format(v), format(u), harness.FormatRatio(ratio), better)
	}
	get := func(res *sizeResult, name string) *storeResult {
		if r, ok := res.byStore[name]; ok {
			return r
		}
		nan := math.NaN()
		return &storeResult{ingestOne: nan, ingestMany: nan, heapPerSeries: nan, bytesPerSample: nan,
			rateQuery: -1, rawSelect: -1, restart: -1}
	}
	for _, res := range results {
		v, u := get(res, vigilBackend.name), get(res, upstreamBackend.name)
		wl := res.spec.String()
		row(&ingest, "ingest, 1 goroutine", wl, v.ingestOne, u.ingestOne, humanRate, higherBetter)
		row(&ingest, fmt.Sprintf("ingest, %d goroutines", cfg.workers), wl, v.ingestMany, u.ingestMany, humanRate, higherBetter)
	}
	for _, res := range results {
		v, u := get(res, vigilBackend.name), get(res, upstreamBackend.name)
		row(&disk, "disk, bytes/sample", res.spec.String(), v.bytesPerSample, u.bytesPerSample,
			func(x float64) string { return fmt.Sprintf("%.3f B", x) }, lowerBetter)
	}
	for _, res := range results {
		v, u := get(res, vigilBackend.name), get(res, upstreamBackend.name)
		wl := res.spec.String()
		row(&query, "query, sum by (job)(rate[5m])", wl, seconds(v.rateQuery), seconds(u.rateQuery), humanSeconds, lowerBetter)
		row(&query, "query, raw 2h select all", wl, seconds(v.rawSelect), seconds(u.rawSelect), humanSeconds, lowerBetter)
	}
	for _, res := range results {
		v, u := get(res, vigilBackend.name), get(res, upstreamBackend.name)
		row(&memory, "memory, heap/series", res.spec.String(), v.heapPerSeries, u.heapPerSeries, harness.HumanBytes, lowerBetter)
	}
	for _, res := range results {
		if res.spec.series < cfg.restartMinSeries {
			continue
		}
		v, u := get(res, vigilBackend.name), get(res, upstreamBackend.name)
		row(&restartFig, "restart after SIGKILL", res.spec.String(), seconds(v.restart), seconds(u.restart), humanSeconds, lowerBetter)
	}

	fmt.Fprintln(tw, "\t\t\t\t\t")
	combined := func(name string, fig figureRows, better string) {
		fmt.Fprintf(tw, "%s\t%s\t\t\t%s\t%s\n", name, fmt.Sprintf("geomean of %d ratios", len(fig.ratios)),
			harness.FormatRatio(geomean(fig.ratios)), better)
	}
	combined("ingest", ingest, higherBetter)
	combined("disk", disk, lowerBetter)
	combined("query", query, lowerBetter)
	combined("memory", memory, lowerBetter)
	combined("restart", restartFig, lowerBetter)
	tw.Flush()

	fmt.Fprintln(out)
	fmt.Fprintln(out, "notes:")
	fmt.Fprintf(out, "  workload: targets of %d series: %s; 15s scrapes, up to %s jitter, one Commit per scrape\n",
		seriesPerTarget, describeTarget(results), maxJitter)
	fmt.Fprintln(out, "  disk: upstream = block directories after CompactHead of the whole head (WAL and head chunks excluded);")
	fmt.Fprintln(out, "        vigil = badger tables and manifest after Flush, reopen and Compact (value log of deleted write-ahead records excluded); both as allocated on disk (du)")
	for _, res := range results {
		var parts []string
		for _, name := range []string{vigilBackend.name, upstreamBackend.name} {
			if r, ok := res.byStore[name]; ok {
				parts = append(parts, fmt.Sprintf("%s %s measured (%s), %s whole dir", name,
					harness.HumanBytes(float64(r.disk.measured)), r.disk.what, harness.HumanBytes(float64(r.disk.wholeDir))))
			}
		}
		fmt.Fprintf(out, "        %s: %s\n", res.spec, strings.Join(parts, "; "))
	}
	fmt.Fprintln(out, "  memory: live heap after ingest minus before, per series, while all data is in the head")
	fmt.Fprintf(out, "  ingest, %d goroutines: in a child process that then dies by SIGKILL; restart = Open on its directory\n", cfg.workers)
	fmt.Fprintf(out, "  query: median of %d runs on the sealed stores; rate query over the whole span at %s steps\n",
		cfg.queryRuns, rateQueryStep)
	for _, res := range results {
		v, vok := res.byStore[vigilBackend.name]
		u, uok := res.byStore[upstreamBackend.name]
		if !vok || !uok {
			continue
		}
		if !v.rateCheck.sameAs(u.rateCheck) {
			fmt.Fprintf(out, "  WARNING %s: rate query results differ: vigil %s, upstream %s\n", res.spec, v.rateCheck, u.rateCheck)
		}
		if !v.rawCheck.sameAs(u.rawCheck) {
			fmt.Fprintf(out, "  WARNING %s: raw select results differ: vigil %s, upstream %s\n", res.spec, v.rawCheck, u.rawCheck)
		}
	}
	fmt.Fprintf(out, "tsdb ratios (vigil/prometheus): ingest=%s disk=%s query=%s memory=%s restart=%s\n",
		harness.FormatRatio(geomean(ingest.ratios)), harness.FormatRatio(geomean(disk.ratios)), harness.FormatRatio(geomean(query.ratios)),
		harness.FormatRatio(geomean(memory.ratios)), harness.FormatRatio(geomean(restartFig.ratios)))
}

// describeTarget summarises the kind mix of a target.
func describeTarget(results []*sizeResult) string {
	if len(results) == 0 || len(results[0].w.targets) == 0 {
		return "none"
	}
	c, s, k, n := kindShares(results[0].w.targets[0])
	return fmt.Sprintf("%d constant + %d slow-changing gauges, %d counters, %d noisy gauges; %d jobs", c, s, k, n, len(jobs))
}

// seconds converts a duration to seconds, NaN for a missing (negative) one.
func seconds(d time.Duration) float64 {
	if d < 0 {
		return math.NaN()
	}
	return d.Seconds()
}

// humanRate formats samples per second.
func humanRate(x float64) string {
	switch {
	case math.IsNaN(x):
		return "n/a"
	case x >= 1e6:
		return fmt.Sprintf("%.2fM/s", x/1e6)
	default:
		return fmt.Sprintf("%.0fk/s", x/1e3)
	}
}

// humanSeconds formats a time in seconds.
func humanSeconds(x float64) string {
	switch {
	case math.IsNaN(x):
		return "n/a"
	case x >= 1:
		return fmt.Sprintf("%.2fs", x)
	default:
		return fmt.Sprintf("%.1fms", x*1e3)
	}
}

// humanCount formats a series count like 10k or 100k.
func humanCount(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// shortDuration formats a duration without trailing zero minutes and
// seconds: 3h, 1h30m, 45m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
