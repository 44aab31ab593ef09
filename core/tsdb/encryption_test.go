package tsdb

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2/z"
	"github.com/prometheus/prometheus/model/labels"
)

// TestEncryptionAtRest: with a key, the sealed samples, the index and a
// snapshot hold no label value in clear, and the store reads back with its
// key; no key, or another, is refused with an error saying why. Without a
// key the same value is in clear, so the test can see it.
func TestEncryptionAtRest(t *testing.T) {
	secret := "customer-4f1c9e7a-label-value"
	write := func(key []byte) (dir, snapshot string) {
		t.Helper()
		dir = t.TempDir()
		db, err := Open(dir, Options{EncryptionKey: key})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 300 {
			mustAppend(t, db, labels.FromStrings("__name__", "orders_total", "customer", secret), int64(i)*15000, float64(i))
		}
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
		snapshot = filepath.Join(t.TempDir(), "snap")
		if err := db.Snapshot(snapshot, true); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		return dir, snapshot
	}
	// inClear reports whether a file of badger's under dir holds the
	// secret, as its bytes or, for a table, as one of the keys read from it
	// without a key (its blocks are compressed): the write-ahead log, not
	// encrypted, is left out.
	inClear := func(dir string) bool {
		t.Helper()
		found := false
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == walDirName {
				return filepath.SkipDir
			}
			if !d.IsDir() {
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				found = found || bytes.Contains(b, []byte(secret)) || strings.HasSuffix(path, ".sst") && tableHolds(t, path, secret)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return found
	}
	plain, plainSnapshot := write(nil)
	if !inClear(plain) || !inClear(plainSnapshot) {
		t.Fatal("without a key, the label value is not in clear in badger's files: the test cannot see it")
	}
	key := bytes.Repeat([]byte{0x5a}, 32)
	encrypted, snapshot := write(key)
	if inClear(encrypted) {
		t.Error("the encrypted store holds the label value in clear")
	}
	if inClear(snapshot) {
		t.Error("the snapshot of the encrypted store holds the label value in clear")
	}
	for _, dir := range []string{encrypted, snapshot} {
		db, err := Open(dir, Options{EncryptionKey: key})
		if err != nil {
			t.Fatal(err)
		}
		got := readSeries(t, db, 0, 300*15000, labels.MustNewMatcher(labels.MatchEqual, "customer", secret))
		db.Close()
		if s := got[`{__name__="orders_total", customer="`+secret+`"}`]; len(s) != 300 || s[299].V != 299 {
			t.Errorf("%s read back with its key: %d samples", dir, len(s))
		}
	}
	for name, tc := range map[string]struct {
		dir  string
		key  []byte
		want string
	}{
		"no key":                {encrypted, nil, "is encrypted, and no key is given"},
		"another key":           {encrypted, bytes.Repeat([]byte{0x5b}, 32), "from its creation"},
		"a key for plain store": {plain, key, "from its creation"},
	} {
		db, err := Open(tc.dir, Options{EncryptionKey: tc.key})
		if err == nil {
			db.Close()
			t.Errorf("%s: opened", name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.dir) {
			t.Errorf("%s: %v; want the folder and %q", name, err, tc.want)
		}
	}
}

// tableHolds reports whether a key of the badger table in file, read
// without a data key, holds s. A table that cannot be read so holds
// nothing.
func tableHolds(t *testing.T, file, s string) (found bool) {
	t.Helper()
	fd, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	mf, err := z.OpenMmapFileUsing(fd, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close(-1)
	// Badger's reader panics on data it cannot decode.
	defer func() {
		if recover() != nil {
			found = false
		}
	}()
	tbl, err := table.OpenTable(mf, table.Options{Compression: options.ZSTD, BlockSize: 4 << 10})
	if err != nil {
		return false
	}
	it := tbl.NewIterator(table.NOCACHE)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if bytes.Contains(it.Key(), []byte(s)) {
			return true
		}
	}
	return false
}
