package alert

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"

	"github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/internal/atrest"
	"github.com/vigilmon/vigil/internal/smallkv"
)

// Key prefixes of the store's records; FORMAT.md describes them.
const (
	prefixSilence = 'S'
	prefixNflog   = 'N'
)

// recordVersion is the first byte of every value; it lets a later layout be
// told apart from this one.
const recordVersion = 1

// errCorrupt is wrapped by the errors for values that cannot be decoded.
var errCorrupt = errors.New("corrupt record")

// crcTable is the CRC32 (Castagnoli) table that checksums every value.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Store is the dispatcher's persistent state: the silences and the
// notification log, in one small badger database. All methods are safe for
// concurrent use.
type Store struct {
	kv       *badger.DB
	logger   hclog.Logger
	silences *Silences
	nflog    *NotificationLog
}

// StoreOptions say where a Store lives, how it is kept and what it may
// write.
type StoreOptions struct {
	// Dir is the folder of the store's badger database; required.
	Dir string
	// Logger receives the store's log lines; none when nil.
	Logger hclog.Logger
	// Key, when set, encrypts the store's files (see package atrest).
	Key []byte
	// SpaceCheck, when set, says whether the store may grow on disk:
	// while it returns an error, writing a silence or a notification log
	// entry, and deleting expired ones, fail with it and write nothing.
	// Badger maps its files into memory, and a write into a mapped page
	// the full disk cannot hold kills the process with SIGBUS.
	SpaceCheck func() error
}

// OpenStore opens the store in opts.Dir, creating it if needed, and loads
// the silences into memory.
func OpenStore(opts StoreOptions) (*Store, error) {
	dir, logger, key := opts.Dir, opts.Logger, opts.Key
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	space := opts.SpaceCheck
	if space == nil {
		space = func() error { return nil }
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create alert store directory %q: %w", dir, err)
	}
	// The store holds a few thousand small records at most: small tables,
	// every value in the LSM tree, no compression and no block cache.
	// Writes are not synced one by one: a notification log entry is in the
	// operating system's hands when Log returns, so it survives the
	// server's crash, not the machine's. Silences, which people enter, are
	// synced to disk before Set returns.
	bopts := atrest.Encrypt(smallkv.Options(dir, logger, false), key, smallkv.EncryptedCacheBytes)
	kv, err := badger.Open(bopts)
	if err != nil {
		return nil, atrest.OpenError(err, "alert store", dir)
	}
	st := &Store{kv: kv, logger: logger}
	st.silences, err = loadSilences(kv, logger.Named("silences"), space)
	if err != nil {
		kv.Close()
		return nil, err
	}
	st.nflog, err = loadNotificationLog(kv, logger.Named("nflog"), space)
	if err != nil {
		kv.Close()
		return nil, err
	}
	return st, nil
}

// Silences returns the store's silences.
func (st *Store) Silences() *Silences { return st.silences }

// NotificationLog returns the store's notification log.
func (st *Store) NotificationLog() *NotificationLog { return st.nflog }

// Close closes the store. The Silences and NotificationLog it returned must
// not be used afterwards.
func (st *Store) Close() error {
	st.silences.close()
	st.nflog.close()
	if err := st.kv.Close(); err != nil {
		return fmt.Errorf("cannot close alert store: %w", err)
	}
	return nil
}

// sealRecord appends the CRC32 of b to b.
func sealRecord(b []byte) []byte {
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// openRecord checks the version byte and the checksum of a value and returns
// a decoder of the bytes between them.
func openRecord(v []byte) (*recordDecoder, error) {
	if len(v) < 5 {
		return nil, fmt.Errorf("value of %d bytes: %w", len(v), errCorrupt)
	}
	body, sum := v[:len(v)-4], binary.BigEndian.Uint32(v[len(v)-4:])
	if got := crc32.Checksum(body, crcTable); got != sum {
		return nil, fmt.Errorf("stored checksum %08x, computed %08x: %w", sum, got, errCorrupt)
	}
	if body[0] != recordVersion {
		return nil, fmt.Errorf("unknown record version %d: %w", body[0], errCorrupt)
	}
	return &recordDecoder{b: body[1:]}, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// recordDecoder reads the fields of a value; the first error sticks and
// every later read returns zero.
type recordDecoder struct {
	b   []byte
	err error
}

func (d *recordDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("truncated %s: %w", what, errCorrupt)
	}
	d.b = nil
}

func (d *recordDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recordDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recordDecoder) uint64() uint64 {
	if len(d.b) < 8 {
		d.fail("uint64")
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *recordDecoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("byte")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *recordDecoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("string")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// count reads a uvarint element count, each element taking at least min
// bytes, and checks it against the bytes left.
func (d *recordDecoder) count(min int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/min) {
		d.fail("count")
		return 0
	}
	return int(n)
}

// finish returns the first error, or an error if bytes are left over.
func (d *recordDecoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d trailing bytes: %w", len(d.b), errCorrupt)
	}
	return d.err
}
