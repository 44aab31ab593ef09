// Command grpcplugin is a plugin for the host's tests: an exporter, a
// discoverer or a notifier (by the VIGIL_TEST_KIND environment variable)
// whose config can make it misbehave.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/sdk"
)

var schema = sdk.Schema{
	sdk.String("mode", "ok, hang, crash, huge, fail, garbage, down, panic or log.", sdk.Default("ok")),
	sdk.Number("series", "How many series to export.", sdk.Default(1)),
	sdk.String("token", "A secret the plugin checks.", sdk.Sensitive),
}

type exporter struct {
	mode   string
	series int
}

func (e exporter) Collect(ctx context.Context) ([]*dto.MetricFamily, error) {
	switch e.mode {
	case "hang":
		<-ctx.Done()
		time.Sleep(time.Hour)
	case "crash":
		os.Exit(3)
	case "fail":
		return nil, errors.New("collection failed on purpose")
	case "garbage":
		// A family without a name, and a counter without a value.
		return []*dto.MetricFamily{{Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{{}}}}, nil
	}
	n := e.series
	label := "x"
	if e.mode == "huge" {
		n, label = 200_000, strings.Repeat("x", 500) // about 100 MB
	}
	f := &dto.MetricFamily{Name: proto.String("test_value"), Help: proto.String("A test value."), Type: dto.MetricType_GAUGE.Enum()}
	for i := range n {
		f.Metric = append(f.Metric, &dto.Metric{
			Label: []*dto.LabelPair{{Name: proto.String("i"), Value: proto.String(fmt.Sprint(i))}, {Name: proto.String("pad"), Value: proto.String(label)}},
			Gauge: &dto.Gauge{Value: proto.Float64(float64(i))},
		})
	}
	if e.mode == "down" {
		return []*dto.MetricFamily{f}, sdk.TargetDown(errors.New("the target refused the connection"))
	}
	return []*dto.MetricFamily{f}, nil
}

type discoverer struct{}

func (discoverer) Discover(ctx context.Context, send func([]sdk.TargetGroup) error) error {
	groups := []sdk.TargetGroup{{Source: fmt.Sprintf("pid-%d", os.Getpid()), Targets: []map[string]string{{"__address__": "127.0.0.1:1"}}}}
	if err := send(groups); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

type notifier struct{}

func (notifier) Notify(_ context.Context, n *sdk.Notification) error {
	if n.Receiver == "permanent" {
		return sdk.Permanent(errors.New("refused"))
	}
	return nil
}

func configure(cfg sdk.Config) error {
	switch cfg.String("mode") {
	case "panic":
		panic("configure panics on purpose")
	case "log":
		// Both are written once served, as a constructor's logs are.
		sdk.Logger().Warn("configured to log", "mode", "log")
		fmt.Fprintln(os.Stderr, "a raw line on stderr")
	case "ok", "hang", "crash", "huge", "fail", "garbage", "down":
	default:
		return sdk.AttributeErrorf("mode", "unknown mode %q", cfg.String("mode"))
	}
	if cfg.Has("token") && cfg.String("token") != "right" {
		return sdk.AttributeErrorf("token", "the token is wrong")
	}
	return nil
}

func main() {
	p := sdk.Plugin{Info: sdk.Info{Name: "test", Version: "1.0.0", Description: "Misbehaves on request."}, Schema: schema}
	switch os.Getenv("VIGIL_TEST_KIND") {
	case "discovery":
		p.Discoverer = func(cfg sdk.Config) (sdk.Discoverer, error) { return discoverer{}, configure(cfg) }
	case "notifier":
		p.Notifier = func(cfg sdk.Config) (sdk.Notifier, error) { return notifier{}, configure(cfg) }
	default:
		p.Exporter = func(cfg sdk.Config) (sdk.Exporter, error) {
			return exporter{mode: cfg.String("mode"), series: int(cfg.Number("series"))}, configure(cfg)
		}
	}
	sdk.Serve(p)
}
