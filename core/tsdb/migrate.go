package tsdb

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/prometheus/tsdb/encoding"
	"github.com/prometheus/prometheus/tsdb/record"
)

// Stores written before the write-ahead log moved to segment files keep
// their write-ahead records in badger, one entry per record under the W
// prefix (FORMAT.md, "Earlier format"). Open migrates such a store before it
// opens the segment log: it replays those records into the head as the
// earlier versions did, seals the whole head into chunks, writes the series
// records, and only then deletes the W entries. A crash in between leaves
// the W entries in place and the next Open migrates again: samples already
// sealed come back as duplicates, which the head drops.

// migrateBadgerWAL migrates the write-ahead records in badger, if any.
func (db *DB) migrateBadgerWAL() error {
	found := false
	err := db.kv.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixWAL}})
		defer it.Close()
		it.Rewind()
		found = it.Valid()
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot look for write-ahead records in badger: %w", err)
	}
	if !found {
		return nil
	}
	db.logger.Info("migrating the write-ahead records in badger, written by a version before the segment write-ahead log, into sealed chunks")
	records, maxSeq, err := db.replayBadgerWAL()
	if err != nil {
		return err
	}
	if err := db.cutHeadBefore(math.MaxUint64); err != nil {
		return fmt.Errorf("cannot seal the migrated write-ahead records: %w", err)
	}
	if err := db.writeUnindexedSeries(); err != nil {
		return fmt.Errorf("cannot write the series of the migrated write-ahead records: %w", err)
	}
	if err := db.kv.DropPrefix([]byte{prefixWAL}); err != nil {
		return fmt.Errorf("cannot delete the migrated write-ahead records from badger: %w", err)
	}
	db.wal.nextSeq.Store(maxSeq)
	db.logger.Info("migrated the write-ahead records in badger", "records", records)
	return nil
}

// replayBadgerWAL adds the samples of every write-ahead record in badger
// to the head, in the order they were committed, as the earlier versions
// replayed them: a record that fails its checksum is reported and skipped.
// It returns the number of records and the highest sequence number.
func (db *DB) replayBadgerWAL() (int, uint64, error) {
	start := time.Now()
	lastLog := start
	dec := record.NewDecoder(nil, nil)
	var records, samples, corrupt int
	var maxSeq uint64
	err := db.kv.View(func(txn *badger.Txn) error {
		workers := newReplayWorkers(db, txn, runtime.GOMAXPROCS(0))
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: []byte{prefixWAL}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			key := item.KeyCopy(nil)
			if len(key) != walKeyLen {
				workers.stop()
				return fmt.Errorf("malformed write-ahead key %x", key)
			}
			seq := beUint64(key[1:])
			maxSeq = max(maxSeq, seq)
			var rec []byte
			if err := item.Value(func(v []byte) error {
				payload, err := verifyChecksum(v)
				if err != nil {
					return err
				}
				rec = slices.Clone(payload)
				return nil
			}); err != nil {
				if errors.Is(err, errChecksum) {
					corrupt++
					db.reportCorruption("skipping corrupted write-ahead record", key, err)
					continue
				}
				workers.stop()
				return fmt.Errorf("cannot read write-ahead record %x: %w", key, err)
			}
			series, smps, err := decodeBadgerWALRecord(&dec, rec)
			if err != nil {
				corrupt++
				db.reportCorruption("skipping undecodable write-ahead record", key, err)
				continue
			}
			if err := db.replaySeries(series); err != nil {
				workers.stop()
				return err
			}
			workers.dispatch(seq, smps)
			records++
			samples += len(smps)
			if time.Since(lastLog) > 5*time.Second {
				lastLog = time.Now()
				db.logger.Info("replaying write-ahead records", "records", records, "samples", samples, "elapsed", time.Since(start).Round(time.Second))
			}
		}
		return workers.stop()
	})
	if err != nil {
		return 0, 0, fmt.Errorf("cannot replay the write-ahead records in badger: %w", err)
	}
	db.logger.Info("replayed the write-ahead records in badger", "records", records, "samples", samples, "corrupted", corrupt, "duration", time.Since(start).Round(time.Millisecond))
	return records + corrupt, maxSeq, nil
}

// decodeBadgerWALRecord decodes a write-ahead record of the earlier
// format: a sequence of upstream records, each prefixed by its length as a
// uvarint.
func decodeBadgerWALRecord(dec *record.Decoder, rec []byte) ([]record.RefSeries, []walSample, error) {
	var (
		series  []record.RefSeries
		samples []walSample
	)
	for len(rec) > 0 {
		buf := encoding.Decbuf{B: rec}
		n := buf.Uvarint()
		if buf.Err() != nil || n > buf.Len() {
			return nil, nil, fmt.Errorf("truncated sub-record")
		}
		sub := buf.B[:n]
		rec = buf.B[n:]
		switch typ := dec.Type(sub); typ {
		case record.Series:
			s, err := dec.Series(sub, nil)
			if err != nil {
				return nil, nil, fmt.Errorf("cannot decode series: %w", err)
			}
			series = append(series, s...)
		case record.Samples, record.SamplesV2:
			ss, err := dec.Samples(sub, nil)
			if err != nil {
				return nil, nil, fmt.Errorf("cannot decode samples: %w", err)
			}
			for _, s := range ss {
				samples = append(samples, walSample{uint64(s.Ref), oooSample{st: s.ST, t: s.T, v: s.V}})
			}
		case record.HistogramSamples, record.HistogramSamplesV2, record.CustomBucketsHistogramSamples:
			hs, err := dec.HistogramSamples(sub, nil)
			if err != nil {
				return nil, nil, fmt.Errorf("cannot decode histograms: %w", err)
			}
			for _, h := range hs {
				samples = append(samples, walSample{uint64(h.Ref), oooSample{st: h.ST, t: h.T, h: h.H}})
			}
		case record.FloatHistogramSamples, record.FloatHistogramSamplesV2, record.CustomBucketsFloatHistogramSamples:
			fhs, err := dec.FloatHistogramSamples(sub, nil)
			if err != nil {
				return nil, nil, fmt.Errorf("cannot decode float histograms: %w", err)
			}
			for _, h := range fhs {
				samples = append(samples, walSample{uint64(h.Ref), oooSample{st: h.ST, t: h.T, fh: h.FH}})
			}
		default:
			return nil, nil, fmt.Errorf("unknown sub-record type %d", typ)
		}
	}
	return series, samples, nil
}
