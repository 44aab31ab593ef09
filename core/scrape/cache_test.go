package scrape

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilmon/vigil/core/tsdb"
)

// values returns the values of samples, with "stale" for stale markers.
func values(samples []stored) []string {
	out := make([]string, len(samples))
	for i, s := range samples {
		if value.IsStaleNaN(s.v) {
			out[i] = "stale"
		} else {
			out[i] = fmt.Sprint(s.v)
		}
	}
	return out
}

func TestCachedSeriesDisappearsAndComesBack(t *testing.T) {
	f := newFixture(t)
	s, db := newTestScraper(t, `scrape "app" {}`, f.addr())
	inst := f.addr()
	bodies := []string{
		"a 1\nb 1\n",
		"a 2\n",         // b goes: stale marker
		"a 3\nb 3\n",    // b comes back, from the cache
		"a 4\n",         // b goes again
		"a 5\n",         // and, gone for two scrapes, leaves the cache
		"a 6\n",         //
		"a 7\nb 7\n",    // b comes back, parsed again
		"a 8\nb 8\nb 8", // the same series twice is one series
	}
	for i, body := range bodies {
		f.body = body
		if h := mustScrape(t, s, time.UnixMilli(int64(1000*(i+1)))); !h.Up {
			t.Fatalf("scrape %d: %+v", i, h)
		}
		want := 0
		switch i {
		case 3:
			want = 2 // b is gone for one scrape: kept
		case 4:
			want = 1 // gone for two: dropped
		}
		if n := len(s.cache.entries); want != 0 && n != want {
			t.Errorf("after scrape %d the cache holds %d entries, want %d", i, n, want)
		}
	}
	got := readAll(t, db)
	b := got[fmt.Sprintf(`{__name__="b", instance=%q, job="app"}`, inst)]
	want := []string{"1", "stale", "3", "stale", "7", "8"}
	if fmt.Sprint(values(b)) != fmt.Sprint(want) {
		t.Errorf("b: %v, want %v", values(b), want)
	}
	if len(b) == len(want) && (b[1].t != 2000 || b[3].t != 4000) {
		t.Errorf("b's stale markers at %d and %d, want 2000 and 4000", b[1].t, b[3].t)
	}
	if a := got[fmt.Sprintf(`{__name__="a", instance=%q, job="app"}`, inst)]; len(a) != len(bodies) {
		t.Errorf("a: %v", values(a))
	}
	added := got[fmt.Sprintf(`{__name__="scrape_series_added", instance=%q, job="app"}`, inst)]
	if want := []string{"2", "0", "1", "0", "0", "0", "1", "0"}; fmt.Sprint(values(added)) != fmt.Sprint(want) {
		t.Errorf("scrape_series_added: %v, want %v", values(added), want)
	}
}

func TestSampleLimitRejectsCachedSeries(t *testing.T) {
	f := newFixture(t)
	s, db := newTestScraper(t, `scrape "app" { sample_limit = 2 }`, f.addr())
	inst := f.addr()
	steps := []struct {
		body string
		up   bool
	}{
		{"a 1\nb 1\n", true},
		{"a 2\nb 2\nc 2\n", false}, // over the limit: nothing stored, a and b stale
		{"a 3\nb 3\nc 3\n", false}, // c is in the cache now, and still over
		{"a 4\nb 4\n", true},
	}
	for i, step := range steps {
		f.body = step.body
		h := mustScrape(t, s, time.UnixMilli(int64(1000*(i+1))))
		if h.Up != step.up || (!h.Up && !strings.Contains(h.LastError, "sample limit exceeded")) {
			t.Fatalf("scrape %d: %+v, want up=%v", i, h, step.up)
		}
	}
	got := readAll(t, db)
	for name, want := range map[string][]string{
		"a": {"1", "stale", "4"},
		"b": {"1", "stale", "4"},
		"c": {},
	} {
		series := got[fmt.Sprintf(`{__name__=%q, instance=%q, job="app"}`, name, inst)]
		if fmt.Sprint(values(series)) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", name, values(series), want)
		}
	}
	post := got[fmt.Sprintf(`{__name__="scrape_samples_post_metric_relabeling", instance=%q, job="app"}`, inst)]
	if want := []string{"2", "0", "0", "2"}; fmt.Sprint(values(post)) != fmt.Sprint(want) {
		t.Errorf("scrape_samples_post_metric_relabeling: %v, want %v", values(post), want)
	}
}

func TestLabelLimitRejectsEveryScrape(t *testing.T) {
	f := newFixture(t)
	f.body = "ok 1\nwide{x=\"1\",y=\"2\"} 1\n"
	s, db := newTestScraper(t, `scrape "app" { label_limit = 3 }`, f.addr())
	for i := range 3 {
		if h := mustScrape(t, s, time.UnixMilli(int64(1000*(i+1)))); h.Up || !strings.Contains(h.LastError, "label limit exceeded") {
			t.Fatalf("scrape %d: %+v", i, h)
		}
	}
	for series := range readAll(t, db) {
		if !strings.Contains(series, `__name__="up"`) && !strings.Contains(series, `__name__="scrape_`) {
			t.Errorf("a failed scrape stored %s", series)
		}
	}
}

// TestDroppedSeriesStayDropped scrapes twice, the second time from the
// cache, through honor_labels and metric_relabel.
func TestDroppedSeriesStayDropped(t *testing.T) {
	f := newFixture(t)
	f.body = "m{job=\"inner\",keep=\"x\"} 1\ngo_goroutines 5\n"
	s, db := newTestScraper(t, `scrape "app" {
  metric_relabel {
    source_labels = ["__name__"]
    regex         = "go_.*"
    action        = "drop"
  }
}`, f.addr())
	for i := range 3 {
		if h := mustScrape(t, s, time.UnixMilli(int64(1000*(i+1)))); !h.Up || h.SamplesScraped != 2 {
			t.Fatalf("scrape %d: %+v", i, h)
		}
	}
	got := readAll(t, db)
	m := got[fmt.Sprintf(`{__name__="m", exported_job="inner", instance=%q, job="app", keep="x"}`, f.addr())]
	if len(m) != 3 {
		t.Errorf("m: %v, want 3 samples", values(m))
	}
	post := got[fmt.Sprintf(`{__name__="scrape_samples_post_metric_relabeling", instance=%q, job="app"}`, f.addr())]
	if want := []string{"1", "1", "1"}; fmt.Sprint(values(post)) != fmt.Sprint(want) {
		t.Errorf("scrape_samples_post_metric_relabeling: %v, want %v", values(post), want)
	}
	for series := range got {
		if strings.Contains(series, "go_goroutines") {
			t.Errorf("dropped series stored: %s", series)
		}
	}
}

// TestCacheKeyHasTheFamilyType: the text parser normalizes the le label of
// a histogram's series, so the same series text under another TYPE line is
// another series.
func TestCacheKeyHasTheFamilyType(t *testing.T) {
	f := newFixture(t)
	s, db := newTestScraper(t, `scrape "app" {}`, f.addr())
	f.body = "# TYPE x histogram\nx_bucket{le=\"1\"} 1\nx_bucket{le=\"+Inf\"} 1\nx_sum 1\nx_count 1\n"
	mustScrape(t, s, time.UnixMilli(1000))
	f.body = "x_bucket{le=\"1\"} 2\n"
	mustScrape(t, s, time.UnixMilli(2000))
	got := readAll(t, db)
	typed := got[fmt.Sprintf(`{__name__="x_bucket", instance=%q, job="app", le="1.0"}`, f.addr())]
	untyped := got[fmt.Sprintf(`{__name__="x_bucket", instance=%q, job="app", le="1"}`, f.addr())]
	if fmt.Sprint(values(typed)) != "[1 stale]" || fmt.Sprint(values(untyped)) != "[2]" {
		t.Errorf("le=\"1.0\": %v, le=\"1\": %v; want [1 stale] and [2]", values(typed), values(untyped))
	}
}

func TestMetadataFollowsTheLastGoodScrape(t *testing.T) {
	f := newFixture(t)
	s, _ := newTestScraper(t, `scrape "app" { sample_limit = 2 }`, f.addr())
	f.body = "# HELP a Help of a.\n# TYPE a counter\na 1\n# TYPE b gauge\nb 1\n"
	mustScrape(t, s, time.UnixMilli(1000))
	first := s.Metadata()
	want := map[string]Metadata{"a": {Type: "counter", Help: "Help of a."}, "b": {Type: "gauge"}}
	if fmt.Sprint(first) != fmt.Sprint(want) {
		t.Fatalf("metadata %v, want %v", first, want)
	}
	// The same metadata again keeps the map.
	mustScrape(t, s, time.UnixMilli(2000))
	if again := s.Metadata(); fmt.Sprintf("%p", again) != fmt.Sprintf("%p", first) {
		t.Error("unchanged metadata made a new map")
	}
	// A failed scrape leaves it alone.
	f.body = "# HELP a Other help.\na 1\nb 1\nc 1\n"
	if h := mustScrape(t, s, time.UnixMilli(3000)); h.Up {
		t.Fatal("the scrape over the sample limit succeeded")
	}
	if got := s.Metadata(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("metadata after a failed scrape %v, want %v", got, want)
	}
	// A good one replaces it, without families it no longer mentions.
	f.body = "# HELP a Other help.\na 1\n"
	mustScrape(t, s, time.UnixMilli(4000))
	want = map[string]Metadata{"a": {Help: "Other help."}}
	if got := s.Metadata(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("metadata %v, want %v", got, want)
	}
	if fmt.Sprint(first) != fmt.Sprint(map[string]Metadata{"a": {Type: "counter", Help: "Help of a."}, "b": {Type: "gauge"}}) {
		t.Errorf("a map already returned changed: %v", first)
	}
}

// TestConfigChangeRelabelsCachedSeries: a changed scrape block starts a new
// loop, whose cache knows nothing of the old block's labels.
func TestConfigChangeRelabelsCachedSeries(t *testing.T) {
	f := newFixture(t)
	f.body = "m 1\n"
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, _ := startManager(t, Options{Store: db})
	config := func(via string) string {
		return fmt.Sprintf(`scrape "app" {
  targets         = [%q]
  scrape_interval = "100ms"
  scrape_timeout  = "100ms"
  metric_relabel {
    target_label = "via"
    replacement  = %q
  }
}`, f.addr(), via)
	}
	series := func(via string) string {
		return fmt.Sprintf(`{__name__="m", instance=%q, job="app", via=%q}`, f.addr(), via)
	}
	if err := m.ApplyConfig(t.Context(), parseConfig(t, config("a"))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "two scrapes with via=a", func() bool { return len(readAll(t, db)[series("a")]) >= 2 })
	if err := m.ApplyConfig(t.Context(), parseConfig(t, config("b"))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "two scrapes with via=b", func() bool { return len(readAll(t, db)[series("b")]) >= 2 })
	old := readAll(t, db)[series("a")]
	if last := old[len(old)-1]; !value.IsStaleNaN(last.v) {
		t.Errorf("the series of the old block is not stale: %v", values(old))
	}
}

// TestAppendsUseStoreReferences: once the store has given a series its
// reference, samples, stale markers and report series go by it; a store
// that gives none (0) gets the labels every time.
func TestAppendsUseStoreReferences(t *testing.T) {
	for name, withStore := range map[string]bool{"tsdb": true, "no references": false} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			s, db := newTestScraper(t, `scrape "app" {}`, f.addr())
			rec := &recordingStore{}
			if withStore {
				rec.inner = db
			}
			s.store = rec
			f.body = "a 1\nb 1\n"
			mustScrape(t, s, time.UnixMilli(1000))
			rec.appends = nil
			f.body = "a 2\n"
			mustScrape(t, s, time.UnixMilli(2000))
			var stale []string
			for _, a := range rec.appends {
				if withStore != (a.ref != 0) {
					t.Errorf("second scrape appended %s with reference %d", a.lset, a.ref)
				}
				if value.IsStaleNaN(a.v) {
					stale = append(stale, a.lset.Get("__name__"))
				}
			}
			if fmt.Sprint(stale) != "[b]" {
				t.Errorf("stale markers for %v, want [b]", stale)
			}
			if len(rec.appends) != 7 {
				t.Errorf("%d appends, want a, b's stale marker and 5 report series", len(rec.appends))
			}
		})
	}
}

// recordingStore records the appends of committed appenders, passing them
// on to inner or, without one, giving no references.
type recordingStore struct {
	inner   storage.AppendableV2
	appends []recordedAppend
}

type recordedAppend struct {
	ref  storage.SeriesRef
	lset labels.Labels
	v    float64
}

func (r *recordingStore) AppenderV2(ctx context.Context) storage.AppenderV2 {
	a := &recordingAppender{store: r}
	if r.inner != nil {
		a.inner = r.inner.AppenderV2(ctx)
	}
	return a
}

type recordingAppender struct {
	store   *recordingStore
	inner   storage.AppenderV2
	pending []recordedAppend
}

func (a *recordingAppender) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AppendV2Options) (storage.SeriesRef, error) {
	a.pending = append(a.pending, recordedAppend{ref: ref, lset: ls, v: v})
	if a.inner == nil {
		return 0, nil
	}
	return a.inner.Append(ref, ls, st, t, v, h, fh, opts)
}

func (a *recordingAppender) Commit() error {
	a.store.appends = append(a.store.appends, a.pending...)
	if a.inner == nil {
		return nil
	}
	return a.inner.Commit()
}

func (a *recordingAppender) Rollback() error {
	if a.inner == nil {
		return nil
	}
	return a.inner.Rollback()
}

func TestBodyBuffers(t *testing.T) {
	s := &scraper{lastBodySize: 5000}
	b := s.getBodyBuffer()
	if b.Cap() < 5000+512 || b.Cap() != 1<<b.pool {
		t.Fatalf("buffer of %d bytes for a body of 5000", b.Cap())
	}
	putBodyBuffer(b)
	// A buffer that grew is not kept.
	b = s.getBodyBuffer()
	b.Write(make([]byte, 3*b.Cap()))
	putBodyBuffer(b)
	if b.Len() != 3*(1<<b.pool) {
		t.Error("a grown buffer was reset for reuse")
	}
}

// TestCacheFollowsTheLastOrder scrapes a cache with expositions whose
// series come, go, move and repeat, and checks that get finds the entry
// that add made for each key still in the cache, and nothing for a key
// that left, whatever the order: the last scrape's order is a hint, never
// an answer.
func TestCacheFollowsTheLastOrder(t *testing.T) {
	scrapes := [][]string{
		{"a", "b", "c", "d", "e"},
		{"a", "b", "c", "d", "e"},      // the same order
		{"a", "x", "b", "c", "d", "e"}, // x comes
		{"a", "b", "d", "e"},           // x and c go
		{"e", "d", "b", "a"},           // reversed
		{"a", "a", "b", "b", "e", "d"}, // repeats
		{"c", "a", "b", "d", "e"},      // c, gone for three scrapes, is new again
		{},                             // a failed scrape
		{"a", "b", "c", "d", "e"},
		{"a", "b", "c", "d", "e"},
	}
	c := newSeriesCache()
	made := map[string]*cacheEntry{} // by key: the entry add made last
	last := map[string]int{}         // by key: the last scrape that exposed it
	for i, keys := range scrapes {
		c.begin()
		for _, k := range keys {
			got := c.get([]byte(k))
			seen, ok := last[k]
			switch {
			// A key stays for the two scrapes after the last that
			// exposed it.
			case ok && seen+2 >= i && got != made[k]:
				t.Errorf("scrape %d, key %s: get returned %p, want the entry add made, %p", i, k, got, made[k])
			case (!ok || seen+2 < i) && got != nil:
				t.Errorf("scrape %d, key %s: get returned an entry for a key that left the cache", i, k)
			}
			if got == nil {
				made[k] = c.add([]byte(k), labels.FromStrings("k", k), false)
			}
			last[k] = i
		}
		c.end()
		for k, e := range c.entries {
			if e.key != k {
				t.Errorf("after scrape %d: the entry of key %s says its key is %s", i, k, e.key)
			}
		}
		if len(c.order) != len(keys) {
			t.Errorf("after scrape %d: the order holds %d entries, want %d", i, len(c.order), len(keys))
		}
	}
}

// TestCacheTracksSeriesInAnyOrder runs a cache through good and failed
// scrapes whose series repeat the last good scrape's, in its order or
// not, or come, go and repeat, and checks what track says is new and
// what forEachGone says is gone against sets of label hashes: the fast
// path of an unchanged scrape must answer as the maps do.
func TestCacheTracksSeriesInAnyOrder(t *testing.T) {
	type scrape struct {
		keys   []string
		failed bool
	}
	scrapes := []scrape{
		{keys: []string{"a", "b", "c"}},
		{keys: []string{"a", "b", "c"}},           // unchanged
		{keys: []string{"a", "b", "c"}},           // unchanged again
		{keys: []string{"a", "b"}},                // c goes
		{keys: []string{"a", "b", "c", "d"}},      // c comes back, d is new
		{keys: []string{"d", "c", "b", "a"}},      // the same set, reversed
		{keys: []string{"d", "c", "b", "a"}},      // unchanged
		{keys: []string{"d", "c", "b", "a", "a"}}, // a twice
		{keys: []string{"d", "c", "b", "a", "a"}}, // unchanged, a twice
		{keys: []string{"d", "c", "b", "a"}},      // a once
		{keys: []string{"d", "c", "b", "a2"}},     // another key of a's labels
		{keys: []string{"d", "c"}, failed: true},  // a failed scrape: everything is gone
		{keys: []string{"d", "c", "b", "a"}},
		{keys: []string{"d", "c", "x"}},  // b and a go, x comes
		{keys: []string{"d", "c", "x"}},  // unchanged
		{keys: []string{}},               // an empty exposition
		{keys: []string{"d"}},            // d comes back
		{keys: []string{}, failed: true}, // a failed scrape of nothing
	}
	labelsOf := func(key string) labels.Labels { return labels.FromStrings("k", strings.TrimSuffix(key, "2")) }
	c := newSeriesCache()
	prev := map[uint64]bool{} // the label hashes of the last good scrape
	for i, sc := range scrapes {
		c.begin()
		cur := map[uint64]bool{}
		for _, k := range sc.keys {
			e := c.get([]byte(k))
			if e == nil {
				e = c.add([]byte(k), labelsOf(k), false)
			}
			wantAdded := !prev[e.hash] && !cur[e.hash]
			cur[e.hash] = true
			if added := c.track(e); added != wantAdded {
				t.Errorf("scrape %d, key %s: track says new %v, want %v", i, k, added, wantAdded)
			}
		}
		if sc.failed {
			c.failed()
			cur = map[uint64]bool{}
		}
		var gone []string
		c.forEachGone(func(e *cacheEntry) { gone = append(gone, e.lset.Get("k")) })
		var wantGone []string
		for _, e := range c.entries {
			if prev[e.hash] && !cur[e.hash] && !slices.Contains(wantGone, e.lset.Get("k")) {
				wantGone = append(wantGone, e.lset.Get("k"))
			}
		}
		slices.Sort(gone)
		slices.Sort(wantGone)
		if !slices.Equal(gone, wantGone) {
			t.Errorf("scrape %d: gone %v, want %v", i, gone, wantGone)
		}
		if sc.failed {
			c.forget()
			prev = map[uint64]bool{}
		} else {
			c.succeeded()
			prev = cur
		}
		c.end()
	}
}

// BenchmarkSeriesCache runs the cache through scrapes of a target whose
// 1,000 series are the same, in the same order, from scrape to scrape,
// as a scrape of it does: a lookup and a track per series, the stale
// check and the end of a good scrape.
func BenchmarkSeriesCache(b *testing.B) {
	keys := make([][]byte, 1000)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "\x00bench_family_%03d_total{series=\"s%04d\",shard=\"%d\"}", i/50, i, i%4)
	}
	c := newSeriesCache()
	b.ReportAllocs()
	for b.Loop() {
		c.begin()
		for _, k := range keys {
			e := c.get(k)
			if e == nil {
				e = c.add(k, labels.FromStrings("k", string(k)), false)
			}
			c.track(e)
		}
		c.forEachGone(func(*cacheEntry) {})
		c.succeeded()
		c.end()
	}
}
