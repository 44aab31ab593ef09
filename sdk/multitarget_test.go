package sdk

import (
	"context"
	"errors"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
)

// probeExporter collects one gauge naming what it was asked for.
type probeExporter struct{}

func (probeExporter) Collect(context.Context) ([]*dto.MetricFamily, error) {
	return []*dto.MetricFamily{gauge("own_up", "", 1)}, nil
}

func (probeExporter) CollectTarget(_ context.Context, t Target) ([]*dto.MetricFamily, error) {
	if t.Address == "bad" {
		return nil, errors.New("cannot reach bad")
	}
	return []*dto.MetricFamily{gauge("probe_success", t.Address+"|"+t.Module+"|"+t.Params["x"], 1)}, nil
}

func gauge(name, help string, v float64) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(v)}}}}
}

// collectVia runs one CollectRequest on a configured server and returns
// the HELP of its first family.
func collectVia(t *testing.T, s *Server, req *pb.CollectRequest) (string, error) {
	t.Helper()
	var got []byte
	err := s.CollectRequest(context.Background(), req, func(r *pb.CollectResponse) error {
		got = append(got, r.MetricFamilies...)
		return nil
	})
	if err != nil {
		return "", err
	}
	n, l := protowire.ConsumeVarint(got)
	f := &dto.MetricFamily{}
	if err := proto.Unmarshal(got[l:l+int(n)], f); err != nil {
		t.Fatal(err)
	}
	return f.GetName() + " " + f.GetHelp(), nil
}

func TestCollectTarget(t *testing.T) {
	newServer := func(exp Exporter, caps ...string) *Server {
		s, err := NewServer(Plugin{Info: Info{Name: "probe", Capabilities: caps}, Exporter: func(Config) (Exporter, error) { return exp, nil }})
		if err != nil {
			t.Fatal(err)
		}
		if r := s.Configure(&pb.ConfigureRequest{ConfigJson: []byte(`{}`)}); r.Error != "" {
			t.Fatal(r.Error)
		}
		return s
	}
	multi := newServer(probeExporter{}, CapabilityMultiTarget)
	got, err := collectVia(t, multi, &pb.CollectRequest{Target: &pb.CollectTarget{Address: "a:1", Module: "m", Params: map[string]string{"x": "y"}}})
	if err != nil || got != "probe_success a:1|m|y" {
		t.Errorf("collect of target a:1 = %q, %v", got, err)
	}
	if _, err := collectVia(t, multi, &pb.CollectRequest{Target: &pb.CollectTarget{Address: "bad"}}); err == nil || !strings.Contains(err.Error(), "cannot reach bad") {
		t.Errorf("collect of a bad target: %v", err)
	}
	// Without a target, the exporter's own Collect answers.
	if got, err := collectVia(t, multi, &pb.CollectRequest{}); err != nil || got != "own_up " {
		t.Errorf("collect without target = %q, %v", got, err)
	}

	single := newServer(GathererExporter(nil))
	if _, err := collectVia(t, single, &pb.CollectRequest{Target: &pb.CollectTarget{Address: "a:1"}}); err == nil || !strings.Contains(err.Error(), "not a multi-target exporter") {
		t.Errorf("a single-target exporter asked for a target: %v", err)
	}

	// Claiming the capability without implementing it is a config error.
	s, err := NewServer(Plugin{Info: Info{Name: "liar", Capabilities: []string{CapabilityMultiTarget}}, Exporter: func(Config) (Exporter, error) { return GathererExporter(nil), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Configure(&pb.ConfigureRequest{ConfigJson: []byte(`{}`)}); !strings.Contains(r.Error, "TargetCollector") {
		t.Errorf("Configure of a plugin that claims multi-target without TargetCollector: %q", r.Error)
	}
}
