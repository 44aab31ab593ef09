package sdk_test

import (
	"context"
	"errors"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/sdk"
)

// gatherer returns fixed families, or an error, and counts its calls.
type gatherer struct {
	families []*dto.MetricFamily
	err      error
	calls    int
}

func (g *gatherer) Gather() ([]*dto.MetricFamily, error) {
	g.calls++
	return g.families, g.err
}

func TestGathererExporter(t *testing.T) {
	g := &gatherer{families: []*dto.MetricFamily{
		{Name: proto.String("test_events_total"), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{{Counter: &dto.Counter{Value: proto.Float64(3)}}}},
		{Name: proto.String("test_temperature"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(21.5)}}}},
	}}
	families, err := sdk.GathererExporter(g).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if g.calls != 1 || len(families) != 2 || families[0].GetName() != "test_events_total" || families[1].GetName() != "test_temperature" {
		t.Fatalf("%d calls, families %v", g.calls, families)
	}
	if v := families[0].Metric[0].GetCounter().GetValue(); v != 3 {
		t.Errorf("counter %v, want 3", v)
	}
	if v := families[1].Metric[0].GetGauge().GetValue(); v != 21.5 {
		t.Errorf("gauge %v, want 21.5", v)
	}
}

func TestGathererExporterErrors(t *testing.T) {
	failed := errors.New(`collected metric "test_dup" was collected before with the same name and label values`)
	if _, err := sdk.GathererExporter(&gatherer{err: failed}).Collect(context.Background()); !errors.Is(err, failed) {
		t.Errorf("a failed Gather: %v, want it wrapped", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g := &gatherer{}
	if _, err := sdk.GathererExporter(g).Collect(ctx); !errors.Is(err, context.Canceled) || g.calls != 0 {
		t.Errorf("cancelled context: %v after %d calls, want context.Canceled before any", err, g.calls)
	}
}
