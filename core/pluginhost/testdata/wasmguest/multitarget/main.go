// Command multitarget is a test guest: a multi-target exporter of Wasm
// ABI version 2, whose metrics say which target it collected.
package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/wasm"
)

func init() {
	wasm.Register(sdk.Plugin{
		Info: sdk.Info{
			Name: "test-multitarget", Version: "0.1.0", Description: "Says which target it collected.",
			Capabilities: []string{sdk.CapabilityMultiTarget},
		},
		Exporter: func(sdk.Config) (sdk.Exporter, error) { return exporter{}, nil },
	})
}

type exporter struct{}

// Collect implements sdk.Exporter: a collection without a target.
func (exporter) Collect(context.Context) ([]*dto.MetricFamily, error) {
	return []*dto.MetricFamily{gauge("guest_untargeted", 1)}, nil
}

// CollectTarget implements sdk.TargetCollector.
func (exporter) CollectTarget(_ context.Context, t sdk.Target) ([]*dto.MetricFamily, error) {
	if t.Address == "" {
		return nil, errors.New("the target has no address")
	}
	if strings.HasPrefix(t.Address, "fail.") {
		return nil, fmt.Errorf("told to fail for %s", t.Address)
	}
	var params []string
	for k, v := range t.Params {
		params = append(params, k+"="+v)
	}
	sort.Strings(params)
	return []*dto.MetricFamily{gauge("guest_target_info", 1,
		"address", t.Address, "module", t.Module, "params", strings.Join(params, ","))}, nil
}

func gauge(name string, v float64, labels ...string) *dto.MetricFamily {
	m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(v)}}
	for i := 0; i+1 < len(labels); i += 2 {
		m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(labels[i]), Value: proto.String(labels[i+1])})
	}
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(name), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{m}}
}

func main() {}
