package sdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
)

// marshalDelimited is f in the delimited format, as package proto
// encodes it.
func marshalDelimited(t *testing.T, f *dto.MetricFamily) []byte {
	t.Helper()
	b, err := proto.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return append(protowire.AppendVarint(nil, uint64(len(b))), b...)
}

func lp(name, value string) *dto.LabelPair {
	return &dto.LabelPair{Name: proto.String(name), Value: proto.String(value)}
}

// encodeCases are families of every kind of metric and field, written by
// the encoder itself or handed to package proto.
func encodeCases() map[string]*dto.MetricFamily {
	ts := timestamppb.New(timestamppb.Now().AsTime().Truncate(1e6))
	withUnknown := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(1)}}
	withUnknown.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 7))
	familyUnknown := &dto.MetricFamily{Name: proto.String("unknown_family")}
	familyUnknown.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 98, protowire.VarintType), 1))
	return map[string]*dto.MetricFamily{
		"counters": {
			Name: proto.String("http_requests_total"), Help: proto.String("Requests handled."), Type: dto.MetricType_COUNTER.Enum(),
			Metric: []*dto.Metric{
				{Label: []*dto.LabelPair{lp("code", "200"), lp("method", "GET")}, Counter: &dto.Counter{Value: proto.Float64(1027)}},
				{Label: []*dto.LabelPair{lp("code", "500"), lp("method", "POST")}, Counter: &dto.Counter{Value: proto.Float64(3)}, TimestampMs: proto.Int64(1_700_000_000_123)},
				{Counter: &dto.Counter{Value: proto.Float64(0)}},
			},
		},
		"gauges and odd values": {
			Name: proto.String("temperature_celsius"), Help: proto.String(""), Type: dto.MetricType_GAUGE.Enum(), Unit: proto.String("celsius"),
			Metric: []*dto.Metric{
				{Label: []*dto.LabelPair{lp("zone", "")}, Gauge: &dto.Gauge{Value: proto.Float64(-21.5)}},
				{Label: []*dto.LabelPair{lp("zone", "ü, \"quoted\"\n")}, Gauge: &dto.Gauge{Value: proto.Float64(math.NaN())}},
				{Gauge: &dto.Gauge{Value: proto.Float64(math.Inf(1))}, TimestampMs: proto.Int64(-5)},
				{Gauge: &dto.Gauge{}},
				{Label: []*dto.LabelPair{{Name: proto.String("only_name")}, {}}, Gauge: &dto.Gauge{Value: proto.Float64(1)}},
			},
		},
		"untyped and no type": {
			Name: proto.String("untyped"),
			Metric: []*dto.Metric{
				{Untyped: &dto.Untyped{Value: proto.Float64(7)}},
				{Untyped: &dto.Untyped{Value: proto.Float64(8)}, Gauge: &dto.Gauge{Value: proto.Float64(9)}},
				{Counter: &dto.Counter{Value: proto.Float64(1)}, Gauge: &dto.Gauge{Value: proto.Float64(2)}},
				{},
			},
		},
		"counter with exemplar and created timestamp": {
			Name: proto.String("events_total"), Type: dto.MetricType_COUNTER.Enum(),
			Metric: []*dto.Metric{
				{Counter: &dto.Counter{Value: proto.Float64(5), CreatedTimestamp: ts}},
				{Counter: &dto.Counter{CreatedTimestamp: &timestamppb.Timestamp{Seconds: -3, Nanos: -5}}},
				{Counter: &dto.Counter{Value: proto.Float64(1), CreatedTimestamp: &timestamppb.Timestamp{}}},
				{Counter: &dto.Counter{Value: proto.Float64(6), Exemplar: &dto.Exemplar{Label: []*dto.LabelPair{lp("trace_id", "abc")}, Value: proto.Float64(1), Timestamp: ts}}},
			},
		},
		"summary and histogram": {
			Name: proto.String("latency_seconds"), Type: dto.MetricType_SUMMARY.Enum(),
			Metric: []*dto.Metric{
				{Label: []*dto.LabelPair{lp("op", "read")}, Summary: &dto.Summary{SampleCount: proto.Uint64(3), SampleSum: proto.Float64(1.5), Quantile: []*dto.Quantile{{Quantile: proto.Float64(0.5), Value: proto.Float64(0.4)}}}},
				{Histogram: &dto.Histogram{SampleCount: proto.Uint64(2), SampleSum: proto.Float64(3), Bucket: []*dto.Bucket{{UpperBound: proto.Float64(1), CumulativeCount: proto.Uint64(1)}}, Schema: proto.Int32(3), PositiveSpan: []*dto.BucketSpan{{Offset: proto.Int32(-2), Length: proto.Uint32(1)}}, PositiveDelta: []int64{1}}},
			},
		},
		"unknown fields": {
			Name: proto.String("unknown_metric"), Metric: []*dto.Metric{withUnknown},
		},
		"unknown fields of the family": familyUnknown,
		"empty":                        {},
		"nil elements":                 {Name: proto.String("nils"), Metric: []*dto.Metric{nil, {Label: []*dto.LabelPair{nil, lp("a", "b")}}}},
	}
}

// TestAppendDelimited checks that the encoder writes the bytes package
// proto writes.
func TestAppendDelimited(t *testing.T) {
	for name, f := range encodeCases() {
		t.Run(name, func(t *testing.T) {
			prefix := []byte("kept")
			got, err := AppendDelimited(prefix, f)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(got, []byte("kept")) {
				t.Fatalf("the bytes before were overwritten: %q", got[:4])
			}
			if want := marshalDelimited(t, f); !bytes.Equal(got[4:], want) {
				t.Errorf("got\n%x\nwant\n%x", got[4:], want)
			}
		})
	}
}

// decodeDelimited decodes families in the delimited format.
func decodeDelimited(t *testing.T, b []byte) []*dto.MetricFamily {
	t.Helper()
	var out []*dto.MetricFamily
	for len(b) > 0 {
		n, k := protowire.ConsumeVarint(b)
		if k < 0 || n > uint64(len(b)-k) {
			t.Fatalf("bad length prefix %d, %d bytes left", n, len(b))
		}
		f := &dto.MetricFamily{}
		if err := proto.Unmarshal(b[k:k+int(n)], f); err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
		b = b[k+int(n):]
	}
	return out
}

// bigFamilies are n families of size gauges each.
func bigFamilies(n, size int) []*dto.MetricFamily {
	var out []*dto.MetricFamily
	for i := range n {
		f := &dto.MetricFamily{Name: proto.String(fmt.Sprintf("family_%03d", i)), Help: proto.String("A family."), Type: dto.MetricType_GAUGE.Enum(), Unit: proto.String("bytes")}
		for j := range size {
			f.Metric = append(f.Metric, &dto.Metric{
				Label: []*dto.LabelPair{lp("instance", fmt.Sprintf("host-%05d", j)), lp("zone", "zone-a")},
				Gauge: &dto.Gauge{Value: proto.Float64(float64(i*size + j))},
			})
		}
		out = append(out, f)
	}
	return out
}

// TestSendChunks checks that a collection is cut into messages of about
// the limit, between families, a family larger than the limit split
// into parts each with its name, help, type and unit, and that the
// messages together hold every metric in order.
func TestSendChunks(t *testing.T) {
	const limit = 4 << 10
	families := append(bigFamilies(3, 20), bigFamilies(1, 400)...) // the last about 20 KiB
	families[3].Name = proto.String("family_big")
	var msgs [][]byte
	err := sendChunks(families, limit, func(r *pb.CollectResponse) error {
		msgs = append(msgs, bytes.Clone(r.MetricFamilies))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []*dto.MetricFamily
	for i, m := range msgs {
		if len(m) > limit {
			t.Errorf("message %d holds %d bytes, more than %d", i, len(m), limit)
		}
		got = append(got, decodeDelimited(t, m)...)
	}
	if len(msgs) < 6 {
		t.Errorf("%d messages, want the big family split", len(msgs))
	}
	// Join the parts of the big family back.
	var joined []*dto.MetricFamily
	for _, f := range got {
		if n := len(joined); n > 0 && joined[n-1].GetName() == f.GetName() {
			if f.GetHelp() != "A family." || f.GetType() != dto.MetricType_GAUGE || f.GetUnit() != "bytes" {
				t.Errorf("a part of %s lacks its help, type or unit: %v", f.GetName(), f)
			}
			joined[n-1].Metric = append(joined[n-1].Metric, f.Metric...)
			continue
		}
		joined = append(joined, f)
	}
	if diff := cmp.Diff(families, joined, protocmp.Transform()); diff != "" {
		t.Errorf("the messages hold other families (-want +got):\n%s", diff)
	}
}

// collectAll collects from s once and returns the bytes of every
// message.
func collectAll(s *Server) ([]byte, error) {
	var out []byte
	err := s.Collect(context.Background(), func(r *pb.CollectResponse) error {
		out = append(out, r.MetricFamilies...)
		return nil
	})
	return out, err
}

// fixedExporter returns the same families every time.
type fixedExporter []*dto.MetricFamily

func (e fixedExporter) Collect(context.Context) ([]*dto.MetricFamily, error) { return e, nil }

// TestCollectAtOnce runs many collections at once, which share the
// encoder's buffers, and checks that every answer is the one a single
// collection gives.
func TestCollectAtOnce(t *testing.T) {
	families := bigFamilies(30, 100)
	s, err := NewServer(Plugin{Info: Info{Name: "test"}, Exporter: func(Config) (Exporter, error) { return fixedExporter(families), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Configure(&pb.ConfigureRequest{ConfigJson: []byte(`{}`)}); r.Error != "" {
		t.Fatal(r.Error)
	}
	want, err := collectAll(s)
	if err != nil {
		t.Fatal(err)
	}
	var wantBytes []byte
	for _, f := range families {
		wantBytes = append(wantBytes, marshalDelimited(t, f)...)
	}
	if !bytes.Equal(want, wantBytes) {
		t.Fatalf("a collection's bytes differ from package proto's")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16*10)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				got, err := collectAll(s)
				if err == nil && !bytes.Equal(got, want) {
					err = fmt.Errorf("a concurrent collection gave %d bytes differing from the %d of a single one", len(got), len(want))
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// delimitedExporter encodes its collection itself, a gauge named after
// the call, down with a target error when down is set; as a
// multi-target exporter it collects targets through CollectTarget.
type delimitedExporter struct{ down bool }

func (delimitedExporter) Collect(context.Context) ([]*dto.MetricFamily, error) {
	return []*dto.MetricFamily{gauge("from_collect", "", 1)}, nil
}

func (e delimitedExporter) CollectDelimited(_ context.Context, b []byte) ([]byte, error) {
	b, err := AppendDelimited(b, gauge("from_collect_delimited", "", 1))
	if err == nil && e.down {
		err = TargetDown(errors.New("the target is unreachable"))
	}
	return b, err
}

func (delimitedExporter) CollectTarget(_ context.Context, t Target) ([]*dto.MetricFamily, error) {
	return []*dto.MetricFamily{gauge("from_collect_target", t.Address, 1)}, nil
}

// TestDelimitedCollector checks that the server sends what a
// DelimitedCollector encodes, then its target error, and collects a
// named target through CollectTarget.
func TestDelimitedCollector(t *testing.T) {
	for _, down := range []bool{false, true} {
		s, err := NewServer(Plugin{Info: Info{Name: "test", Capabilities: []string{CapabilityMultiTarget}}, Exporter: func(Config) (Exporter, error) { return delimitedExporter{down: down}, nil }})
		if err != nil {
			t.Fatal(err)
		}
		if r := s.Configure(&pb.ConfigureRequest{ConfigJson: []byte(`{}`)}); r.Error != "" {
			t.Fatal(r.Error)
		}
		var got []byte
		var targetErr string
		err = s.Collect(context.Background(), func(r *pb.CollectResponse) error {
			got = append(got, r.MetricFamilies...)
			if r.TargetError != "" {
				targetErr = r.TargetError
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if fams := decodeDelimited(t, got); len(fams) != 1 || fams[0].GetName() != "from_collect_delimited" {
			t.Errorf("down=%v: got %v, want the family CollectDelimited encodes", down, fams)
		}
		if want := map[bool]string{true: "the target is unreachable"}[down]; targetErr != want {
			t.Errorf("down=%v: target error %q, want %q", down, targetErr, want)
		}
		name, err := collectVia(t, s, &pb.CollectRequest{Target: &pb.CollectTarget{Address: "a:1"}})
		if err != nil || name != "from_collect_target a:1" {
			t.Errorf("a target's collection gave %q, %v; want from_collect_target", name, err)
		}
	}
}
