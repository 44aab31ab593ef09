package sdk

import (
	"fmt"
	"math"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The field numbers of client_model's messages that the encoder writes
// itself.
const (
	familyName   protowire.Number = 1
	familyHelp   protowire.Number = 2
	familyType   protowire.Number = 3
	familyMetric protowire.Number = 4
	familyUnit   protowire.Number = 5

	metricLabel     protowire.Number = 1
	metricGauge     protowire.Number = 2
	metricCounter   protowire.Number = 3
	metricUntyped   protowire.Number = 5
	metricTimestamp protowire.Number = 6

	labelName  protowire.Number = 1
	labelValue protowire.Number = 2

	valueValue     protowire.Number = 1 // of Gauge, Counter and Untyped
	counterCreated protowire.Number = 3

	timestampSeconds protowire.Number = 1
	timestampNanos   protowire.Number = 2
)

// AppendDelimited appends f to b in the delimited protobuf format, as
// Vigil parses a collection: the varint length of the encoded family,
// then the family. The bytes are those proto.Marshal gives, but the
// common messages (label pairs, gauges, counters without exemplar,
// untyped values) are written directly, without
// reflection; summaries, histograms and anything else are marshalled by
// package proto.
func AppendDelimited(b []byte, f *dto.MetricFamily) ([]byte, error) {
	start := len(b)
	if f.Name != nil {
		b = appendString(b, familyName, *f.Name)
	}
	if f.Help != nil {
		b = appendString(b, familyHelp, *f.Help)
	}
	if f.Type != nil {
		b = protowire.AppendTag(b, familyType, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(int64(*f.Type)))
	}
	for _, m := range f.Metric {
		if m == nil {
			// proto.Marshal writes a nil element of a repeated
			// message as an empty message.
			b = protowire.AppendTag(b, familyMetric, protowire.BytesType)
			b = append(b, 0)
			continue
		}
		var err error
		if b, err = appendMetric(b, m); err != nil {
			return b[:start], fmt.Errorf("cannot encode metric family %q: %w", f.GetName(), err)
		}
	}
	if f.Unit != nil {
		b = appendString(b, familyUnit, *f.Unit)
	}
	if u := f.ProtoReflect().GetUnknown(); len(u) > 0 {
		b = append(b, u...)
	}
	return insertLength(b, start), nil
}

// insertLength puts the varint length of b[start:] before it.
func insertLength(b []byte, start int) []byte {
	n := len(b) - start
	k := protowire.SizeVarint(uint64(n))
	b = append(b, make([]byte, k)...)
	copy(b[start+k:], b[start:start+n])
	protowire.AppendVarint(b[start:start], uint64(n))
	return b
}

// AppendMetric appends m to b as one metric of an encoded MetricFamily:
// its field's tag, its length and its fields, as AppendDelimited writes
// each metric of a family. A nil m is an empty metric.
func AppendMetric(b []byte, m *dto.Metric) ([]byte, error) {
	if m == nil {
		b = protowire.AppendTag(b, familyMetric, protowire.BytesType)
		return append(b, 0), nil
	}
	return appendMetric(b, m)
}

// appendMetric appends m as field familyMetric.
func appendMetric(b []byte, m *dto.Metric) ([]byte, error) {
	size, ok := metricSize(m)
	if !ok {
		b = protowire.AppendTag(b, familyMetric, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(proto.Size(m)))
		return proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(b, m)
	}
	b = protowire.AppendTag(b, familyMetric, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	for _, lp := range m.Label {
		b = protowire.AppendTag(b, metricLabel, protowire.BytesType)
		if lp == nil {
			b = append(b, 0)
			continue
		}
		b = protowire.AppendVarint(b, uint64(labelSize(lp)))
		if lp.Name != nil {
			b = appendString(b, labelName, *lp.Name)
		}
		if lp.Value != nil {
			b = appendString(b, labelValue, *lp.Value)
		}
	}
	switch {
	case m.Gauge != nil:
		b = appendValue(b, metricGauge, m.Gauge.Value)
	case m.Counter != nil:
		b = appendCounter(b, m.Counter)
	}
	if m.Untyped != nil {
		b = appendValue(b, metricUntyped, m.Untyped.Value)
	}
	if m.TimestampMs != nil {
		b = protowire.AppendTag(b, metricTimestamp, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(*m.TimestampMs))
	}
	return b, nil
}

// metricSize is the encoded size of m, and whether appendMetric writes
// m itself: it holds only label pairs, a gauge, a counter without
// exemplar, an untyped value and a timestamp, and
// none of them carries unknown fields.
func metricSize(m *dto.Metric) (int, bool) {
	if m.Summary != nil || m.Histogram != nil || (m.Gauge != nil && m.Counter != nil) {
		return 0, false
	}
	if len(m.ProtoReflect().GetUnknown()) > 0 {
		return 0, false
	}
	n := 0
	for _, lp := range m.Label {
		s := 0
		if lp != nil {
			if len(lp.ProtoReflect().GetUnknown()) > 0 {
				return 0, false
			}
			s = labelSize(lp)
		}
		n += 1 + protowire.SizeVarint(uint64(s)) + s
	}
	if g := m.Gauge; g != nil {
		if len(g.ProtoReflect().GetUnknown()) > 0 {
			return 0, false
		}
		n += valueSize(g.Value)
	}
	if c := m.Counter; c != nil {
		if c.Exemplar != nil || len(c.ProtoReflect().GetUnknown()) > 0 {
			return 0, false
		}
		s := counterSize(c)
		if s < 0 {
			return 0, false
		}
		n += 1 + protowire.SizeVarint(uint64(s)) + s
	}
	if u := m.Untyped; u != nil {
		if len(u.ProtoReflect().GetUnknown()) > 0 {
			return 0, false
		}
		n += valueSize(u.Value)
	}
	if m.TimestampMs != nil {
		n += 1 + protowire.SizeVarint(uint64(*m.TimestampMs))
	}
	return n, true
}

// counterSize is the encoded size of c's fields, which have no
// exemplar, or -1 when its created timestamp has unknown fields.
func counterSize(c *dto.Counter) int {
	n := 0
	if c.Value != nil {
		n += 1 + 8
	}
	if ts := c.CreatedTimestamp; ts != nil {
		if len(ts.ProtoReflect().GetUnknown()) > 0 {
			return -1
		}
		s := timestampSize(ts)
		n += 1 + protowire.SizeVarint(uint64(s)) + s
	}
	return n
}

// timestampSize is the encoded size of ts's fields.
func timestampSize(ts *timestamppb.Timestamp) int {
	n := 0
	if ts.Seconds != 0 {
		n += 1 + protowire.SizeVarint(uint64(ts.Seconds))
	}
	if ts.Nanos != 0 {
		n += 1 + protowire.SizeVarint(uint64(int64(ts.Nanos)))
	}
	return n
}

// appendCounter appends c, which has no exemplar, as field metricCounter.
func appendCounter(b []byte, c *dto.Counter) []byte {
	b = protowire.AppendTag(b, metricCounter, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(counterSize(c)))
	if c.Value != nil {
		b = protowire.AppendTag(b, valueValue, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, math.Float64bits(*c.Value))
	}
	if ts := c.CreatedTimestamp; ts != nil {
		b = protowire.AppendTag(b, counterCreated, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(timestampSize(ts)))
		if ts.Seconds != 0 {
			b = protowire.AppendTag(b, timestampSeconds, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(ts.Seconds))
		}
		if ts.Nanos != 0 {
			b = protowire.AppendTag(b, timestampNanos, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(int64(ts.Nanos)))
		}
	}
	return b
}

// labelSize is the encoded size of lp's fields.
func labelSize(lp *dto.LabelPair) int {
	n := 0
	if lp.Name != nil {
		n += 1 + protowire.SizeBytes(len(*lp.Name))
	}
	if lp.Value != nil {
		n += 1 + protowire.SizeBytes(len(*lp.Value))
	}
	return n
}

// valueSize is the encoded size of a Gauge, Counter or Untyped message
// holding v, with its tag and length, in a Metric.
func valueSize(v *float64) int {
	if v == nil {
		return 2
	}
	return 2 + 1 + 8
}

// appendValue appends a Gauge, Counter or Untyped message holding v as
// field num.
func appendValue(b []byte, num protowire.Number, v *float64) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	if v == nil {
		return append(b, 0)
	}
	b = append(b, 1+8)
	b = protowire.AppendTag(b, valueValue, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, math.Float64bits(*v))
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}
