package scrape

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/hclconfig"
)

type stored struct {
	t int64
	v float64
	h bool // a native histogram
}

// readAll returns every sample in db by series.
func readAll(t *testing.T, db *tsdb.DB) map[string][]stored {
	t.Helper()
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	out := map[string][]stored{}
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			switch vt {
			case chunkenc.ValFloat:
				ts, v := it.At()
				out[ss.At().Labels().String()] = append(out[ss.At().Labels().String()], stored{t: ts, v: v})
			default:
				out[ss.At().Labels().String()] = append(out[ss.At().Labels().String()], stored{t: it.AtT(), h: true})
			}
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// fixture is a target whose exposition the test changes between scrapes.
type fixture struct {
	srv    *httptest.Server
	status int
	body   string
	ctype  string
	accept string // the Accept header of the last request
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{status: http.StatusOK, ctype: "text/plain; version=0.0.4"}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.accept = r.Header.Get("Accept")
		w.Header().Set("Content-Type", f.ctype)
		w.WriteHeader(f.status)
		fmt.Fprint(w, f.body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

// newTestScraper returns a scraper of addr under the scrape block config
// (its targets are ignored), storing into a fresh store.
func newTestScraper(t *testing.T, config, addr string) (*scraper, *tsdb.DB) {
	t.Helper()
	cfg, diags := hclconfig.Parse("test.hcl", []byte(config))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	sc := cfg.Scrapes[0]
	tgt, err := NewTarget(sc, labels.FromStrings("__address__", addr), labels.EmptyLabels())
	if err != nil {
		t.Fatal(err)
	}
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{MaxExemplars: 1000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	client, err := newClient(sc)
	if err != nil {
		t.Fatal(err)
	}
	return newScraper(tgt, sc, client, db), db
}

func mustScrape(t *testing.T, s *scraper, ts time.Time) Health {
	t.Helper()
	if err := s.scrapeOnce(context.Background(), ts); err != nil {
		t.Fatal(err)
	}
	return s.Health()
}

func TestScrapeTextFormatAndStaleness(t *testing.T) {
	f := newFixture(t)
	s, db := newTestScraper(t, `scrape "app" {}`, f.addr())
	inst := f.addr()
	f.body = "# TYPE requests_total counter\nrequests_total{path=\"/a\"} 10\nrequests_total{path=\"/b\"} 20\n"
	t1, t2, t3 := time.UnixMilli(1000000), time.UnixMilli(1015000), time.UnixMilli(1030000)
	if h := mustScrape(t, s, t1); !h.Up || h.SamplesScraped != 2 {
		t.Fatalf("first scrape: %+v", h)
	}
	if m := s.Metadata()["requests_total"]; m.Type != "counter" {
		t.Fatalf("metadata of requests_total: %+v", m)
	}
	f.body = "requests_total{path=\"/a\"} 11\n"
	mustScrape(t, s, t2)
	f.status = http.StatusInternalServerError
	h := mustScrape(t, s, t3)
	if h.Up || !strings.Contains(h.LastError, "500") {
		t.Fatalf("failed scrape: %+v", h)
	}

	got := readAll(t, db)
	a := fmt.Sprintf(`{__name__="requests_total", instance=%q, job="app", path="/a"}`, inst)
	b := fmt.Sprintf(`{__name__="requests_total", instance=%q, job="app", path="/b"}`, inst)
	if s := got[a]; len(s) != 3 || s[0].v != 10 || s[1].v != 11 || !value.IsStaleNaN(s[2].v) {
		t.Errorf("series /a: %v, want 10, 11, then stale after the failed scrape", s)
	}
	if s := got[b]; len(s) != 2 || s[0].v != 20 || !value.IsStaleNaN(s[1].v) || s[1].t != t2.UnixMilli() {
		t.Errorf("series /b: %v, want 20 then stale when it disappeared", s)
	}
	up := got[fmt.Sprintf(`{__name__="up", instance=%q, job="app"}`, inst)]
	if len(up) != 3 || up[0].v != 1 || up[1].v != 1 || up[2].v != 0 {
		t.Errorf("up: %v", up)
	}
	added := got[fmt.Sprintf(`{__name__="scrape_series_added", instance=%q, job="app"}`, inst)]
	if len(added) != 3 || added[0].v != 2 || added[1].v != 0 {
		t.Errorf("scrape_series_added: %v", added)
	}
	for _, name := range []string{"scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling"} {
		if len(got[fmt.Sprintf(`{__name__=%q, instance=%q, job="app"}`, name, inst)]) != 3 {
			t.Errorf("%s missing", name)
		}
	}
}

func TestScrapeFailures(t *testing.T) {
	for name, tc := range map[string]struct {
		config string
		body   string
		ctype  string
		want   string
	}{
		"sample limit":    {`scrape "app" { sample_limit = 1 }`, "a 1\nb 2\n", "", "sample limit exceeded"},
		"body size limit": {`scrape "app" { body_size_limit = "10B" }`, "a_long_metric_name 1\n", "", "body size limit exceeded"},
		"label limit":     {`scrape "app" { label_limit = 3 }`, "a{x=\"1\",y=\"2\"} 1\n", "", "label limit exceeded"},
		"malformed":       {`scrape "app" {}`, "a{x=\"1\" 1\n", "", "cannot parse the exposition"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.body = tc.body
			if tc.ctype != "" {
				f.ctype = tc.ctype
			}
			s, db := newTestScraper(t, tc.config, f.addr())
			h := mustScrape(t, s, time.UnixMilli(1000))
			if h.Up || !strings.Contains(h.LastError, tc.want) {
				t.Fatalf("health %+v, want down with %q", h, tc.want)
			}
			for series := range readAll(t, db) {
				if !strings.Contains(series, `__name__="up"`) && !strings.Contains(series, `__name__="scrape_`) {
					t.Errorf("a failed scrape stored %s", series)
				}
			}
		})
	}
}

func TestUnknownContentTypeFallsBackToText(t *testing.T) {
	f := newFixture(t)
	f.body, f.ctype = "a 1\n", "application/unknown"
	s, db := newTestScraper(t, `scrape "app" {}`, f.addr())
	if h := mustScrape(t, s, time.UnixMilli(1000)); !h.Up {
		t.Fatalf("health %+v", h)
	}
	if len(readAll(t, db)[fmt.Sprintf(`{__name__="a", instance=%q, job="app"}`, f.addr())]) != 1 {
		t.Fatal("sample not stored")
	}
}

func TestScrapeProtocols(t *testing.T) {
	f := newFixture(t)
	f.body = "a 1\n"
	s, _ := newTestScraper(t, `scrape "app" {}`, f.addr())
	mustScrape(t, s, time.UnixMilli(1000))
	if !strings.HasPrefix(f.accept, "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.") {
		t.Errorf("by default the protobuf format comes first: %s", f.accept)
	}
	s, _ = newTestScraper(t, `scrape "app" { scrape_protocols = ["PrometheusText1.0.0", "OpenMetricsText1.0.0"] }`, f.addr())
	mustScrape(t, s, time.UnixMilli(1000))
	want := "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.7,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,*/*;q=0.5"
	if f.accept != want {
		t.Errorf("Accept %s, want %s", f.accept, want)
	}

	// A body without a Content-Type is parsed by the fallback protocol:
	// the exemplar is OpenMetrics, and the text parser refuses it.
	f.body, f.ctype = "# TYPE a counter\na_total 1 # {trace_id=\"x\"} 1\n# EOF\n", ""
	s, _ = newTestScraper(t, `scrape "app" {}`, f.addr())
	if h := mustScrape(t, s, time.UnixMilli(1000)); h.Up {
		t.Errorf("OpenMetrics parsed as text: %+v", h)
	}
	s, db := newTestScraper(t, `scrape "app" { fallback_scrape_protocol = "OpenMetricsText1.0.0" }`, f.addr())
	if h := mustScrape(t, s, time.UnixMilli(1000)); !h.Up {
		t.Fatalf("OpenMetrics fallback: %+v", h)
	}
	if len(readAll(t, db)[fmt.Sprintf(`{__name__="a_total", instance=%q, job="app"}`, f.addr())]) != 1 {
		t.Fatal("sample not stored")
	}
}

func TestScrapeTimeout(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer hang.Close()
	s, _ := newTestScraper(t, `scrape "app" {
  scrape_interval = "1s"
  scrape_timeout  = "200ms"
}`, strings.TrimPrefix(hang.URL, "http://"))
	h := mustScrape(t, s, time.UnixMilli(1000))
	if h.Up || !strings.Contains(h.LastError, "context deadline exceeded") {
		t.Fatalf("hanging target: %+v", h)
	}
}

func TestScrapeLabelsAndRelabeling(t *testing.T) {
	f := newFixture(t)
	f.body = "m{job=\"inner\",keep=\"x\"} 1\ngo_goroutines 5\n"
	for name, tc := range map[string]struct {
		honor bool
		want  string
	}{
		"target labels win":   {false, `{__name__="m", exported_job="inner", instance=%q, job="app", keep="x"}`},
		"honor_labels = true": {true, `{__name__="m", instance=%q, job="inner", keep="x"}`},
	} {
		t.Run(name, func(t *testing.T) {
			s, db := newTestScraper(t, fmt.Sprintf(`scrape "app" {
  honor_labels = %v
  metric_relabel {
    source_labels = ["__name__"]
    regex         = "go_.*"
    action        = "drop"
  }
}`, tc.honor), f.addr())
			mustScrape(t, s, time.UnixMilli(1000))
			got := readAll(t, db)
			if _, ok := got[fmt.Sprintf(tc.want, f.addr())]; !ok {
				t.Errorf("series %s not stored; have %v", fmt.Sprintf(tc.want, f.addr()), got)
			}
			post := got[fmt.Sprintf(`{__name__="scrape_samples_post_metric_relabeling", instance=%q, job="app"}`, f.addr())]
			if len(post) != 1 || post[0].v != 1 {
				t.Errorf("post-relabeling count %v, want 1 (go_goroutines dropped)", post)
			}
		})
	}
}

// TestScrapeHonorLabelsEmptyInstance scrapes what a Pushgateway exposes
// for a push without an instance label: with honor_labels, the empty
// instance keeps the target's out, and the series has no instance, as in
// Prometheus; without, the target's instance is set.
func TestScrapeHonorLabelsEmptyInstance(t *testing.T) {
	f := newFixture(t)
	f.body = "m{instance=\"\",job=\"batch\"} 1\n"
	for name, tc := range map[string]struct {
		honor bool
		want  string
	}{
		"honor_labels = true":  {true, `{__name__="m", job="batch"}`},
		"honor_labels = false": {false, fmt.Sprintf(`{__name__="m", exported_job="batch", instance=%q, job="app"}`, f.addr())},
	} {
		t.Run(name, func(t *testing.T) {
			s, db := newTestScraper(t, fmt.Sprintf("scrape \"app\" {\n  honor_labels = %v\n}", tc.honor), f.addr())
			mustScrape(t, s, time.UnixMilli(1000))
			got := readAll(t, db)
			if _, ok := got[tc.want]; !ok {
				t.Errorf("series %s not stored; have %v", tc.want, got)
			}
		})
	}
}

func TestScrapeProtobufNativeHistogram(t *testing.T) {
	reg := prometheus.NewRegistry()
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "latency_seconds", Help: "Latency.", NativeHistogramBucketFactor: 1.1})
	reg.MustRegister(hist)
	for _, v := range []float64{0.1, 0.2, 0.4, 0.8} {
		hist.Observe(v)
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	s, db := newTestScraper(t, `scrape "app" {}`, strings.TrimPrefix(srv.URL, "http://"))
	if h := mustScrape(t, s, time.UnixMilli(1000)); !h.Up {
		t.Fatalf("scrape: %+v", h)
	}
	got := readAll(t, db)
	series := got[fmt.Sprintf(`{__name__="latency_seconds", instance=%q, job="app"}`, strings.TrimPrefix(srv.URL, "http://"))]
	if len(series) != 1 || !series[0].h {
		t.Fatalf("native histogram not stored: %v", got)
	}
}

// TestHugeTargetFails serves a body of up to 1 GiB: the body size limit
// (256 MiB by default, 4 MiB here to keep the test quick) stops the scrape
// with a clear error, and the store gets nothing but the report series.
func TestHugeTargetFails(t *testing.T) {
	line := []byte(strings.Repeat("x", 60) + " 1\n")
	chunk := bytes.Repeat(line, 1<<14) // about 1 MiB
	endless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		for sent := 0; sent < 1<<30; sent += len(chunk) { // 1 GiB at most
			if _, err := w.Write(chunk); err != nil {
				return // the scraper hung up
			}
		}
	}))
	defer endless.Close()
	s, db := newTestScraper(t, `scrape "app" { body_size_limit = "4MB" }`, strings.TrimPrefix(endless.URL, "http://"))
	h := mustScrape(t, s, time.UnixMilli(1000))
	if h.Up || !strings.Contains(h.LastError, "body size limit exceeded: more than 4194304 bytes") {
		t.Fatalf("health %+v", h)
	}
	for series := range readAll(t, db) {
		if !strings.Contains(series, `__name__="up"`) && !strings.Contains(series, `__name__="scrape_`) {
			t.Fatalf("the failed scrape stored %s", series)
		}
	}
}

// TestDeclaredHugeBodyIsNotRead: a target that declares a body over the
// limit in its Content-Length is refused before any of it is read, so the
// scraper never holds it in memory.
func TestDeclaredHugeBodyIsNotRead(t *testing.T) {
	chunk := bytes.Repeat([]byte(strings.Repeat("x", 60)+" 1\n"), 1<<14) // about 1 MiB
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Header().Set("Content-Length", strconv.Itoa(1<<30))
		for sent := 0; sent < 1<<30; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return // the scraper hung up
			}
		}
	}))
	defer huge.Close()
	s, _ := newTestScraper(t, `scrape "app" { body_size_limit = "4MB" }`, strings.TrimPrefix(huge.URL, "http://"))
	h := mustScrape(t, s, time.UnixMilli(1000))
	if h.Up || !strings.Contains(h.LastError, "body size limit exceeded: the target declares 1073741824 bytes, more than 4194304") {
		t.Fatalf("health %+v", h)
	}
}

// failingStore is a store whose next failures commits fail, as a store
// that ran out of disk would fail them.
type failingStore struct {
	*tsdb.DB
	failures int
}

func (f *failingStore) AppenderV2(ctx context.Context) storage.AppenderV2 {
	return &failingAppender{AppenderV2: f.DB.AppenderV2(ctx), store: f}
}

type failingAppender struct {
	storage.AppenderV2
	store *failingStore
}

func (a *failingAppender) Commit() error {
	if a.store.failures > 0 {
		a.store.failures--
		if err := a.AppenderV2.Rollback(); err != nil {
			return err
		}
		return errors.New("no space left on device")
	}
	return a.AppenderV2.Commit()
}

// TestFailedCommitMarksTheTargetDown has the store refuse the commit of a
// good scrape: the target is down with the store's error, up=0 and stale
// markers for the series of the last stored scrape are written in a
// commit of their own, and the next scrape is stored again. When the store
// refuses that commit too, the target is still down with the error, and
// the stale markers come with the next stored scrape.
func TestFailedCommitMarksTheTargetDown(t *testing.T) {
	f := newFixture(t)
	s, db := newTestScraper(t, `scrape "app" {}`, f.addr())
	store := &failingStore{DB: db}
	s.store = store
	series := func(name string) string {
		return fmt.Sprintf(`{__name__=%q, instance=%q, job="app"}`, name, f.addr())
	}
	t1, t2, t3, t4, t5 := time.UnixMilli(1000000), time.UnixMilli(1015000), time.UnixMilli(1030000), time.UnixMilli(1045000), time.UnixMilli(1060000)

	f.body = "a 1\nb 1\n"
	if h := mustScrape(t, s, t1); !h.Up {
		t.Fatalf("first scrape: %+v", h)
	}

	// The store refuses the samples of the second scrape, then takes the report.
	f.body = "a 2\nc 2\n"
	store.failures = 1
	err := s.scrapeOnce(context.Background(), t2)
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("scrapeOnce returned %v, want the store's error for the loop to log", err)
	}
	const wantErr = "cannot store the scraped samples: no space left on device"
	if h := s.Health(); h.Up || h.LastError != wantErr {
		t.Fatalf("health after the refused commit: %+v, want down with %q", h, wantErr)
	}

	f.body = "a 3\nc 3\n"
	if h := mustScrape(t, s, t3); !h.Up || h.LastError != "" {
		t.Fatalf("scrape after the refused commit: %+v, want up", h)
	}

	// The store refuses everything of the fourth scrape.
	store.failures = 2
	if err := s.scrapeOnce(context.Background(), t4); err == nil {
		t.Error("scrapeOnce returned no error although nothing of the scrape was stored")
	}
	if h := s.Health(); h.Up || !strings.HasPrefix(h.LastError, wantErr) {
		t.Fatalf("health after two refused commits: %+v, want down with %q", h, wantErr)
	}

	f.body = "a 5\n"
	if h := mustScrape(t, s, t5); !h.Up {
		t.Fatalf("fifth scrape: %+v", h)
	}

	got := readAll(t, db)
	stale := math.Float64frombits(value.StaleNaN)
	for name, want := range map[string][]stored{
		"a":  {{t: t1.UnixMilli(), v: 1}, {t: t2.UnixMilli(), v: stale}, {t: t3.UnixMilli(), v: 3}, {t: t5.UnixMilli(), v: 5}},
		"b":  {{t: t1.UnixMilli(), v: 1}, {t: t2.UnixMilli(), v: stale}},
		"c":  {{t: t3.UnixMilli(), v: 3}, {t: t5.UnixMilli(), v: stale}},
		"up": {{t: t1.UnixMilli(), v: 1}, {t: t2.UnixMilli(), v: 0}, {t: t3.UnixMilli(), v: 1}, {t: t5.UnixMilli(), v: 1}},
	} {
		if !sameSamples(got[series(name)], want) {
			t.Errorf("%s: %v, want %v", name, got[series(name)], want)
		}
	}
}

// sameSamples compares samples, stale markers included.
func sameSamples(a, b []stored) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].t != b[i].t || a[i].h != b[i].h || math.Float64bits(a[i].v) != math.Float64bits(b[i].v) {
			return false
		}
	}
	return true
}

// TestSampleExemplarsAllocatesNothingWithout: asking the parser for the
// exemplars of a sample that has none allocates nothing, as most samples
// have none; it once allocated for every sample scraped.
func TestSampleExemplarsAllocatesNothingWithout(t *testing.T) {
	body := []byte("# TYPE a counter\na_total 1\n")
	p, err := textparse.New(body, "text/plain; version=0.0.4", nil, textparse.ParserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		entry, err := p.Next()
		if err != nil {
			t.Fatal(err)
		}
		if entry == textparse.EntrySeries {
			break
		}
	}
	s := &scraper{}
	if allocs := testing.AllocsPerRun(100, func() { s.sampleExemplars(p, 1000, false) }); allocs != 0 {
		t.Fatalf("%v allocations for a sample without exemplars, want 0", allocs)
	}
}
