package tsdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/fb"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/badger/v4/y"
	"github.com/dgraph-io/ristretto/v2"
	"github.com/dgraph-io/ristretto/v2/z"
	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/internal/atrest"
)

// tableDamage is a table of badger that cannot be read whole.
type tableDamage struct {
	file  string // base name, as 000001.sst
	level int
	err   error // what is damaged
}

func (d *tableDamage) Error() string {
	return fmt.Sprintf("table %s (level %d): %v", d.file, d.level, d.err)
}

func (d *tableDamage) Unwrap() error { return d.err }

// verifyTables reads every block of every table that the badger manifest
// in bopts.Dir lists, before badger opens them, and returns an error
// (*tableDamage) for each damaged table, logged as an error line naming
// its file.
//
// Badger checks blocks only as it reads them, and cannot report a damaged
// one: its iterators end at a block they cannot read as if the data ended
// there. A replay would take the write-ahead records after it for missing,
// a query would return fewer samples, and badger's next compaction of the
// table would drop the rest of it for good, all without an error. Its own
// check at open (options.OnTableRead) crashes the process when a block
// does not decompress, and stops at the first damaged table.
func verifyTables(bopts badger.Options, logger hclog.Logger) ([]error, error) {
	start := time.Now()
	path := filepath.Join(bopts.Dir, badger.ManifestFilename)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // a new store
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the table list %q: %w", path, err)
	}
	manifest, _, err := badger.ReplayManifestFile(f, bopts.ExternalMagicVersion, bopts)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("cannot read the table list %q: %w", path, err)
	}

	// The tables of an encrypted store are read with their data keys, and
	// their indexes, encrypted too, through a cache, as badger reads them.
	var (
		keys       *badger.KeyRegistry
		indexCache *ristretto.Cache[uint64, *fb.TableIndex]
	)
	if len(bopts.EncryptionKey) > 0 {
		keys, err = badger.OpenKeyRegistry(badger.KeyRegistryOptions{
			Dir: bopts.Dir, ReadOnly: true, EncryptionKey: bopts.EncryptionKey,
			EncryptionKeyRotationDuration: bopts.EncryptionKeyRotationDuration,
		})
		if err != nil {
			return nil, atrest.OpenError(err, "badger store", bopts.Dir)
		}
		defer keys.Close()
		indexCache, err = ristretto.NewCache(&ristretto.Config[uint64, *fb.TableIndex]{NumCounters: 1 << 10, MaxCost: 16 << 20, BufferItems: 64})
		if err != nil {
			return nil, fmt.Errorf("cannot make the index cache of the encrypted tables: %w", err)
		}
		defer indexCache.Close()
	}

	ids := slices.Sorted(maps.Keys(manifest.Tables))
	type result struct {
		blocks int
		bytes  int64
		err    error // the table cannot be read for another reason than damage
		damage *tableDamage
	}
	results := make([]result, len(ids))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(ids)) {
		wg.Go(func() {
			for i := range next {
				tm := manifest.Tables[ids[i]]
				file := table.NewFilename(ids[i], bopts.Dir)
				r := &results[i]
				var damage error
				topts := table.Options{BlockSize: bopts.BlockSize, Compression: tm.Compression, ChkMode: options.OnBlockRead}
				if tm.KeyID != 0 {
					if keys == nil {
						r.err = fmt.Errorf("the store in %q is encrypted, and no key is given (server { encryption_key_file })", bopts.Dir)
						continue
					}
					if topts.DataKey, r.err = keys.DataKey(tm.KeyID); r.err != nil {
						r.err = fmt.Errorf("cannot read the data key of table %q: %w", file, r.err)
						continue
					}
					topts.IndexCache = indexCache
				}
				r.blocks, r.bytes, damage, r.err = verifyTable(file, topts)
				if damage != nil {
					r.damage = &tableDamage{file: filepath.Base(file), level: int(tm.Level), err: damage}
				}
			}
		})
	}
	for i := range ids {
		next <- i
	}
	close(next)
	wg.Wait()

	var (
		damaged []error
		blocks  int
		bytes   int64
	)
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		if r.damage != nil {
			logger.Error("damaged table", "file", r.damage.file, "level", r.damage.level, "error", r.damage.err)
			damaged = append(damaged, r.damage)
		}
		blocks += r.blocks
		bytes += r.bytes
	}
	logger.Debug("verified tables", "tables", len(ids), "blocks", blocks, "bytes", bytes, "damaged", len(damaged), "duration", time.Since(start).Round(time.Millisecond))
	return damaged, nil
}

// verifyTable reads every block of the table in file, as badger reads it
// with checksum verification, and returns the number of blocks and bytes
// it holds and, when the table is damaged, what is. err is for a file
// that cannot be read at all; a file the manifest lists but that does not
// exist is left for badger to report.
func verifyTable(file string, topts table.Options) (blocks int, size int64, damage, err error) {
	fd, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil, nil
	}
	if err != nil {
		return 0, 0, nil, fmt.Errorf("cannot open table %q: %w", file, err)
	}
	fi, err := fd.Stat()
	if err != nil {
		fd.Close()
		return 0, 0, nil, fmt.Errorf("cannot read table %q: %w", file, err)
	}
	if fi.Size() < 8 {
		fd.Close()
		return 0, fi.Size(), fmt.Errorf("footer: %d bytes are too few for a table", fi.Size()), nil
	}
	mf, err := z.OpenMmapFileUsing(fd, 0, false)
	if err != nil {
		fd.Close()
		return 0, 0, nil, fmt.Errorf("cannot map table %q: %w", file, err)
	}
	// OpenTable closes mf itself only when it cannot stat the file or parse
	// its name, which cannot happen here.
	defer mf.Close(-1)
	if err := checkFooter(mf.Data); err != nil {
		return 0, fi.Size(), err, nil
	}
	// Badger's reader panics on some malformed data past the checksums it
	// verifies; for this file that means damage.
	defer func() {
		if r := recover(); r != nil {
			damage = fmt.Errorf("cannot be read: %s", strings.Join(strings.Fields(fmt.Sprint(r)), " "))
		}
	}()
	// The table is never released with DecrRef, which deletes its file at
	// the last reference; closing mf unmaps it.
	t, err := table.OpenTable(mf, topts)
	if err != nil {
		return 0, fi.Size(), fmt.Errorf("cannot be opened: %w", err), nil
	}
	// KeySplits with more splits than blocks gives the first key of every
	// block; a seek to it loads the block, which fails unless it
	// decompresses and matches its checksum.
	starts := t.KeySplits(math.MaxInt, nil)
	it := t.NewIterator(table.NOCACHE)
	defer it.Close()
	var bad []int
	for i, k := range starts {
		if it.Seek([]byte(k)); !it.Valid() {
			bad = append(bad, i)
		}
	}
	if len(bad) == 0 {
		return len(starts), fi.Size(), nil, nil
	}
	damage = fmt.Errorf("block %d of %d, holding the keys from %x, fails its checksum or cannot be decompressed",
		bad[0]+1, len(starts), y.ParseKey([]byte(starts[bad[0]])))
	if len(bad) > 1 {
		damage = fmt.Errorf("%w (%d damaged blocks in all)", damage, len(bad))
	}
	return len(starts), fi.Size(), damage, nil
}

// checkFooter checks that the lengths in the footer of a table point
// inside the file: badger reads them before it verifies any checksum, and
// its reader panics when they do not. The footer is the index length, the
// index checksum and the checksum length, each length 4 bytes big endian:
// | blocks | index | index length | checksum | checksum length |.
func checkFooter(data []byte) error {
	n := len(data)
	chkLen := int(binary.BigEndian.Uint32(data[n-4:]))
	if chkLen > n-8 {
		return fmt.Errorf("footer: the index checksum length %d exceeds the file of %d bytes", chkLen, n)
	}
	indexLen := int(binary.BigEndian.Uint32(data[n-8-chkLen:]))
	if indexLen > n-8-chkLen {
		return fmt.Errorf("footer: the index length %d exceeds the file of %d bytes", indexLen, n)
	}
	return nil
}
