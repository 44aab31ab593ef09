package scrape

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/value"
	"go.uber.org/goleak"

	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/testfixture"
)

// TestMain checks that no loop outlives its test.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func parseConfig(t *testing.T, src string) *hclconfig.Config {
	t.Helper()
	cfg, diags := hclconfig.Parse("test.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return cfg
}

// eventually polls cond every 20ms for at most 10s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startManager runs a manager with opts until the test ends; stop ends
// it sooner, and waits for Run to return.
func startManager(t *testing.T, opts Options) (m *Manager, stop func()) {
	t.Helper()
	m = New(opts)
	return m, testfixture.Run(t, m.Run)
}

func TestManagerStartsReloadsAndStops(t *testing.T) {
	a, b := newFixture(t), newFixture(t)
	a.body, b.body = "from_a 1\n", "from_b 2\nother_b 3\n"
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, stop := startManager(t, Options{Store: db})

	config := func(addrs ...string) *hclconfig.Config {
		return parseConfig(t, fmt.Sprintf(`scrape "app" {
  targets         = ["%s"]
  scrape_interval = "100ms"
  scrape_timeout  = "100ms"
}
scrape "gone" {
  targets = ["127.0.0.1:1"]
  relabel {
    action = "drop"
    source_labels = ["__address__"]
    regex = ".*:1"
  }
}`, strings.Join(addrs, `", "`)))
	}
	if err := m.ApplyConfig(t.Context(), config(a.addr())); err != nil {
		t.Fatal(err)
	}
	seriesA := fmt.Sprintf(`{__name__="from_a", instance=%q, job="app"}`, a.addr())
	seriesB := fmt.Sprintf(`{__name__="from_b", instance=%q, job="app"}`, b.addr())
	eventually(t, "a scrape of target a", func() bool { return len(readAll(t, db)[seriesA]) >= 2 })
	if ts := m.Targets(); len(ts) != 1 || !ts[0].Health.Up || ts[0].ScrapePool != "app" {
		t.Fatalf("targets: %+v", ts)
	}
	if d := m.DroppedTargets(); len(d) != 1 || d[0].ScrapePool != "gone" {
		t.Fatalf("dropped targets: %+v", d)
	}
	if n := testutil.ToFloat64(m.metrics.targets); n != 1 {
		t.Fatalf("vigil_scrape_targets = %v", n)
	}
	if n := testutil.ToFloat64(m.metrics.scrapes.WithLabelValues("success")); n < 2 {
		t.Fatalf("vigil_scrapes_total{result=\"success\"} = %v", n)
	}

	// Reload: a goes away (its series go stale when its next scrape would
	// have been, once two intervals have passed), b comes.
	if err := m.ApplyConfig(t.Context(), config(b.addr())); err != nil {
		t.Fatal(err)
	}
	upA := fmt.Sprintf(`{__name__="up", instance=%q, job="app"}`, a.addr())
	eventually(t, "the stale marker of the removed target's up", func() bool {
		got := readAll(t, db)[upA]
		return len(got) > 0 && value.IsStaleNaN(got[len(got)-1].v)
	})
	stored := readAll(t, db)
	for _, series := range []string{seriesA,
		fmt.Sprintf(`{__name__="scrape_duration_seconds", instance=%q, job="app"}`, a.addr()),
		fmt.Sprintf(`{__name__="scrape_samples_scraped", instance=%q, job="app"}`, a.addr()),
		fmt.Sprintf(`{__name__="scrape_samples_post_metric_relabeling", instance=%q, job="app"}`, a.addr()),
		fmt.Sprintf(`{__name__="scrape_series_added", instance=%q, job="app"}`, a.addr()),
	} {
		got := stored[series]
		if len(got) < 2 || !value.IsStaleNaN(got[len(got)-1].v) {
			t.Fatalf("%s of the removed target not marked stale: %v", series, got)
		}
		// The marker is where the next scrape would have been.
		if gap := got[len(got)-1].t - got[len(got)-2].t; gap < 50 || gap > 150 {
			t.Errorf("%s marked stale %dms after its last sample, want one interval (100ms)", series, gap)
		}
	}
	eventually(t, "a scrape of target b", func() bool { return len(readAll(t, db)[seriesB]) >= 1 })
	if ts := m.Targets(); len(ts) != 1 || !strings.Contains(ts[0].URL.String(), b.addr()) {
		t.Fatalf("targets after reload: %+v", ts)
	}

	// The same config again keeps the loop: no stale marker for b.
	if err := m.ApplyConfig(t.Context(), config(b.addr())); err != nil {
		t.Fatal(err)
	}
	for _, s := range readAll(t, db)[seriesB] {
		if value.IsStaleNaN(s.v) {
			t.Fatal("an unchanged target was restarted and marked stale")
		}
	}

	// A changed block restarts b's loop where it was: neither its up nor
	// the series it still scrapes are marked stale, now or two intervals
	// later; the series it now drops are, at its first scrape.
	changed := parseConfig(t, fmt.Sprintf(`scrape "app" {
  targets         = ["%s"]
  scrape_interval = "100ms"
  scrape_timeout  = "100ms"
  sample_limit    = 1000
  metric_relabel {
    source_labels = ["__name__"]
    regex         = "other_b"
    action        = "drop"
  }
}`, b.addr()))
	otherB := fmt.Sprintf(`{__name__="other_b", instance=%q, job="app"}`, b.addr())
	if err := m.ApplyConfig(t.Context(), changed); err != nil {
		t.Fatal(err)
	}
	upB := fmt.Sprintf(`{__name__="up", instance=%q, job="app"}`, b.addr())
	before := len(readAll(t, db)[upB])
	eventually(t, "three scrapes of b by its new loop", func() bool { return len(readAll(t, db)[upB]) > before+3 })
	for _, series := range []string{upB, seriesB} {
		for _, s := range readAll(t, db)[series] {
			if value.IsStaleNaN(s.v) {
				t.Fatalf("%s of a target whose block changed was marked stale", series)
			}
		}
	}
	if got := readAll(t, db)[otherB]; len(got) < 2 || !value.IsStaleNaN(got[len(got)-1].v) || value.IsStaleNaN(got[len(got)-2].v) {
		t.Errorf("the series the changed block drops: %v, want samples and then one stale marker", got)
	}
	stop()
	if len(m.Targets()) != 0 {
		t.Fatal("targets left after Run returned")
	}
}

// TestTargetBackInTimeKeepsItsSeries removes a target and brings it back
// before its stale markers are due, as a discovery that loses a target
// for a moment does: its series go on without a marker. A target removed
// when the manager stops gets none either.
func TestTargetBackInTimeKeepsItsSeries(t *testing.T) {
	f := newFixture(t)
	f.body = "flapping 1\n"
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, stop := startManager(t, Options{Store: db})
	config := func(targets string) *hclconfig.Config {
		return parseConfig(t, fmt.Sprintf("scrape \"app\" {\n  targets = [%s]\n  scrape_interval = \"200ms\"\n  scrape_timeout = \"200ms\"\n}\n", targets))
	}
	series := fmt.Sprintf(`{__name__="flapping", instance=%q, job="app"}`, f.addr())
	up := fmt.Sprintf(`{__name__="up", instance=%q, job="app"}`, f.addr())
	scrapes := func() int { return len(readAll(t, db)[up]) }
	apply := func(cfg *hclconfig.Config) {
		t.Helper()
		if err := m.ApplyConfig(t.Context(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	noMarkers := func(when string) {
		t.Helper()
		for _, name := range []string{series, up} {
			for _, s := range readAll(t, db)[name] {
				if value.IsStaleNaN(s.v) {
					t.Fatalf("%s was marked stale %s", name, when)
				}
			}
		}
	}
	apply(config(fmt.Sprintf("%q", f.addr())))
	eventually(t, "two scrapes", func() bool { return scrapes() >= 2 })
	apply(config(""))
	apply(config(fmt.Sprintf("%q", f.addr())))
	n := scrapes()
	// The markers of the first loop would have been due after 420ms.
	eventually(t, "four scrapes more", func() bool { return scrapes() >= n+4 })
	noMarkers("although its target came back")
	apply(config(""))
	stop()
	time.Sleep(600 * time.Millisecond)
	noMarkers("after the manager stopped")
}

func TestLoopOffsetIsStableAndWithinTheInterval(t *testing.T) {
	s := &scraper{target: &Target{Interval: 15 * time.Second}}
	l := &loop{key: "app/{instance=\"a\"}", scraper: s}
	now := time.Unix(1_700_000_000, 123)
	first := l.offset(now)
	if first < 0 || first >= 15*time.Second {
		t.Fatalf("offset %s outside the interval", first)
	}
	// One interval later the target scrapes at the same point.
	if again := l.offset(now.Add(15 * time.Second)); again != first {
		t.Fatalf("offset moved from %s to %s", first, again)
	}
	other := &loop{key: "app/{instance=\"b\"}", scraper: s}
	if other.offset(now) == first {
		t.Fatalf("two targets share the offset %s", first)
	}
}

// TestHoldKeepsScrapesBack write-locks Options.Hold before the first
// scrape: no sample is stored while it is held, and every sample stored
// after it is released is newer than the release.
func TestHoldKeepsScrapesBack(t *testing.T) {
	f := newFixture(t)
	f.body = "held 1\n"
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hold := &sync.RWMutex{}
	hold.Lock()
	m, stop := startManager(t, Options{Store: db, Hold: hold})
	defer stop()
	if err := m.ApplyConfig(t.Context(), parseConfig(t, fmt.Sprintf(`scrape "app" {
  targets         = [%q]
  scrape_interval = "50ms"
  scrape_timeout  = "50ms"
}`, f.addr()))); err != nil {
		t.Fatal(err)
	}
	// Four intervals: a scrape that is not held back would have stored.
	time.Sleep(200 * time.Millisecond)
	series := fmt.Sprintf(`{__name__="held", instance=%q, job="app"}`, f.addr())
	if got := readAll(t, db)[series]; len(got) != 0 {
		t.Fatalf("samples stored while held: %v", got)
	}
	released := time.Now().UnixMilli()
	hold.Unlock()
	eventually(t, "a scrape after the release", func() bool { return len(readAll(t, db)[series]) >= 2 })
	for _, s := range readAll(t, db)[series] {
		if s.t < released {
			t.Fatalf("a sample at %d, before the release at %d", s.t, released)
		}
	}
}
