package wire

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"

	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
)

// DecodeNotifyRequest decodes a NotifyRequest into req as proto.Unmarshal
// does, without its reflection, which spends most of a notification's
// decoding on the maps of labels and annotations. Fields it does not know
// are skipped; an error means b is not a NotifyRequest it can read, and
// proto.Unmarshal says why.
//
// Its strings share one copy of b, taken first, instead of one allocation
// each: b may be reused once it returns, and the strings of one
// notification live about as long as each other.
func DecodeNotifyRequest(b []byte, req *pb.NotifyRequest) error {
	b = bytes.Clone(b)
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != 1 || typ != protowire.BytesType {
			return nil
		}
		if req.Notification == nil {
			req.Notification = &pb.Notification{}
		}
		return decodeNotification(v, req.Notification)
	})
}

func decodeNotification(b []byte, n *pb.Notification) error {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if num == 3 {
			if typ != protowire.VarintType {
				return errWireType
			}
			n.TruncatedAlerts = x
			return nil
		}
		if typ != protowire.BytesType {
			if num >= 1 && num <= 10 {
				return errWireType
			}
			return nil
		}
		var err error
		switch num {
		case 1:
			n.Version, err = str(v)
		case 2:
			n.GroupKey, err = str(v)
		case 4:
			n.Status, err = str(v)
		case 5:
			n.Receiver, err = str(v)
		case 6:
			n.GroupLabels, err = mapEntry(n.GroupLabels, v)
		case 7:
			n.CommonLabels, err = mapEntry(n.CommonLabels, v)
		case 8:
			n.CommonAnnotations, err = mapEntry(n.CommonAnnotations, v)
		case 9:
			n.ExternalUrl, err = str(v)
		case 10:
			a := &pb.Alert{}
			if err = decodeAlert(v, a); err == nil {
				n.Alerts = append(n.Alerts, a)
			}
		}
		return err
	})
}

func decodeAlert(b []byte, a *pb.Alert) error {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			if num >= 1 && num <= 7 {
				return errWireType
			}
			return nil
		}
		var err error
		switch num {
		case 1:
			a.Status, err = str(v)
		case 2:
			a.Labels, err = mapEntry(a.Labels, v)
		case 3:
			a.Annotations, err = mapEntry(a.Annotations, v)
		case 4:
			a.StartsAt, err = str(v)
		case 5:
			a.EndsAt, err = str(v)
		case 6:
			a.GeneratorUrl, err = str(v)
		case 7:
			a.Fingerprint, err = str(v)
		}
		return err
	})
}

var errWireType = errors.New("a field has an unexpected wire type")

// mapEntry decodes an entry of a map<string, string> into m, made when
// nil.
func mapEntry(m map[string]string, b []byte) (map[string]string, error) {
	var key, value string
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != 1 && num != 2 {
			return nil
		}
		if typ != protowire.BytesType {
			return errWireType
		}
		s, err := str(v)
		if num == 1 {
			key = s
		} else {
			value = s
		}
		return err
	})
	if err != nil {
		return m, err
	}
	if m == nil {
		m = map[string]string{}
	}
	m[key] = value
	return m, nil
}

// str is a string field: valid UTF-8, as proto3 requires. It shares b's
// memory, which DecodeNotifyRequest's own copy holds and nothing writes
// to.
func str(b []byte) (string, error) {
	if !utf8.Valid(b) {
		return "", errors.New("a string field is not valid UTF-8")
	}
	return unsafe.String(unsafe.SliceData(b), len(b)), nil
}

// eachField calls f with every field of the message b: its number, wire
// type, and its bytes (length-delimited) or value (varint).
func eachField(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("cannot read a field's tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		var (
			v []byte
			x uint64
		)
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("cannot read field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}
