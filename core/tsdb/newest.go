package tsdb

import (
	"bytes"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// newestChunks reads the newest sealed chunk of series visited in
// increasing reference order, as the eviction pass visits the series
// loaded at Open, which do not know their newest sample yet.
//
// A seek per series loads and decompresses a block of badger's tables each
// time (badger's block cache does not keep a block for the next seek), so
// it walks the chunk keys forward instead, from one series to the next,
// and seeks only across a gap. A series with more chunks than
// newestMaxSteps is read with a seek to its end, and once newestMaxFar
// series in a row were, so is every series after them: with a long
// retention, stepping over every chunk of every series costs more than a
// seek.
type newestChunks struct {
	db       *DB
	txn      *badger.Txn
	fwd, rev *badger.Iterator
	lastRef  uint64
	started  bool
	far      int // series in a row read with a seek to their end
	key, val []byte
}

const (
	newestMaxSteps = 64
	newestMaxFar   = 8
)

func newNewestChunks(db *DB, txn *badger.Txn) *newestChunks {
	return &newestChunks{db: db, txn: txn}
}

func (n *newestChunks) close() {
	if n.fwd != nil {
		n.fwd.Close()
	}
	if n.rev != nil {
		n.rev.Close()
	}
}

// read sets the newest sample of s from its newest sealed chunk, if it has
// one that is newer than what s knows. s.mu must be held.
func (n *newestChunks) read(s *memSeries) error {
	if n.far >= newestMaxFar || (n.started && s.ref <= n.lastRef) {
		return n.readBySeek(s)
	}
	if n.fwd == nil {
		n.fwd = n.txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixChunk}})
	}
	prefix := chunkPrefix(s.ref)
	if !n.started || !n.stepTo(prefix) {
		n.fwd.Seek(prefix)
	}
	n.started, n.lastRef = true, s.ref
	found := false
	for step := 0; n.fwd.ValidForPrefix(prefix); step++ {
		if step == newestMaxSteps {
			n.far++
			// The next series starts with a seek.
			n.started = false
			return n.readBySeek(s)
		}
		item := n.fwd.Item()
		n.key = append(n.key[:0], item.Key()...)
		var err error
		if n.val, err = item.ValueCopy(n.val[:0]); err != nil {
			return fmt.Errorf("cannot read chunk %x: %w", n.key, err)
		}
		found = true
		n.fwd.Next()
	}
	n.far = 0
	if !found {
		return nil
	}
	k, err := parseChunkKey(n.key)
	if err != nil {
		return err
	}
	if k.maxT <= s.maxT {
		return nil
	}
	// The chunk keeps a reference to its bytes, which n.val is reused for.
	chk, err := decodeChunkValue(bytes.Clone(n.val))
	if err != nil {
		n.db.reportCorruption("corrupted chunk", n.key, err)
		return fmt.Errorf("chunk %x: %w", n.key, err)
	}
	return setNewestSample(s, k.maxT, chk)
}

// stepTo moves the forward iterator to the first key at or after prefix
// with a few steps, and reports whether it got there.
func (n *newestChunks) stepTo(prefix []byte) bool {
	for step := 0; step < 8; step++ {
		if !n.fwd.Valid() {
			// Past the last chunk: no later series has any.
			return true
		}
		if bytes.Compare(n.fwd.Item().Key(), prefix) >= 0 {
			return true
		}
		n.fwd.Next()
	}
	return false
}

// readBySeek is read with a seek to the end of the chunks of s.
func (n *newestChunks) readBySeek(s *memSeries) error {
	if n.rev == nil {
		n.rev = n.txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: []byte{prefixChunk}})
	}
	return n.db.readNewestSample(s, n.rev)
}
