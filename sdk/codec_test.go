//go:build !wasip1

package sdk

import (
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
)

// TestGRPCCodecSpeaksProto checks that GRPCCodec and plain proto read
// each other's bytes, so that a host or a plugin of an earlier version,
// which uses proto's codec, understands it, and that its errors are
// proto's.
func TestGRPCCodecSpeaksProto(t *testing.T) {
	notify := &pb.NotifyRequest{Notification: (&Notification{
		Version: "4", Status: "firing", Receiver: "team", GroupLabels: map[string]string{"alertname": "Down"},
		Alerts: []Alert{{Status: "firing", Labels: map[string]string{"alertname": "Down", "instance": "a"}, Fingerprint: "00ff"}},
	}).Proto()}
	for _, m := range []proto.Message{notify, &pb.NotifyRequest{}, &pb.ConfigureRequest{ConfigJson: []byte(`{"url":"x"}`)}} {
		out, err := GRPCCodec{}.Marshal(m)
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		viaProto := m.ProtoReflect().New().Interface()
		if err := proto.Unmarshal(out.Materialize(), viaProto); err != nil || !proto.Equal(viaProto, m) {
			t.Errorf("%T: proto read GRPCCodec's bytes as %v, %v", m, viaProto, err)
		}
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		// In two buffers, as gRPC may hand a message over.
		half := len(b) / 2
		in := mem.BufferSlice{mem.SliceBuffer(b[:half]), mem.SliceBuffer(b[half:])}
		viaCodec := m.ProtoReflect().New().Interface()
		if err := (GRPCCodec{}).Unmarshal(in, viaCodec); err != nil || !proto.Equal(viaCodec, m) {
			t.Errorf("%T: GRPCCodec read proto's bytes as %v, %v", m, viaCodec, err)
		}
	}

	b, _ := proto.Marshal(notify)
	var req pb.NotifyRequest
	err := GRPCCodec{}.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b[:len(b)-3])}, &req)
	want := proto.Unmarshal(b[:len(b)-3], &pb.NotifyRequest{})
	if err == nil || want == nil || err.Error() != want.Error() {
		t.Errorf("a cut NotifyRequest: error %v, proto's %v", err, want)
	}
	if _, err := (GRPCCodec{}).Marshal("not a message"); err == nil {
		t.Error("Marshal of a string: no error")
	}
}
