package promexport_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/promexport"
	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
)

// constCollector sends the metrics its function makes, describing descs
// (none: an unchecked collector).
type constCollector struct {
	descs   []*prometheus.Desc
	metrics func() []prometheus.Metric
}

func (c constCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c constCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.metrics() {
		ch <- m
	}
}

// badMetric writes what it is given, however wrong.
type badMetric struct {
	desc *prometheus.Desc
	dm   *dto.Metric
}

func (m badMetric) Desc() *prometheus.Desc { return m.desc }
func (m badMetric) Write(out *dto.Metric) error {
	proto.Merge(out, m.dm)
	return nil
}

// fill registers, in reg, collectors of every kind client_golang has.
func fill(t *testing.T, reg prometheus.Registerer) {
	t.Helper()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "test_requests_total", Help: "Requests."}, []string{"method", "code"})
	for i := range 50 {
		requests.WithLabelValues([]string{"GET", "POST", "PUT"}[i%3], fmt.Sprint(200+i)).Add(float64(i))
	}
	queue := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "test_queue_length", Help: "Queue length.", ConstLabels: prometheus.Labels{"pool": "main"}}, []string{"shard"})
	for i := range 40 {
		queue.WithLabelValues(fmt.Sprintf("shard-%02d", 39-i)).Set(float64(i) / 3)
	}
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "test_latency_seconds", Help: "Latency.", Buckets: []float64{0.1, 0.5, 1}}, []string{"op"})
	latency.WithLabelValues("read").Observe(0.3)
	latency.WithLabelValues("write").Observe(2)
	sizes := prometheus.NewSummary(prometheus.SummaryOpts{Name: "test_size_bytes", Help: "Sizes.", Objectives: map[float64]float64{0.5: 0.05}})
	sizes.Observe(10)
	native := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "test_native_seconds", Help: "Native.", NativeHistogramBucketFactor: 1.1})
	native.Observe(0.7)
	up := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "test_up", Help: "Up."}, func() float64 { return 1 })
	// Two families sent interleaved, with timestamps and unsorted
	// label values, by a checked collector.
	a := prometheus.NewDesc("test_a", "A.", []string{"x"}, nil)
	b := prometheus.NewDesc("test_b", "B.", []string{"y", "z"}, nil)
	when := time.UnixMilli(1_700_000_000_000)
	mixed := constCollector{descs: []*prometheus.Desc{a, b}, metrics: func() []prometheus.Metric {
		var out []prometheus.Metric
		for i := range 20 {
			out = append(out,
				prometheus.MustNewConstMetric(a, prometheus.GaugeValue, float64(i), fmt.Sprint(19-i)),
				prometheus.NewMetricWithTimestamp(when.Add(time.Duration(i)*time.Second), prometheus.MustNewConstMetric(b, prometheus.CounterValue, float64(i), "same", fmt.Sprint(i%7))),
			)
		}
		return out
	}}
	// An unchecked collector, making its descriptors as it collects.
	unchecked := constCollector{metrics: func() []prometheus.Metric {
		d := prometheus.NewDesc("test_unchecked", "Unchecked.", []string{"k"}, prometheus.Labels{"c": "1"})
		return []prometheus.Metric{
			prometheus.MustNewConstMetric(d, prometheus.UntypedValue, 1, "v2"),
			prometheus.MustNewConstMetric(d, prometheus.UntypedValue, 2, "v1"),
		}
	}}
	// Values holding 0 bytes, and labels written out of order.
	zeros := prometheus.NewDesc("test_zeros", "Zeros.", []string{"v"}, nil)
	odd := constCollector{metrics: func() []prometheus.Metric {
		out := []prometheus.Metric{
			prometheus.MustNewConstMetric(zeros, prometheus.GaugeValue, 1, "a\x00b"),
			prometheus.MustNewConstMetric(zeros, prometheus.GaugeValue, 2, "a"),
			prometheus.MustNewConstMetric(zeros, prometheus.GaugeValue, 3, "a\x00"),
			prometheus.MustNewConstMetric(zeros, prometheus.GaugeValue, 4, ""),
		}
		for _, v := range []string{"2", "1", "3"} {
			out = append(out, badMetric{prometheus.NewDesc("test_unsorted", "Unsorted.", nil, nil), &dto.Metric{
				Label: []*dto.LabelPair{{Name: proto.String("z"), Value: proto.String(v)}, {Name: proto.String("a"), Value: proto.String("x")}},
				Gauge: &dto.Gauge{Value: proto.Float64(1)},
			}})
		}
		return out
	}}
	for _, c := range []prometheus.Collector{requests, queue, latency, sizes, native, up, mixed, unchecked, odd} {
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
	}
}

// gathered is the collection sdk.GathererExporter sends for g.
func gathered(t *testing.T, g prometheus.Gatherer) []byte {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, f := range families {
		if out, err = sdk.AppendDelimited(out, f); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// collect is one collection of r through the SDK's server, as the host
// receives it.
func collect(t *testing.T, e sdk.Exporter) ([]byte, error) {
	t.Helper()
	s, err := sdk.NewServer(sdk.Plugin{Info: sdk.Info{Name: "test"}, Exporter: func(sdk.Config) (sdk.Exporter, error) { return e, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Configure(&pb.ConfigureRequest{ConfigJson: []byte(`{}`)}); r.Error != "" {
		t.Fatal(r.Error)
	}
	var out []byte
	err = s.Collect(context.Background(), func(r *pb.CollectResponse) error {
		out = append(out, r.MetricFamilies...)
		return nil
	})
	return out, err
}

// TestSameAsGather checks that a collection holds the bytes the
// GathererExporter of the same registry sends.
func TestSameAsGather(t *testing.T) {
	reg := promexport.NewRegistry()
	fill(t, reg)
	want := gathered(t, reg)
	for i := range 3 { // the second and third reuse the first's state
		got, err := collect(t, reg.Exporter())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("collection %d: %d bytes differ from the %d of Gather's families", i, len(got), len(want))
		}
	}
}

// TestErrors checks that a collection fails where Gather fails.
func TestErrors(t *testing.T) {
	d := prometheus.NewDesc("test_g", "G.", []string{"l"}, nil)
	gauge := func(v string) prometheus.Metric { return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, 1, v) }
	cases := map[string]struct {
		c    prometheus.Collector
		want string
	}{
		"duplicate series": {constCollector{descs: []*prometheus.Desc{d}, metrics: func() []prometheus.Metric {
			return []prometheus.Metric{gauge("a"), gauge("b"), gauge("a")}
		}}, "was collected before with the same name and label values"},
		"another help": {constCollector{metrics: func() []prometheus.Metric {
			return []prometheus.Metric{gauge("a"), prometheus.MustNewConstMetric(prometheus.NewDesc("test_g", "Other help.", []string{"l"}, nil), prometheus.GaugeValue, 1, "b")}
		}}, "has help"},
		"another type": {constCollector{metrics: func() []prometheus.Metric {
			return []prometheus.Metric{gauge("a"), prometheus.MustNewConstMetric(d, prometheus.CounterValue, 1, "b")}
		}}, "should be"},
		"label value not utf8": {constCollector{metrics: func() []prometheus.Metric {
			return []prometheus.Metric{badMetric{d, &dto.Metric{Label: []*dto.LabelPair{{Name: proto.String("l"), Value: proto.String("\xff")}}, Gauge: &dto.Gauge{Value: proto.Float64(1)}}}}
		}}, "not utf8"},
		"reserved label name": {constCollector{metrics: func() []prometheus.Metric {
			return []prometheus.Metric{badMetric{d, &dto.Metric{Label: []*dto.LabelPair{{Name: proto.String("__l"), Value: proto.String("v")}}, Gauge: &dto.Gauge{Value: proto.Float64(1)}}}}
		}}, "invalid name"},
		"repeated label name": {constCollector{metrics: func() []prometheus.Metric {
			return []prometheus.Metric{badMetric{d, &dto.Metric{Label: []*dto.LabelPair{{Name: proto.String("l"), Value: proto.String("v")}, {Name: proto.String("l"), Value: proto.String("w")}}, Gauge: &dto.Gauge{Value: proto.Float64(1)}}}}
		}}, "two or more labels with the same name"},
		"quantile label of a summary": {constCollector{metrics: func() []prometheus.Metric {
			return []prometheus.Metric{badMetric{d, &dto.Metric{Label: []*dto.LabelPair{{Name: proto.String("quantile"), Value: proto.String("v")}}, Summary: &dto.Summary{}}}}
		}}, "quantile"},
		"no value": {constCollector{metrics: func() []prometheus.Metric {
			return []prometheus.Metric{badMetric{d, &dto.Metric{}}}
		}}, "empty metric"},
		"invalid descriptor": {constCollector{metrics: func() []prometheus.Metric {
			err := fmt.Errorf("cannot reach the database: connection refused")
			return []prometheus.Metric{prometheus.NewInvalidMetric(prometheus.NewInvalidDesc(err), err)}
		}}, "cannot reach the database: connection refused"},
		"suffix collision": {constCollector{metrics: func() []prometheus.Metric {
			s := prometheus.MustNewConstSummary(prometheus.NewDesc("test_s", "S.", nil, nil), 1, 1, nil)
			return []prometheus.Metric{s, prometheus.MustNewConstMetric(prometheus.NewDesc("test_s_count", "C.", nil, nil), prometheus.GaugeValue, 1)}
		}}, "collides"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			reg := promexport.NewRegistry()
			if err := reg.Register(tc.c); err != nil {
				t.Fatal(err)
			}
			if _, err := reg.Gather(); err == nil {
				t.Fatalf("Gather does not fail; the case is wrong")
			}
			_, err := collect(t, reg.Exporter())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// TestLabelNamesRepeatedApart: a metric whose repeated label names are
// not next to each other, which Gather accepts, is collected; one whose
// are, which Gather refuses, fails (see TestErrors).
func TestLabelNamesRepeatedApart(t *testing.T) {
	d := prometheus.NewDesc("test_g", "G.", nil, nil)
	reg := promexport.NewRegistry()
	reg.MustRegister(constCollector{metrics: func() []prometheus.Metric {
		return []prometheus.Metric{badMetric{d, &dto.Metric{Label: []*dto.LabelPair{
			{Name: proto.String("b"), Value: proto.String("1")},
			{Name: proto.String("a"), Value: proto.String("x")},
			{Name: proto.String("b"), Value: proto.String("2")},
		}, Gauge: &dto.Gauge{Value: proto.Float64(1)}}}}
	}})
	want := gathered(t, reg)
	got, err := collect(t, reg.Exporter())
	if err != nil {
		t.Fatalf("Gather accepts the metric, the exporter fails: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%d bytes differ from the %d of Gather's families", len(got), len(want))
	}
}

// byCollect describes itself by collecting, as
// prometheus.DescribeByCollect does: its one descriptor once per series.
type byCollect struct {
	desc   *prometheus.Desc
	series *int
}

func (c byCollect) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }
func (c byCollect) Collect(ch chan<- prometheus.Metric) {
	for i := range *c.series {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 1, fmt.Sprint(i))
	}
}

// TestUnregisterDescribedByCollect: a collector that describes itself by
// collecting, whose series changed in number since it was registered,
// is unregistered (and is collected no more) as prometheus.Registry
// unregisters it, by its distinct descriptors; registered again, it is
// collected once.
func TestUnregisterDescribedByCollect(t *testing.T) {
	series := 2
	c := byCollect{desc: prometheus.NewDesc("test_x", "X.", []string{"i"}, nil), series: &series}
	reg := promexport.NewRegistry()
	reg.MustRegister(c)
	series = 3
	if !reg.Unregister(c) {
		t.Fatal("Unregister finds no collector")
	}
	got, err := collect(t, reg.Exporter())
	if err != nil || len(got) != 0 {
		t.Fatalf("after Unregister a collection holds %d bytes, error %v; want none", len(got), err)
	}
	reg.MustRegister(c)
	got, err = collect(t, reg.Exporter())
	if err != nil {
		t.Fatalf("registered again, a collection fails: %v", err)
	}
	if want := gathered(t, reg); !bytes.Equal(got, want) {
		t.Errorf("%d bytes differ from the %d of Gather's families", len(got), len(want))
	}
}

// TestRegister checks that registering and unregistering change what a
// collection holds, and fail as prometheus.Registry's do.
func TestRegister(t *testing.T) {
	reg := promexport.NewRegistry()
	e := reg.Exporter().(sdk.DelimitedCollector)
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_one", Help: "One."})
	reg.MustRegister(g)
	if err := reg.Register(prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_one", Help: "One."})); err == nil {
		t.Error("registering the same descriptor twice succeeded")
	}
	got, err := e.CollectDelimited(context.Background(), nil)
	if err != nil || !bytes.Contains(got, []byte("test_one")) {
		t.Fatalf("got %q, %v; want test_one", got, err)
	}
	if !reg.Unregister(g) {
		t.Fatal("Unregister found nothing")
	}
	if got, err := e.CollectDelimited(context.Background(), nil); err != nil || len(got) != 0 {
		t.Fatalf("after Unregister: %q, %v; want nothing", got, err)
	}
	if reg.Unregister(g) {
		t.Error("a second Unregister found something")
	}
	reg.MustRegister(g)
	if got, err := e.CollectDelimited(context.Background(), nil); err != nil || !bytes.Equal(got, gathered(t, reg)) {
		t.Fatalf("registered again: %q, %v", got, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.CollectDelimited(ctx, nil); err == nil {
		t.Error("a cancelled collection succeeded")
	}
}

// TestPanic checks that a collector's panic reaches the collection,
// whose server turns it into an error.
func TestPanic(t *testing.T) {
	reg := promexport.NewRegistry()
	reg.MustRegister(constCollector{metrics: func() []prometheus.Metric { panic("collector broke") }})
	if _, err := collect(t, reg.Exporter()); err == nil || !strings.Contains(err.Error(), "collector broke") {
		t.Errorf("got %v, want the panic as an error", err)
	}
}

// TestCollectAtOnce runs many collections at once, sharing the
// registry's states and the server's buffers, while values move, and
// checks every answer against a single collection of the same values.
func TestCollectAtOnce(t *testing.T) {
	reg := promexport.NewRegistry()
	fill(t, reg)
	want := gathered(t, reg)
	e := reg.Exporter()
	var wg sync.WaitGroup
	errs := make(chan error, 8*20)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				got, err := collect(t, e)
				if err == nil && !bytes.Equal(got, want) {
					err = fmt.Errorf("a concurrent collection gave %d bytes differing from the %d of a single one", len(got), len(want))
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestCollectorsWaitTogether checks that collectors run at once, as
// Gather runs them: each of two collectors waits for the other, which
// they do not meet if one runs after the other.
func TestCollectorsWaitTogether(t *testing.T) {
	meet := make(chan struct{})
	var met [2]bool
	waiting := func(i int, name string) prometheus.Collector {
		d := prometheus.NewDesc(name, "Waits.", nil, nil)
		return constCollector{descs: []*prometheus.Desc{d}, metrics: func() []prometheus.Metric {
			if i == 0 {
				select {
				case meet <- struct{}{}:
					met[i] = true
				case <-time.After(10 * time.Second):
				}
			} else {
				select {
				case <-meet:
					met[i] = true
				case <-time.After(10 * time.Second):
				}
			}
			return []prometheus.Metric{prometheus.MustNewConstMetric(d, prometheus.GaugeValue, 1)}
		}}
	}
	reg := promexport.NewRegistry()
	reg.MustRegister(waiting(0, "test_first"), waiting(1, "test_second"))
	got, err := collect(t, reg.Exporter())
	if err != nil {
		t.Fatal(err)
	}
	if !met[0] || !met[1] {
		t.Error("the collectors ran one after the other")
	}
	if !bytes.Contains(got, []byte("test_first")) || !bytes.Contains(got, []byte("test_second")) {
		t.Errorf("the collection lacks a collector's metric: %q", got)
	}
}

// benchRegistry registers 100 vectors of 100 series, as the plugin
// benchmark's producer does, in reg.
func benchRegistry(reg prometheus.Registerer) {
	for f := range 100 {
		if f%2 == 0 {
			vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: fmt.Sprintf("bench_requests_%03d_total", f), Help: "Requests."}, []string{"method", "code", "handler"})
			reg.MustRegister(vec)
			for m := range 100 {
				vec.WithLabelValues([]string{"GET", "POST", "PUT", "DELETE"}[m%4], fmt.Sprint(200+m/4%5), fmt.Sprintf("/api/v1/resource/%d", m/20)).Add(float64(m))
			}
			continue
		}
		vec := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: fmt.Sprintf("bench_queue_%03d", f), Help: "Queue."}, []string{"shard", "zone"})
		reg.MustRegister(vec)
		for m := range 100 {
			vec.WithLabelValues(fmt.Sprintf("shard-%02d", m), []string{"a", "b", "c"}[m%3]).Set(float64(m))
		}
	}
}

// BenchmarkCollectDelimited is one collection of 10k series by the
// registry's exporter.
func BenchmarkCollectDelimited(b *testing.B) {
	reg := promexport.NewRegistry()
	benchRegistry(reg)
	e := reg.Exporter().(sdk.DelimitedCollector)
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = e.CollectDelimited(context.Background(), buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGatherEncode is the same collection by Gather and
// sdk.AppendDelimited, as sdk.GathererExporter's server sends it.
func BenchmarkGatherEncode(b *testing.B) {
	reg := prometheus.NewRegistry()
	benchRegistry(reg)
	var buf []byte
	for b.Loop() {
		families, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		buf = buf[:0]
		for _, f := range families {
			if buf, err = sdk.AppendDelimited(buf, f); err != nil {
				b.Fatal(err)
			}
		}
	}
}
