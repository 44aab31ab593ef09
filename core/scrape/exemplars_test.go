package scrape

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigilmon/vigil/core/tsdb"
)

// storedExemplars returns the exemplars of db as "series: labels value@ms"
// lines, by series.
func storedExemplars(t *testing.T, db *tsdb.DB) []string {
	t.Helper()
	q, err := db.ExemplarQuerier(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res, err := q.Select(0, 1<<62, []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res {
		for _, e := range r.Exemplars {
			out = append(out, fmt.Sprintf("%s: %s %s@%d", r.SeriesLabels, e.Labels, strconv.FormatFloat(e.Value, 'g', -1, 64), e.Ts))
		}
	}
	return out
}

// TestScrapeOpenMetricsExemplars scrapes an OpenMetrics target with
// exemplars on a counter and on histogram buckets, with and without their
// own timestamp, twice: an exemplar without one gets the scrape's time,
// and the same exemplar in the next scrape is a duplicate, not stored again.
func TestScrapeOpenMetricsExemplars(t *testing.T) {
	f := newFixture(t)
	f.ctype = "application/openmetrics-text; version=1.0.0; charset=utf-8"
	f.body = `# TYPE requests counter
requests_total{path="/a"} 10 # {trace_id="abc"} 1 1000.5
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.1"} 1 # {trace_id="fast"} 0.05
latency_seconds_bucket{le="1"} 3 # {trace_id="slow",span_id="s1"} 0.7 1001
latency_seconds_bucket{le="+Inf"} 3
latency_seconds_sum 0.9
latency_seconds_count 3
# EOF
`
	s, db := newTestScraper(t, `scrape "app" {}`, f.addr())
	t1, t2 := time.UnixMilli(1_002_000), time.UnixMilli(1_017_000)
	mustScrape(t, s, t1)
	mustScrape(t, s, t2)
	inst := f.addr()
	want := []string{
		fmt.Sprintf(`{__name__="latency_seconds_bucket", instance=%q, job="app", le="0.1"}: {trace_id="fast"} 0.05@1002000`, inst),
		fmt.Sprintf(`{__name__="latency_seconds_bucket", instance=%q, job="app", le="1.0"}: {span_id="s1", trace_id="slow"} 0.7@1001000`, inst),
		fmt.Sprintf(`{__name__="requests_total", instance=%q, job="app", path="/a"}: {trace_id="abc"} 1@1000500`, inst),
	}
	if diff := cmp.Diff(want, storedExemplars(t, db)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestExporterPluginExemplars collects exemplars from an exporter plugin,
// whose families reach the parser in the protobuf format, on a counter and
// on a classic histogram's bucket.
func TestExporterPluginExemplars(t *testing.T) {
	s, db := newTestScraper(t, `scrape "app" {}`, "plugin-host")
	s.exporter = exporterFunc(func(context.Context) ([]*dto.MetricFamily, error) {
		trace := func(id string, v float64, ts *timestamppb.Timestamp) *dto.Exemplar {
			return &dto.Exemplar{Label: []*dto.LabelPair{{Name: proto.String("trace_id"), Value: proto.String(id)}}, Value: proto.Float64(v), Timestamp: ts}
		}
		return []*dto.MetricFamily{
			{Name: proto.String("jobs_total"), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{{
				Counter: &dto.Counter{Value: proto.Float64(4), Exemplar: trace("job-1", 1, nil)},
			}}},
			{Name: proto.String("size_bytes"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{
				Histogram: &dto.Histogram{SampleCount: proto.Uint64(2), SampleSum: proto.Float64(300), Bucket: []*dto.Bucket{
					{UpperBound: proto.Float64(100), CumulativeCount: proto.Uint64(1)},
					{UpperBound: proto.Float64(1000), CumulativeCount: proto.Uint64(2), Exemplar: trace("big", 250, timestamppb.New(time.UnixMilli(999_000)))},
				}},
			}}},
		}, nil
	})
	mustScrape(t, s, time.UnixMilli(1_000_000))
	want := []string{
		`{__name__="jobs_total", instance="plugin-host", job="app"}: {trace_id="job-1"} 1@1000000`,
		`{__name__="size_bytes_bucket", instance="plugin-host", job="app", le="1000.0"}: {trace_id="big"} 250@999000`,
	}
	if diff := cmp.Diff(want, storedExemplars(t, db)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
