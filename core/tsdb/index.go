package tsdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// Badger holds, next to the series records, an inverted index of them
// (FORMAT.md, "Series index"): a postings key per label of every series,
// and a key by the stable hash of its labels. Queries read it for the
// series that left memory (evict.go), and an append finds such a series
// by its labels to bring it back with its reference.

// seriesIndexVersion is the version of the series index, kept under the
// meta key "seriesindex" once every series record has its index keys.
const seriesIndexVersion = 1

// emptyValue is the value of the index keys: the checksum of nothing.
var emptyValue = withChecksum(nil)

// postingNamePrefix appends to b the prefix of the postings keys of label name:
// P · uvarint(len(name)) · name.
func postingNamePrefix(b []byte, name string) []byte {
	b = append(b, prefixPostings)
	b = binary.AppendUvarint(b, uint64(len(name)))
	return append(b, name...)
}

// postingValuePrefix appends to b the prefix of the postings keys of the
// label name=value: the name prefix · uvarint(len(value)) · value.
func postingValuePrefix(b []byte, name, value string) []byte {
	b = postingNamePrefix(b, name)
	b = binary.AppendUvarint(b, uint64(len(value)))
	return append(b, value...)
}

// postingKey is the key saying that series ref has the label name=value.
func postingKey(name, value string, ref uint64) []byte {
	k := postingValuePrefix(make([]byte, 0, 1+2+len(name)+2+len(value)+8), name, value)
	return binary.BigEndian.AppendUint64(k, ref)
}

// parsePostingKey returns the label name, the value and the reference of a
// postings key. The strings point into k.
func parsePostingKey(k []byte) (name, value []byte, ref uint64, err error) {
	if len(k) < 1+8 || k[0] != prefixPostings {
		return nil, nil, 0, fmt.Errorf("malformed postings key %x", k)
	}
	rest := k[1:]
	for _, field := range []*[]byte{&name, &value} {
		n, w := binary.Uvarint(rest)
		if w <= 0 || uint64(len(rest)-w) < n {
			return nil, nil, 0, fmt.Errorf("malformed postings key %x", k)
		}
		*field = rest[w : w+int(n)]
		rest = rest[w+int(n):]
	}
	if len(rest) != 8 {
		return nil, nil, 0, fmt.Errorf("malformed postings key %x", k)
	}
	return name, value, binary.BigEndian.Uint64(rest), nil
}

// hashPrefix is the prefix of the hash keys of the label sets whose stable
// hash is hash: H · hash.
func hashPrefix(hash uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefixHash}, hash)
}

// hashKey is the key of series ref under the stable hash of its labels.
func hashKey(hash, ref uint64) []byte {
	return binary.BigEndian.AppendUint64(hashPrefix(hash), ref)
}

// prefixEnd returns the smallest key greater than every key starting with
// p, or nil when there is none.
func prefixEnd(p []byte) []byte {
	end := slices.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// indexSeries adds to wb the series record of ref and its index keys.
func indexSeries(wb *badger.WriteBatch, ref uint64, lset labels.Labels) error {
	if err := wb.Set(seriesKey(ref), encodeSeriesValue(lset)); err != nil {
		return fmt.Errorf("cannot write series %s: %w", lset, err)
	}
	return indexLabels(wb, ref, lset)
}

// indexLabels adds to wb the index keys of series ref.
func indexLabels(wb *badger.WriteBatch, ref uint64, lset labels.Labels) error {
	if err := wb.Set(hashKey(labels.StableHash(lset), ref), emptyValue); err != nil {
		return fmt.Errorf("cannot write the hash key of series %s: %w", lset, err)
	}
	var err error
	lset.Range(func(l labels.Label) {
		if err == nil {
			err = wb.Set(postingKey(l.Name, l.Value, ref), emptyValue)
		}
	})
	if err != nil {
		return fmt.Errorf("cannot write the postings of series %s: %w", lset, err)
	}
	return nil
}

// unindexSeries adds to wb the deletion of the series record of ref and
// of its index keys.
func unindexSeries(wb *badger.WriteBatch, ref uint64, lset labels.Labels) error {
	if err := wb.Delete(seriesKey(ref)); err != nil {
		return fmt.Errorf("cannot delete series %s: %w", lset, err)
	}
	if err := wb.Delete(hashKey(labels.StableHash(lset), ref)); err != nil {
		return fmt.Errorf("cannot delete the hash key of series %s: %w", lset, err)
	}
	var err error
	lset.Range(func(l labels.Label) {
		if err == nil {
			err = wb.Delete(postingKey(l.Name, l.Value, ref))
		}
	})
	if err != nil {
		return fmt.Errorf("cannot delete the postings of series %s: %w", lset, err)
	}
	return nil
}

// buildSeriesIndex writes the index keys of every series record when the
// store has no series index yet (it was written by an earlier version),
// and then records its version. Writing a key that exists changes
// nothing, so a build that a crash interrupted is simply done again.
func (db *DB) buildSeriesIndex() error {
	found := false
	err := db.kv.View(func(txn *badger.Txn) error {
		_, err := txn.Get(metaKey("seriesindex"))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return fmt.Errorf("cannot read the version of the series index: %w", err)
	}
	if found {
		return nil
	}
	start := time.Now()
	wb := db.kv.NewWriteBatch()
	defer wb.Cancel()
	n := 0
	err = db.kv.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixSeries}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if len(item.Key()) != seriesKeyLen {
				continue // loadSeries refused it already
			}
			var lset labels.Labels
			if err := item.Value(func(v []byte) error {
				var err error
				lset, err = decodeSeriesValue(v)
				return err
			}); err != nil {
				continue // loadSeries reported it; its chunks cannot be named
			}
			if err := indexLabels(wb, refFromKey(item.Key()), lset); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot build the series index: %w", err)
	}
	if err := wb.Set(metaKey("seriesindex"), withChecksum(be64(seriesIndexVersion))); err != nil {
		return fmt.Errorf("cannot write the version of the series index: %w", err)
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("cannot write the series index of %d series: %w", n, err)
	}
	if n > 0 {
		db.logger.Info("built the series index of a store written by an earlier version", "series", n, "duration", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// indexReader reads the series index of one badger snapshot.
type indexReader struct {
	txn *badger.Txn
}

// keys calls f with every key starting with prefix, in order. f returns
// the key to go on from: nil for the next one, or a key to seek to.
func (ir indexReader) keys(prefix []byte, f func(k []byte) ([]byte, error)) error {
	it := ir.txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: prefix})
	defer it.Close()
	for it.Seek(prefix); it.Valid(); {
		next, err := f(it.Item().Key())
		if err != nil {
			return err
		}
		if next == nil {
			it.Next()
		} else {
			it.Seek(next)
		}
	}
	return nil
}

// allRefs returns the reference of every series record, in order.
func (ir indexReader) allRefs() ([]storage.SeriesRef, error) {
	var refs []storage.SeriesRef
	err := ir.keys([]byte{prefixSeries}, func(k []byte) ([]byte, error) {
		if len(k) == seriesKeyLen {
			refs = append(refs, storage.SeriesRef(refFromKey(k)))
		}
		return nil, nil
	})
	return refs, err
}

// postings returns the references of the series with label name set to
// one of values, in order.
func (ir indexReader) postings(name string, values ...string) ([]storage.SeriesRef, error) {
	var refs []storage.SeriesRef
	for _, v := range values {
		prefix := postingValuePrefix(nil, name, v)
		err := ir.keys(prefix, func(k []byte) ([]byte, error) {
			if len(k) == len(prefix)+8 {
				refs = append(refs, storage.SeriesRef(binary.BigEndian.Uint64(k[len(prefix):])))
			}
			return nil, nil
		})
		if err != nil {
			return nil, fmt.Errorf("cannot read the postings of %s=%q: %w", name, v, err)
		}
	}
	if len(values) > 1 {
		slices.Sort(refs)
		refs = slices.Compact(refs)
	}
	return refs, nil
}

// postingsMatching returns the references of the series with a value of
// label name for which match is true, in order. match is called once per value.
func (ir indexReader) postingsMatching(name string, match func(string) bool) ([]storage.SeriesRef, error) {
	var (
		refs    []storage.SeriesRef
		matched []byte // the value whose keys are being read, which matches
	)
	err := ir.keys(postingNamePrefix(nil, name), func(k []byte) ([]byte, error) {
		_, value, ref, err := parsePostingKey(k)
		if err != nil {
			return nil, err
		}
		if matched == nil || !bytes.Equal(value, matched) {
			if !match(string(value)) {
				return prefixEnd(k[:len(k)-8]), nil
			}
			matched = append(matched[:0:0], value...)
		}
		refs = append(refs, storage.SeriesRef(ref))
		return nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read the postings of label %q: %w", name, err)
	}
	slices.Sort(refs)
	return slices.Compact(refs), nil
}

// labelValues returns the values of label name, unsorted.
func (ir indexReader) labelValues(name string) ([]string, error) {
	var values []string
	err := ir.keys(postingNamePrefix(nil, name), func(k []byte) ([]byte, error) {
		_, value, _, err := parsePostingKey(k)
		if err != nil {
			return nil, err
		}
		values = append(values, string(value))
		return prefixEnd(k[:len(k)-8]), nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read the values of label %q: %w", name, err)
	}
	return values, nil
}

// labelNames returns every label name, unsorted.
func (ir indexReader) labelNames() ([]string, error) {
	var names []string
	err := ir.keys([]byte{prefixPostings}, func(k []byte) ([]byte, error) {
		name, _, _, err := parsePostingKey(k)
		if err != nil {
			return nil, err
		}
		names = append(names, string(name))
		return prefixEnd(postingNamePrefix(nil, string(name))), nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read the label names: %w", err)
	}
	return names, nil
}

// series returns the labels of the series record of ref; ok is false when
// there is none.
func (ir indexReader) series(ref uint64) (lset labels.Labels, ok bool, err error) {
	item, err := ir.txn.Get(seriesKey(ref))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return labels.EmptyLabels(), false, nil
	}
	if err != nil {
		return labels.EmptyLabels(), false, fmt.Errorf("cannot read series %d: %w", ref, err)
	}
	err = item.Value(func(v []byte) error {
		lset, err = decodeSeriesValue(v)
		return err
	})
	if err != nil {
		return labels.EmptyLabels(), false, fmt.Errorf("cannot read series %d: %w", ref, err)
	}
	return lset, true, nil
}

// refByLabels returns the reference of the series record with labels
// lset; ok is false when there is none.
func (ir indexReader) refByLabels(lset labels.Labels) (ref uint64, ok bool, err error) {
	prefix := hashPrefix(labels.StableHash(lset))
	var refs []uint64
	err = ir.keys(prefix, func(k []byte) ([]byte, error) {
		if len(k) == len(prefix)+8 {
			refs = append(refs, binary.BigEndian.Uint64(k[len(prefix):]))
		}
		return nil, nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("cannot look up series %s: %w", lset, err)
	}
	// Label sets that share a hash are told apart by their records.
	for _, ref := range refs {
		stored, found, err := ir.series(ref)
		if err != nil {
			return 0, false, err
		}
		if found && labels.Equal(stored, lset) {
			return ref, true, nil
		}
	}
	return 0, false, nil
}
