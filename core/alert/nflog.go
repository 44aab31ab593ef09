package alert

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/go-hclog"
)

// Entry is the notification log's record of the last notification of an
// alert group to a receiver.
type Entry struct {
	// Receiver and GroupKey identify the alert group and its receiver.
	Receiver, GroupKey string
	// Timestamp is when the notification was sent.
	Timestamp time.Time
	// FiringAlerts and ResolvedAlerts are the fingerprints of the alerts the
	// notification carried as firing and as resolved, sorted, without
	// duplicates.
	FiringAlerts, ResolvedAlerts []uint64
	// ExpiresAt is when GC may delete the entry.
	ExpiresAt time.Time
}

// NotificationLog records, per receiver and alert group, the last
// notification sent: in memory for fast queries and in badger, so that a
// restarted dispatcher does not resend before the repeat interval. All
// methods are safe for concurrent use.
type NotificationLog struct {
	kv     *badger.DB
	space  func() error // StoreOptions.SpaceCheck
	logger hclog.Logger

	mu      sync.RWMutex
	closed  bool
	entries map[nflogID]*Entry
}

// nflogID identifies an entry.
type nflogID struct{ receiver, groupKey string }

// loadNotificationLog reads every entry from kv. Entries that cannot be
// decoded are deleted with a warning: at worst a notification is sent again.
func loadNotificationLog(kv *badger.DB, logger hclog.Logger, space func() error) (*NotificationLog, error) {
	l := &NotificationLog{kv: kv, space: space, logger: logger, entries: map[nflogID]*Entry{}}
	var bad [][]byte
	err := kv.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixNflog}, PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			err := item.Value(func(v []byte) error {
				e, err := decodeEntry(item.Key(), v)
				if err != nil {
					logger.Warn("deleting unreadable notification log entry", "key", fmt.Sprintf("%q", item.Key()), "error", err)
					bad = append(bad, item.KeyCopy(nil))
					return nil
				}
				l.entries[nflogID{e.Receiver, e.GroupKey}] = &e
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot load notification log: %w", err)
	}
	if err := l.delete(bad); err != nil {
		return nil, err
	}
	logger.Debug("notification log loaded", "entries", len(l.entries))
	return l, nil
}

func (l *NotificationLog) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

// Log records a notification of the group groupKey to receiver at now,
// carrying the firing and resolved alerts; it replaces the group's previous
// entry and is kept for retention.
func (l *NotificationLog) Log(receiver, groupKey string, firing, resolved []uint64, now time.Time, retention time.Duration) error {
	if retention <= 0 {
		return fmt.Errorf("cannot log notification to %q for group %q: retention %s is not positive", receiver, groupKey, retention)
	}
	now = now.Round(0).UTC()
	e := &Entry{
		Receiver:       receiver,
		GroupKey:       groupKey,
		Timestamp:      now,
		FiringAlerts:   sortedSet(firing),
		ResolvedAlerts: sortedSet(resolved),
		ExpiresAt:      now.Add(retention),
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrStoreClosed
	}
	if err := l.space(); err != nil {
		return fmt.Errorf("cannot log notification to %q for group %q: %w", receiver, groupKey, err)
	}
	err := l.kv.Update(func(txn *badger.Txn) error {
		return txn.Set(nflogKey(receiver, groupKey), encodeEntry(e))
	})
	if err != nil {
		return fmt.Errorf("cannot log notification to %q for group %q: %w", receiver, groupKey, err)
	}
	l.entries[nflogID{receiver, groupKey}] = e
	return nil
}

// Query returns a copy of the entry of the group groupKey for receiver, if
// any. An expired entry is returned until GC deletes it.
func (l *NotificationLog) Query(receiver, groupKey string) (Entry, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	e, ok := l.entries[nflogID{receiver, groupKey}]
	if !ok {
		return Entry{}, false
	}
	c := *e
	c.FiringAlerts = slices.Clone(e.FiringAlerts)
	c.ResolvedAlerts = slices.Clone(e.ResolvedAlerts)
	return c, true
}

// GC deletes the entries expired at now and returns how many it deleted.
func (l *NotificationLog) GC(now time.Time) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrStoreClosed
	}
	var ids []nflogID
	var keys [][]byte
	for id, e := range l.entries {
		if !now.Before(e.ExpiresAt) {
			ids = append(ids, id)
			keys = append(keys, nflogKey(id.receiver, id.groupKey))
		}
	}
	if err := l.delete(keys); err != nil {
		return 0, err
	}
	for _, id := range ids {
		delete(l.entries, id)
	}
	if len(ids) > 0 {
		l.logger.Debug("expired notification log entries deleted", "count", len(ids))
	}
	return len(ids), nil
}

// delete deletes the records with the given keys.
func (l *NotificationLog) delete(keys [][]byte) error {
	if len(keys) == 0 {
		return nil
	}
	if err := l.space(); err != nil {
		return fmt.Errorf("cannot delete %d notification log entries: %w", len(keys), err)
	}
	wb := l.kv.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range keys {
		if err := wb.Delete(k); err != nil {
			return fmt.Errorf("cannot delete notification log entry: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("cannot delete %d notification log entries: %w", len(keys), err)
	}
	return nil
}

// NeedsUpdate reports whether an alert group must be notified again, with
// Alertmanager's rules. entry is the group's last notification, nil if none;
// firing and resolved are the fingerprints of the group's alerts now.
//
//   - Without an entry, notify if any alert fires.
//   - Notify if an alert fires that the last notification did not carry as
//     firing.
//   - If nothing fires any more, notify (whatever sendResolved says, so that
//     the entry forgets the firing alerts) only if the last notification
//     carried firing alerts.
//   - With sendResolved, notify if an alert is resolved that the last
//     notification did not carry as resolved.
//   - Otherwise notify once repeatInterval has passed since the last
//     notification.
func NeedsUpdate(entry *Entry, firing, resolved []uint64, repeatInterval time.Duration, now time.Time, sendResolved bool) bool {
	if entry == nil {
		return len(firing) > 0
	}
	if !isSubset(firing, entry.FiringAlerts) {
		return true
	}
	if len(firing) == 0 {
		return len(entry.FiringAlerts) > 0
	}
	if sendResolved && !isSubset(resolved, entry.ResolvedAlerts) {
		return true
	}
	return entry.Timestamp.Before(now.Add(-repeatInterval))
}

// isSubset reports whether every element of sub is in set.
func isSubset(sub, set []uint64) bool {
	if !slices.IsSorted(set) {
		set = sortedSet(set)
	}
	for _, v := range sub {
		if _, ok := slices.BinarySearch(set, v); !ok {
			return false
		}
	}
	return true
}

// sortedSet returns the values of s sorted, without duplicates, in a new slice.
func sortedSet(s []uint64) []uint64 {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// nflogKey returns the key of the entry of groupKey for receiver.
func nflogKey(receiver, groupKey string) []byte {
	b := []byte{prefixNflog}
	b = appendString(b, receiver)
	return append(b, groupKey...)
}

// encodeEntry returns the value of a notification log record; FORMAT.md
// describes it. The receiver and group key are in the key.
func encodeEntry(e *Entry) []byte {
	b := []byte{recordVersion}
	b = binary.AppendVarint(b, e.Timestamp.UnixNano())
	b = binary.AppendVarint(b, e.ExpiresAt.UnixNano())
	for _, set := range [][]uint64{e.FiringAlerts, e.ResolvedAlerts} {
		b = binary.AppendUvarint(b, uint64(len(set)))
		for _, fp := range set {
			b = binary.BigEndian.AppendUint64(b, fp)
		}
	}
	return sealRecord(b)
}

// decodeEntry decodes a notification log record.
func decodeEntry(key, v []byte) (Entry, error) {
	kd := &recordDecoder{b: key[1:]}
	e := Entry{Receiver: kd.string()}
	if kd.err != nil {
		return Entry{}, fmt.Errorf("key: %w", kd.err)
	}
	e.GroupKey = string(kd.b)
	d, err := openRecord(v)
	if err != nil {
		return Entry{}, err
	}
	e.Timestamp = time.Unix(0, d.varint()).UTC()
	e.ExpiresAt = time.Unix(0, d.varint()).UTC()
	for _, set := range []*[]uint64{&e.FiringAlerts, &e.ResolvedAlerts} {
		n := d.count(8)
		for range n {
			*set = append(*set, d.uint64())
		}
	}
	if err := d.finish(); err != nil {
		return Entry{}, err
	}
	return e, nil
}
