package tsdb

import (
	"math"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// The head is the in-memory part of the store: every known series, with the
// open chunk that receives its in-order samples, the chunks cut from it that
// are not yet written to badger, and a buffer of out-of-order samples.

// Encodings of the chunks the head cuts. They carry start timestamps.
const (
	floatEncoding          = chunkenc.EncXOR2
	histogramEncoding      = chunkenc.EncHistogramST
	floatHistogramEncoding = chunkenc.EncFloatHistogramST
)

// memChunk is a chunk held in memory with the time range of its samples and
// the write-ahead sequence number of the record holding its first sample.
type memChunk struct {
	chunk      chunkenc.Chunk
	minT, maxT int64
	firstSeq   uint64
	ooo        bool // built from out-of-order samples
	// persistedAt is the badger version at or after which the chunk is
	// visible in badger; 0 while it is not written yet.
	persistedAt uint64
}

// oooSample is one out-of-order sample waiting in the buffer of its series.
type oooSample struct {
	st, t int64
	v     float64
	h     *histogram.Histogram
	fh    *histogram.FloatHistogram
}

// memSeries is one series of the head. All fields after mu are guarded by it.
type memSeries struct {
	ref  uint64
	lset labels.Labels

	// logged: the series record is in the write-ahead log or in badger, so
	// commits no longer carry it. indexed: the series record is in badger,
	// with its index keys, as of badger version indexedAt (0 for the series
	// loaded at Open).
	logged, indexed atomic.Bool
	indexedAt       atomic.Uint64

	mu sync.Mutex

	open    *memChunk // receives in-order samples; nil when the series has none unsealed
	app     chunkenc.Appender
	sealed  []*memChunk // cut from open (or built from ooo), oldest first, until written to badger and unused by readers
	ooo     []oooSample // out-of-order samples, unsorted
	oooSeq  uint64      // write-ahead sequence of the oldest sample in ooo
	queued  bool        // in the seal queue of the DB
	deleted bool        // removed from the index by retention or evicted; look the series up again

	// maxT is the newest in-order sample of the series, in memory or sealed;
	// math.MinInt64 when it has none. maxTKnown is false after a restart
	// until maxT was read back from badger.
	maxT      int64
	maxTKnown bool
	lastValue float64
	lastH     *histogram.Histogram
	lastFH    *histogram.FloatHistogram

	nextAt          int64 // timestamp at which the open chunk is cut at the latest
	histEndComputed bool

	// marks are the isolation marks of recent commits (isolation.go); nil
	// when no open query needs any.
	marks *[]isolationMark

	// pendingApp and pendingT track samples accepted by an appender that has
	// not committed yet, so that one batch is checked against itself.
	pendingApp uint64
	pendingT   int64
}

func newMemSeries(ref uint64, lset labels.Labels, maxTKnown bool) *memSeries {
	return &memSeries{ref: ref, lset: lset, maxT: math.MinInt64, maxTKnown: maxTKnown}
}

// chunkOpts are the parameters of chunk cutting.
type chunkOpts struct {
	chunkRange      int64
	samplesPerChunk int
}

// firstUnsealedSeq is the oldest write-ahead sequence the series still needs
// for recovery, or 0 when all its samples are in badger. mu must be held.
func (s *memSeries) firstUnsealedSeq() uint64 {
	var min uint64
	consider := func(seq uint64) {
		if seq != 0 && (min == 0 || seq < min) {
			min = seq
		}
	}
	if s.open != nil && s.open.chunk.NumSamples() > 0 {
		consider(s.open.firstSeq)
	}
	for _, c := range s.sealed {
		if c.persistedAt == 0 {
			consider(c.firstSeq)
		}
	}
	if len(s.ooo) > 0 {
		consider(s.oooSeq)
	}
	return min
}

// hasData reports whether the series holds samples in memory. mu must be held.
func (s *memSeries) hasData() bool {
	return (s.open != nil && s.open.chunk.NumSamples() > 0) || len(s.sealed) > 0 || len(s.ooo) > 0
}

// cutOpenChunk moves the open chunk, if it has samples, to the sealed list
// and reports whether it did. mu must be held.
func (s *memSeries) cutOpenChunk() bool {
	if s.open == nil || s.open.chunk.NumSamples() == 0 {
		s.open = nil
		return false
	}
	s.open.chunk.Compact()
	s.sealed = append(s.sealed, s.open)
	s.open = nil
	s.app = nil
	return true
}

// newOpenChunk cuts the open chunk and starts a new one at t. mu must be held.
func (s *memSeries) newOpenChunk(t int64, enc chunkenc.Encoding, seq uint64, o chunkOpts) *memChunk {
	s.cutOpenChunk()
	chk, err := chunkenc.NewEmptyChunk(enc)
	if err != nil {
		panic(err) // the encodings above are all valid
	}
	app, err := chk.Appender()
	if err != nil {
		panic(err) // an empty chunk always has an appender
	}
	s.open = &memChunk{chunk: chk, minT: t, maxT: math.MinInt64, firstSeq: seq}
	s.app = app
	s.nextAt = rangeForTimestamp(t, o.chunkRange)
	s.histEndComputed = false
	return s.open
}

// prepareFloat returns the chunk that receives the float sample at t, cutting
// a new one where upstream's head would: at the chunk range, when the chunk
// is full in bytes, or when samples would be spread unevenly. mu must be held.
func (s *memSeries) prepareFloat(t int64, seq uint64, o chunkOpts) *memChunk {
	c := s.open
	created := false
	if c == nil {
		c = s.newOpenChunk(t, floatEncoding, seq, o)
		created = true
	}
	if !created && len(c.chunk.Bytes()) > chunkenc.MaxBytesPerXORChunkBeforeAppend {
		c = s.newOpenChunk(t, floatEncoding, seq, o)
		created = true
	}
	if c.chunk.Encoding() != floatEncoding {
		c = s.newOpenChunk(t, floatEncoding, seq, o)
		created = true
	}
	n := c.chunk.NumSamples()
	if n == 0 {
		c.minT = t
		c.firstSeq = seq
		s.nextAt = rangeForTimestamp(t, o.chunkRange)
	}
	if n == o.samplesPerChunk/4 {
		s.nextAt = computeChunkEndTime(c.minT, c.maxT, s.nextAt, 4)
	}
	if t >= s.nextAt || n >= o.samplesPerChunk*2 {
		c = s.newOpenChunk(t, floatEncoding, seq, o)
	}
	return c
}

// prepareHistogram is prepareFloat for histogram chunks, which are cut by
// size in bytes. It reports whether it started a new chunk. mu must be held.
func (s *memSeries) prepareHistogram(t int64, enc chunkenc.Encoding, seq uint64, o chunkOpts) (*memChunk, bool) {
	c := s.open
	created := false
	if c == nil {
		c = s.newOpenChunk(t, enc, seq, o)
		created = true
	}
	if c.chunk.Encoding() != enc {
		c = s.newOpenChunk(t, enc, seq, o)
		created = true
	}
	n := c.chunk.NumSamples()
	target := chunkenc.TargetBytesPerHistogramChunk
	size := len(c.chunk.Bytes())
	if n == 0 {
		c.minT = t
		c.firstSeq = seq
		s.nextAt = rangeForTimestamp(t, o.chunkRange)
	}
	var nextRangeStart int64
	if s.histEndComputed {
		nextRangeStart = rangeForTimestamp(c.minT, o.chunkRange)
	} else {
		nextRangeStart = s.nextAt
	}
	if !s.histEndComputed && size >= target/4 {
		s.nextAt = computeChunkEndTime(c.minT, c.maxT, s.nextAt, float64(target)/float64(size))
		s.histEndComputed = true
	}
	if (t >= s.nextAt || size >= target*2) && (n >= chunkenc.MinSamplesPerHistogramChunk || t >= nextRangeStart) {
		c = s.newOpenChunk(t, enc, seq, o)
		created = true
	}
	if created {
		s.histEndComputed = false
	}
	return c, created
}

// computeChunkEndTime estimates when the chunk started at start should end so
// that the rest of its chunk range is split into equally full chunks.
func computeChunkEndTime(start, cur, maxT int64, ratioToFull float64) int64 {
	n := float64(maxT-start) / (float64(cur-start+1) * ratioToFull)
	if n <= 1 {
		return maxT
	}
	return int64(float64(start) + float64(maxT-start)/math.Floor(n))
}

// appendInOrder adds a sample newer than every in-order sample of the series.
// mu must be held and the sample must have been checked by appendable.
func (s *memSeries) appendInOrder(st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, seq uint64, o chunkOpts) {
	switch {
	case h != nil:
		prev := s.app
		c, created := s.prepareHistogram(t, histogramEncoding, seq, o)
		if !created {
			prev = nil
		}
		newChunk, recoded, app, _ := s.app.AppendHistogram(prev, st, t, h, false)
		s.app = app
		s.afterHistogramAppend(c, newChunk, recoded, t, seq, o)
		s.lastH, s.lastFH = h, nil
	case fh != nil:
		prev := s.app
		c, created := s.prepareHistogram(t, floatHistogramEncoding, seq, o)
		if !created {
			prev = nil
		}
		newChunk, recoded, app, _ := s.app.AppendFloatHistogram(prev, st, t, fh, false)
		s.app = app
		s.afterHistogramAppend(c, newChunk, recoded, t, seq, o)
		s.lastH, s.lastFH = nil, fh
	default:
		c := s.prepareFloat(t, seq, o)
		s.app.Append(st, t, v)
		c.maxT = t
		s.lastValue, s.lastH, s.lastFH = v, nil, nil
	}
	s.maxT = t
}

// afterHistogramAppend takes over the chunk a histogram appender returned:
// the same chunk recoded, or a new chunk that the sample started.
func (s *memSeries) afterHistogramAppend(c *memChunk, newChunk chunkenc.Chunk, recoded bool, t int64, seq uint64, o chunkOpts) {
	switch {
	case newChunk == nil:
		c.maxT = t
	case recoded:
		c.maxT = t
		c.chunk = newChunk
	default:
		app := s.app
		s.cutOpenChunk()
		s.app = app
		s.open = &memChunk{chunk: newChunk, minT: t, maxT: t, firstSeq: seq}
		// As upstream, the computed end time stays as it was: only a cut
		// by prepareHistogram starts a new estimate.
		s.nextAt = rangeForTimestamp(t, o.chunkRange)
	}
}

// sealOOO turns the out-of-order buffer into chunks on the sealed list, one
// per chunk range and value type. mu must be held.
func (s *memSeries) sealOOO(o chunkOpts) {
	if len(s.ooo) == 0 {
		return
	}
	for _, c := range buildChunks(s.ooo, o.chunkRange) {
		c.firstSeq = s.oooSeq
		c.ooo = true
		s.sealed = append(s.sealed, c)
	}
	s.ooo = nil
	s.oooSeq = 0
}

// buildChunks sorts samples, drops repeated timestamps (the first one wins)
// and encodes them into chunks that each stay inside one chunk range and
// hold one value type.
func buildChunks(samples []oooSample, chunkRange int64) []*memChunk {
	sorted := make([]oooSample, len(samples))
	copy(sorted, samples)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].t < sorted[j].t })

	var (
		out []*memChunk
		cur *memChunk
		app chunkenc.Appender
		end int64
	)
	start := func(smp oooSample, enc chunkenc.Encoding) {
		chk, _ := chunkenc.NewEmptyChunk(enc)
		app, _ = chk.Appender()
		cur = &memChunk{chunk: chk, minT: smp.t, maxT: smp.t}
		out = append(out, cur)
		end = rangeForTimestamp(smp.t, chunkRange)
	}
	for i, smp := range sorted {
		if i > 0 && smp.t == sorted[i-1].t {
			continue
		}
		enc := floatEncoding
		switch {
		case smp.h != nil:
			enc = histogramEncoding
		case smp.fh != nil:
			enc = floatHistogramEncoding
		}
		if cur == nil || cur.chunk.Encoding() != enc || smp.t >= end ||
			(enc == floatEncoding && len(cur.chunk.Bytes()) > chunkenc.MaxBytesPerXORChunkBeforeAppend) {
			start(smp, enc)
		}
		switch enc {
		case floatEncoding:
			app.Append(smp.st, smp.t, smp.v)
		case histogramEncoding:
			newChunk, recoded, newApp, _ := app.AppendHistogram(nil, smp.st, smp.t, smp.h, false)
			app = newApp
			adoptChunk(&cur, &out, newChunk, recoded, smp.t)
		case floatHistogramEncoding:
			newChunk, recoded, newApp, _ := app.AppendFloatHistogram(nil, smp.st, smp.t, smp.fh, false)
			app = newApp
			adoptChunk(&cur, &out, newChunk, recoded, smp.t)
		}
		cur.maxT = smp.t
	}
	for _, c := range out {
		c.chunk.Compact()
	}
	return out
}

// adoptChunk follows a histogram appender onto the chunk it returned.
func adoptChunk(cur **memChunk, out *[]*memChunk, newChunk chunkenc.Chunk, recoded bool, t int64) {
	switch {
	case newChunk == nil:
	case recoded:
		(*cur).chunk = newChunk
	default:
		*cur = &memChunk{chunk: newChunk, minT: t, maxT: t}
		*out = append(*out, *cur)
	}
}
