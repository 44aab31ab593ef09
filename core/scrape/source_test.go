package scrape

import (
	"context"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/value"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/internal/testfixture"
)

// groupsExporter serves what a Pushgateway serves for the groups it
// holds: one gauge per job, with the job label and an empty instance.
type groupsExporter struct {
	mu   sync.Mutex
	jobs []string
}

func (g *groupsExporter) set(jobs ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.jobs = jobs
}

func (g *groupsExporter) Collect(context.Context) ([]*dto.MetricFamily, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	mf := &dto.MetricFamily{Name: proto.String("batch_done"), Type: dto.MetricType_GAUGE.Enum()}
	for _, job := range g.jobs {
		mf.Metric = append(mf.Metric, &dto.Metric{
			Label: []*dto.LabelPair{{Name: proto.String("instance"), Value: proto.String("")}, {Name: proto.String("job"), Value: proto.String(job)}},
			Gauge: &dto.Gauge{Value: proto.Float64(1)},
		})
	}
	return []*dto.MetricFamily{mf}, nil
}

// TestSourceTarget collects an in-process source at the global interval,
// with honor_labels: its series keep their job and get no instance; a
// series the source stops serving goes stale; the target shows in
// Targets with its job and URL.
func TestSourceTarget(t *testing.T) {
	db := testfixture.Store(t)
	src := &groupsExporter{}
	src.set("a", "b")
	m, _ := startManager(t, Options{Store: db, Sources: []Source{{
		Job: "pushgateway", Address: "127.0.0.1:9090", MetricsPath: "/push/metrics", HonorLabels: true, Exporter: src,
	}}})
	cfg := parseConfig(t, `global {
  scrape_interval = "100ms"
  scrape_timeout  = "100ms"
}`)
	if err := m.ApplyConfig(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both jobs stored", func() bool {
		got := readAll(t, db)
		return len(got[`{__name__="batch_done", job="a"}`]) > 0 && len(got[`{__name__="batch_done", job="b"}`]) > 0
	})
	targets := m.Targets()
	if len(targets) != 1 || targets[0].ScrapePool != "pushgateway" || targets[0].URL.String() != "http://127.0.0.1:9090/push/metrics" ||
		targets[0].Labels.Get("instance") != "127.0.0.1:9090" || !targets[0].Health.Up {
		t.Fatalf("targets %+v", targets)
	}
	src.set("a")
	eventually(t, "b stale", func() bool {
		b := readAll(t, db)[`{__name__="batch_done", job="b"}`]
		return len(b) > 0 && value.IsStaleNaN(b[len(b)-1].v)
	})
	if up := readAll(t, db)[`{__name__="up", instance="127.0.0.1:9090", job="pushgateway"}`]; len(up) == 0 || up[len(up)-1].v != 1 {
		t.Errorf("up of the source: %+v", up)
	}
}
