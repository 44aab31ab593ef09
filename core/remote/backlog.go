package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/golang/snappy"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"
)

// backlogBatch is how many samples a request of the backlog carries at
// most, upstream's default max_samples_per_send.
const backlogBatch = 2000

// backlog sends to one remote_write block the samples of the write-ahead
// log after a timestamp, in the order of the log, by Remote-Write 1.0.
// Upstream's watchers read only the samples written after they start,
// so the samples a queue had not sent when the process stopped are sent
// this way after it starts again. A backlog reads the log from its start
// (the last checkpoint, then the segments) and, on each CatchUp, up to
// where it ends at the moment.
//
// A request the receiver refuses (4xx, not 429) is halved until each
// sample it refuses is alone, and that sample is dropped: a receiver
// refuses a sample it already has older than its newest (out of order),
// which the start of a backlog may resend.
type backlog struct {
	name   string
	walDir string
	client remote.WriteClient
	ext    labels.Labels
	relab  []*relabel.Config
	// after is the timestamp after which samples are sent; sent is the
	// newest timestamp sent, after once nothing was.
	after, sent            int64
	minBackoff, maxBackoff time.Duration
	logger                 hclog.Logger
	slog                   *slog.Logger

	dec     record.Decoder
	series  map[chunks.HeadSeriesRef]labels.Labels
	started bool
	segment int // the segment read; its reader, when open
	file    *wlog.Segment
	reader  *wlog.LiveReader
	pending []prompb.TimeSeries
}

// backlogOptions say where a backlog reads and where it sends.
type backlogOptions struct {
	name, walDir           string
	client                 remote.WriteClient
	externalLabels         labels.Labels
	writeRelabel           []*relabel.Config
	after                  int64
	minBackoff, maxBackoff time.Duration
	logger                 hclog.Logger
	slog                   *slog.Logger
}

func newBacklog(o backlogOptions) *backlog {
	return &backlog{
		name: o.name, walDir: o.walDir, client: o.client, ext: o.externalLabels, relab: o.writeRelabel,
		after: o.after, sent: o.after, minBackoff: o.minBackoff, maxBackoff: o.maxBackoff,
		logger: o.logger, slog: o.slog, dec: record.NewDecoder(nil, o.slog),
		series: map[chunks.HeadSeriesRef]labels.Labels{},
	}
}

// CatchUp reads the log from where the last call stopped to its current
// end, sending the samples after the backlog's timestamp. It returns when
// they are all sent, or with ctx's error.
func (b *backlog) CatchUp(ctx context.Context) error {
	if !b.started {
		if err := b.start(); err != nil {
			return err
		}
	}
	for {
		_, last, err := wlog.Segments(b.walDir)
		if err != nil {
			return fmt.Errorf("cannot list the segments of %q: %w", b.walDir, err)
		}
		if b.reader == nil {
			if b.segment > last {
				break // nothing written yet
			}
			if b.file, err = wlog.OpenReadSegment(wlog.SegmentName(b.walDir, b.segment)); err != nil {
				if !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("cannot open segment %d of %q: %w", b.segment, b.walDir, err)
				}
				// Truncated away meanwhile: go on with the first one left.
				first, _, err := wlog.Segments(b.walDir)
				if err != nil {
					return err
				}
				b.logger.Warn("a segment not sent yet was truncated from the log", "queue", b.name, "segment", b.segment, "next", first)
				b.segment = first
				continue
			}
			b.reader = wlog.NewLiveReader(b.slog, wlog.NewLiveReaderMetrics(nil), b.file)
		}
		for b.reader.Next() {
			if err := b.record(ctx, b.reader.Record()); err != nil {
				return err
			}
		}
		err = b.reader.Err()
		if err != nil && !errors.Is(err, io.EOF) {
			if b.segment >= last {
				return fmt.Errorf("cannot read segment %d of %q: %w", b.segment, b.walDir, err)
			}
			// A damaged record in a complete segment: the rest of it is
			// lost, but not the segments after it.
			b.logger.Warn("cannot read the rest of a segment of the backlog; going on with the next", "queue", b.name, "segment", b.segment, "error", err)
		}
		if b.segment >= last {
			break // the segment written: its end for now
		}
		// A newer segment exists, so this one is complete.
		b.file.Close()
		b.file, b.reader = nil, nil
		b.segment++
	}
	return b.flush(ctx)
}

// start reads the series and samples of the last checkpoint and sets the
// segment to read after it.
func (b *backlog) start() error {
	b.started = true
	dir, idx, err := wlog.LastCheckpoint(b.walDir)
	if err != nil && !errors.Is(err, record.ErrNotFound) {
		return fmt.Errorf("cannot find the checkpoint of %q: %w", b.walDir, err)
	}
	if err == nil {
		sr, err := wlog.NewSegmentsReader(dir)
		if err != nil {
			return fmt.Errorf("cannot open the checkpoint %q: %w", dir, err)
		}
		defer sr.Close()
		r := wlog.NewReader(sr)
		for r.Next() {
			if err := b.record(context.Background(), r.Record()); err != nil {
				return err
			}
		}
		if err := r.Err(); err != nil {
			return fmt.Errorf("cannot read the checkpoint %q: %w", dir, err)
		}
		b.segment = idx + 1
	}
	first, _, err := wlog.Segments(b.walDir)
	if err != nil {
		return fmt.Errorf("cannot list the segments of %q: %w", b.walDir, err)
	}
	b.segment = max(b.segment, first)
	return nil
}

// record takes one record of the log: series are remembered, samples
// after the timestamp are queued, in full batches sent. In a checkpoint
// (ctx without deadline, before any send) batches wait for CatchUp.
func (b *backlog) record(ctx context.Context, rec []byte) error {
	var err error
	switch b.dec.Type(rec) {
	case record.Series:
		var series []record.RefSeries
		if series, err = b.dec.Series(rec, nil); err == nil {
			for _, s := range series {
				b.series[s.Ref] = s.Labels.Copy()
			}
		}
	case record.Samples, record.SamplesV2:
		var samples []record.RefSample
		if samples, err = b.dec.Samples(rec, nil); err == nil {
			for _, s := range samples {
				b.add(s.Ref, s.T, func(ts *prompb.TimeSeries) { ts.Samples = []prompb.Sample{{Value: s.V, Timestamp: s.T}} })
			}
		}
	case record.HistogramSamples, record.CustomBucketsHistogramSamples, record.HistogramSamplesV2:
		var hs []record.RefHistogramSample
		if hs, err = b.dec.HistogramSamples(rec, nil); err == nil {
			for _, h := range hs {
				b.add(h.Ref, h.T, func(ts *prompb.TimeSeries) { ts.Histograms = []prompb.Histogram{prompb.FromIntHistogram(h.T, h.H)} })
			}
		}
	case record.FloatHistogramSamples, record.CustomBucketsFloatHistogramSamples, record.FloatHistogramSamplesV2:
		var fhs []record.RefFloatHistogramSample
		if fhs, err = b.dec.FloatHistogramSamples(rec, nil); err == nil {
			for _, h := range fhs {
				b.add(h.Ref, h.T, func(ts *prompb.TimeSeries) { ts.Histograms = []prompb.Histogram{prompb.FromFloatHistogram(h.T, h.FH)} })
			}
		}
	}
	if err != nil {
		return fmt.Errorf("cannot decode a record of %q: %w", b.walDir, err)
	}
	if len(b.pending) >= backlogBatch && b.reader != nil {
		return b.flush(ctx)
	}
	return nil
}

// add queues the sample of series ref at t when it is after the
// backlog's timestamp, with the external labels and write_relabel blocks
// applied as upstream's queues apply them.
func (b *backlog) add(ref chunks.HeadSeriesRef, t int64, set func(*prompb.TimeSeries)) {
	if t <= b.after {
		return
	}
	lbls, ok := b.series[ref]
	if !ok {
		return // a series the agent dropped; upstream's watcher skips it too
	}
	builder := labels.NewBuilder(lbls)
	b.ext.Range(func(l labels.Label) {
		if !lbls.Has(l.Name) {
			builder.Set(l.Name, l.Value)
		}
	})
	if !relabel.ProcessBuilder(builder, b.relab...) {
		return
	}
	ts := prompb.TimeSeries{Labels: prompb.FromLabels(builder.Labels(), nil)}
	set(&ts)
	b.pending = append(b.pending, ts)
}

// flush sends the queued samples.
func (b *backlog) flush(ctx context.Context) error {
	if len(b.pending) == 0 {
		return nil
	}
	if err := b.send(ctx, b.pending); err != nil {
		return err
	}
	for _, ts := range b.pending {
		for _, s := range ts.Samples {
			b.sent = max(b.sent, s.Timestamp)
		}
		for _, h := range ts.Histograms {
			b.sent = max(b.sent, h.Timestamp)
		}
	}
	b.pending = b.pending[:0]
	return nil
}

// send sends series until the receiver takes them, retrying what it
// could not take for now with backoff; what it refuses is halved, and a
// sample refused alone is dropped.
func (b *backlog) send(ctx context.Context, series []prompb.TimeSeries) error {
	req := &prompb.WriteRequest{Timeseries: series}
	data, err := req.Marshal()
	if err != nil {
		return fmt.Errorf("cannot encode a request of the backlog: %w", err)
	}
	compressed := snappy.Encode(nil, data)
	backoff := b.minBackoff
	for attempt := 0; ; attempt++ {
		_, err := b.client.Store(ctx, compressed, attempt)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var recoverable remote.RecoverableError
		if !errors.As(err, &recoverable) {
			if len(series) == 1 {
				b.logger.Warn("the receiver refuses a sample of the backlog; dropped", "queue", b.name, "series", fmt.Sprint(series[0].Labels), "error", err)
				return nil
			}
			half := len(series) / 2
			if err := b.send(ctx, series[:half]); err != nil {
				return err
			}
			return b.send(ctx, series[half:])
		}
		b.logger.Debug("the receiver cannot take the backlog yet; retrying", "queue", b.name, "error", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, b.maxBackoff)
	}
}

// Close closes the segment being read.
func (b *backlog) Close() {
	if b.file != nil {
		b.file.Close()
		b.file, b.reader = nil, nil
	}
}
