package sdk_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilmon/vigil/sdk"
)

// duplicate collects the same series twice, which Gather refuses.
type duplicate struct{ desc *prometheus.Desc }

func (d duplicate) Describe(ch chan<- *prometheus.Desc) { ch <- d.desc }

func (d duplicate) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, 2)
}

func TestGathererExporter(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "test_events_total", Help: "Events."}, []string{"kind"})
	c.WithLabelValues("a").Add(3)
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_temperature", Help: "A temperature."})
	g.Set(21.5)
	reg.MustRegister(c, g)

	families, err := sdk.GathererExporter(reg).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(families) != 2 || families[0].GetName() != "test_events_total" || families[1].GetName() != "test_temperature" {
		t.Fatalf("families %v", families)
	}
	if v := families[0].Metric[0].GetCounter().GetValue(); v != 3 {
		t.Errorf("counter %v, want 3", v)
	}
	if v := families[1].Metric[0].GetGauge().GetValue(); v != 21.5 {
		t.Errorf("gauge %v, want 21.5", v)
	}
}

func TestGathererExporterErrors(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(duplicate{prometheus.NewDesc("test_dup", "Twice.", nil, nil)})
	if _, err := sdk.GathererExporter(reg).Collect(context.Background()); err == nil || !strings.Contains(err.Error(), "test_dup") {
		t.Errorf("duplicate series: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sdk.GathererExporter(prometheus.NewRegistry()).Collect(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}
