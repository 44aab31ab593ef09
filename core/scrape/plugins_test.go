package scrape

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/value"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/internal/testfixture"
	"github.com/vigilmon/vigil/sdk"
)

// counterExporter serves one counter that grows with every collection,
// or fails while failing is set.
type counterExporter struct {
	n       atomic.Int64
	failing atomic.Bool
}

func (c *counterExporter) Collect(context.Context) ([]*dto.MetricFamily, error) {
	if c.failing.Load() {
		return nil, errors.New("the plugin is down")
	}
	v := c.n.Add(1)
	return []*dto.MetricFamily{{
		Name: proto.String("plugin_events_total"), Type: dto.MetricType_COUNTER.Enum(),
		Metric: []*dto.Metric{{Label: []*dto.LabelPair{{Name: proto.String("kind"), Value: proto.String("a")}},
			Counter: &dto.Counter{Value: proto.Float64(float64(v))}}},
	}}, nil
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
