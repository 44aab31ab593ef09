package tsdb

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/index"
	"github.com/prometheus/prometheus/tsdb/tombstones"
)

// blockReader presents the store, as of one badger snapshot plus the head,
// as an upstream tsdb.BlockReader, so that the upstream block querier does
// the matching, trimming, merging and label queries. It is both the index
// reader and the chunk reader of that block.
type blockReader struct {
	db         *DB
	mint, maxt int64

	txn    *badger.Txn
	it     *badger.Iterator
	readTs uint64
	closed bool
	// slab holds copies of the chunk values read so far.
	slab []byte
	// lastRef is the series the iterator read last, once seeked is set.
	lastRef uint64
	seeked  bool

	// groups holds the chunks of metas that stand for several overlapping
	// chunks; such a meta has Ref = index+1 and no Chunk.
	groups [][]chunkenc.Chunk

	// iso is what the reader sees of commits; hidden holds, by series read,
	// the time ranges of commits it must not see (isolation.go).
	iso    *isolationState
	hidden map[storage.SeriesRef]tombstones.Intervals
}

func (db *DB) newBlockReader(mint, maxt int64) (*blockReader, error) {
	if db.closed.Load() {
		return nil, ErrClosed
	}
	r := &blockReader{db: db, mint: mint, maxt: maxt, iso: db.iso.beginRead()}
	db.readersMu.Lock()
	r.txn = db.kv.NewTransaction(false)
	r.readTs = r.txn.ReadTs()
	db.readers[r] = r.readTs
	db.readersMu.Unlock()
	r.it = r.txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: []byte{prefixChunk}})
	return r, nil
}

func newQuerier(r *blockReader, mint, maxt int64) (storage.Querier, error) {
	q, err := tsdb.NewBlockQuerier(r, mint, maxt)
	if err != nil {
		r.Close()
		return nil, err
	}
	return q, nil
}

func newChunkQuerier(r *blockReader, mint, maxt int64) (storage.ChunkQuerier, error) {
	q, err := tsdb.NewBlockChunkQuerier(r, mint, maxt)
	if err != nil {
		r.Close()
		return nil, err
	}
	return q, nil
}

// Index implements tsdb.BlockReader.
func (r *blockReader) Index() (tsdb.IndexReader, error) { return r, nil }

// Chunks implements tsdb.BlockReader.
func (r *blockReader) Chunks() (tsdb.ChunkReader, error) { return r, nil }

// Tombstones implements tsdb.BlockReader: the intervals Delete hid, and
// those of the commits the reader must not see.
func (r *blockReader) Tombstones() (tombstones.Reader, error) {
	return &readerTombstones{deleted: r.db.tombstones, r: r}, nil
}

// Meta implements tsdb.BlockReader.
func (r *blockReader) Meta() tsdb.BlockMeta {
	return tsdb.BlockMeta{MinTime: r.mint, MaxTime: r.maxt}
}

// Size implements tsdb.BlockReader.
func (r *blockReader) Size() int64 { return 0 }

// Close releases the badger snapshot. The block querier calls it once as
// index reader and once as chunk reader.
func (r *blockReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.it.Close()
	r.txn.Discard()
	r.db.readersMu.Lock()
	delete(r.db.readers, r)
	r.db.readersMu.Unlock()
	r.db.iso.endRead(r.iso)
	return nil
}

// readsIndex reports whether the reader needs badger's series index: when
// series were evicted from memory that may have samples in its time range.
// An evicted series has no sample after evictedMaxT, which is raised
// before the series leaves the postings in memory, so a reader that does
// not read the index for a call finds every series it needs in memory.
func (r *blockReader) readsIndex() bool {
	evictedMaxT := r.db.evictedMaxT.Load()
	return evictedMaxT != math.MinInt64 && evictedMaxT >= r.mint
}

// index returns the reader of the series index of the reader's snapshot.
func (r *blockReader) index() indexReader { return indexReader{r.txn} }

// labelsOf returns the labels of series ref: from memory, or from its
// series record in the reader's snapshot when it was evicted; ok is false
// when there is neither.
func (r *blockReader) labelsOf(ref storage.SeriesRef) (lset labels.Labels, ok bool, err error) {
	if s := r.db.series.getByRef(uint64(ref)); s != nil {
		return s.lset, true, nil
	}
	return r.index().series(uint64(ref))
}

// withIndex merges mem, the postings of the series in memory, with those
// that read returns from the series index when the reader needs it.
func (r *blockReader) withIndex(ctx context.Context, mem index.Postings, read func(indexReader) ([]storage.SeriesRef, error)) index.Postings {
	if !r.readsIndex() {
		return mem
	}
	refs, err := read(r.index())
	if err != nil {
		return index.ErrPostings(err)
	}
	if len(refs) == 0 {
		return mem
	}
	return index.Merge(ctx, mem, index.NewListPostings(refs))
}

// Symbols implements tsdb.IndexReader.
func (r *blockReader) Symbols() index.StringIter {
	if !r.readsIndex() {
		return r.db.postings.Symbols()
	}
	var symbols []string
	for it := r.db.postings.Symbols(); it.Next(); {
		symbols = append(symbols, it.At())
	}
	names, err := r.index().labelNames()
	if err != nil {
		return errStringIter{err}
	}
	for _, name := range names {
		values, err := r.index().labelValues(name)
		if err != nil {
			return errStringIter{err}
		}
		symbols = append(append(symbols, name), values...)
	}
	slices.Sort(symbols)
	return index.NewStringListIter(slices.Compact(symbols))
}

// errStringIter is a StringIter that failed.
type errStringIter struct{ err error }

func (errStringIter) Next() bool   { return false }
func (errStringIter) At() string   { return "" }
func (e errStringIter) Err() error { return e.err }

// SortedLabelValues implements tsdb.IndexReader.
func (r *blockReader) SortedLabelValues(ctx context.Context, name string, hints *storage.LabelHints, matchers ...*labels.Matcher) ([]string, error) {
	values, err := r.labelValues(ctx, name, matchers...)
	if err != nil {
		return nil, err
	}
	slices.Sort(values)
	values, _ = hints.ApplyLimit(values)
	return values, nil
}

// LabelValues implements tsdb.IndexReader.
func (r *blockReader) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, matchers ...*labels.Matcher) ([]string, error) {
	values, err := r.labelValues(ctx, name, matchers...)
	if err != nil {
		return nil, err
	}
	if hints != nil && hints.Limit > 0 && len(values) > hints.Limit {
		slices.Sort(values)
		values = values[:hints.Limit]
	}
	return values, nil
}

// allLabelValues returns the values of label name, in memory and, when
// the reader needs it, in the series index; unsorted.
func (r *blockReader) allLabelValues(ctx context.Context, name string) ([]string, error) {
	all := r.db.postings.LabelValues(ctx, name)
	if !r.readsIndex() {
		return all, nil
	}
	evicted, err := r.index().labelValues(name)
	if err != nil {
		return nil, err
	}
	all = append(all, evicted...)
	slices.Sort(all)
	return slices.Compact(all), nil
}

func (r *blockReader) labelValues(ctx context.Context, name string, matchers ...*labels.Matcher) ([]string, error) {
	all, err := r.allLabelValues(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(matchers) == 0 {
		return all, nil
	}
	other := false
	for _, m := range matchers {
		if m.Name != name {
			other = true
			continue
		}
		all = slices.DeleteFunc(all, func(v string) bool { return !m.Matches(v) })
	}
	if !other || len(all) == 0 {
		return all, nil
	}
	p, err := tsdb.PostingsForMatchers(ctx, r, matchers...)
	if err != nil {
		return nil, fmt.Errorf("cannot select series for label values of %q: %w", name, err)
	}
	perValue := make([]index.Postings, len(all))
	for i, v := range all {
		if perValue[i], err = r.Postings(ctx, name, v); err != nil {
			return nil, err
		}
	}
	idx, err := index.FindIntersectingPostings(p, perValue)
	if err != nil {
		return nil, fmt.Errorf("cannot intersect postings for label values of %q: %w", name, err)
	}
	out := make([]string, 0, len(idx))
	for _, i := range idx {
		out = append(out, all[i])
	}
	return out, nil
}

// Postings implements tsdb.IndexReader.
func (r *blockReader) Postings(ctx context.Context, name string, values ...string) (index.Postings, error) {
	mem := r.db.postings.Postings(ctx, name, values...)
	return r.withIndex(ctx, mem, func(ir indexReader) ([]storage.SeriesRef, error) {
		if k, v := index.AllPostingsKey(); name == k && len(values) == 1 && values[0] == v {
			return ir.allRefs()
		}
		return ir.postings(name, values...)
	}), nil
}

// PostingsForLabelMatching implements tsdb.IndexReader.
func (r *blockReader) PostingsForLabelMatching(ctx context.Context, name string, match func(string) bool) index.Postings {
	mem := r.db.postings.PostingsForLabelMatching(ctx, name, match)
	return r.withIndex(ctx, mem, func(ir indexReader) ([]storage.SeriesRef, error) {
		return ir.postingsMatching(name, match)
	})
}

// PostingsForAllLabelValues implements tsdb.IndexReader.
func (r *blockReader) PostingsForAllLabelValues(ctx context.Context, name string) index.Postings {
	mem := r.db.postings.PostingsForAllLabelValues(ctx, name)
	return r.withIndex(ctx, mem, func(ir indexReader) ([]storage.SeriesRef, error) {
		return ir.postingsMatching(name, func(string) bool { return true })
	})
}

// SortedPostings implements tsdb.IndexReader: it orders series by labels.
func (r *blockReader) SortedPostings(p index.Postings) index.Postings {
	type refLabels struct {
		ref  storage.SeriesRef
		lset labels.Labels
	}
	var series []refLabels
	for p.Next() {
		lset, ok, err := r.labelsOf(p.At())
		if err != nil {
			return index.ErrPostings(err)
		}
		if ok {
			series = append(series, refLabels{p.At(), lset})
		}
	}
	if err := p.Err(); err != nil {
		return index.ErrPostings(fmt.Errorf("cannot expand postings: %w", err))
	}
	slices.SortFunc(series, func(a, b refLabels) int { return labels.Compare(a.lset, b.lset) })
	refs := make([]storage.SeriesRef, len(series))
	for i, s := range series {
		refs[i] = s.ref
	}
	return index.NewListPostings(refs)
}

// ShardedPostings implements tsdb.IndexReader, sharding by the stable hash
// of the labels.
func (r *blockReader) ShardedPostings(p index.Postings, shardIndex, shardCount uint64) index.Postings {
	var refs []storage.SeriesRef
	for p.Next() {
		lset, ok, err := r.labelsOf(p.At())
		if err != nil {
			return index.ErrPostings(err)
		}
		if ok && labels.StableHash(lset)%shardCount == shardIndex {
			refs = append(refs, p.At())
		}
	}
	if err := p.Err(); err != nil {
		return index.ErrPostings(fmt.Errorf("cannot expand postings: %w", err))
	}
	return index.NewListPostings(refs)
}

// LabelNames implements tsdb.IndexReader.
func (r *blockReader) LabelNames(ctx context.Context, matchers ...*labels.Matcher) ([]string, error) {
	if len(matchers) == 0 {
		names := r.db.postings.LabelNames()
		if r.readsIndex() {
			evicted, err := r.index().labelNames()
			if err != nil {
				return nil, err
			}
			names = append(names, evicted...)
		}
		slices.Sort(names)
		return slices.Compact(names), nil
	}
	p, err := tsdb.PostingsForMatchers(ctx, r, matchers...)
	if err != nil {
		return nil, fmt.Errorf("cannot select series for label names: %w", err)
	}
	return r.LabelNamesFor(ctx, p)
}

// LabelNamesFor implements tsdb.IndexReader.
func (r *blockReader) LabelNamesFor(ctx context.Context, p index.Postings) ([]string, error) {
	seen := map[string]struct{}{}
	n := 0
	for p.Next() {
		n++
		if n%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		lset, ok, err := r.labelsOf(p.At())
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		lset.Range(func(l labels.Label) { seen[l.Name] = struct{}{} })
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// Series implements tsdb.IndexReader: it fills the labels of a series and
// the chunks that overlap the time range of the reader, from badger and
// from the head. The labels of an evicted series come from its series
// record.
func (r *blockReader) Series(ref storage.SeriesRef, builder *labels.ScratchBuilder, chks *[]chunks.Meta) error {
	s := r.db.series.getByRef(uint64(ref))
	if s == nil {
		lset, ok, err := r.index().series(uint64(ref))
		if err != nil {
			return err
		}
		if !ok {
			return storage.ErrNotFound
		}
		builder.Assign(lset)
	} else {
		builder.Assign(s.lset)
	}
	*chks = (*chks)[:0]
	metas, err := r.sealedChunks(uint64(ref), *chks)
	if err != nil {
		return err
	}
	if s != nil {
		metas = r.headChunks(s, metas)
	}
	if hidden := r.hidden[ref]; len(hidden) > 0 {
		// Chunks made only of samples of commits hidden from the reader
		// go, so that a series made only of them is left out, as one
		// that has no samples yet.
		metas = slices.DeleteFunc(metas, func(m chunks.Meta) bool { return allHidden(m, hidden) })
	}
	*chks = r.mergeOverlapping(metas)
	return nil
}

// allHidden reports whether every sample of the chunk of m lies in hidden.
func allHidden(m chunks.Meta, hidden tombstones.Intervals) bool {
	if (tombstones.Interval{Mint: m.MinTime, Maxt: m.MaxTime}).IsSubrange(hidden) {
		return true
	}
	it := m.Chunk.Iterator(nil)
	for it.Next() != chunkenc.ValNone {
		if t := it.AtT(); !(tombstones.Interval{Mint: t, Maxt: t}).IsSubrange(hidden) {
			return false
		}
	}
	return it.Err() == nil
}

// sealedChunks appends the chunks of series ref in badger that overlap the
// time range of the reader.
func (r *blockReader) sealedChunks(ref uint64, metas []chunks.Meta) ([]chunks.Meta, error) {
	prefix := chunkPrefix(ref)
	// A chunk lies within one chunk range, so none past the range of maxt
	// can start at or before maxt.
	stop := rangeForTimestamp(r.maxt, r.db.chunkO.chunkRange)
	r.seekChunks(ref, chunkSeekKey(ref, r.mint))
	for ; r.it.Valid(); r.it.Next() {
		item := r.it.Item()
		key := item.Key()
		if !bytes.HasPrefix(key, prefix) {
			break
		}
		k, err := parseChunkKey(key)
		if err != nil {
			return nil, err
		}
		if k.maxT >= stop && k.minT > r.maxt {
			break
		}
		if k.minT > r.maxt || k.maxT < r.mint {
			continue
		}
		var (
			c         chunkenc.Chunk
			decodeErr error
		)
		if err := item.Value(func(v []byte) error {
			c, decodeErr = decodeChunkValue(r.keep(v))
			return decodeErr
		}); err != nil {
			if decodeErr != nil {
				r.db.reportCorruption("corrupted chunk", key, decodeErr)
			}
			return nil, fmt.Errorf("chunk %x: %w", key, err)
		}
		metas = append(metas, chunks.Meta{Chunk: c, MinTime: k.minT, MaxTime: k.maxT})
	}
	return metas, nil
}

// seekChunks positions the iterator on the first chunk key >= seekKey of
// series ref. Series mostly come in increasing reference order: then the
// iterator already stands after the previous series, on this series' first
// chunk, and stepping over the few chunks older than the time range is
// cheaper than a seek in every table.
func (r *blockReader) seekChunks(ref uint64, seekKey []byte) {
	ascending := r.seeked && ref > r.lastRef
	r.seeked, r.lastRef = true, ref
	if ascending {
		prefix := seekKey[:1+8]
		for step := 0; step < 8 && r.it.Valid(); step++ {
			key := r.it.Item().Key()
			if bytes.Compare(key, seekKey) >= 0 {
				return
			}
			if !bytes.HasPrefix(key, prefix) {
				break
			}
			r.it.Next()
		}
	}
	r.it.Seek(seekKey)
}

// keep copies a value read from badger, which is only valid during the
// read, into the reader's slab: one allocation for many chunks.
func (r *blockReader) keep(v []byte) []byte {
	if cap(r.slab)-len(r.slab) < len(v) {
		r.slab = make([]byte, 0, max(256<<10, len(v)))
	}
	start := len(r.slab)
	r.slab = append(r.slab, v...)
	return r.slab[start:len(r.slab):len(r.slab)]
}

// headChunks appends the chunks of s held in memory that overlap the time
// range of the reader and that the badger snapshot does not have.
func (r *blockReader) headChunks(s *memSeries, metas []chunks.Meta) []chunks.Meta {
	s.mu.Lock()
	defer s.mu.Unlock()
	if hidden := s.hiddenFrom(r.iso); len(hidden) > 0 {
		if r.hidden == nil {
			r.hidden = map[storage.SeriesRef]tombstones.Intervals{}
		}
		r.hidden[storage.SeriesRef(s.ref)] = hidden
	}
	for _, c := range s.sealed {
		if c.persistedAt != 0 && c.persistedAt <= r.readTs {
			continue
		}
		if c.maxT >= r.mint && c.minT <= r.maxt {
			metas = append(metas, chunks.Meta{Chunk: c.chunk, MinTime: c.minT, MaxTime: c.maxT})
		}
	}
	if c := s.open; c != nil && c.chunk.NumSamples() > 0 && c.maxT >= r.mint && c.minT <= r.maxt {
		data := slices.Clone(c.chunk.Bytes())
		chk, err := chunkenc.FromData(c.chunk.Encoding(), data)
		if err == nil {
			metas = append(metas, chunks.Meta{Chunk: chk, MinTime: c.minT, MaxTime: c.maxT})
		}
	}
	if len(s.ooo) > 0 {
		for _, c := range buildChunks(s.ooo, r.db.chunkO.chunkRange) {
			if c.maxT >= r.mint && c.minT <= r.maxt {
				metas = append(metas, chunks.Meta{Chunk: c.chunk, MinTime: c.minT, MaxTime: c.maxT})
			}
		}
	}
	return metas
}

// mergeOverlapping sorts metas by time and replaces every run of
// overlapping chunks by one meta whose samples are the merge of the run
// (out-of-order samples, or a chunk read both from memory and badger).
func (r *blockReader) mergeOverlapping(metas []chunks.Meta) []chunks.Meta {
	if len(metas) < 2 {
		return metas
	}
	byMinTime := func(a, b chunks.Meta) int { return cmp.Compare(a.MinTime, b.MinTime) }
	if !slices.IsSortedFunc(metas, byMinTime) {
		slices.SortStableFunc(metas, byMinTime)
	}
	out := metas[:0]
	for i := 0; i < len(metas); {
		j := i + 1
		maxT := metas[i].MaxTime
		for j < len(metas) && metas[j].MinTime <= maxT {
			maxT = max(maxT, metas[j].MaxTime)
			j++
		}
		if j == i+1 {
			out = append(out, metas[i])
		} else {
			group := make([]chunkenc.Chunk, 0, j-i)
			for _, m := range metas[i:j] {
				group = append(group, m.Chunk)
			}
			r.groups = append(r.groups, group)
			out = append(out, chunks.Meta{Ref: chunks.ChunkRef(len(r.groups)), MinTime: metas[i].MinTime, MaxTime: maxT})
		}
		i = j
	}
	return out
}

// ChunkOrIterable implements tsdb.ChunkReader.
func (r *blockReader) ChunkOrIterable(meta chunks.Meta) (chunkenc.Chunk, chunkenc.Iterable, error) {
	if meta.Chunk != nil {
		return meta.Chunk, nil, nil
	}
	if i := int(meta.Ref); i >= 1 && i <= len(r.groups) {
		return nil, mergedIterable(r.groups[i-1]), nil
	}
	return nil, nil, errors.New("chunk reference not found")
}

// mergedIterable iterates over overlapping chunks as one series; a
// timestamp present in several chunks is returned once.
type mergedIterable []chunkenc.Chunk

func (m mergedIterable) Iterator(it chunkenc.Iterator) chunkenc.Iterator {
	its := make([]chunkenc.Iterator, len(m))
	for i, c := range m {
		its[i] = c.Iterator(nil)
	}
	return storage.ChainSampleIteratorFromIterators(it, its)
}

var _ tsdb.BlockReader = (*blockReader)(nil)
var _ tsdb.IndexReader = (*blockReader)(nil)
var _ tsdb.ChunkReader = (*blockReader)(nil)
