package conformance_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/conformance"
	"github.com/vigilmon/vigil/sdk"
)

// dialExporter is a multi-target exporter: it dials each target's
// host:port (a URL's too) and says whether that worked. The broken
// field breaks it in one way.
type dialExporter struct {
	fastExporter
	broken   string
	inFlight atomic.Int32
}

func (e *dialExporter) CollectTarget(ctx context.Context, t sdk.Target) ([]*dto.MetricFamily, error) {
	n := e.inFlight.Add(1)
	defer e.inFlight.Add(-1)
	addr := t.Address
	if u, ok := cutScheme(addr); ok {
		addr = u
	}
	if addr == "" && e.broken != "empty-ok" {
		return nil, errors.New("the target is empty")
	}
	if e.broken == "shared" && n > 1 {
		// Two targets at once clash: the second loses its labels.
		return []*dto.MetricFamily{gaugeFamily("dial_success", nil, 1)}, nil
	}
	v := 0.0
	if c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr); err == nil {
		c.Close()
		v = 1
	}
	if e.broken == "shared" {
		time.Sleep(50 * time.Millisecond) // long enough for the two to overlap
	}
	return []*dto.MetricFamily{gaugeFamily("dial_success", map[string]string{"addr": addr}, v)}, nil
}

func cutScheme(s string) (string, bool) {
	for _, p := range []string{"http://", "https://"} {
		if len(s) > len(p) && s[:len(p)] == p {
			return s[len(p):], true
		}
	}
	return "", false
}

func gaugeFamily(name string, labels map[string]string, v float64) *dto.MetricFamily {
	m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(v)}}
	for k, val := range labels {
		m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(k), Value: proto.String(val)})
	}
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String("Whether the target answered."), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{m}}
}

func dialPlugin(broken string) *sdk.Plugin {
	return &sdk.Plugin{
		Info:     sdk.Info{Name: "dial", Version: "1.0.0", Description: "Dials targets.", Capabilities: []string{sdk.CapabilityMultiTarget}},
		Exporter: func(sdk.Config) (sdk.Exporter, error) { return &dialExporter{broken: broken}, nil },
	}
}

// TestMultiTargetChecks runs the suite against a good multi-target
// exporter, whose checks pass, and against two broken ones, each caught
// by its check.
func TestMultiTargetChecks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := conformance.Run(ctx, conformance.InProcess(dialPlugin("")), conformance.Options{Kind: sdk.KindExporter})
	if err != nil {
		t.Fatal(err)
	}
	if got := failed(rep); len(got) > 0 {
		t.Fatalf("a good multi-target exporter fails %q", got)
	}
	for _, id := range []string{"exporter.collect", "exporter.multi-target-independent", "exporter.multi-target-bad-target"} {
		if res, _ := rep.Result(id); res.Status != conformance.Pass {
			t.Errorf("%s: %s %s", id, res.Status, res.Detail)
		}
	}
	run(t, conformance.InProcess(dialPlugin("empty-ok")), sdk.KindExporter, "exporter.multi-target-bad-target")
	run(t, conformance.InProcess(dialPlugin("shared")), sdk.KindExporter, "exporter.multi-target-independent")

	// A single-target exporter skips them.
	ok := slowPlugin
	ok.Exporter = func(sdk.Config) (sdk.Exporter, error) { return fastExporter{}, nil }
	rep, err = conformance.Run(ctx, conformance.InProcess(&ok), conformance.Options{Kind: sdk.KindExporter})
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := rep.Result("exporter.multi-target-independent"); res.Status != conformance.Skip {
		t.Errorf("exporter.multi-target-independent of a single-target exporter: %s", res.Status)
	}
}
