package main

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/vigilmon/vigil/bench/harness"
)

// printScaleReport writes the scale mode's table, its notes and its last
// line,
//
//	tsdb scale (vigil/prometheus): rss_active=X rss_churn=X ingest=X
//
// rss_* being the resident sets at the end of each phase and ingest the
// samples per second over both phases.
func printScaleReport(out io.Writer, cfg config, phases []*scaleRun) {
	t := harness.NewTable(out, "figure", "phase", "vigil", "upstream", "vigil/upstream")
	nan := math.NaN()
	get := func(p *scaleRun, name string) *scaleResult {
		if r, ok := p.byStore[name]; ok {
			return r
		}
		return &scaleResult{Ingest: -1, RSS: -1, PeakRSS: -1, FileRSS: -1, WorkloadRSS: -1, HeadSeries: -1, Blocks: -1}
	}
	// value returns x, NaN where it was not measured.
	value := func(x int64) float64 {
		if x < 0 {
			return nan
		}
		return float64(x)
	}
	rate := func(samples int64, took time.Duration) float64 {
		if took <= 0 {
			return nan
		}
		return float64(samples) / took.Seconds()
	}
	rss := map[string]float64{}
	var total [2]struct {
		samples int64
		took    time.Duration
	}
	for _, p := range phases {
		v, u := get(p, vigilBackend.name), get(p, upstreamBackend.name)
		label := func(figure string) string { return figure + "\t" + p.phase }
		rss[p.phase] = t.Compare(label("RSS at the end"), value(v.RSS), value(u.RSS), harness.HumanBytes, harness.LowerIsBetter)
		t.Values(label("  of it mapped files"), value(v.FileRSS), value(u.FileRSS), harness.HumanBytes, "")
		t.Values(label("  of it the workload's"), value(v.WorkloadRSS), value(u.WorkloadRSS), harness.HumanBytes, "")
		t.Compare(label("peak RSS"), value(v.PeakRSS), value(u.PeakRSS), harness.HumanBytes, "")
		t.Compare(label("live heap after GC"), float64(v.LiveHeap), float64(u.LiveHeap), harness.HumanBytes, "")
		t.Compare(label("peak live heap"), float64(v.PeakLiveHeap), float64(u.PeakLiveHeap), harness.HumanBytes, "")
		t.Values(label("series in memory"), value(int64(v.HeadSeries)), value(int64(u.HeadSeries)), harness.HumanCount, "")
		if p.phase == phaseChurn {
			t.Values(label("blocks persisted"), nan, value(int64(u.Blocks)), harness.HumanCount, "")
		}
		t.Compare(label("ingest"), rate(v.Samples, v.Ingest), rate(u.Samples, u.Ingest), humanRate, harness.HigherIsBetter)
		for k, r := range []*scaleResult{v, u} {
			total[k].samples += r.Samples
			total[k].took += r.Ingest
		}
	}
	t.Gap()
	ingest := t.Compare("ingest\tboth", rate(total[0].samples, total[0].took), rate(total[1].samples, total[1].took), humanRate, harness.HigherIsBetter)
	t.Flush()

	sc := cfg.scale
	fmt.Fprintln(out)
	fmt.Fprintln(out, "notes:")
	fmt.Fprintf(out, "  workload: node_exporter-like targets of %d series, scraped every %s (synthetic time), one Commit per scrape, %d appenders\n",
		seriesPerTarget, scrapeInterval, cfg.workers)
	for _, p := range phases {
		lo, hi := p.w.window(0)
		fmt.Fprintf(out, "  %s: %s series, %s in each round, over %s (%d rounds, %s samples)\n", p.phase,
			harness.HumanCount(float64(p.w.numSeries())), harness.HumanCount(float64((hi-lo)*seriesPerTarget)),
			shortDuration(time.Duration(p.w.rounds)*scrapeInterval), p.w.rounds, harness.HumanCount(float64(p.w.numSamples())))
	}
	fmt.Fprintln(out, "         each round, the window of active targets slides on by the targets it takes to reach the last one in the last round")
	fmt.Fprintln(out, "  each phase of each store in a child process of its own, one after the other; RSS = VmRSS of the child, peak RSS = its VmHWM,")
	fmt.Fprintf(out, "  both measured %s after the last commit (upstream's due head compactions and Vigil's due maintenance run first), before any forced GC;\n", sc.settle)
	fmt.Fprintln(out, "  mapped files = RssFile at the same time; the workload's part = VmRSS once the targets were built, before Open")
	fmt.Fprintln(out, "  (churn builds them as they enter); live heap = the Go heap after two forced GCs, measured after RSS;")
	fmt.Fprintln(out, "  peak live heap = the highest live heap a GC found from Open to the end (the GC lets the heap grow to twice it)")
	fmt.Fprintln(out, "  upstream: tsdb.DefaultOptions (2h blocks) and snappy WAL; vigil: "+vigilScaleNote)
	fmt.Fprintln(out, "  ingest: samples / time from the first Append to the last Commit; both = all samples / all that time")
	for _, p := range phases {
		if u, ok := p.byStore[upstreamBackend.name]; ok && p.phase == phaseChurn && u.Blocks == 0 {
			fmt.Fprintln(out, "  WARNING churn: upstream persisted no block, so its head dropped no series; make -churn-span longer")
		}
	}
	fmt.Fprintln(out, "tsdb scale (vigil/prometheus):"+harness.FormatRatios(
		harness.Ratio{Key: "rss_active", Value: rss[phaseActive]},
		harness.Ratio{Key: "rss_churn", Value: rss[phaseChurn]},
		harness.Ratio{Key: "ingest", Value: ingest},
	))
}
