package conformance

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/sdk"
)

var exporterChecks = []Check{
	{ID: "exporter.collect", Level: Must, Kind: sdk.KindExporter, Reason: "Two collections with the sample config succeed, or report their target down (see exporter.target-error), and decode.", run: checkCollect},
	{ID: "exporter.names-valid", Level: Must, Kind: sdk.KindExporter, Reason: "Metric names match [a-zA-Z_:][a-zA-Z0-9_:]* and label names [a-zA-Z_][a-zA-Z0-9_]*, not starting with \"__\" nor using le or quantile where they are reserved.", run: checkNames},
	{ID: "exporter.no-duplicate-series", Level: Must, Kind: sdk.KindExporter, Reason: "No two series of one collection have the same name and labels, and no series repeats a label: the host would drop the collection.", run: checkDuplicates},
	{ID: "exporter.help-type", Level: Must, Kind: sdk.KindExporter, Reason: "Each family appears once with one HELP and TYPE, and each of its metrics holds a value of that type.", run: checkHelpType},
	{ID: "exporter.help-text", Level: Should, Kind: sdk.KindExporter, Reason: "Each family has a HELP text.", run: checkHelpText},
	{ID: "exporter.counter-monotonic", Level: Must, Kind: sdk.KindExporter, Reason: "Counters, and the counts of histograms and summaries, never decrease between two collections.", run: checkCounters},
	{ID: "exporter.histogram-buckets", Level: Must, Kind: sdk.KindExporter, Reason: "Histogram buckets have increasing bounds and cumulative counts; the +Inf bucket (explicit, or implied by the sample count as client_golang writes it) equals the sample count.", run: checkHistograms},
	{ID: "exporter.summary-quantiles", Level: Must, Kind: sdk.KindExporter, Reason: "Summary quantiles are in [0, 1].", run: checkSummaries},
	{ID: "exporter.target-error", Level: Must, Kind: sdk.KindExporter, Reason: "A collection may report its target down (the target_error of the last CollectResponse, sdk.TargetDown in Go) when the exporter works but its target does not: the error is one line of text, and the families sent with it pass the other checks, as the host stores them. The report says when a collection reported its target down.", run: checkTargetError},
	{ID: "exporter.target-error-up-metric", Level: Should, Kind: sdk.KindExporter, Reason: "A collection that reports its target down holds a gauge at 0 that says so, such as mysql_up or probe_success, as upstream exporters report it, so that alerts on it keep working.", run: checkTargetErrorUpMetric},
	{ID: "exporter.collection-size", Level: Must, Kind: sdk.KindExporter, Reason: "A collection, encoded, is within the limit the host takes (Options.MaxCollectionBytes, 64 MiB by default).", run: checkCollectionSize},
	{ID: "exporter.multi-target-independent", Level: Must, Kind: sdk.KindExporter, Capabilities: []string{sdk.CapabilityMultiTarget}, Reason: "Two targets collected at once both succeed, each collection the same whether alone or beside the other (family and label names): the host collects an exporter block's targets concurrently, each on its own.", run: checkMultiTargetIndependent},
	{ID: "exporter.multi-target-bad-target", Level: Must, Kind: sdk.KindExporter, Capabilities: []string{sdk.CapabilityMultiTarget}, Reason: "A target the plugin cannot use (an empty address) fails with an error, for that target only: a good target collected at the same time succeeds, and the plugin serves the next call.", run: checkMultiTargetBadTarget},
}

// collect makes one collection of c: of the first target for a
// multi-target exporter, of the plugin itself otherwise.
func (s *session) collect(ctx context.Context, c *plugConn) ([]byte, error) {
	if s.info.HasCapability(sdk.CapabilityMultiTarget) {
		return c.CollectTargetDelimited(ctx, s.targets()[0])
	}
	return c.CollectDelimited(ctx)
}

// targets are the targets a multi-target exporter is collected on:
// Options.Targets, or the suite's receiver by URL and by host:port.
func (s *session) targets() []sdk.Target {
	if len(s.opts.Targets) > 0 {
		return s.opts.Targets
	}
	return []sdk.Target{{Address: s.recv.URL}, {Address: strings.TrimPrefix(s.recv.URL, "http://")}}
}

// shape is what a collection holds, values aside: each series' name and
// label names, sorted.
func shape(b []byte) ([]string, error) {
	fams, err := client.DecodeFamilies(b)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range fams {
		for _, m := range f.Metric {
			names := make([]string, 0, len(m.Label))
			for _, lp := range m.Label {
				names = append(names, lp.GetName())
			}
			slices.Sort(names)
			out = append(out, f.GetName()+"{"+strings.Join(names, ",")+"}")
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// collectTargets collects the targets at once and returns each result.
func (s *session) collectTargets(targets []sdk.Target) ([][]byte, []error) {
	out, errs := make([][]byte, len(targets)), make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			ctx, cancel := s.callCtx()
			defer cancel()
			out[i], errs[i] = s.main.CollectTargetDelimited(ctx, t)
		})
	}
	wg.Wait()
	return out, errs
}

func checkMultiTargetIndependent(s *session) error {
	if err := s.needCalls(); err != nil {
		return err
	}
	targets := s.targets()
	if len(targets) < 2 {
		return skipf("Options.Targets has one target; the check needs two")
	}
	targets = targets[:2]
	var alone [2][]string
	for i, t := range targets {
		ctx, cancel := s.callCtx()
		b, err := s.main.CollectTargetDelimited(ctx, t)
		cancel()
		if err := collectionFailed(err); err != nil {
			return fmt.Errorf("collection of target %q alone: %w", t.Address, err)
		}
		if alone[i], err = shape(b); err != nil {
			return fmt.Errorf("collection of target %q alone: %w", t.Address, err)
		}
	}
	bodies, errs := s.collectTargets(targets)
	for i, t := range targets {
		if err := collectionFailed(errs[i]); err != nil {
			return fmt.Errorf("collection of target %q beside %q: %w", t.Address, targets[1-i].Address, err)
		}
		got, err := shape(bodies[i])
		if err != nil {
			return fmt.Errorf("collection of target %q beside %q: %w", t.Address, targets[1-i].Address, err)
		}
		if !slices.Equal(got, alone[i]) {
			return fmt.Errorf("target %q collected beside %q gives series %q, alone %q", t.Address, targets[1-i].Address, got, alone[i])
		}
	}
	return nil
}

func checkMultiTargetBadTarget(s *session) error {
	if err := s.needCalls(); err != nil {
		return err
	}
	good := s.targets()[0]
	bad := sdk.Target{Module: good.Module}
	_, errs := s.collectTargets([]sdk.Target{bad, good})
	if errs[0] == nil {
		return errors.New("a collection of a target with an empty address succeeded; it must fail with an error")
	}
	if err := collectionFailed(errs[1]); err != nil {
		return fmt.Errorf("target %q, collected beside a bad target, failed: %w", good.Address, err)
	}
	ctx, cancel := s.callCtx()
	defer cancel()
	if _, err := s.main.CollectTargetDelimited(ctx, good); collectionFailed(err) != nil {
		return fmt.Errorf("after a bad target, target %q failed: %w", good.Address, err)
	}
	return nil
}

// collectionFailed is err unless it is a target error: a collection
// that reports its target down is one the plugin made.
func collectionFailed(err error) error {
	if sdk.AsTargetError(err) != nil {
		return nil
	}
	return err
}

// exporterState holds the two collections the exporter checks look at.
type exporterState struct {
	done          bool
	err           error
	first, second []*dto.MetricFamily
	size          int
	// targetErrs are the target errors the two collections reported,
	// nil for one that reported none.
	targetErrs [2]*sdk.TargetError
}

// collections collects twice, once for all the exporter checks.
func (s *session) collections() error {
	if err := s.needCalls(); err != nil {
		return err
	}
	if !s.exp.done {
		s.exp.done = true
		s.exp.err = func() error {
			for i, dst := range []*[]*dto.MetricFamily{&s.exp.first, &s.exp.second} {
				if i > 0 {
					time.Sleep(100 * time.Millisecond)
				}
				ctx, cancel := s.callCtx()
				b, err := s.collect(ctx, s.main)
				cancel()
				s.exp.targetErrs[i] = sdk.AsTargetError(err)
				if err := collectionFailed(err); err != nil {
					return fmt.Errorf("collection %d: %w", i+1, err)
				}
				s.exp.size = max(s.exp.size, len(b))
				if *dst, err = client.DecodeFamilies(b); err != nil {
					return fmt.Errorf("collection %d: %w", i+1, err)
				}
			}
			return nil
		}()
	}
	if s.exp.err != nil {
		return skipf("the collections failed (see exporter.collect)")
	}
	return nil
}

func checkCollect(s *session) error {
	if err := s.collections(); err != nil {
		var skip *skipError
		if errors.As(err, &skip) && s.exp.err != nil {
			return s.exp.err
		}
		return err
	}
	return nil
}

var (
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// eachFamily calls f for every family of both collections, and joins
// its errors, at most one per family name.
func (s *session) eachFamily(f func(*dto.MetricFamily) error) error {
	if err := s.collections(); err != nil {
		return err
	}
	var errs []error
	reported := map[string]bool{}
	for _, fams := range [][]*dto.MetricFamily{s.exp.first, s.exp.second} {
		for _, fam := range fams {
			if reported[fam.GetName()] {
				continue
			}
			if err := f(fam); err != nil {
				reported[fam.GetName()] = true
				errs = append(errs, err)
			}
		}
	}
	return limitErrors(errs)
}

// limitErrors joins at most ten errors, saying how many more there are.
func limitErrors(errs []error) error {
	if len(errs) > 10 {
		errs = append(errs[:10], fmt.Errorf("and %d more", len(errs)-10))
	}
	return errors.Join(errs...)
}

func checkNames(s *session) error {
	return s.eachFamily(func(fam *dto.MetricFamily) error {
		name := fam.GetName()
		if !metricNameRE.MatchString(name) {
			return fmt.Errorf("metric name %q is not valid", name)
		}
		for _, m := range fam.Metric {
			for _, lp := range m.Label {
				ln := lp.GetName()
				switch {
				case !labelNameRE.MatchString(ln):
					return fmt.Errorf("metric %q: label name %q is not valid", name, ln)
				case strings.HasPrefix(ln, "__"):
					return fmt.Errorf("metric %q: label name %q starts with \"__\", which is reserved", name, ln)
				case ln == "le" && (fam.GetType() == dto.MetricType_HISTOGRAM || fam.GetType() == dto.MetricType_GAUGE_HISTOGRAM):
					return fmt.Errorf("histogram %q has a label \"le\", which its buckets use", name)
				case ln == "quantile" && fam.GetType() == dto.MetricType_SUMMARY:
					return fmt.Errorf("summary %q has a label \"quantile\", which its quantiles use", name)
				}
			}
		}
		return nil
	})
}

// seriesKey identifies a series by its name and labels.
func seriesKey(name string, m *dto.Metric) string {
	pairs := make([]string, 0, len(m.Label))
	for _, lp := range m.Label {
		pairs = append(pairs, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
	}
	slices.Sort(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

func checkDuplicates(s *session) error {
	if err := s.collections(); err != nil {
		return err
	}
	var errs []error
	for i, fams := range [][]*dto.MetricFamily{s.exp.first, s.exp.second} {
		seen := map[string]bool{}
		for _, fam := range fams {
			for _, m := range fam.Metric {
				key := seriesKey(fam.GetName(), m)
				if seen[key] {
					errs = append(errs, fmt.Errorf("collection %d has series %s twice", i+1, key))
				}
				seen[key] = true
				names := map[string]bool{}
				for _, lp := range m.Label {
					if names[lp.GetName()] {
						errs = append(errs, fmt.Errorf("collection %d: series %s has label %q twice", i+1, key, lp.GetName()))
					}
					names[lp.GetName()] = true
				}
			}
		}
		if len(errs) > 0 {
			break
		}
	}
	return limitErrors(errs)
}

func checkHelpType(s *session) error {
	if err := s.collections(); err != nil {
		return err
	}
	var errs []error
	for i, fams := range [][]*dto.MetricFamily{s.exp.first, s.exp.second} {
		seen := map[string]bool{}
		for _, fam := range fams {
			name := fam.GetName()
			if seen[name] {
				errs = append(errs, fmt.Errorf("collection %d has family %q more than once, with differing HELP or TYPE or apart", i+1, name))
				continue
			}
			seen[name] = true
			if fam.Type == nil {
				errs = append(errs, fmt.Errorf("family %q has no TYPE", name))
				continue
			}
			for _, m := range fam.Metric {
				if err := valueMatches(fam.GetType(), m); err != nil {
					errs = append(errs, fmt.Errorf("family %q of type %s: series %s %w", name, fam.GetType(), seriesKey(name, m), err))
					break
				}
			}
		}
		if len(errs) > 0 {
			break
		}
	}
	return limitErrors(errs)
}

// valueMatches says whether m holds exactly the value of type t.
func valueMatches(t dto.MetricType, m *dto.Metric) error {
	has := map[dto.MetricType]bool{
		dto.MetricType_COUNTER:   m.Counter != nil,
		dto.MetricType_GAUGE:     m.Gauge != nil,
		dto.MetricType_SUMMARY:   m.Summary != nil,
		dto.MetricType_UNTYPED:   m.Untyped != nil,
		dto.MetricType_HISTOGRAM: m.Histogram != nil,
	}
	want := t
	if t == dto.MetricType_GAUGE_HISTOGRAM {
		want = dto.MetricType_HISTOGRAM
	}
	if _, known := has[want]; !known {
		return fmt.Errorf("has an unknown type")
	}
	if !has[want] {
		return fmt.Errorf("holds no %s value", strings.ToLower(want.String()))
	}
	for other, set := range has {
		if set && other != want {
			return fmt.Errorf("also holds a %s value", strings.ToLower(other.String()))
		}
	}
	return nil
}

func checkHelpText(s *session) error {
	return s.eachFamily(func(fam *dto.MetricFamily) error {
		if strings.TrimSpace(fam.GetHelp()) == "" {
			return fmt.Errorf("family %q has no HELP", fam.GetName())
		}
		return nil
	})
}

// monotonicValues are the values of a collection that must not
// decrease, by series.
func monotonicValues(fams []*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, fam := range fams {
		for _, m := range fam.Metric {
			key := seriesKey(fam.GetName(), m)
			switch fam.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key+" count"] = histogramCount(m.GetHistogram())
			case dto.MetricType_SUMMARY:
				out[key+" count"] = float64(m.GetSummary().GetSampleCount())
			}
		}
	}
	return out
}

func histogramCount(h *dto.Histogram) float64 {
	if h.SampleCountFloat != nil {
		return h.GetSampleCountFloat()
	}
	return float64(h.GetSampleCount())
}

func checkCounters(s *session) error {
	if err := s.collections(); err != nil {
		return err
	}
	before, after := monotonicValues(s.exp.first), monotonicValues(s.exp.second)
	if len(before) == 0 {
		return skipf("the collection has no counters, histograms or summaries")
	}
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(before)) {
		if v, ok := after[key]; ok && v < before[key] {
			errs = append(errs, fmt.Errorf("%s went from %g down to %g", key, before[key], v))
		}
	}
	return limitErrors(errs)
}

func checkHistograms(s *session) error {
	n := 0
	err := s.eachFamily(func(fam *dto.MetricFamily) error {
		if t := fam.GetType(); t != dto.MetricType_HISTOGRAM && t != dto.MetricType_GAUGE_HISTOGRAM {
			return nil
		}
		for _, m := range fam.Metric {
			n++
			if err := histogramBuckets(m.GetHistogram()); err != nil {
				return fmt.Errorf("histogram %s: %w", seriesKey(fam.GetName(), m), err)
			}
		}
		return nil
	})
	if err == nil && n == 0 {
		return skipf("the collection has no histograms")
	}
	return err
}

// histogramBuckets checks the classic buckets of h.
func histogramBuckets(h *dto.Histogram) error {
	count := histogramCount(h)
	prevBound, prevCount := math.Inf(-1), 0.0
	for i, b := range h.Bucket {
		bound := b.GetUpperBound()
		c := float64(b.GetCumulativeCount())
		if b.CumulativeCountFloat != nil {
			c = b.GetCumulativeCountFloat()
		}
		if math.IsNaN(bound) || bound <= prevBound {
			return fmt.Errorf("bucket %d's bound %g does not exceed the one before, %g", i+1, bound, prevBound)
		}
		if c < prevCount {
			return fmt.Errorf("bucket le=%g counts %g, less than the bucket before, %g: counts are cumulative", bound, c, prevCount)
		}
		if math.IsInf(bound, 1) && c != count {
			return fmt.Errorf("the +Inf bucket counts %g, the sample count is %g", c, count)
		}
		if c > count {
			return fmt.Errorf("bucket le=%g counts %g, more than the sample count %g (the implied +Inf bucket)", bound, c, count)
		}
		prevBound, prevCount = bound, c
	}
	return nil
}

func checkSummaries(s *session) error {
	n := 0
	err := s.eachFamily(func(fam *dto.MetricFamily) error {
		if fam.GetType() != dto.MetricType_SUMMARY {
			return nil
		}
		for _, m := range fam.Metric {
			n++
			for _, q := range m.GetSummary().GetQuantile() {
				if v := q.GetQuantile(); math.IsNaN(v) || v < 0 || v > 1 {
					return fmt.Errorf("summary %s has quantile %g, outside [0, 1]", seriesKey(fam.GetName(), m), v)
				}
			}
		}
		return nil
	})
	if err == nil && n == 0 {
		return skipf("the collection has no summaries")
	}
	return err
}

func checkTargetError(s *session) error {
	if err := s.collections(); err != nil {
		return err
	}
	reported := 0
	for i, te := range s.exp.targetErrs {
		if te == nil {
			continue
		}
		reported++
		msg := te.Err.Error()
		switch {
		case strings.TrimSpace(msg) == "":
			return fmt.Errorf("collection %d reports its target down with a blank error", i+1)
		case strings.ContainsAny(msg, "\r\n"):
			return fmt.Errorf("collection %d reports its target down with an error of several lines, %q: the targets page shows one line", i+1, msg)
		}
	}
	if reported == 0 {
		return nil
	}
	// The families sent with it are those the other exporter checks
	// look at.
	return passf("%d of 2 collections reported the target down: %v", reported, firstTargetError(s.exp.targetErrs))
}

// firstTargetError is the first of errs that is set.
func firstTargetError(errs [2]*sdk.TargetError) error {
	for _, te := range errs {
		if te != nil {
			return te.Err
		}
	}
	return nil
}

// isUpGauge says whether fam is a gauge that says whether a target is
// up, by the names exporters give it: NAME_up, up, or probe_success.
func isUpGauge(fam *dto.MetricFamily) bool {
	name := fam.GetName()
	return fam.GetType() == dto.MetricType_GAUGE && (name == "up" || strings.HasSuffix(name, "_up") || name == "probe_success")
}

func checkTargetErrorUpMetric(s *session) error {
	if err := s.collections(); err != nil {
		return err
	}
	for i, te := range s.exp.targetErrs {
		if te == nil {
			continue
		}
		fams := [][]*dto.MetricFamily{s.exp.first, s.exp.second}[i]
		for _, fam := range fams {
			if !isUpGauge(fam) {
				continue
			}
			for _, m := range fam.Metric {
				if m.GetGauge().GetValue() == 0 {
					return nil
				}
			}
		}
		return fmt.Errorf("collection %d reports its target down (%v) but holds no gauge NAME_up or probe_success at 0", i+1, te.Err)
	}
	return skipf("no collection reported its target down")
}

func checkCollectionSize(s *session) error {
	if err := s.collections(); err != nil {
		return err
	}
	if s.exp.size > s.opts.MaxCollectionBytes {
		return fmt.Errorf("a collection is %d bytes, more than the limit of %d", s.exp.size, s.opts.MaxCollectionBytes)
	}
	return nil
}
