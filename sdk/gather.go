package sdk

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// GathererExporter returns an Exporter whose Collect gathers g, typically
// a *prometheus.Registry holding the plugin's collectors, so a plugin can
// build its metrics with client_golang:
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(myCollector)
//	return sdk.GathererExporter(reg), nil
//
// Collect returns the families sorted by name, as Gather gives them. An
// error from Gather (an inconsistent or duplicate series, a failing
// collector) fails the whole collection, as promhttp does by default; a
// collector that may fail on its own should report that in a metric
// instead, the way node_exporter's node_scrape_collector_success does.
func GathererExporter(g prometheus.Gatherer) Exporter { return gathererExporter{g: g} }

type gathererExporter struct{ g prometheus.Gatherer }

func (e gathererExporter) Collect(ctx context.Context) ([]*dto.MetricFamily, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("gather: %w", err)
	}
	families, err := e.g.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather: %w", err)
	}
	return families, nil
}
