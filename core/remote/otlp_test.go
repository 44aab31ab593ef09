package remote

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote"
	promtsdb "github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/concurrencytest"
)

// otlpMetrics is a request of every OTLP metric type from a resource of
// service "checkout" in namespace "shop", instance id, at time at: a
// gauge, a monotonic sum, a histogram, an exponential histogram and a
// summary, each of temporality temp where it has one.
func otlpMetrics(id string, at time.Time, temp pmetric.AggregationTemporality, value float64) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	res := rm.Resource().Attributes()
	res.PutStr("service.name", "checkout")
	res.PutStr("service.namespace", "shop")
	res.PutStr("service.instance.id", id)
	res.PutStr("host.name", "web-1")
	res.PutStr("k8s.pod.name", "checkout-7d9f")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("shop/checkout")
	ts := pcommon.NewTimestampFromTime(at)
	start := pcommon.NewTimestampFromTime(at.Add(-time.Minute))

	g := sm.Metrics().AppendEmpty()
	g.SetName("queue.depth")
	g.SetUnit("{item}")
	g.SetDescription("Items waiting.")
	gp := g.SetEmptyGauge().DataPoints().AppendEmpty()
	gp.SetTimestamp(ts)
	gp.SetDoubleValue(value)
	gp.Attributes().PutStr("queue", "orders")

	s := sm.Metrics().AppendEmpty()
	s.SetName("orders.placed")
	s.SetUnit("1")
	sum := s.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(temp)
	sp := sum.DataPoints().AppendEmpty()
	sp.SetStartTimestamp(start)
	sp.SetTimestamp(ts)
	sp.SetIntValue(int64(value))
	sp.Attributes().PutStr("payment.method", "card")

	h := sm.Metrics().AppendEmpty()
	h.SetName("http.server.request.duration")
	h.SetUnit("s")
	hist := h.SetEmptyHistogram()
	hist.SetAggregationTemporality(temp)
	hp := hist.DataPoints().AppendEmpty()
	hp.SetStartTimestamp(start)
	hp.SetTimestamp(ts)
	hp.SetCount(uint64(3 * value))
	hp.SetSum(1.5 * value)
	hp.ExplicitBounds().FromRaw([]float64{0.1, 0.5, 1})
	hp.BucketCounts().FromRaw([]uint64{uint64(value), uint64(value), 0, uint64(value)})
	hp.Attributes().PutStr("http.route", "/pay")

	e := sm.Metrics().AppendEmpty()
	e.SetName("rpc.latency")
	e.SetUnit("ms")
	exp := e.SetEmptyExponentialHistogram()
	exp.SetAggregationTemporality(temp)
	ep := exp.DataPoints().AppendEmpty()
	ep.SetStartTimestamp(start)
	ep.SetTimestamp(ts)
	ep.SetScale(2)
	ep.SetCount(uint64(4 * value))
	ep.SetSum(10 * value)
	ep.SetZeroCount(uint64(value))
	ep.Positive().SetOffset(1)
	ep.Positive().BucketCounts().FromRaw([]uint64{uint64(value), uint64(2 * value)})
	ep.Negative().BucketCounts().FromRaw([]uint64{})

	su := sm.Metrics().AppendEmpty()
	su.SetName("gc.pause")
	su.SetUnit("s")
	sup := su.SetEmptySummary().DataPoints().AppendEmpty()
	sup.SetStartTimestamp(start)
	sup.SetTimestamp(ts)
	sup.SetCount(uint64(value))
	sup.SetSum(0.25 * value)
	q := sup.QuantileValues().AppendEmpty()
	q.SetQuantile(0.5)
	q.SetValue(0.01)
	q = sup.QuantileValues().AppendEmpty()
	q.SetQuantile(0.99)
	q.SetValue(0.2)
	return md
}

// otlpBody encodes md as format: "protobuf", "json" or "gzip" (gzipped
// protobuf), and returns the body and its headers.
func otlpBody(t testing.TB, md pmetric.Metrics, format string) ([]byte, http.Header) {
	t.Helper()
	req := pmetricotlp.NewExportRequestFromMetrics(md)
	h := http.Header{"Content-Type": {"application/x-protobuf"}}
	var body []byte
	var err error
	switch format {
	case "json":
		body, err = req.MarshalJSON()
		h.Set("Content-Type", "application/json")
	default:
		body, err = req.MarshalProto()
	}
	if err != nil {
		t.Fatal(err)
	}
	if format == "gzip" {
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		gz.Write(body)
		gz.Close()
		body = buf.Bytes()
		h.Set("Content-Encoding", "gzip")
	}
	return body, h
}

// postOTLP posts body to url and returns the answer's status and body.
func postOTLP(t testing.TB, url string, body []byte, h http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// dumpStore lists the samples of every series of q as "labels t value"
// lines, in the order of the series.
func dumpStore(t testing.TB, q storage.Queryable, matchers ...*labels.Matcher) []string {
	t.Helper()
	querier, err := q.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer querier.Close()
	if len(matchers) == 0 {
		matchers = []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")}
	}
	var out []string
	ss := querier.Select(context.Background(), true, nil, matchers...)
	for ss.Next() {
		s := ss.At()
		it := s.Iterator(nil)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			switch vt {
			case chunkenc.ValFloat:
				ts, v := it.At()
				out = append(out, fmt.Sprintf("%s %d %g", s.Labels(), ts, v))
			case chunkenc.ValHistogram:
				ts, h := it.AtHistogram(nil)
				out = append(out, fmt.Sprintf("%s %d %s", s.Labels(), ts, h))
			case chunkenc.ValFloatHistogram:
				ts, h := it.AtFloatHistogram(nil)
				out = append(out, fmt.Sprintf("%s %d %s", s.Labels(), ts, h))
			}
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// otlpPair is the same OTLP configuration served twice: by Vigil's
// handler into Vigil's store, and by upstream's handler, as Prometheus
// serves it, into Prometheus's TSDB.
type otlpPair struct {
	vigil, prom       *httptest.Server
	vigilDB           *tsdb.DB
	promDB            *promtsdb.DB
	vigilURL, promURL string
}

func newOTLPPair(t *testing.T, cfg hclconfig.OTLP, convertDelta bool) *otlpPair {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{MaxExemplars: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	vigil := httptest.NewServer(NewOTLPHandler(nil, prometheus.NewRegistry(), db, OTLPOptions{
		Config: func() hclconfig.OTLP { return cfg }, ConvertDelta: convertDelta,
		LookbackDelta: 5 * time.Minute, MaxBodyBytes: 1 << 20,
	}))
	t.Cleanup(vigil.Close)

	pdb, err := promtsdb.Open(t.TempDir(), nil, nil, promtsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pdb.Close() })
	promCfg := config.DefaultConfig
	promCfg.OTLPConfig = PrometheusOTLPConfig(cfg)
	prom := httptest.NewServer(remote.NewOTLPWriteHandler(nil, prometheus.NewRegistry(), pdb, func() config.Config { return promCfg },
		remote.OTLPOptions{ConvertDelta: convertDelta, LookbackDelta: 5 * time.Minute}))
	t.Cleanup(prom.Close)
	return &otlpPair{vigil: vigil, prom: prom, vigilDB: db, promDB: pdb, vigilURL: vigil.URL, promURL: prom.URL}
}

// defaultOTLP is the otlp block left out, but for promoted attributes.
func defaultOTLP(promote ...string) hclconfig.OTLP {
	o := hclconfig.DefaultOTLP
	o.PromoteResourceAttributes = promote
	return o
}

// TestOTLPLikePrometheus sends every OTLP metric type, by protobuf, JSON
// and gzipped protobuf, to Vigil's handler and to upstream's over
// Prometheus's TSDB, and finds the same series and samples in both, named
// as Prometheus names them.
func TestOTLPLikePrometheus(t *testing.T) {
	at := time.Now().Truncate(time.Millisecond)
	for name, cfg := range map[string]hclconfig.OTLP{
		"default": defaultOTLP("host.name"),
		"no suffixes, identifying attributes kept, NHCB": {TranslationStrategy: "UnderscoreEscapingWithoutSuffixes", Delta: hclconfig.OTLPDeltaRefuse,
			KeepIdentifyingResourceAttributes: true, ConvertHistogramsToNHCB: true, PromoteScopeMetadata: true},
		"all promoted but the pod, UTF-8": {TranslationStrategy: "NoTranslation", Delta: hclconfig.OTLPDeltaRefuse,
			PromoteAllResourceAttributes: true, IgnoreResourceAttributes: []string{"k8s.pod.name"}},
	} {
		for _, format := range []string{"protobuf", "json", "gzip"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				p := newOTLPPair(t, cfg, false)
				body, h := otlpBody(t, otlpMetrics("i-1", at, pmetric.AggregationTemporalityCumulative, 2), format)
				if status, answer := postOTLP(t, p.vigilURL, body, h); status != http.StatusOK {
					t.Fatalf("vigil answered %d %s", status, answer)
				}
				if status, answer := postOTLP(t, p.promURL, body, h); status != http.StatusOK {
					t.Fatalf("upstream answered %d %s", status, answer)
				}
				got, want := dumpStore(t, p.vigilDB), dumpStore(t, p.promDB)
				if len(want) < 8 {
					t.Fatalf("upstream stored too little to compare with:\n%s", strings.Join(want, "\n"))
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("series differ from Prometheus's (-prometheus +vigil):\n%s", diff)
				}
			})
		}
	}

	// The names of the default, spelled out.
	p := newOTLPPair(t, defaultOTLP("host.name"), false)
	body, h := otlpBody(t, otlpMetrics("i-1", at, pmetric.AggregationTemporalityCumulative, 2), "protobuf")
	if status, answer := postOTLP(t, p.vigilURL, body, h); status != http.StatusOK {
		t.Fatalf("vigil answered %d %s", status, answer)
	}
	got := strings.Join(dumpStore(t, p.vigilDB), "\n")
	ms := at.UnixMilli()
	for _, want := range []string{
		fmt.Sprintf(`{__name__="orders_placed_total", host_name="web-1", instance="i-1", job="shop/checkout", payment_method="card"} %d 2`, ms),
		fmt.Sprintf(`{__name__="http_server_request_duration_seconds_bucket", host_name="web-1", http_route="/pay", instance="i-1", job="shop/checkout", le="0.5"} %d 4`, ms),
		fmt.Sprintf(`{__name__="queue_depth", host_name="web-1", instance="i-1", job="shop/checkout", queue="orders"} %d 2`, ms),
		fmt.Sprintf(`{__name__="gc_pause_seconds", host_name="web-1", instance="i-1", job="shop/checkout", quantile="0.99"} %d 0.2`, ms),
		fmt.Sprintf(`{__name__="target_info", host_name="web-1", instance="i-1", job="shop/checkout", k8s_pod_name="checkout-7d9f"} %d 1`, ms),
		`{__name__="rpc_latency_milliseconds", host_name="web-1", instance="i-1", job="shop/checkout"}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %s in:\n%s", want, got)
		}
	}
}

// TestOTLPDelta refuses a request with metrics of delta temporality
// whole, naming them, unless delta = "convert", which stores the running
// sums as Prometheus does.
func TestOTLPDelta(t *testing.T) {
	at := time.Now().Truncate(time.Millisecond)
	t.Run("refuse", func(t *testing.T) {
		p := newOTLPPair(t, defaultOTLP(), false)
		body, h := otlpBody(t, otlpMetrics("i-1", at, pmetric.AggregationTemporalityDelta, 2), "protobuf")
		status, answer := postOTLP(t, p.vigilURL, body, h)
		if status != http.StatusBadRequest {
			t.Fatalf("answered %d %s, want 400", status, answer)
		}
		for _, want := range []string{`delta temporality`, `"orders.placed"`, `"http.server.request.duration"`, `"rpc.latency"`, `delta = "convert"`} {
			if !strings.Contains(answer, want) {
				t.Errorf("the answer %q does not say %s", answer, want)
			}
		}
		if got := dumpStore(t, p.vigilDB); len(got) > 0 {
			t.Errorf("a refused request stored, the gauge with the rest:\n%s", strings.Join(got, "\n"))
		}
	})
	t.Run("convert", func(t *testing.T) {
		cfg := defaultOTLP()
		cfg.Delta = hclconfig.OTLPDeltaConvert
		p := newOTLPPair(t, cfg, true)
		for i, v := range []float64{2, 3, 5} {
			body, h := otlpBody(t, otlpMetrics("i-1", at.Add(time.Duration(i)*time.Second), pmetric.AggregationTemporalityDelta, v), "protobuf")
			for _, url := range []string{p.vigilURL, p.promURL} {
				if status, answer := postOTLP(t, url, body, h); status != http.StatusOK {
					t.Fatalf("%s answered %d %s", url, status, answer)
				}
			}
		}
		got, want := dumpStore(t, p.vigilDB), dumpStore(t, p.promDB)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("series differ from Prometheus's (-prometheus +vigil):\n%s", diff)
		}
		total := dumpStore(t, p.vigilDB, labels.MustNewMatcher(labels.MatchEqual, "__name__", "orders_placed_total"))
		if len(total) != 3 || !strings.HasSuffix(total[2], " 10") {
			t.Errorf("orders_placed_total is not the running sum 2, 5, 10:\n%s", strings.Join(total, "\n"))
		}
	})
}

// TestOTLPBadInput answers 400 with the reason to a request that does not
// decode or translate, 413 to one over the limit, and stores nothing of
// either.
func TestOTLPBadInput(t *testing.T) {
	at := time.Now().Truncate(time.Millisecond)
	good, _ := otlpBody(t, otlpMetrics("i-1", at, pmetric.AggregationTemporalityCumulative, 2), "protobuf")
	// A sum without temporality, which upstream cannot translate.
	noTemp := otlpMetrics("i-1", at, pmetric.AggregationTemporalityUnspecified, 2)
	noTempBody, _ := otlpBody(t, noTemp, "protobuf")
	huge := pmetric.NewMetrics()
	ms := huge.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	m := ms.AppendEmpty()
	m.SetName("described")
	m.SetDescription(strings.Repeat("long ", 1<<18))
	m.SetEmptyGauge().DataPoints().AppendEmpty().SetTimestamp(pcommon.NewTimestampFromTime(at))
	hugeGzip, _ := otlpBody(t, huge, "gzip")
	proto := http.Header{"Content-Type": {"application/x-protobuf"}}
	gz := http.Header{"Content-Type": {"application/x-protobuf"}, "Content-Encoding": {"gzip"}}
	for name, c := range map[string]struct {
		body   []byte
		header http.Header
		status int
		reason string
	}{
		"not protobuf":         {[]byte("not a protobuf message"), proto, 400, "cannot decode the OTLP request"},
		"not JSON":             {[]byte("{"), http.Header{"Content-Type": {"application/json"}}, 400, "cannot decode the OTLP request"},
		"unknown content type": {good, http.Header{"Content-Type": {"text/plain"}}, 400, "unsupported content type"},
		"not gzip":             {good, gz, 400, "cannot unpack the gzip body"},
		"unknown encoding":     {good, http.Header{"Content-Type": {"application/x-protobuf"}, "Content-Encoding": {"br"}}, 400, `unsupported Content-Encoding "br"`},
		"no temporality":       {noTempBody, proto, 400, `invalid temporality and type combination for metric "orders.placed"`},
		"too large":            {bytes.Repeat([]byte{0}, 1<<20+1), proto, 413, "larger than otlp_body_size_limit (1048576 bytes)"},
		"too large unpacked":   {hugeGzip, gz, 413, "larger than otlp_body_size_limit (1048576 bytes)"},
	} {
		t.Run(name, func(t *testing.T) {
			if len(c.body) > 1<<20 && name == "too large unpacked" {
				t.Fatalf("the gzipped body is %d bytes, over the limit itself", len(c.body))
			}
			p := newOTLPPair(t, defaultOTLP(), false)
			status, answer := postOTLP(t, p.vigilURL, c.body, c.header)
			if status != c.status || !strings.Contains(answer, c.reason) {
				t.Errorf("answered %d %q, want %d and %q", status, answer, c.status, c.reason)
			}
			if got := dumpStore(t, p.vigilDB); len(got) > 0 {
				t.Errorf("a refused request stored:\n%s", strings.Join(got, "\n"))
			}
		})
	}
}

// TestOTLPConcurrent posts requests of different resources from several
// goroutines at once, as upstream's handler reuses its converters across
// requests, and finds each request's series as when it was sent alone.
func TestOTLPConcurrent(t *testing.T) {
	p := newOTLPPair(t, defaultOTLP("host.name"), false)
	at := time.Now().Truncate(time.Millisecond)
	calls := map[string]concurrencytest.Call{}
	for i := range 12 {
		id := fmt.Sprintf("i-%d", i)
		format := []string{"protobuf", "json", "gzip"}[i%3]
		body, h := otlpBody(t, otlpMetrics(id, at, pmetric.AggregationTemporalityCumulative, float64(i+1)), format)
		calls[id] = func() ([]byte, error) {
			if status, answer := postOTLP(t, p.vigilURL, body, h); status != http.StatusOK {
				return nil, fmt.Errorf("answered %d %s", status, answer)
			}
			return []byte(strings.Join(dumpStore(t, p.vigilDB, labels.MustNewMatcher(labels.MatchEqual, "instance", id)), "\n")), nil
		}
	}
	concurrencytest.Compare(t, 6, 5, calls)
}
