// Command counterdown is a broken exporter for the conformance suite's
// tests: its counter goes down at every collection. It fails
// exporter.counter-monotonic only.
package main

import (
	"context"
	"sync/atomic"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/sdk"
)

type exporter struct{ n *atomic.Int64 }

func (e exporter) Collect(context.Context) ([]*dto.MetricFamily, error) {
	v := float64(1000 - e.n.Add(1))
	return []*dto.MetricFamily{{
		Name: proto.String("broken_requests_total"), Help: proto.String("Requests, going down."), Type: dto.MetricType_COUNTER.Enum(),
		Metric: []*dto.Metric{{Counter: &dto.Counter{Value: proto.Float64(v)}}},
	}}, nil
}

func main() {
	n := &atomic.Int64{}
	sdk.Serve(sdk.Plugin{
		Info:     sdk.Info{Name: "counterdown", Version: "0.1.0", Description: "A counter that goes down."},
		Exporter: func(sdk.Config) (sdk.Exporter, error) { return exporter{n: n}, nil },
	})
}
