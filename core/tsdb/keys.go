package tsdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Key prefixes of the badger key space. FORMAT.md describes each record.
const (
	prefixSeries byte = 'S' // S | ref                         -> labels
	prefixChunk  byte = 'C' // C | ref | maxT | minT | seq     -> encoding | chunk bytes | crc32
	prefixWAL    byte = 'W' // W | seq                         -> record | crc32
	prefixMeta   byte = 'M' // M | name                        -> value
	// The series index, see index.go.
	prefixPostings byte = 'P' // P | len name | name | len value | value | ref -> crc32
	prefixHash     byte = 'H' // H | stable hash of the labels | ref          -> crc32
)

const (
	seriesKeyLen = 1 + 8
	chunkKeyLen  = 1 + 8 + 8 + 8 + 8
	walKeyLen    = 1 + 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errChecksum is wrapped by every error about a value whose checksum does not match.
var errChecksum = errors.New("checksum mismatch")

func seriesKey(ref uint64) []byte {
	k := make([]byte, seriesKeyLen)
	k[0] = prefixSeries
	binary.BigEndian.PutUint64(k[1:], ref)
	return k
}

// chunkKey orders the chunks of one series by their newest sample, so that a
// seek to (ref, mint) lands on the first chunk that can hold samples >= mint.
func chunkKey(ref uint64, minT, maxT int64, seq uint64) []byte {
	k := make([]byte, chunkKeyLen)
	k[0] = prefixChunk
	binary.BigEndian.PutUint64(k[1:], ref)
	binary.BigEndian.PutUint64(k[9:], orderedInt64(maxT))
	binary.BigEndian.PutUint64(k[17:], orderedInt64(minT))
	binary.BigEndian.PutUint64(k[25:], seq)
	return k
}

// chunkSeekKey is the smallest chunk key of series ref whose maxT is >= t.
func chunkSeekKey(ref uint64, t int64) []byte {
	k := make([]byte, 1+8+8)
	k[0] = prefixChunk
	binary.BigEndian.PutUint64(k[1:], ref)
	binary.BigEndian.PutUint64(k[9:], orderedInt64(t))
	return k
}

func chunkPrefix(ref uint64) []byte {
	k := make([]byte, 1+8)
	k[0] = prefixChunk
	binary.BigEndian.PutUint64(k[1:], ref)
	return k
}

type chunkKeyParts struct {
	ref        uint64
	minT, maxT int64
	seq        uint64
}

func parseChunkKey(k []byte) (chunkKeyParts, error) {
	if len(k) != chunkKeyLen || k[0] != prefixChunk {
		return chunkKeyParts{}, fmt.Errorf("malformed chunk key %x", k)
	}
	return chunkKeyParts{
		ref:  binary.BigEndian.Uint64(k[1:]),
		maxT: int64FromOrdered(binary.BigEndian.Uint64(k[9:])),
		minT: int64FromOrdered(binary.BigEndian.Uint64(k[17:])),
		seq:  binary.BigEndian.Uint64(k[25:]),
	}, nil
}

func metaKey(name string) []byte {
	return append([]byte{prefixMeta}, name...)
}

// orderedInt64 maps an int64 to a uint64 whose big-endian bytes sort in the
// same order as the signed numbers.
func orderedInt64(v int64) uint64 { return uint64(v) ^ (1 << 63) }

func int64FromOrdered(u uint64) int64 { return int64(u ^ (1 << 63)) }

// withChecksum appends the CRC32-Castagnoli of b to b.
func withChecksum(b []byte) []byte {
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// verifyChecksum checks the trailing checksum of a value written by
// withChecksum and returns the payload without it.
func verifyChecksum(v []byte) ([]byte, error) {
	if len(v) < 4 {
		return nil, fmt.Errorf("value of %d bytes is too short for its checksum: %w", len(v), errChecksum)
	}
	payload, sum := v[:len(v)-4], binary.BigEndian.Uint32(v[len(v)-4:])
	if got := crc32.Checksum(payload, castagnoli); got != sum {
		return nil, fmt.Errorf("stored %08x, computed %08x: %w", sum, got, errChecksum)
	}
	return payload, nil
}

// rangeForTimestamp is the end (exclusive) of the chunk range that a chunk
// starting at t may span, computed as upstream does.
func rangeForTimestamp(t, width int64) int64 {
	return (t/width)*width + width
}
