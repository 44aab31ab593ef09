package wire

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
)

// Field numbers of the messages, as plugin.proto gives them.
const (
	requestNotification = 1

	notificationVersion           = 1
	notificationGroupKey          = 2
	notificationTruncatedAlerts   = 3
	notificationStatus            = 4
	notificationReceiver          = 5
	notificationGroupLabels       = 6
	notificationCommonLabels      = 7
	notificationCommonAnnotations = 8
	notificationExternalURL       = 9
	notificationAlerts            = 10

	alertStatus       = 1
	alertLabels       = 2
	alertAnnotations  = 3
	alertStartsAt     = 4
	alertEndsAt       = 5
	alertGeneratorURL = 6
	alertFingerprint  = 7

	entryKey   = 1
	entryValue = 2
)

// AppendNotifyRequest appends the wire form of req to b, which
// proto.Unmarshal reads back as req: fields in their numbers' order,
// empty strings and zeros left out as proto3 leaves them out, and map
// entries in the maps' order, which proto leaves unspecified too. It
// computes every length before it writes, so it appends in one pass with
// no allocation but b's growth. It does not check that the strings are
// UTF-8, as proto3 requires: MarshalNotifyRequest does.
func AppendNotifyRequest(b []byte, req *pb.NotifyRequest) []byte {
	n := req.GetNotification()
	if n == nil {
		return b
	}
	return appendRequest(b, n, notificationSize(n))
}

// appendRequest appends a NotifyRequest of n, whose size is size.
func appendRequest(b []byte, n *pb.Notification, size int) []byte {
	b = protowire.AppendTag(b, requestNotification, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	return appendNotification(b, n)
}

// NotifyRequestSize is the length of AppendNotifyRequest's bytes for req.
func NotifyRequestSize(req *pb.NotifyRequest) int {
	n := req.GetNotification()
	if n == nil {
		return 0
	}
	return bytesFieldSize(requestNotification, notificationSize(n))
}

func appendNotification(b []byte, n *pb.Notification) []byte {
	b = appendString(b, notificationVersion, n.Version)
	b = appendString(b, notificationGroupKey, n.GroupKey)
	if n.TruncatedAlerts != 0 {
		b = protowire.AppendTag(b, notificationTruncatedAlerts, protowire.VarintType)
		b = protowire.AppendVarint(b, n.TruncatedAlerts)
	}
	b = appendString(b, notificationStatus, n.Status)
	b = appendString(b, notificationReceiver, n.Receiver)
	b = appendMap(b, notificationGroupLabels, n.GroupLabels)
	b = appendMap(b, notificationCommonLabels, n.CommonLabels)
	b = appendMap(b, notificationCommonAnnotations, n.CommonAnnotations)
	b = appendString(b, notificationExternalURL, n.ExternalUrl)
	for _, a := range n.Alerts {
		b = protowire.AppendTag(b, notificationAlerts, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(alertSize(a)))
		b = appendAlert(b, a)
	}
	return b
}

func notificationSize(n *pb.Notification) int {
	size := stringSize(notificationVersion, n.Version) + stringSize(notificationGroupKey, n.GroupKey) +
		stringSize(notificationStatus, n.Status) + stringSize(notificationReceiver, n.Receiver) +
		mapSize(notificationGroupLabels, n.GroupLabels) + mapSize(notificationCommonLabels, n.CommonLabels) +
		mapSize(notificationCommonAnnotations, n.CommonAnnotations) + stringSize(notificationExternalURL, n.ExternalUrl)
	if n.TruncatedAlerts != 0 {
		size += protowire.SizeTag(notificationTruncatedAlerts) + protowire.SizeVarint(n.TruncatedAlerts)
	}
	for _, a := range n.Alerts {
		size += bytesFieldSize(notificationAlerts, alertSize(a))
	}
	return size
}

// appendAlert appends a's fields; a nil a is an empty alert, as its
// getters read it.
func appendAlert(b []byte, a *pb.Alert) []byte {
	b = appendString(b, alertStatus, a.GetStatus())
	b = appendMap(b, alertLabels, a.GetLabels())
	b = appendMap(b, alertAnnotations, a.GetAnnotations())
	b = appendString(b, alertStartsAt, a.GetStartsAt())
	b = appendString(b, alertEndsAt, a.GetEndsAt())
	b = appendString(b, alertGeneratorURL, a.GetGeneratorUrl())
	return appendString(b, alertFingerprint, a.GetFingerprint())
}

func alertSize(a *pb.Alert) int {
	return stringSize(alertStatus, a.GetStatus()) + mapSize(alertLabels, a.GetLabels()) + mapSize(alertAnnotations, a.GetAnnotations()) +
		stringSize(alertStartsAt, a.GetStartsAt()) + stringSize(alertEndsAt, a.GetEndsAt()) +
		stringSize(alertGeneratorURL, a.GetGeneratorUrl()) + stringSize(alertFingerprint, a.GetFingerprint())
}

// appendMap appends m as a map<string, string> field: one entry message
// per key, with its key and value always written, as proto writes them.
func appendMap(b []byte, num protowire.Number, m map[string]string) []byte {
	for k, v := range m {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(entrySize(k, v)))
		b = protowire.AppendTag(b, entryKey, protowire.BytesType)
		b = protowire.AppendString(b, k)
		b = protowire.AppendTag(b, entryValue, protowire.BytesType)
		b = protowire.AppendString(b, v)
	}
	return b
}

func mapSize(num protowire.Number, m map[string]string) int {
	size := 0
	for k, v := range m {
		size += bytesFieldSize(num, entrySize(k, v))
	}
	return size
}

func entrySize(k, v string) int {
	return bytesFieldSize(entryKey, len(k)) + bytesFieldSize(entryValue, len(v))
}

// appendString appends a string field, left out when empty.
func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func stringSize(num protowire.Number, s string) int {
	if s == "" {
		return 0
	}
	return bytesFieldSize(num, len(s))
}

// bytesFieldSize is the size of a length-delimited field of n bytes.
func bytesFieldSize(num protowire.Number, n int) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

// MarshalNotifyRequest returns the wire form of req (AppendNotifyRequest)
// after checking, as proto.Marshal does, that every string is UTF-8,
// which proto3 requires of its strings.
func MarshalNotifyRequest(req *pb.NotifyRequest) ([]byte, error) {
	n := req.GetNotification()
	if err := checkUTF8(n); err != nil {
		return nil, fmt.Errorf("cannot encode the notification: %w", err)
	}
	if n == nil {
		return []byte{}, nil
	}
	// The size, computed once, makes both the capacity and the length.
	size := notificationSize(n)
	return appendRequest(make([]byte, 0, bytesFieldSize(requestNotification, size)), n, size), nil
}

// checkUTF8 names the first string of n that is not UTF-8.
func checkUTF8(n *pb.Notification) error {
	type field struct{ name, s string }
	for _, f := range [...]field{
		{"version", n.GetVersion()}, {"group key", n.GetGroupKey()}, {"status", n.GetStatus()},
		{"receiver", n.GetReceiver()}, {"external URL", n.GetExternalUrl()},
	} {
		if !utf8.ValidString(f.s) {
			return fmt.Errorf("its %s is not valid UTF-8", f.name)
		}
	}
	if err := checkMapUTF8(n.GetGroupLabels()); err != nil {
		return fmt.Errorf("its group labels: %w", err)
	}
	if err := checkMapUTF8(n.GetCommonLabels()); err != nil {
		return fmt.Errorf("its common labels: %w", err)
	}
	if err := checkMapUTF8(n.GetCommonAnnotations()); err != nil {
		return fmt.Errorf("its common annotations: %w", err)
	}
	for i, a := range n.GetAlerts() {
		for _, f := range [...]field{
			{"status", a.GetStatus()}, {"startsAt", a.GetStartsAt()}, {"endsAt", a.GetEndsAt()},
			{"generator URL", a.GetGeneratorUrl()}, {"fingerprint", a.GetFingerprint()},
		} {
			if !utf8.ValidString(f.s) {
				return fmt.Errorf("the %s of alert %d is not valid UTF-8", f.name, i)
			}
		}
		if err := checkMapUTF8(a.GetLabels()); err != nil {
			return fmt.Errorf("the labels of alert %d: %w", i, err)
		}
		if err := checkMapUTF8(a.GetAnnotations()); err != nil {
			return fmt.Errorf("the annotations of alert %d: %w", i, err)
		}
	}
	return nil
}

func checkMapUTF8(m map[string]string) error {
	for k, v := range m {
		if !utf8.ValidString(k) {
			return fmt.Errorf("the name %q is not valid UTF-8", k)
		}
		if !utf8.ValidString(v) {
			return fmt.Errorf("the value of %q is not valid UTF-8", k)
		}
	}
	return nil
}
