// Command slowexit is a broken exporter for the conformance suite's
// tests: when the host asks it to stop, it lingers instead of exiting,
// until it is killed. It fails lifecycle.shutdown only.
package main

import (
	"context"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/sdk"
)

type exporter struct{}

func (exporter) Collect(context.Context) ([]*dto.MetricFamily, error) {
	return []*dto.MetricFamily{{
		Name: proto.String("slowexit_up"), Help: proto.String("Always 1."), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(1)}}},
	}}, nil
}

func main() {
	sdk.Serve(sdk.Plugin{
		Info:     sdk.Info{Name: "slowexit", Version: "0.1.0", Description: "Lingers when asked to stop."},
		Exporter: func(sdk.Config) (sdk.Exporter, error) { return exporter{}, nil },
	})
	// Cleaning up for ever, as a plugin stuck on a lock would.
	time.Sleep(time.Hour)
}
