package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
)

// otlpApp is an application instrumented with the OpenTelemetry Go SDK
// that exports its metrics by OTLP/HTTP to url when flushed, with
// temporality temp.
type otlpApp struct {
	provider *sdkmetric.MeterProvider
	orders   metric.Int64Counter
	latency  metric.Float64Histogram
	queue    metric.Float64Gauge
}

func newOTLPApp(t *testing.T, ctx context.Context, url string, temp metricdata.Temporality) *otlpApp {
	t.Helper()
	exp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(url),
		otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: false}),
		otlpmetrichttp.WithTemporalitySelector(func(sdkmetric.InstrumentKind) metricdata.Temporality { return temp }))
	if err != nil {
		t.Fatal(err)
	}
	res := resource.NewSchemaless(
		attribute.String("service.name", "checkout"),
		attribute.String("service.namespace", "shop"),
		attribute.String("service.instance.id", "i-1"),
		attribute.String("deployment.environment", "test"),
		attribute.String("host.name", "web-1"),
	)
	// The reader exports when the test flushes, not by itself.
	p := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p.Shutdown(ctx)
	})
	meter := p.Meter("shop/checkout")
	a := &otlpApp{provider: p}
	if a.orders, err = meter.Int64Counter("orders.placed", metric.WithUnit("{order}"), metric.WithDescription("Orders placed.")); err != nil {
		t.Fatal(err)
	}
	if a.latency, err = meter.Float64Histogram("http.server.request.duration", metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(0.1, 0.5, 1)); err != nil {
		t.Fatal(err)
	}
	if a.queue, err = meter.Float64Gauge("queue.depth"); err != nil {
		t.Fatal(err)
	}
	return a
}

// record counts 3 orders paid by card, two requests of 0.25s and 0.75s,
// and a queue of 42 items.
func (a *otlpApp) record(ctx context.Context) {
	a.orders.Add(ctx, 3, metric.WithAttributes(attribute.String("payment.method", "card")))
	a.latency.Record(ctx, 0.25)
	a.latency.Record(ctx, 0.75)
	a.queue.Record(ctx, 42)
}

// TestOTLPEndToEnd runs vigil with the OTLP receiver and an application
// instrumented with the OpenTelemetry Go SDK exporting to it by
// OTLP/HTTP, and finds its counter, histogram, gauge and target_info by
// PromQL under Prometheus's names, with job and instance from the
// service's resource attributes and the promoted attribute as a label. A
// reload that promotes another attribute applies to the next export; an
// export of delta temporality is refused, as the default otlp block says.
func TestOTLPEndToEnd(t *testing.T) {
	dir := t.TempDir()
	configFile := filepath.Join(dir, "vigil.hcl")
	config := func(promote string) string {
		return fmt.Sprintf(`server {
  data_dir             = %q
  enable_otlp_receiver = true
  enable_lifecycle     = true
}

otlp {
  promote_resource_attributes = [%q]
}
`, filepath.Join(dir, "data"), promote)
	}
	if err := os.WriteFile(configFile, []byte(config("deployment.environment")), 0o640); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--config", configFile)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url := "http://" + srv.addr + "/api/v1/otlp/v1/metrics"

	app := newOTLPApp(t, ctx, url, metricdata.CumulativeTemporality)
	app.record(ctx)
	if err := app.provider.ForceFlush(ctx); err != nil {
		t.Fatalf("the export failed: %v\n%s", err, srv.logText())
	}
	promAPI := srv.api(t)
	query := func(expr string) []string {
		t.Helper()
		v, _, _, err := promAPI.Query(ctx, expr, time.Now())
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		var out []string
		for _, s := range v.(model.Vector) {
			out = append(out, fmt.Sprintf("%s %s", s.Metric, s.Value))
		}
		slices.Sort(out)
		return out
	}
	for expr, want := range map[string][]string{
		"orders_placed_total": {`orders_placed_total{deployment_environment="test", instance="i-1", job="shop/checkout", payment_method="card"} 3`},
		`http_server_request_duration_seconds_bucket{le=~"0.5|\\+Inf"}`: {
			`http_server_request_duration_seconds_bucket{deployment_environment="test", instance="i-1", job="shop/checkout", le="+Inf"} 2`,
			`http_server_request_duration_seconds_bucket{deployment_environment="test", instance="i-1", job="shop/checkout", le="0.5"} 1`,
		},
		"http_server_request_duration_seconds_sum": {`http_server_request_duration_seconds_sum{deployment_environment="test", instance="i-1", job="shop/checkout"} 1`},
		"queue_depth": {`queue_depth{deployment_environment="test", instance="i-1", job="shop/checkout"} 42`},
		`count by (job, instance, host_name) (target_info)`: {`{host_name="web-1", instance="i-1", job="shop/checkout"} 1`},
	} {
		if got := query(expr); !slices.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", expr, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		}
	}

	// A reload promotes host.name instead.
	if err := os.WriteFile(configFile, []byte(config("host.name")), 0o640); err != nil {
		t.Fatal(err)
	}
	if status, body := srv.reload(t); status != 200 {
		t.Fatalf("reload answered %d %s", status, body)
	}
	app.record(ctx)
	if err := app.provider.ForceFlush(ctx); err != nil {
		t.Fatalf("the export after the reload failed: %v\n%s", err, srv.logText())
	}
	if got, want := query(`orders_placed_total{host_name="web-1"}`), []string{
		`orders_placed_total{host_name="web-1", instance="i-1", job="shop/checkout", payment_method="card"} 6`,
	}; !slices.Equal(got, want) {
		t.Errorf("after the reload:\n got %s\nwant %s", got, want)
	}

	// An export of delta temporality is refused, naming the metrics.
	delta := newOTLPApp(t, ctx, url, metricdata.DeltaTemporality)
	delta.record(ctx)
	err := delta.provider.ForceFlush(ctx)
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "orders.placed") {
		t.Errorf("the export of delta temporality: %v; want a 400 naming orders.placed", err)
	}
}
