package scrape

import (
	"bytes"
	"context"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/hclconfig"
)

// fuzzContentTypes are the exposition formats a target may answer in,
// FuzzAppendScrape picks one by its first argument; the last is a type no
// parser knows, which the scrape block's fallback protocol stands for.
var fuzzContentTypes = []string{
	"text/plain; version=0.0.4",
	"application/openmetrics-text; version=1.0.0",
	protobufContentType,
	"application/x-unknown",
}

// FuzzAppendScrape appends any body, in each exposition format, as a
// scrape of a target with limits and exemplars on. It must not panic, a
// scrape stays within its sample limit, and what it appends commits.
func FuzzAppendScrape(f *testing.F) {
	for _, s := range []string{
		"# TYPE requests_total counter\n# HELP requests_total Requests.\nrequests_total{path=\"/a\"} 10\nrequests_total{path=\"/b\"} 20 1700000000000\n",
		"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n",
		"m{a=\"\\\"\\n\\\\\"} NaN\nm2 +Inf\n{\"utf8.name\",\"x\"=\"y\"} 1\n",
		"# TYPE jobs counter\n# UNIT jobs seconds\njobs_total 1 # {trace_id=\"abc\"} 1 1700000000.000\njobs_created 1700000000\n# EOF\n",
		"# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\ns_count 1\n# EOF\n",
		"a 1\na 2\n",
		"",
	} {
		f.Add(uint8(0), []byte(s))
		f.Add(uint8(1), []byte(s))
	}
	f.Add(uint8(2), protoBody(f))
	f.Add(uint8(3), []byte("up 1\n"))

	cfg, diags := hclconfig.Parse("fuzz.hcl", []byte(`scrape "fuzz" {
  sample_limit           = 100
  label_limit            = 20
  label_name_length_limit  = 200
  label_value_length_limit = 200
  honor_timestamps       = true
}`))
	if diags.HasErrors() {
		f.Fatal(diags.Error())
	}
	sc := cfg.Scrapes[0]
	tgt, err := NewTarget(sc, labels.FromStrings("__address__", "localhost:9100"), labels.EmptyLabels())
	if err != nil {
		f.Fatal(err)
	}
	db, err := tsdb.Open(f.TempDir(), tsdb.Options{MaxExemplars: 100})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	ts := time.UnixMilli(1_700_000_000_000)
	f.Fuzz(func(t *testing.T, format uint8, body []byte) {
		s := newScraper(tgt, sc, nil, db)
		s.cache.begin()
		defer s.cache.end()
		s.meta.begin(s.cache.iter)
		app := db.AppenderV2(context.Background())
		st, err := s.appendScrape(app, body, fuzzContentTypes[int(format)%len(fuzzContentTypes)], ts)
		if err != nil {
			if err := app.Rollback(); err != nil {
				t.Fatalf("rolling back a failed scrape: %v", err)
			}
			return
		}
		if st.postRelabel > sc.SampleLimit || st.postRelabel > st.scraped {
			t.Fatalf("a scrape of %d samples stored %d, over its limit of %d", st.scraped, st.postRelabel, sc.SampleLimit)
		}
		if err := app.Commit(); err != nil {
			t.Fatalf("a scrape that parsed does not commit: %v", err)
		}
	})
}

// protoBody is a delimited protobuf exposition: a counter with an
// exemplar, a gauge and a native histogram.
func protoBody(f *testing.F) []byte {
	var out bytes.Buffer
	for _, mf := range []*dto.MetricFamily{
		{Name: proto.String("jobs_total"), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{{
			Label:   []*dto.LabelPair{{Name: proto.String("queue"), Value: proto.String("a")}},
			Counter: &dto.Counter{Value: proto.Float64(3), Exemplar: &dto.Exemplar{Label: []*dto.LabelPair{{Name: proto.String("trace_id"), Value: proto.String("x")}}, Value: proto.Float64(1)}},
		}}},
		{Name: proto.String("temp"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(21.5)}}}},
		{Name: proto.String("latency"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: &dto.Histogram{
			SampleCount: proto.Uint64(3), SampleSum: proto.Float64(1.5), Schema: proto.Int32(0), ZeroThreshold: proto.Float64(1e-9), ZeroCount: proto.Uint64(1),
			PositiveSpan: []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(2)}}, PositiveDelta: []int64{1, 0},
		}}}},
	} {
		if _, err := protodelim.MarshalTo(&out, mf); err != nil {
			f.Fatal(err)
		}
	}
	return out.Bytes()
}
