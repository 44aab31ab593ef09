package scrape

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/value"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/internal/testfixture"
	"github.com/vigilmon/vigil/sdk"
)

// counterExporter serves one counter that grows with every collection,
// or fails while failing is set, or reports its target down with the
// counter while targetDown is set.
type counterExporter struct {
	n          atomic.Int64
	failing    atomic.Bool
	targetDown atomic.Bool
}

func (c *counterExporter) Collect(context.Context) ([]*dto.MetricFamily, error) {
	if c.failing.Load() {
		return nil, errors.New("the plugin is down")
	}
	v := c.n.Add(1)
	families := []*dto.MetricFamily{{
		Name: proto.String("plugin_events_total"), Type: dto.MetricType_COUNTER.Enum(),
		Metric: []*dto.Metric{{Label: []*dto.LabelPair{{Name: proto.String("kind"), Value: proto.String("a")}},
			Counter: &dto.Counter{Value: proto.Float64(float64(v))}}},
	}}
	if c.targetDown.Load() {
		return families, sdk.TargetDown(errors.New("the database refused the connection"))
	}
	return families, nil
}

// TestExporterTargetDown collects an exporter that reports its target
// down: its samples are stored, and the target is down with the error,
// counted as a failed scrape.
func TestExporterTargetDown(t *testing.T) {
	db := testfixture.Store(t)
	exp := &counterExporter{}
	exp.targetDown.Store(true)
	m, _ := startManager(t, Options{Store: db, Exporters: func(name string) (sdk.Exporter, bool) { return exp, name == "things" }})
	cfg := parseConfig(t, `plugin "p" { source = "p" }
exporter "things" {
  plugin   = "p"
  interval = "100ms"
  timeout  = "100ms"
}`)
	if err := m.ApplyConfig(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	series := fmt.Sprintf(`{__name__="plugin_events_total", instance=%q, job="things", kind="a"}`, host)
	up := fmt.Sprintf(`{__name__="up", instance=%q, job="things"}`, host)
	eventually(t, "two collections stored", func() bool { return len(readAll(t, db)[series]) >= 2 })
	h := m.Targets()[0].Health
	if h.Up || h.LastError != "exporter plugin p: target down: the database refused the connection" || h.SamplesScraped != 1 {
		t.Errorf("health of a target reported down: %+v", h)
	}
	stored := readAll(t, db)
	for _, p := range stored[up] {
		if p.v != 0 {
			t.Errorf("up of a target reported down: %v", stored[up])
		}
	}
	for _, p := range stored[series] {
		if value.IsStaleNaN(p.v) {
			t.Errorf("the samples of a target reported down were marked stale: %v", stored[series])
		}
	}
	if n := testutil.ToFloat64(m.metrics.scrapes.WithLabelValues("failure")); n < 2 {
		t.Errorf("vigil_scrapes_total{result=\"failure\"} = %v after two collections of a target reported down", n)
	}
	if n := testutil.ToFloat64(m.metrics.scrapes.WithLabelValues("success")); n != 0 {
		t.Errorf("vigil_scrapes_total{result=\"success\"} = %v, want 0", n)
	}

	exp.targetDown.Store(false)
	eventually(t, "the target up again", func() bool {
		h := m.Targets()[0].Health
		return h.Up && h.LastError == ""
	})
}

func TestExporterTarget(t *testing.T) {
	db := testfixture.Store(t)
	exp := &counterExporter{}
	m, _ := startManager(t, Options{Store: db, Exporters: func(name string) (sdk.Exporter, bool) { return exp, name == "things" }})
	cfg := parseConfig(t, `plugin "p" { source = "p" }
exporter "things" {
  plugin   = "p"
  interval = "100ms"
  timeout  = "100ms"
  metric_relabel {
    target_label = "via"
    replacement  = "plugin"
  }
}`)
	if err := m.ApplyConfig(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	series := fmt.Sprintf(`{__name__="plugin_events_total", instance=%q, job="things", kind="a", via="plugin"}`, host)
	eventually(t, "two collections stored", func() bool { return len(readAll(t, db)[series]) >= 2 })
	targets := m.Targets()
	if len(targets) != 1 || targets[0].URL.String() != "plugin://things" || !targets[0].Health.Up {
		t.Fatalf("targets %+v", targets)
	}

	exp.failing.Store(true)
	eventually(t, "the failure reported", func() bool {
		h := m.Targets()[0].Health
		return !h.Up && h.LastError == "exporter plugin p: the plugin is down"
	})
}

func TestDiscoveredTargets(t *testing.T) {
	a, b := newFixture(t), newFixture(t)
	a.body, b.body = "x 1\n", "x 2\n"
	db := testfixture.Store(t)
	m, _ := startManager(t, Options{Store: db})
	cfg := parseConfig(t, `plugin "f" { source = "f" }
discovery "files" { plugin = "f" }
scrape "apps" {
  discovery       = ["files"]
  scrape_interval = "100ms"
  scrape_timeout  = "100ms"
  relabel {
    source_labels = ["__meta_zone"]
    target_label  = "zone"
  }
}`)
	if err := m.ApplyConfig(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	if len(m.Targets()) != 0 {
		t.Fatalf("targets before discovery: %+v", m.Targets())
	}
	err := m.SetDiscovered("files", []sdk.TargetGroup{
		{Source: "1", Labels: map[string]string{"__meta_zone": "eu"}, Targets: []map[string]string{{"__address__": a.addr()}}},
		{Source: "2", Targets: []map[string]string{{"__address__": b.addr(), "__meta_zone": "us"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "both targets scraped", func() bool {
		stored := readAll(t, db)
		return len(stored[fmt.Sprintf(`{__name__="x", instance=%q, job="apps", zone="eu"}`, a.addr())]) > 0 &&
			len(stored[fmt.Sprintf(`{__name__="x", instance=%q, job="apps", zone="us"}`, b.addr())]) > 0
	})
	// The second group goes away: its target stops and its series go
	// stale, two intervals later.
	if err := m.SetDiscovered("files", []sdk.TargetGroup{{Source: "2"}}); err != nil {
		t.Fatal(err)
	}
	if targets := m.Targets(); len(targets) != 1 || targets[0].Discovered.Get("__meta_zone") != "eu" {
		t.Fatalf("targets after a group left: %+v", targets)
	}
	eventually(t, "the series of the vanished target marked stale", func() bool {
		gone := readAll(t, db)[fmt.Sprintf(`{__name__="x", instance=%q, job="apps", zone="us"}`, b.addr())]
		return len(gone) > 0 && value.IsStaleNaN(gone[len(gone)-1].v)
	})
}

// probeExporter is a multi-target exporter: probe_success is 1 for a
// target it was asked for, and a target named "down:1" fails.
type probeExporter struct{ counterExporter }

func (p *probeExporter) CollectTarget(_ context.Context, t sdk.Target) ([]*dto.MetricFamily, error) {
	if t.Address == "down:1" {
		return nil, errors.New("cannot reach down:1")
	}
	return []*dto.MetricFamily{{
		Name: proto.String("probe_success"), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Label: []*dto.LabelPair{{Name: proto.String("module"), Value: proto.String(t.Module)}, {Name: proto.String("asked"), Value: proto.String(t.Address)}},
			Gauge: &dto.Gauge{Value: proto.Float64(1)}}},
	}}, nil
}

func TestMultiTargetExporter(t *testing.T) {
	db := testfixture.Store(t)
	exp := &probeExporter{}
	m, _ := startManager(t, Options{Store: db, Exporters: func(name string) (sdk.Exporter, bool) { return exp, name == "probes" }})
	cfg := parseConfig(t, `plugin "p" { source = "p" }
plugin "f" { source = "f" }
discovery "files" { plugin = "f" }
exporter "probes" {
  plugin    = "p"
  interval  = "100ms"
  timeout   = "100ms"
  targets   = ["http://a.example", "down:1", "skip.example"]
  discovery = ["files"]
  module    = "http_2xx"
  relabel {
    source_labels = ["__address__"]
    regex         = "skip.*"
    action        = "drop"
  }
  relabel {
    source_labels = ["__meta_module"]
    regex         = "(.+)"
    target_label  = "__param_module"
  }
  relabel {
    source_labels = ["__address__"]
    regex         = "b"
    target_label  = "__param_target"
    replacement   = "b.example:53"
  }
}`)
	if err := m.ApplyConfig(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	if err := m.SetDiscovered("files", []sdk.TargetGroup{{Source: "1", Targets: []map[string]string{{"__address__": "b", "__meta_module": "dns"}}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both good targets collected", func() bool {
		stored := readAll(t, db)
		return len(stored[`{__name__="probe_success", asked="http://a.example", instance="http://a.example", job="probes", module="http_2xx"}`]) > 0 &&
			len(stored[`{__name__="probe_success", asked="b.example:53", instance="b", job="probes", module="dns"}`]) > 0 &&
			len(stored[`{__name__="up", instance="down:1", job="probes"}`]) > 0
	})
	want := map[string]string{
		"http://a.example": "true  plugin://probes?module=http_2xx&target=http%3A%2F%2Fa.example",
		"b":                "true  plugin://probes?module=dns&target=b.example%3A53",
		"down:1":           "false exporter plugin p: cannot reach down:1 plugin://probes?module=http_2xx&target=down%3A1",
	}
	var health map[string]string
	eventually(t, "each target's own health", func() bool {
		health = map[string]string{}
		for _, tg := range m.Targets() {
			health[tg.Labels.Get("instance")] = fmt.Sprintf("%v %s %s", tg.Health.Up, tg.Health.LastError, tg.URL)
		}
		return fmt.Sprint(health) == fmt.Sprint(want)
	})
	if dropped := m.DroppedTargets(); len(dropped) != 1 || dropped[0].Labels.Get("__address__") != "skip.example" {
		t.Errorf("dropped targets: %+v", dropped)
	}
	stored := readAll(t, db)
	if up := stored[`{__name__="up", instance="down:1", job="probes"}`]; up[len(up)-1].v != 0 {
		t.Errorf("up of the failing target: %v", up)
	}
	if up := stored[`{__name__="up", instance="http://a.example", job="probes"}`]; len(up) == 0 || up[len(up)-1].v != 1 {
		t.Errorf("up of a good target: %v", up)
	}
}
