package wire

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
)

// TestDecodeNotifyRequest decodes what proto.Marshal encodes, and what
// proto.Unmarshal decodes, the same.
func TestDecodeNotifyRequest(t *testing.T) {
	want := &pb.NotifyRequest{Notification: &pb.Notification{
		Version: "4", GroupKey: `{}:{alertname="Down"}`, TruncatedAlerts: 7, Status: "firing", Receiver: "team",
		GroupLabels:       map[string]string{"alertname": "Down"},
		CommonLabels:      map[string]string{"alertname": "Down", "job": "node", "": "empty key"},
		CommonAnnotations: map[string]string{"summary": "Ünïcode ✓"},
		ExternalUrl:       "http://vigil:9090",
		Alerts: []*pb.Alert{
			{Status: "firing", Labels: map[string]string{"instance": "a:9100", "empty": ""}, Annotations: map[string]string{"d": "x"},
				StartsAt: "2025-01-01T12:00:00Z", EndsAt: "0001-01-01T00:00:00Z", GeneratorUrl: "http://g", Fingerprint: "0001"},
			{Status: "resolved"},
		},
	}}
	b, err := proto.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	// A field this version does not know, at each level.
	b = protowire.AppendTag(b, 99, protowire.VarintType)
	b = protowire.AppendVarint(b, 5)
	got := &pb.NotifyRequest{}
	if err := DecodeNotifyRequest(b, got); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		t.Errorf("decoded %v\nwant %v", got, want)
	}
	viaProto := &pb.NotifyRequest{}
	err = proto.Unmarshal(b, viaProto)
	viaProto.ProtoReflect().SetUnknown(nil)
	if err != nil || !proto.Equal(viaProto, got) {
		t.Errorf("proto.Unmarshal: %v, %v", viaProto, err)
	}

	empty := &pb.NotifyRequest{}
	if err := DecodeNotifyRequest(nil, empty); err != nil || empty.Notification != nil {
		t.Errorf("empty request: %v, %v", empty, err)
	}
}

func TestDecodeNotifyRequestRefuses(t *testing.T) {
	good, _ := proto.Marshal(&pb.NotifyRequest{Notification: &pb.Notification{Status: "firing", GroupLabels: map[string]string{"a": "b"}}})
	badUTF8 := protowire.AppendTag(nil, 1, protowire.BytesType)
	inner := protowire.AppendTag(nil, 4, protowire.BytesType)
	inner = protowire.AppendBytes(inner, []byte{0xff, 0xfe})
	badUTF8 = protowire.AppendBytes(badUTF8, inner)
	wrongType := protowire.AppendTag(nil, 1, protowire.BytesType)
	wrongType = protowire.AppendBytes(wrongType, protowire.AppendVarint(protowire.AppendTag(nil, 4, protowire.VarintType), 1))
	for name, b := range map[string][]byte{
		"truncated":  good[:len(good)-2],
		"bad utf-8":  badUTF8,
		"wire type":  wrongType,
		"bad varint": {0x08, 0xff},
	} {
		// The codec then falls back to proto.Unmarshal, which refuses
		// it too, or keeps a field of the wrong type as unknown.
		if err := DecodeNotifyRequest(b, &pb.NotifyRequest{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
