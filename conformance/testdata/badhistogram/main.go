// Command badhistogram is a broken exporter for the conformance suite's
// tests: its histogram's +Inf bucket does not match its count. It fails
// exporter.histogram-buckets only.
package main

import (
	"context"
	"math"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/sdk"
)

type exporter struct{}

func (exporter) Collect(context.Context) ([]*dto.MetricFamily, error) {
	bucket := func(le float64, n uint64) *dto.Bucket {
		return &dto.Bucket{UpperBound: proto.Float64(le), CumulativeCount: proto.Uint64(n)}
	}
	return []*dto.MetricFamily{{
		Name: proto.String("broken_duration_seconds"), Help: proto.String("Durations, miscounted."), Type: dto.MetricType_HISTOGRAM.Enum(),
		Metric: []*dto.Metric{{Histogram: &dto.Histogram{
			SampleCount: proto.Uint64(10), SampleSum: proto.Float64(4),
			Bucket: []*dto.Bucket{bucket(0.1, 2), bucket(1, 7), bucket(math.Inf(1), 9)},
		}}},
	}}, nil
}

func main() {
	sdk.Serve(sdk.Plugin{
		Info:     sdk.Info{Name: "badhistogram", Version: "0.1.0", Description: "A histogram whose +Inf bucket is wrong."},
		Exporter: func(sdk.Config) (sdk.Exporter, error) { return exporter{}, nil },
	})
}
