package tsdb

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/encoding"
)

const seriesStripes = 512

// seriesMap finds head series by reference and by label hash. References
// are small increasing integers, so the lookup by reference is a lock-free
// read of a paged table; the lookup by labels goes through a striped hash
// map so that creators of different series rarely wait for each other.
type seriesMap struct {
	byRef   refTable
	stripes [seriesStripes]seriesStripe
}

type seriesStripe struct {
	mu     sync.RWMutex
	byHash map[uint64][]*memSeries
}

func newSeriesMap() *seriesMap {
	m := &seriesMap{}
	for i := range m.stripes {
		m.stripes[i].byHash = map[uint64][]*memSeries{}
	}
	return m
}

const (
	refPageBits = 12
	refPageSize = 1 << refPageBits
)

// refTable maps references to series in pages of refPageSize entries. The
// list of pages is replaced, never changed, when it grows.
type refTable struct {
	mu    sync.Mutex // held to add pages
	pages atomic.Pointer[[]*refPage]
}

type refPage [refPageSize]atomic.Pointer[memSeries]

func (t *refTable) get(ref uint64) *memSeries {
	pages := t.pages.Load()
	if pages == nil || ref>>refPageBits >= uint64(len(*pages)) {
		return nil
	}
	page := (*pages)[ref>>refPageBits]
	if page == nil {
		return nil
	}
	return page[ref&(refPageSize-1)].Load()
}

func (t *refTable) set(ref uint64, s *memSeries) {
	idx := ref >> refPageBits
	pages := t.pages.Load()
	if pages == nil || idx >= uint64(len(*pages)) || (*pages)[idx] == nil {
		t.mu.Lock()
		pages = t.pages.Load()
		var grown []*refPage
		if pages != nil {
			grown = append(grown, *pages...)
		}
		for uint64(len(grown)) <= idx {
			grown = append(grown, nil)
		}
		if grown[idx] == nil {
			grown[idx] = new(refPage)
		}
		t.pages.Store(&grown)
		pages = &grown
		t.mu.Unlock()
	}
	(*pages)[idx][ref&(refPageSize-1)].Store(s)
}

// forEach calls f for every series in the table.
func (t *refTable) forEach(f func(*memSeries)) {
	pages := t.pages.Load()
	if pages == nil {
		return
	}
	for _, page := range *pages {
		if page == nil {
			continue
		}
		for i := range page {
			if s := page[i].Load(); s != nil {
				f(s)
			}
		}
	}
}

func (m *seriesMap) getByRef(ref uint64) *memSeries { return m.byRef.get(ref) }

func (m *seriesMap) getByLabels(hash uint64, lset labels.Labels) *memSeries {
	st := &m.stripes[hash%seriesStripes]
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, s := range st.byHash[hash] {
		if labels.Equal(s.lset, lset) {
			return s
		}
	}
	return nil
}

// getOrCreate returns the series with lset, creating it with a reference
// from newRef when there is none. It reports whether it created it.
func (m *seriesMap) getOrCreate(hash uint64, lset labels.Labels, newRef func() uint64) (*memSeries, bool) {
	if s := m.getByLabels(hash, lset); s != nil {
		return s, false
	}
	st := &m.stripes[hash%seriesStripes]
	st.mu.Lock()
	for _, s := range st.byHash[hash] {
		if labels.Equal(s.lset, lset) {
			st.mu.Unlock()
			return s, false
		}
	}
	s := newMemSeries(newRef(), lset, true)
	st.byHash[hash] = append(st.byHash[hash], s)
	st.mu.Unlock()
	m.byRef.set(s.ref, s)
	return s, true
}

// add inserts a series loaded from badger.
func (m *seriesMap) add(s *memSeries, hash uint64) {
	st := &m.stripes[hash%seriesStripes]
	st.mu.Lock()
	st.byHash[hash] = append(st.byHash[hash], s)
	st.mu.Unlock()
	m.byRef.set(s.ref, s)
}

func (m *seriesMap) remove(s *memSeries) {
	hash := s.lset.Hash()
	st := &m.stripes[hash%seriesStripes]
	st.mu.Lock()
	list := st.byHash[hash]
	for i, o := range list {
		if o == s {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(st.byHash, hash)
	} else {
		st.byHash[hash] = list
	}
	st.mu.Unlock()
	m.byRef.set(s.ref, nil)
}

// forEach calls f for every series. f may lock the series.
func (m *seriesMap) forEach(f func(*memSeries)) { m.byRef.forEach(f) }

// count returns the number of series.
func (m *seriesMap) count() int {
	n := 0
	m.byRef.forEach(func(*memSeries) { n++ })
	return n
}

// validateLabels returns lset without empty-valued labels (which PromQL
// treats as absent), or an error wrapping ErrInvalidSeries.
func validateLabels(lset labels.Labels) (labels.Labels, error) {
	lset = lset.WithoutEmpty()
	if lset.IsEmpty() {
		return lset, fmt.Errorf("empty label set: %w", ErrInvalidSeries)
	}
	var err error
	prev := ""
	first := true
	lset.Range(func(l labels.Label) {
		switch {
		case err != nil:
		case l.Name == "":
			err = fmt.Errorf("series %s has an empty label name: %w", lset, ErrInvalidSeries)
		case !first && l.Name == prev:
			err = fmt.Errorf("series %s has label name %q twice: %w", lset, l.Name, ErrInvalidSeries)
		case !utf8.ValidString(l.Name):
			err = fmt.Errorf("series %s has label name %q that is not valid UTF-8: %w", lset, l.Name, ErrInvalidSeries)
		case !utf8.ValidString(l.Value):
			err = fmt.Errorf("series %s has a value of label %q that is not valid UTF-8: %w", lset, l.Name, ErrInvalidSeries)
		}
		prev, first = l.Name, false
	})
	return lset, err
}

// encodeSeriesValue is the badger value of a series record: its labels and a checksum.
func encodeSeriesValue(lset labels.Labels) []byte {
	buf := encoding.Encbuf{}
	buf.PutUvarint(lset.Len())
	lset.Range(func(l labels.Label) {
		buf.PutUvarintStr(l.Name)
		buf.PutUvarintStr(l.Value)
	})
	return withChecksum(buf.Get())
}

func decodeSeriesValue(v []byte) (labels.Labels, error) {
	payload, err := verifyChecksum(v)
	if err != nil {
		return labels.EmptyLabels(), err
	}
	dec := encoding.Decbuf{B: payload}
	n := dec.Uvarint()
	b := labels.NewScratchBuilder(n)
	for i := 0; i < n && dec.Err() == nil; i++ {
		name := dec.UvarintStr()
		value := dec.UvarintStr()
		b.Add(name, value)
	}
	if dec.Err() != nil {
		return labels.EmptyLabels(), fmt.Errorf("cannot decode labels: %w", dec.Err())
	}
	b.Sort()
	return b.Labels(), nil
}

func refFromKey(k []byte) uint64 { return binary.BigEndian.Uint64(k[1:9]) }

func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
