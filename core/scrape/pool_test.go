package scrape

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/hclconfig"
)

// TestConcurrentScrapesShareBodyBuffers scrapes many targets at once into
// one store, each body in a buffer from the pools every target shares,
// with bodies of many sizes that change every scrape: half are HTTP
// targets serving the text format, half exporter plugins whose families
// are encoded in the protobuf format. Every stored sample
// and every target's metadata must be what that target served: a buffer
// handed to another scrape while labels, help texts or values still
// pointed into it would show here as another target's text or number.
func TestConcurrentScrapesShareBodyBuffers(t *testing.T) {
	const targets, rounds = 24, 12
	// seriesOf gives target i a body size of its own, from 2 KiB to
	// 100 KiB, so that its buffers come from several pools.
	seriesOf := func(i int) int { return 20 + i*i*2 }
	valueOf := func(i, round, k int) float64 { return float64(i*1_000_000+round*1000+k) + float64(k)/7 }
	helpOf := func(i int) string { return fmt.Sprintf("Value %d of target %d, %s.", i, i, strings.Repeat("x", i*5)) }

	var served [targets]atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/t/"))
		if err != nil || i < 0 || i >= targets {
			http.NotFound(w, r)
			return
		}
		if i%2 == 1 {
			t.Errorf("target %d, an exporter plugin, was fetched over HTTP", i)
		}
		round := int(served[i].Add(1)) - 1
		var b strings.Builder
		name := fmt.Sprintf("pool_value_%d", i)
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, helpOf(i), name)
		for k := range seriesOf(i) {
			fmt.Fprintf(&b, "%s{k=\"%d\",owner=\"target-%d\"} %s\n", name, k, i, strconv.FormatFloat(valueOf(i, round, k), 'g', -1, 64))
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, b.String())
	}))
	defer srv.Close()

	cfg, diags := hclconfig.Parse("test.hcl", []byte(`scrape "pool" {}`))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	sc := cfg.Scrapes[0]
	client, err := newClient(sc)
	if err != nil {
		t.Fatal(err)
	}
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	scrapers := make([]*scraper, targets)
	for i := range scrapers {
		tgt, err := NewTarget(sc, labels.FromStrings("__address__", strings.TrimPrefix(srv.URL, "http://"), "__metrics_path__", fmt.Sprintf("/t/%d", i), "target", strconv.Itoa(i)), labels.EmptyLabels())
		if err != nil {
			t.Fatal(err)
		}
		scrapers[i] = newScraper(tgt, sc, client, db)
		if i%2 == 1 {
			scrapers[i].exporter = exporterFunc(func(context.Context) ([]*dto.MetricFamily, error) {
				round := int(served[i].Add(1)) - 1
				f := &dto.MetricFamily{Name: proto.String(fmt.Sprintf("pool_value_%d", i)), Help: proto.String(helpOf(i)), Type: dto.MetricType_GAUGE.Enum()}
				for k := range seriesOf(i) {
					f.Metric = append(f.Metric, &dto.Metric{
						Label: []*dto.LabelPair{{Name: proto.String("k"), Value: proto.String(strconv.Itoa(k))}, {Name: proto.String("owner"), Value: proto.String(fmt.Sprintf("target-%d", i))}},
						Gauge: &dto.Gauge{Value: proto.Float64(valueOf(i, round, k))},
					})
				}
				return []*dto.MetricFamily{f}, nil
			})
		}
	}
	start := time.UnixMilli(1_000_000)
	tsOf := func(round int) time.Time { return start.Add(time.Duration(round) * 15 * time.Second) }
	var wg sync.WaitGroup
	for i, s := range scrapers {
		wg.Go(func() {
			for round := range rounds {
				if err := s.scrapeOnce(t.Context(), tsOf(round)); err != nil {
					t.Errorf("target %d, round %d: %v", i, round, err)
					return
				}
				if h := s.Health(); !h.Up {
					t.Errorf("target %d, round %d: %+v", i, round, h)
				}
			}
		})
	}
	wg.Wait()

	stored := readAll(t, db)
	wrong := 0
	for i, s := range scrapers {
		name := fmt.Sprintf("pool_value_%d", i)
		if m := s.Metadata()[name]; m.Help != helpOf(i) || m.Type != "gauge" {
			t.Errorf("target %d: metadata %+v, want help %q", i, m, helpOf(i))
		}
		for k := range seriesOf(i) {
			lset := labels.FromStrings("__name__", name, "instance", strings.TrimPrefix(srv.URL, "http://"), "job", "pool", "k", strconv.Itoa(k), "owner", fmt.Sprintf("target-%d", i), "target", strconv.Itoa(i))
			samples := stored[lset.String()]
			if len(samples) != rounds {
				t.Errorf("%s: %d samples, want %d", lset, len(samples), rounds)
				wrong++
				continue
			}
			for round, smp := range samples {
				if want := valueOf(i, round, k); smp.t != tsOf(round).UnixMilli() || math.Float64bits(smp.v) != math.Float64bits(want) {
					if wrong++; wrong <= 5 {
						t.Errorf("%s round %d: stored %v at %d, want %v at %d", lset, round, smp.v, smp.t, want, tsOf(round).UnixMilli())
					}
				}
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d stored series or samples differ from what their target served", wrong)
	}
	want := targets * 5 // up and the four other report series
	for i := range targets {
		want += seriesOf(i)
	}
	if len(stored) != want {
		t.Errorf("%d series stored, want %d", len(stored), want)
	}
}

// exporterFunc is an exporter plugin in a function.
type exporterFunc func(context.Context) ([]*dto.MetricFamily, error)

func (f exporterFunc) Collect(ctx context.Context) ([]*dto.MetricFamily, error) { return f(ctx) }

// TestConcurrentScrapesKeepTheirExemplars scrapes many targets at once
// into one store, half OpenMetrics targets over HTTP and half exporter
// plugins (protobuf), every series with an exemplar whose labels and value
// change every scrape, with bodies of many sizes from the shared buffer
// pools: every stored exemplar must be the one its target served at that
// scrape, as a scrape of that target alone would store it. An exemplar
// whose labels pointed into a body buffer, or into the scraper's reused
// exemplar slice, when it reached the store would show another's here.
func TestConcurrentScrapesKeepTheirExemplars(t *testing.T) {
	const targets, rounds = 16, 6
	seriesOf := func(i int) int { return 20 + i*10 }
	traceOf := func(i, round, k int) string {
		return fmt.Sprintf("t%d-r%d-k%d-%s", i, round, k, strings.Repeat("x", (i*7+k)%40))
	}
	valueOf := func(i, round, k int) float64 { return float64(i*1000+round*100+k) / 8 }
	start := time.UnixMilli(1_000_000)
	tsOf := func(round int) time.Time { return start.Add(time.Duration(round) * 15 * time.Second) }

	var served [targets]atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/t/"))
		if err != nil || i < 0 || i >= targets {
			http.NotFound(w, r)
			return
		}
		round := int(served[i].Add(1)) - 1
		var b strings.Builder
		fmt.Fprintf(&b, "# TYPE ex_%d counter\n", i)
		for k := range seriesOf(i) {
			fmt.Fprintf(&b, "ex_%d_total{k=\"%d\"} %d # {trace_id=%q} %s\n", i, k, round, traceOf(i, round, k), strconv.FormatFloat(valueOf(i, round, k), 'g', -1, 64))
		}
		b.WriteString("# EOF\n")
		w.Header().Set("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")
		fmt.Fprint(w, b.String())
	}))
	defer srv.Close()

	cfg, diags := hclconfig.Parse("test.hcl", []byte(`scrape "pool" {}`))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	sc := cfg.Scrapes[0]
	client, err := newClient(sc)
	if err != nil {
		t.Fatal(err)
	}
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{MaxExemplars: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	scrapers := make([]*scraper, targets)
	for i := range scrapers {
		tgt, err := NewTarget(sc, labels.FromStrings("__address__", strings.TrimPrefix(srv.URL, "http://"), "__metrics_path__", fmt.Sprintf("/t/%d", i)), labels.EmptyLabels())
		if err != nil {
			t.Fatal(err)
		}
		scrapers[i] = newScraper(tgt, sc, client, db)
		if i%2 == 1 {
			scrapers[i].exporter = exporterFunc(func(context.Context) ([]*dto.MetricFamily, error) {
				round := int(served[i].Add(1)) - 1
				f := &dto.MetricFamily{Name: proto.String(fmt.Sprintf("ex_%d_total", i)), Type: dto.MetricType_COUNTER.Enum()}
				for k := range seriesOf(i) {
					f.Metric = append(f.Metric, &dto.Metric{
						Label: []*dto.LabelPair{{Name: proto.String("k"), Value: proto.String(strconv.Itoa(k))}},
						Counter: &dto.Counter{Value: proto.Float64(float64(round)), Exemplar: &dto.Exemplar{
							Label: []*dto.LabelPair{{Name: proto.String("trace_id"), Value: proto.String(traceOf(i, round, k))}},
							Value: proto.Float64(valueOf(i, round, k)),
						}},
					})
				}
				return []*dto.MetricFamily{f}, nil
			})
		}
	}
	var wg sync.WaitGroup
	for i, s := range scrapers {
		wg.Go(func() {
			for round := range rounds {
				if err := s.scrapeOnce(t.Context(), tsOf(round)); err != nil {
					t.Errorf("target %d, round %d: %v", i, round, err)
					return
				}
			}
		})
	}
	wg.Wait()

	var want []string
	inst := strings.TrimPrefix(srv.URL, "http://")
	for i := range targets {
		for k := range seriesOf(i) {
			lset := labels.FromStrings("__name__", fmt.Sprintf("ex_%d_total", i), "instance", inst, "job", "pool", "k", strconv.Itoa(k))
			for round := range rounds {
				want = append(want, fmt.Sprintf("%s: {trace_id=%q} %s@%d", lset, traceOf(i, round, k), strconv.FormatFloat(valueOf(i, round, k), 'g', -1, 64), tsOf(round).UnixMilli()))
			}
		}
	}
	slices.Sort(want)
	got := storedExemplars(t, db)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored exemplars differ from what the targets served (-want +got):\n%s", diff)
	}
}
