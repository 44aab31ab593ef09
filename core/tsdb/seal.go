package tsdb

import (
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// sealPending writes the chunks cut since the last call to badger, in one
// write batch, and then forgets those that no open querier still needs from
// memory.
func (db *DB) sealPending() error {
	db.queueMu.Lock()
	queue := db.sealQueue
	db.sealQueue = nil
	db.queueMu.Unlock()
	if len(queue) == 0 {
		return nil
	}

	type toWrite struct {
		s *memSeries
		c *memChunk
	}
	var writes []toWrite
	for _, s := range queue {
		s.mu.Lock()
		s.queued = false
		for _, c := range s.sealed {
			if c.persistedAt == 0 {
				writes = append(writes, toWrite{s, c})
			}
		}
		s.mu.Unlock()
	}

	if len(writes) > 0 {
		wb := db.kv.NewWriteBatch()
		defer wb.Cancel()
		mint, maxt := db.minT.Load(), db.maxT.Load()
		// The series records of series that only the write-ahead log
		// holds join their chunks, with their index keys.
		var indexed []*memSeries
		for _, w := range writes {
			if w.s.indexed.Load() || (len(indexed) > 0 && indexed[len(indexed)-1] == w.s) {
				continue
			}
			indexed = append(indexed, w.s)
			if err := indexSeries(wb, w.s.ref, w.s.lset); err != nil {
				db.requeue(queue)
				return err
			}
		}
		for _, w := range writes {
			key := chunkKey(w.s.ref, w.c.minT, w.c.maxT, chunkSeq(w.c))
			if err := wb.Set(key, encodeChunkValue(w.c.chunk)); err != nil {
				db.requeue(queue)
				return fmt.Errorf("cannot write chunk %x: %w", key, err)
			}
		}
		if err := wb.Set(metaKey("mint"), withChecksum(be64(orderedInt64(mint)))); err != nil {
			db.requeue(queue)
			return fmt.Errorf("cannot write time bounds: %w", err)
		}
		if err := wb.Set(metaKey("maxt"), withChecksum(be64(orderedInt64(maxt)))); err != nil {
			db.requeue(queue)
			return fmt.Errorf("cannot write time bounds: %w", err)
		}
		if err := wb.Flush(); err != nil {
			db.requeue(queue)
			return fmt.Errorf("cannot write %d chunks: %w", len(writes), err)
		}
		version := db.badgerVersion()
		for _, w := range writes {
			w.s.mu.Lock()
			w.c.persistedAt = version
			w.s.mu.Unlock()
		}
		for _, s := range indexed {
			s.indexedAt.Store(version)
			s.indexed.Store(true)
		}
		db.counters.chunksSealed.Add(uint64(len(writes)))
	}

	// Forget the persisted chunks that every open querier can read from badger.
	db.readersMu.Lock()
	oldest := uint64(0)
	for _, ts := range db.readers {
		if oldest == 0 || ts < oldest {
			oldest = ts
		}
	}
	for _, s := range queue {
		s.mu.Lock()
		keep := s.sealed[:0]
		for _, c := range s.sealed {
			if c.persistedAt == 0 || (oldest != 0 && c.persistedAt > oldest) {
				keep = append(keep, c)
			}
		}
		clear(s.sealed[len(keep):])
		s.sealed = keep
		if len(s.sealed) > 0 {
			db.enqueueLocked(s)
		}
		s.mu.Unlock()
	}
	db.readersMu.Unlock()
	return nil
}

func (db *DB) requeue(queue []*memSeries) {
	for _, s := range queue {
		s.mu.Lock()
		db.enqueueLocked(s)
		s.mu.Unlock()
	}
}

// chunkSeq is the last part of a chunk's key: the write-ahead sequence of its
// first sample, doubled, plus one for chunks built from out-of-order samples,
// so that no two chunks of a series share a key.
func chunkSeq(c *memChunk) uint64 {
	seq := c.firstSeq << 1
	if c.ooo {
		seq |= 1
	}
	return seq
}

// encodeChunkValue is the badger value of a sealed chunk: its encoding, its
// bytes and a checksum.
func encodeChunkValue(c chunkenc.Chunk) []byte {
	b := make([]byte, 0, 1+len(c.Bytes())+4)
	b = append(b, byte(c.Encoding()))
	b = append(b, c.Bytes()...)
	return withChecksum(b)
}

// decodeChunkValue decodes a value written by encodeChunkValue. The chunk
// keeps a reference to v.
func decodeChunkValue(v []byte) (chunkenc.Chunk, error) {
	payload, err := verifyChecksum(v)
	if err != nil {
		return nil, err
	}
	if len(payload) < 1 {
		return nil, fmt.Errorf("empty chunk value")
	}
	enc := chunkenc.Encoding(payload[0])
	if !chunkenc.IsValidEncoding(enc) {
		return nil, fmt.Errorf("unknown chunk encoding %d", enc)
	}
	return chunkenc.FromData(enc, payload[1:])
}

// readChunkValue reads and decodes the chunk of a badger item; a chunk that
// fails its checksum or cannot be decoded is reported as a corruption.
func (db *DB) readChunkValue(item *badger.Item) (chunkenc.Chunk, error) {
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, fmt.Errorf("cannot read chunk %x: %w", item.Key(), err)
	}
	c, err := decodeChunkValue(v)
	if err != nil {
		db.reportCorruption("corrupted chunk", item.Key(), err)
		return nil, fmt.Errorf("chunk %x: %w", item.Key(), err)
	}
	return c, nil
}

// badgerVersion returns a read timestamp of badger: taken after a write
// batch is flushed, it is at or after the batch's commit, so a reader
// whose snapshot is at least as new sees the batch.
func (db *DB) badgerVersion() uint64 {
	txn := db.kv.NewTransaction(false)
	defer txn.Discard()
	return txn.ReadTs()
}

func be64(u uint64) []byte { return binary.BigEndian.AppendUint64(nil, u) }
