package sdk

import (
	"context"
	"fmt"

	dto "github.com/prometheus/client_model/go"
)

// Gatherer gathers metric families. It is client_golang's
// prometheus.Gatherer, which *prometheus.Registry implements, declared
// here so the SDK does not require client_golang: a plugin that does not
// build its metrics with it does not depend on it.
type Gatherer interface {
	// Gather returns the metric families, sorted by name.
	Gather() ([]*dto.MetricFamily, error)
}

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
func GathererExporter(g Gatherer) Exporter { return gathererExporter{g: g} }

type gathererExporter struct{ g Gatherer }

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
