package alert

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/go-hclog"
)

// openStoreForTest opens a store in dir and closes it at the end of the test
// unless the test closed it.
func openStoreForTest(t *testing.T, dir string) *Store {
	t.Helper()
	st, err := OpenStore(StoreOptions{Dir: dir, Logger: hclog.NewNullLogger()})
	if err != nil {
		t.Fatalf("OpenStore: %v", err)
	}
	t.Cleanup(func() {
		if !st.silences.closed {
			if err := st.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	})
	return st
}

// reopenStoreForTest closes st and opens the store in dir again.
func reopenStoreForTest(t *testing.T, st *Store, dir string) *Store {
	t.Helper()
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return openStoreForTest(t, dir)
}

func TestOpenStoreCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "alerts")
	st := openStoreForTest(t, dir)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("store directory: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Silences().Get("x"); !errors.Is(err, ErrStoreClosed) {
		t.Errorf("Get after Close: got %v, want ErrStoreClosed", err)
	}
	if err := st.NotificationLog().Log("r", "g", nil, nil, silT0, silHour); !errors.Is(err, ErrStoreClosed) {
		t.Errorf("Log after Close: got %v, want ErrStoreClosed", err)
	}
}

func TestRecordChecksum(t *testing.T) {
	v := encodeSilence(&Silence{Matchers: silMatchers(t, "a", "=", "b"), StartsAt: silT0, EndsAt: silT0.Add(silHour), UpdatedAt: silT0})
	if _, err := decodeSilence("id", v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	v[3] ^= 1
	if _, err := decodeSilence("id", v); !errors.Is(err, errCorrupt) {
		t.Fatalf("decode of a damaged value: got %v, want errCorrupt", err)
	}
	if _, err := decodeSilence("id", v[:3]); !errors.Is(err, errCorrupt) {
		t.Fatalf("decode of a short value: got %v, want errCorrupt", err)
	}
}

func TestStoreUnreadableRecords(t *testing.T) {
	dir := t.TempDir()
	st := openStoreForTest(t, dir)
	if err := st.NotificationLog().Log("r", "g", []uint64{1}, nil, silT0, silHour); err != nil {
		t.Fatal(err)
	}
	if err := st.kv.Update(func(txn *badger.Txn) error {
		return txn.Set(nflogKey("r", "bad"), []byte("garbage"))
	}); err != nil {
		t.Fatal(err)
	}
	// An unreadable notification log entry is dropped at open.
	st = reopenStoreForTest(t, st, dir)
	if _, ok := st.NotificationLog().Query("r", "g"); !ok {
		t.Error("readable entry lost")
	}
	if err := st.kv.View(func(txn *badger.Txn) error {
		_, err := txn.Get(nflogKey("r", "bad"))
		return err
	}); !errors.Is(err, badger.ErrKeyNotFound) {
		t.Errorf("unreadable entry not deleted: %v", err)
	}
	// An unreadable silence fails the open.
	if err := st.kv.Update(func(txn *badger.Txn) error {
		return txn.Set(silenceKey("bad"), []byte("garbage"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(StoreOptions{Dir: dir, Logger: hclog.NewNullLogger()}); !errors.Is(err, errCorrupt) {
		t.Fatalf("OpenStore with an unreadable silence: got %v, want errCorrupt", err)
	}
}

// TestStoreOnAFullDisk checks that while the SpaceCheck says the disk is
// full, a silence and a notification log entry are refused with its
// error and nothing is written, and that both are taken once it no
// longer says so.
func TestStoreOnAFullDisk(t *testing.T) {
	errFull := errors.New("disk full")
	full := true
	st, err := OpenStore(StoreOptions{Dir: t.TempDir(), SpaceCheck: func() error {
		if full {
			return errFull
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	sil := func() *Silence {
		return &Silence{Matchers: silMatchers(t, "alertname", "=", "A"), StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "me", Comment: "c"}
	}
	if _, err := st.Silences().Set(sil()); !errors.Is(err, errFull) {
		t.Fatalf("silence on a full disk: %v, want the SpaceCheck's error", err)
	}
	if err := st.NotificationLog().Log("r", "g", []uint64{1}, nil, silT0, silHour); !errors.Is(err, errFull) {
		t.Fatalf("notification log on a full disk: %v, want the SpaceCheck's error", err)
	}
	if err := st.kv.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			t.Errorf("written on a full disk: %q", it.Item().Key())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	full = false
	if _, err := st.Silences().Set(sil()); err != nil {
		t.Fatalf("silence once space is back: %v", err)
	}
	if err := st.NotificationLog().Log("r", "g", []uint64{1}, nil, silT0, silHour); err != nil {
		t.Fatalf("notification log once space is back: %v", err)
	}
}
