package promexport

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/vigilmon/vigil/sdk"
)

// state is what one collection works with. The registry keeps states in
// a pool, so their buffers and maps serve the collections after.
type state struct {
	descs  map[*prometheus.Desc]*descInfo // known descriptors; kept from one collection to the next
	seen   int                            // descriptors met in this collection
	fams   map[string]*family             // of this collection, by name
	free   []*family                      // families of the collections before, to reuse
	labels map[string]bool                // label names checked, whether valid
	gen    uint64                         // of this collection
	metric dto.Metric
}

// descInfo is what a descriptor says, parsed from Desc.String once.
type descInfo struct {
	name, help, unit string
	fam              *family
	gen              uint64 // of the collection fam belongs to
}

// family is one metric family of a collection: its metrics encoded, in
// the order collected.
type family struct {
	name, help, unit string
	typ              dto.MetricType
	buf              []byte   // the metrics, each encoded as a family's field
	metrics          []series // in buf
	names, values    []string // the labels of every series, for sorting and finding duplicates
	keys             []byte   // the sort key of every series
	slowSort         bool     // whether series are sorted by values, not keys
	checked          []string // the label names checked last
	order            []sortItem
}

// sortItem is one series of a family in the order being sorted: its
// index in metrics, and the prefix of its key that setOrder takes.
type sortItem struct {
	pre uint64
	i   int32
}

// series is one metric of a family.
type series struct {
	start, end int32 // of its encoding in buf
	lo, hi     int32 // of its labels in names and values
	klo, khi   int32 // of its sort key in keys
	ts         int64 // its timestamp, when hasTS
	hasTS      bool
}

func newState() *state {
	return &state{
		descs: map[*prometheus.Desc]*descInfo{}, fams: map[string]*family{},
		labels: map[string]bool{},
	}
}

// begin readies st for a collection.
func (st *state) begin() {
	// Collectors that make new descriptors for each collection would
	// fill the cache of descriptors without end: start it again when it
	// holds many more than the last collection met.
	if len(st.descs) > 2*st.seen+256 {
		clear(st.descs)
	}
	// The same for label names, which a collector may make from data.
	if len(st.labels) > maxLabelNames {
		clear(st.labels)
	}
	st.seen = 0
	st.gen++
	for _, f := range st.fams {
		f.buf, f.metrics, f.names, f.values, f.keys = f.buf[:0], f.metrics[:0], f.names[:0], f.values[:0], f.keys[:0]
		f.slowSort, f.checked = false, f.checked[:0]
		st.free = append(st.free, f)
	}
	clear(st.fams)
}

// maxLabelNames bounds the label names whose check a state remembers.
const maxLabelNames = 4096

// info returns what d says, parsing it the first time.
func (st *state) info(d *prometheus.Desc) (*descInfo, error) {
	if di, ok := st.descs[d]; ok {
		return di, nil
	}
	s := d.String()
	di, err := parseDesc(s)
	if err != nil {
		return nil, err
	}
	st.descs[d] = di
	return di, nil
}

// errDescFormat is the error of a descriptor whose String does not read
// as client_golang's: the exporter then collects through Gather.
var errDescFormat = errors.New("the descriptor does not read as client_golang's Desc.String")

// parseDesc reads the name, help and unit of a descriptor from its
// String, which client_golang writes as
// Desc{fqName: "…", help: "…", unit: "…", constLabels: …}.
func parseDesc(s string) (*descInfo, error) {
	rest := s
	field := func(key string) (string, error) {
		var ok bool
		if rest, ok = strings.CutPrefix(rest, key); !ok {
			return "", fmt.Errorf("%w: %s: no %q where expected", errDescFormat, s, key)
		}
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return "", fmt.Errorf("%w: %s: %w", errDescFormat, s, err)
		}
		rest = rest[len(q):]
		return strconv.Unquote(q)
	}
	di := &descInfo{}
	var err error
	if di.name, err = field("Desc{fqName: "); err != nil {
		return nil, err
	}
	if di.help, err = field(", help: "); err != nil {
		return nil, err
	}
	if di.unit, err = field(", unit: "); err != nil {
		return nil, err
	}
	if !validMetricName(di.name) {
		return nil, fmt.Errorf("%q is not a valid metric name", di.name)
	}
	return di, nil
}

// validMetricName is whether name is a valid metric name under UTF-8
// validation, client_golang's default.
func validMetricName(name string) bool {
	return name != "" && utf8.ValidString(name)
}

// validLabelName is client_golang's check of a collected label name.
func validLabelName(name string) bool {
	return name != "" && utf8.ValidString(name) && !strings.HasPrefix(name, "__")
}

// add checks and encodes one collected metric.
func (st *state) add(m prometheus.Metric) error {
	d := m.Desc()
	// An invalid descriptor carries the collector's error, such as
	// prometheus.NewInvalidDesc(err), which Gather reports as it is.
	if err := d.Err(); err != nil {
		return err
	}
	di, err := st.info(d)
	if err != nil {
		return err
	}
	dm := &st.metric
	dm.Reset()
	if err := m.Write(dm); err != nil {
		return fmt.Errorf("error collecting metric %v: %w", d, err)
	}
	f, err := st.family(di, dm)
	if err != nil {
		return err
	}
	// Read every label first: the reads do not wait for one another.
	lo := len(f.values)
	for _, lp := range dm.Label {
		f.names, f.values = append(f.names, lp.GetName()), append(f.values, lp.GetValue())
	}
	if err := st.check(f, dm, lo); err != nil {
		return err
	}
	s := series{start: int32(len(f.buf)), lo: int32(lo), hi: int32(len(f.values)), klo: int32(len(f.keys))}
	if f.buf, err = sdk.AppendMetric(f.buf, dm); err != nil {
		return fmt.Errorf("cannot encode metric %s: %w", f.name, err)
	}
	s.end = int32(len(f.buf))
	f.keys = f.appendKey(f.keys, s)
	s.khi = int32(len(f.keys))
	if dm.TimestampMs != nil {
		s.ts, s.hasTS = *dm.TimestampMs, true
	}
	f.metrics = append(f.metrics, s)
	return nil
}

// appendKey appends to b the sort key of s: its number of labels, then
// its label values, each ended by a 0 byte, so that keys compare as
// client_golang orders metrics, as long as no value holds a 0 byte and
// there are fewer than 256 labels; otherwise it marks f as not sortable
// by keys.
func (f *family) appendKey(b []byte, s series) []byte {
	n := s.hi - s.lo
	if n > 255 {
		f.slowSort = true
	}
	b = append(b, byte(n))
	for _, v := range f.values[s.lo:s.hi] {
		if strings.IndexByte(v, 0) >= 0 {
			f.slowSort = true
		}
		b = append(append(b, v...), 0)
	}
	return b
}

// metricType is the type of dm, by the value it holds, as Gather
// decides it; false when it holds none.
func metricType(dm *dto.Metric) (dto.MetricType, bool) {
	switch {
	case dm.Gauge != nil:
		return dto.MetricType_GAUGE, true
	case dm.Counter != nil:
		return dto.MetricType_COUNTER, true
	case dm.Summary != nil:
		return dto.MetricType_SUMMARY, true
	case dm.Untyped != nil:
		return dto.MetricType_UNTYPED, true
	case dm.Histogram != nil:
		return dto.MetricType_HISTOGRAM, true
	}
	return 0, false
}

// holds is whether dm holds a value of type t.
func holds(dm *dto.Metric, t dto.MetricType) bool {
	switch t {
	case dto.MetricType_GAUGE:
		return dm.Gauge != nil
	case dto.MetricType_COUNTER:
		return dm.Counter != nil
	case dto.MetricType_SUMMARY:
		return dm.Summary != nil
	case dto.MetricType_UNTYPED:
		return dm.Untyped != nil
	case dto.MetricType_HISTOGRAM:
		return dm.Histogram != nil
	}
	return false
}

// family returns the family of the descriptor di for the metric dm,
// making it with dm's type the first time in the collection, and checks
// that dm fits it.
func (st *state) family(di *descInfo, dm *dto.Metric) (*family, error) {
	f := di.fam
	if di.gen != st.gen {
		st.seen++
		f = st.fams[di.name]
		if f == nil {
			typ, ok := metricType(dm)
			if !ok {
				return nil, fmt.Errorf("empty metric collected: %s", dm)
			}
			if n := len(st.free); n > 0 {
				f, st.free = st.free[n-1], st.free[:n-1]
			} else {
				f = &family{}
			}
			f.name, f.help, f.unit, f.typ = di.name, di.help, di.unit, typ
			st.fams[di.name] = f
		}
		di.fam, di.gen = f, st.gen
	}
	if f.help != di.help {
		return nil, fmt.Errorf("collected metric %s %s has help %q but should have %q", di.name, dm, di.help, f.help)
	}
	if !holds(dm, f.typ) {
		return nil, fmt.Errorf("collected metric %s %s should be a %s", di.name, dm, f.typ)
	}
	return f, nil
}

// check checks the labels of dm, whose names and values f holds from
// lo on, as Gather does. Labels not sorted by name are sorted, in a copy
// of dm's, as Gather sorts them. The names of the metric checked last
// in f are not checked again.
func (st *state) check(f *family, dm *dto.Metric, lo int) error {
	names, values := f.names[lo:], f.values[lo:]
	for i, v := range values {
		if !utf8.ValidString(v) {
			return fmt.Errorf("collected metric %q { %s} has a label named %q whose value is not utf8: %#v", f.name, dm, names[i], v)
		}
	}
	if slices.Equal(names, f.checked) {
		return nil
	}
	// Gather finds a repeated label name next to itself, in the order
	// the metric wrote its labels, before it sorts them.
	for i := 1; i < len(names); i++ {
		if names[i] == names[i-1] {
			return fmt.Errorf("collected metric %q { %s} has two or more labels with the same name: %s", f.name, dm, names[i])
		}
	}
	if !slices.IsSorted(names) {
		dm.Label = slices.Clone(dm.Label)
		slices.SortFunc(dm.Label, func(a, b *dto.LabelPair) int { return cmp.Compare(a.GetName(), b.GetName()) })
		for i, lp := range dm.Label {
			names[i], values[i] = lp.GetName(), lp.GetValue()
		}
	}
	for _, name := range names {
		valid, ok := st.labels[name]
		if !ok {
			valid = validLabelName(name)
			st.labels[name] = valid
		}
		if !valid {
			return fmt.Errorf("collected metric %q { %s} has a label with an invalid name: %s", f.name, dm, name)
		}
		if dm.Summary != nil && name == "quantile" {
			return fmt.Errorf("collected metric %q { %s} must not have an explicit %q label", f.name, dm, "quantile")
		}
	}
	f.checked = append(f.checked[:0], names...)
	return nil
}

// appendFamilies appends the families of the collection to b, sorted by
// name, each with its series sorted as Gather sorts them.
func (st *state) appendFamilies(b []byte) ([]byte, error) {
	fams := make([]*family, 0, len(st.fams))
	for _, f := range st.fams {
		if err := suffixCollision(st.fams, f); err != nil {
			return b, err
		}
		fams = append(fams, f)
	}
	slices.SortFunc(fams, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	for _, f := range fams {
		f.sort()
		if err := f.duplicates(); err != nil {
			return b, err
		}
		size := 1 + protowire.SizeBytes(len(f.name)) + 1 + protowire.SizeBytes(len(f.help)) + 1 + protowire.SizeVarint(uint64(f.typ))
		if f.unit != "" {
			size += 1 + protowire.SizeBytes(len(f.unit))
		}
		size += len(f.buf)
		b = protowire.AppendVarint(b, uint64(size))
		b = appendString(b, 1, f.name)
		b = appendString(b, 2, f.help)
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(f.typ))
		for _, o := range f.order {
			s := f.metrics[o.i]
			b = append(b, f.buf[s.start:s.end]...)
		}
		if f.unit != "" {
			b = appendString(b, 5, f.unit)
		}
	}
	return b, nil
}

// sort sets f.order to f's series in the order client_golang sorts a
// family's metrics. Each item carries the eight bytes of its series' sort
// key after those that every key of f shares, padded with zeros, as an
// integer: where two differ, their keys compare as they do, so most
// comparisons compare two integers.
func (f *family) sort() {
	f.order = f.order[:0]
	shared := 0
	if !f.slowSort && len(f.metrics) > 1 {
		first := f.keys[f.metrics[0].klo:f.metrics[0].khi]
		shared = len(first)
		for _, s := range f.metrics[1:] {
			k := f.keys[s.klo:s.khi]
			n := min(shared, len(k))
			i := 0
			for i < n && k[i] == first[i] {
				i++
			}
			shared = i
		}
	}
	for i, s := range f.metrics {
		var p [8]byte
		if !f.slowSort {
			copy(p[:], f.keys[int(s.klo)+shared:s.khi])
		}
		f.order = append(f.order, sortItem{pre: binary.BigEndian.Uint64(p[:]), i: int32(i)})
	}
	slices.SortFunc(f.order, f.compareItems)
}

// compareItems compares two items of f.order.
func (f *family) compareItems(a, b sortItem) int {
	if a.pre != b.pre {
		return cmp.Compare(a.pre, b.pre)
	}
	return f.compare(f.metrics[a.i], f.metrics[b.i])
}

// duplicates returns the error Gather reports when two series of f
// have the same labels and timestamp, or nil. Such series compare equal,
// so they are in a run of equal series of f.order.
func (f *family) duplicates() error {
	o := f.order
	for i := 0; i < len(o); {
		j := i + 1
		for j < len(o) && f.compareItems(o[i], o[j]) == 0 {
			j++
		}
		for a := i; a < j; a++ {
			for b := a + 1; b < j; b++ {
				sa, sb := f.metrics[o[a].i], f.metrics[o[b].i]
				if slices.Equal(f.names[sa.lo:sa.hi], f.names[sb.lo:sb.hi]) {
					return fmt.Errorf("collected metric %q { %s} was collected before with the same name and label values", f.name, f.labels(sa))
				}
			}
		}
		i = j
	}
	return nil
}

// labels is s's labels as name="value" pairs.
func (f *family) labels(s series) string {
	var sb strings.Builder
	for i := s.lo; i < s.hi; i++ {
		fmt.Fprintf(&sb, "%s=%q ", f.names[i], f.values[i])
	}
	return sb.String()
}

// compare orders series as client_golang's sorting of a family's
// metrics does: by number of labels, then label values in order, then
// timestamp, missing last.
func (f *family) compare(a, b series) int {
	if !f.slowSort {
		if c := bytes.Compare(f.keys[a.klo:a.khi], f.keys[b.klo:b.khi]); c != 0 {
			return c
		}
	} else {
		if n, m := a.hi-a.lo, b.hi-b.lo; n != m {
			return cmp.Compare(n, m)
		}
		for i := range a.hi - a.lo {
			if c := strings.Compare(f.values[a.lo+i], f.values[b.lo+i]); c != 0 {
				return c
			}
		}
	}
	switch {
	case a.hasTS && b.hasTS:
		return cmp.Compare(a.ts, b.ts)
	case a.hasTS:
		return -1
	case b.hasTS:
		return 1
	}
	return 0
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}
