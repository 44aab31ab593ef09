package atrest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func TestParseKey(t *testing.T) {
	for text, want := range map[string]int{
		strings.Repeat("ab", 16) + "\n":        16,
		strings.Repeat("0f", 24):               24,
		"  " + strings.Repeat("9A", 32) + "\n": 32,
	} {
		key, err := ParseKey("k", text)
		if err != nil || len(key) != want {
			t.Errorf("%q: %d bytes, %v; want %d", text, len(key), err, want)
		}
	}
	for text, wantErr := range map[string]string{
		strings.Repeat("ab", 8):          `holds 16 hexadecimal digits, not 32, 48 or 64`,
		strings.Repeat("x", 64):          `must hold 32, 48 or 64 hexadecimal digits`,
		"":                               `holds 0 hexadecimal digits`,
		strings.Repeat("ab", 32) + " ab": `must hold 32, 48 or 64 hexadecimal digits`,
	} {
		if _, err := ParseKey("key.hex", text); err == nil || !strings.Contains(err.Error(), wantErr) || !strings.Contains(err.Error(), `"key.hex"`) {
			t.Errorf("%q: got %v, want an error naming the file and saying %q", text, err, wantErr)
		}
	}
}

// TestEncryptedDatabase: what an encrypted database holds is not in its
// files in clear, it reads back with its key, and another key, or none,
// is refused with an error that says why.
func TestEncryptedDatabase(t *testing.T) {
	secret := []byte("a-label-value-that-must-not-be-seen-in-clear")
	write := func(dir string, key []byte) {
		t.Helper()
		db, err := badger.Open(Encrypt(badger.DefaultOptions(dir).WithLogger(nil), key, 1<<20))
		if err != nil {
			t.Fatal(err)
		}
		err = db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("k"), bytes.Repeat(secret, 100)) })
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	inClear := func(dir string) bool {
		t.Helper()
		found := false
		filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				b, _ := os.ReadFile(path)
				found = found || bytes.Contains(b, secret)
			}
			return nil
		})
		return found
	}
	plain, encrypted := t.TempDir(), t.TempDir()
	key := bytes.Repeat([]byte{7}, 32)
	write(plain, nil)
	write(encrypted, key)
	if !inClear(plain) {
		t.Fatal("the unencrypted database does not hold the value in clear: the test proves nothing")
	}
	if inClear(encrypted) {
		t.Fatal("the encrypted database holds the value in clear")
	}
	db, err := badger.Open(Encrypt(badger.DefaultOptions(encrypted).WithLogger(nil), key, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte("k"))
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err == nil && !bytes.Equal(v, bytes.Repeat(secret, 100)) {
			t.Errorf("read back %q", v)
		}
		return err
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		dir string
		key []byte
	}{
		"other key":          {encrypted, bytes.Repeat([]byte{8}, 32)},
		"no key":             {encrypted, nil},
		"key for plain data": {plain, key},
	} {
		_, err := badger.Open(Encrypt(badger.DefaultOptions(tc.dir).WithLogger(nil), tc.key, 1<<20))
		if err == nil {
			t.Fatalf("%s: opened", name)
		}
		if msg := OpenError(err, "store", tc.dir).Error(); !strings.Contains(msg, "from its creation") || !strings.Contains(msg, tc.dir) {
			t.Errorf("%s: %s", name, msg)
		}
	}
}
