package tsdb

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"

	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/fileutil"
	"github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"
)

// checkpointFlushBytes is how many bytes of records writeCheckpoint
// gathers before it logs them, as upstream's checkpoint.
const checkpointFlushBytes = 1 << 20

// exemplarsPerRecord bounds the exemplars of one record of a checkpoint.
const exemplarsPerRecord = 10000

// writeCheckpoint writes checkpoint.<last> of the log w from its last
// checkpoint and its segments first to last, in upstream's format and
// the way upstream's wlog.Checkpoint writes one (in a temporary folder,
// fsynced and renamed), keeping:
//
//   - the Series records of the series keep holds;
//   - the exemplars of those series from exemplarMinT on, the newest
//     maxExemplars of them (the exemplar storage holds no more), in the
//     order they were written, after the series.
//
// Samples are dropped: those of the segments are all sealed. (wlog.Checkpoint
// keeps samples and exemplars by one time bound, so it cannot keep the
// exemplars without the samples.) The segments and the previous checkpoint
// are left for the caller to delete.
func writeCheckpoint(logger *slog.Logger, w *wlog.WL, first, last int, keep func(chunks.HeadSeriesRef) bool, exemplarMinT int64, maxExemplars int) (err error) {
	dir := w.Dir()
	var ranges []wlog.SegmentRange
	cpdir, cp, err := wlog.LastCheckpoint(dir)
	switch {
	case err == nil:
		ranges = append(ranges, wlog.SegmentRange{Dir: cpdir, Last: math.MaxInt32})
		first = max(first, cp+1)
	case !errors.Is(err, record.ErrNotFound):
		return fmt.Errorf("cannot find the last checkpoint: %w", err)
	}
	ranges = append(ranges, wlog.SegmentRange{Dir: dir, First: first, Last: last})
	sr, err := wlog.NewSegmentsRangeReader(ranges...)
	if err != nil {
		return fmt.Errorf("cannot read the segments %d to %d: %w", first, last, err)
	}
	defer sr.Close()

	if err := wlog.DeleteTempCheckpoints(logger, dir); err != nil {
		return err
	}
	final := wlog.CheckpointDir(dir, last)
	tmp := final + wlog.CheckpointTempFileSuffix
	if err := os.MkdirAll(tmp, 0o777); err != nil {
		return fmt.Errorf("cannot create checkpoint folder %q: %w", tmp, err)
	}
	out, err := wlog.New(nil, nil, tmp, w.CompressionType())
	if err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("cannot create checkpoint %q: %w", tmp, err)
	}
	defer func() {
		if err != nil {
			out.Close()
			os.RemoveAll(tmp)
		}
	}()

	var (
		dec       record.Decoder
		enc       record.Encoder
		series    []record.RefSeries
		exemplars []record.RefExemplar
		// kept is a ring of the newest exemplars read; next is where the
		// following one goes once it is full.
		kept []record.RefExemplar
		next int
		buf  []byte
		recs [][]byte
	)
	flush := func() error {
		if len(recs) == 0 {
			return nil
		}
		if err := out.Log(recs...); err != nil {
			return fmt.Errorf("cannot write checkpoint %q: %w", tmp, err)
		}
		buf, recs = buf[:0], recs[:0]
		return nil
	}
	r := wlog.NewReader(sr)
	for r.Next() {
		rec := r.Record()
		switch dec.Type(rec) {
		case record.Series:
			if series, err = dec.Series(rec, series[:0]); err != nil {
				return fmt.Errorf("cannot decode series: %w", err)
			}
			live := series[:0]
			for _, s := range series {
				if keep(s.Ref) {
					live = append(live, s)
				}
			}
			if len(live) > 0 {
				start := len(buf)
				buf = enc.Series(live, buf)
				recs = append(recs, buf[start:])
			}
		case record.Exemplars:
			if exemplars, err = dec.Exemplars(rec, exemplars[:0]); err != nil {
				return fmt.Errorf("cannot decode exemplars: %w", err)
			}
			for _, e := range exemplars {
				if maxExemplars <= 0 || e.T < exemplarMinT || !keep(e.Ref) {
					continue
				}
				e.Labels = e.Labels.Copy()
				if len(kept) < maxExemplars {
					kept = append(kept, e)
					continue
				}
				kept[next] = e
				next = (next + 1) % maxExemplars
			}
		}
		if len(buf) > checkpointFlushBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("cannot read the segments %d to %d: %w", first, last, err)
	}
	// Oldest first, as they were written.
	kept = append(kept[next:], kept[:next]...)
	for len(kept) > 0 {
		n := min(len(kept), exemplarsPerRecord)
		start := len(buf)
		buf = enc.Exemplars(kept[:n], buf)
		recs = append(recs, buf[start:])
		kept = kept[n:]
		if len(buf) > checkpointFlushBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("cannot close checkpoint %q: %w", tmp, err)
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	if err := fileutil.Replace(tmp, final); err != nil {
		return fmt.Errorf("cannot rename checkpoint %q: %w", tmp, err)
	}
	return nil
}
