package wire

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
)

// sampleRequest is a notification of n alerts, with empty keys, values
// and fields among them.
func sampleRequest(n int) *pb.NotifyRequest {
	req := &pb.NotifyRequest{Notification: &pb.Notification{
		Version: "4", GroupKey: `{}:{group="g7"}`, TruncatedAlerts: 300, Status: "firing", Receiver: "bench",
		GroupLabels:       map[string]string{"group": "g7"},
		CommonLabels:      map[string]string{"alertname": "Down", "group": "g7", "": "empty key", "empty": ""},
		CommonAnnotations: map[string]string{},
		ExternalUrl:       "http://vigil:9090",
	}}
	for i := range n {
		req.Notification.Alerts = append(req.Notification.Alerts, &pb.Alert{
			Status: "firing", Labels: map[string]string{"alertname": "Down", "group": "g7", "instance": fmt.Sprintf("host-%d:9100", i), "job": "node"},
			Annotations: map[string]string{"summary": "Ünïcode ✓ down"}, StartsAt: "2026-01-02T03:04:05.6Z", EndsAt: "0001-01-01T00:00:00Z",
			GeneratorUrl: "http://vigil:9090/graph?g0.expr=up", Fingerprint: "0123456789abcdef",
		})
	}
	return req
}

// checkRoundTrip fails unless proto.Unmarshal and DecodeNotifyRequest
// both read AppendNotifyRequest's bytes back as req, and its size is
// NotifyRequestSize.
func checkRoundTrip(t *testing.T, req *pb.NotifyRequest) {
	t.Helper()
	b := AppendNotifyRequest([]byte("prefix"), req)
	if string(b[:6]) != "prefix" {
		t.Fatalf("the prefix was overwritten: %q", b[:6])
	}
	b = b[6:]
	if len(b) != NotifyRequestSize(req) {
		t.Fatalf("wrote %d bytes, NotifyRequestSize says %d", len(b), NotifyRequestSize(req))
	}
	viaProto := &pb.NotifyRequest{}
	if err := proto.Unmarshal(b, viaProto); err != nil {
		t.Fatalf("proto.Unmarshal: %v", err)
	}
	if !proto.Equal(viaProto, req) {
		t.Fatalf("proto.Unmarshal read\n%v\nwant\n%v", viaProto, req)
	}
	viaWire := &pb.NotifyRequest{}
	if err := DecodeNotifyRequest(b, viaWire); err != nil {
		t.Fatalf("DecodeNotifyRequest: %v", err)
	}
	if !proto.Equal(viaWire, req) {
		t.Fatalf("DecodeNotifyRequest read\n%v\nwant\n%v", viaWire, req)
	}
}

func TestAppendNotifyRequest(t *testing.T) {
	checkRoundTrip(t, sampleRequest(0))
	checkRoundTrip(t, sampleRequest(10))
	checkRoundTrip(t, &pb.NotifyRequest{})
	checkRoundTrip(t, &pb.NotifyRequest{Notification: &pb.Notification{}})
	// Lengths past one varint byte, at every level.
	big := sampleRequest(200)
	big.Notification.Alerts[3].Annotations["description"] = string(make([]byte, 70000))
	checkRoundTrip(t, big)
	// A nil alert is an empty one, as proto's getters read it.
	withNil := sampleRequest(2)
	withNil.Notification.Alerts[1] = nil
	b := AppendNotifyRequest(nil, withNil)
	got := &pb.NotifyRequest{}
	if err := proto.Unmarshal(b, got); err != nil || len(got.Notification.Alerts) != 2 || !proto.Equal(got.Notification.Alerts[1], &pb.Alert{}) {
		t.Errorf("nil alert read back as %v, %v", got.GetNotification().GetAlerts(), err)
	}
}

func FuzzAppendNotifyRequest(f *testing.F) {
	f.Add("4", "firing", "k", "v", "", uint64(0), 2)
	f.Add("", "", "", "", "x", uint64(1<<40), 0)
	f.Fuzz(func(t *testing.T, s1, s2, key, value, url string, truncated uint64, alerts int) {
		req := sampleRequest(alerts % 8)
		n := req.Notification
		n.Version, n.Status, n.ExternalUrl, n.TruncatedAlerts = s1, s2, url, truncated
		n.GroupLabels[key] = value
		for _, a := range n.Alerts {
			a.Labels[value] = key
			a.Fingerprint = s1
		}
		// proto3 strings are UTF-8; proto.Marshal refuses the others.
		if _, err := proto.Marshal(req); err != nil {
			t.Skip()
		}
		checkRoundTrip(t, req)
	})
}

func BenchmarkNotifyRequest(b *testing.B) {
	req := sampleRequest(10)
	b.Run("wire", func(b *testing.B) {
		for b.Loop() {
			buf, err := MarshalNotifyRequest(req)
			if err != nil {
				b.Fatal(err)
			}
			if err := DecodeNotifyRequest(buf, &pb.NotifyRequest{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proto", func(b *testing.B) {
		for b.Loop() {
			buf, err := proto.Marshal(req)
			if err != nil {
				b.Fatal(err)
			}
			if err := proto.Unmarshal(buf, &pb.NotifyRequest{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestMarshalNotifyRequestRefusesInvalidUTF8 checks that
// MarshalNotifyRequest refuses what proto.Marshal refuses, naming where.
func TestMarshalNotifyRequestRefusesInvalidUTF8(t *testing.T) {
	for name, spoil := range map[string]func(*pb.Notification){
		"its receiver":               func(n *pb.Notification) { n.Receiver = "\xff" },
		"its common labels":          func(n *pb.Notification) { n.CommonLabels["x"] = "a\xfeb" },
		"the labels of alert 1":      func(n *pb.Notification) { n.Alerts[1].Labels["\xc3"] = "v" },
		"the fingerprint of alert 0": func(n *pb.Notification) { n.Alerts[0].Fingerprint = "\xe2\x82" },
	} {
		req := sampleRequest(2)
		spoil(req.Notification)
		if _, err := proto.Marshal(req); err == nil {
			t.Fatalf("%s: proto.Marshal took it", name)
		}
		if _, err := MarshalNotifyRequest(req); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: MarshalNotifyRequest error %v", name, err)
		}
	}
	b, err := MarshalNotifyRequest(sampleRequest(3))
	if err != nil || len(b) != NotifyRequestSize(sampleRequest(3)) {
		t.Errorf("a valid request: %d bytes, %v", len(b), err)
	}
}
