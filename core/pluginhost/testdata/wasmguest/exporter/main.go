// Command exporter is a test guest: a Wasm exporter whose metrics echo its
// config and count the calls its instance has served.
package main

import (
	"context"
	"errors"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/wasm"
)

func init() {
	wasm.Register(sdk.Plugin{
		Info: sdk.Info{Name: "test-exporter", Version: "0.1.0", Description: "Echoes its config as metrics.", Capabilities: []string{"echo"}},
		Schema: sdk.Schema{
			sdk.String("greeting", "What to say.", sdk.Required),
			sdk.Number("factor", "A number to echo.", sdk.Default(1.0)),
			sdk.Bool("enabled", "A bool to echo.", sdk.Default(true)),
			sdk.Duration("interval", "A duration to echo.", sdk.Default("30s")),
			sdk.StringList("tags", "Strings to echo."),
			sdk.StringMap("labels", "Labels to add."),
			sdk.String("token", "A secret.", sdk.Sensitive),
			sdk.Number("series", "How many series of 1 KiB labels to add, to make a large collection."),
			sdk.String("mode", "ok, or loop (spin forever), alloc (allocate without bound) or down (report the target down) in Collect.", sdk.Default("ok")),
		},
		Exporter: func(cfg sdk.Config) (sdk.Exporter, error) {
			if strings.TrimSpace(cfg.String("greeting")) == "" {
				return nil, sdk.AttributeErrorf("greeting", "must not be blank")
			}
			return &exporter{cfg: cfg}, nil
		},
	})
}

// calls counts the calls this instance has served.
var calls int

type exporter struct{ cfg sdk.Config }

// spin and hog keep the work of the loop and alloc modes alive.
var (
	spin int
	hog  [][]byte
)

func (e *exporter) Collect(ctx context.Context) ([]*dto.MetricFamily, error) {
	switch e.cfg.String("mode") {
	case "loop":
		for {
			spin++
		}
	case "alloc":
		for {
			b := make([]byte, 1<<20)
			b[len(b)-1] = 1
			hog = append(hog, b)
		}
	}
	calls++
	wasm.Logger().Debug("collecting", "call", calls)
	gauge := func(name string, v float64, labels ...string) *dto.MetricFamily {
		m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(v)}}
		for i := 0; i+1 < len(labels); i += 2 {
			m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(labels[i]), Value: proto.String(labels[i+1])})
		}
		return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(name), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{m}}
	}
	info := []string{
		"greeting", e.cfg.String("greeting"),
		"enabled", strconv.FormatBool(e.cfg.Bool("enabled")),
		"interval", e.cfg.Duration("interval").String(),
		"tags", strings.Join(e.cfg.StringList("tags"), ","),
	}
	for k, v := range e.cfg.StringMap("labels") {
		info = append(info, k, v)
	}
	out := []*dto.MetricFamily{
		gauge("guest_calls", float64(calls)),
		gauge("guest_config_info", 1, info...),
		gauge("guest_factor", e.cfg.Number("factor")),
	}
	if n := int(e.cfg.Number("series")); n > 0 {
		big := &dto.MetricFamily{Name: proto.String("guest_series"), Help: proto.String("Large series."), Type: dto.MetricType_GAUGE.Enum()}
		pad := strings.Repeat("x", 1024)
		for i := range n {
			big.Metric = append(big.Metric, &dto.Metric{
				Label: []*dto.LabelPair{{Name: proto.String("i"), Value: proto.String(strconv.Itoa(i))}, {Name: proto.String("pad"), Value: proto.String(pad)}},
				Gauge: &dto.Gauge{Value: proto.Float64(float64(i))},
			})
		}
		out = append(out, big)
	}
	if e.cfg.String("mode") == "down" {
		return out, sdk.TargetDown(errors.New("the guest's target refused the connection"))
	}
	return out, nil
}

func main() {}
