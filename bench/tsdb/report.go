package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/vigilmon/vigil/bench/harness"
)

// printReport writes the result table, the notes and the final ratio line.
func printReport(out io.Writer, cfg config, results []*sizeResult) {
	t := harness.NewTable(out, "figure", "workload", "vigil", "upstream", "vigil/upstream")
	var ingest, disk, query, memory, restart []float64
	get := func(res *sizeResult, name string) *storeResult {
		if r, ok := res.byStore[name]; ok {
			return r
		}
		nan := math.NaN()
		return &storeResult{ingestOne: nan, ingestMany: nan, heapPerSeries: nan, bytesPerSample: nan,
			rateQuery: -1, rawSelect: -1, restart: -1}
	}
	// label is a row's figure and workload columns.
	label := func(figure string, res *sizeResult) string { return figure + "\t" + res.spec.String() }
	bytesPerSample := func(x float64) string { return fmt.Sprintf("%.3f B", x) }
	for _, res := range results {
		v, u := get(res, vigilBackend.name), get(res, upstreamBackend.name)
		ingest = append(ingest,
			t.Compare(label("ingest, 1 goroutine", res), v.ingestOne, u.ingestOne, humanRate, harness.HigherIsBetter),
			t.Compare(label(fmt.Sprintf("ingest, %d goroutines", cfg.workers), res), v.ingestMany, u.ingestMany, humanRate, harness.HigherIsBetter))
	}
	for _, res := range results {
		v, u := get(res, vigilBackend.name), get(res, upstreamBackend.name)
		disk = append(disk, t.Compare(label("disk, bytes/sample", res), v.bytesPerSample, u.bytesPerSample, bytesPerSample, harness.LowerIsBetter))
	}
	for _, res := range results {
		v, u := get(res, vigilBackend.name), get(res, upstreamBackend.name)
		query = append(query,
			t.Compare(label("query, sum by (job)(rate[5m])", res), harness.Seconds(v.rateQuery), harness.Seconds(u.rateQuery), harness.FormatSeconds, harness.LowerIsBetter),
			t.Compare(label("query, raw 2h select all", res), harness.Seconds(v.rawSelect), harness.Seconds(u.rawSelect), harness.FormatSeconds, harness.LowerIsBetter))
	}
	for _, res := range results {
		v, u := get(res, vigilBackend.name), get(res, upstreamBackend.name)
		memory = append(memory, t.Compare(label("memory, heap/series", res), v.heapPerSeries, u.heapPerSeries, harness.HumanBytes, harness.LowerIsBetter))
	}
	for _, res := range results {
		if res.spec.series < cfg.restartMinSeries {
			continue
		}
		v, u := get(res, vigilBackend.name), get(res, upstreamBackend.name)
		restart = append(restart, t.Compare(label("restart after SIGKILL", res), harness.Seconds(v.restart), harness.Seconds(u.restart), harness.FormatSeconds, harness.LowerIsBetter))
	}

	t.Gap()
	combined := func(name string, ratios []float64, better string) harness.Ratio {
		g := geomean(ratios)
		t.Row(name, fmt.Sprintf("geomean of %d ratios", len(ratios)), "", "", harness.FormatRatio(g), better)
		return harness.Ratio{Key: name, Value: g}
	}
	line := []harness.Ratio{
		combined("ingest", ingest, harness.HigherIsBetter),
		combined("disk", disk, harness.LowerIsBetter),
		combined("query", query, harness.LowerIsBetter),
		combined("memory", memory, harness.LowerIsBetter),
		combined("restart", restart, harness.LowerIsBetter),
	}
	t.Flush()
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
	fmt.Fprintln(out, harness.RatioLine("tsdb", "vigil/prometheus", line...))
}

// describeTarget summarises the kind mix of a target.
func describeTarget(results []*sizeResult) string {
	if len(results) == 0 || len(results[0].w.targets) == 0 {
		return "none"
	}
	c, s, k, n := kindShares(results[0].w.targets[0])
	return fmt.Sprintf("%d constant + %d slow-changing gauges, %d counters, %d noisy gauges; %d jobs", c, s, k, n, len(jobs))
}

// humanRate formats samples per second.
func humanRate(x float64) string { return harness.HumanCount(x) + "/s" }

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
