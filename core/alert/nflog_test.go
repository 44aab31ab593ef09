package alert

import (
	"slices"
	"sync"
	"testing"
	"time"
)

func TestNotificationLog(t *testing.T) {
	dir := t.TempDir()
	st := openStoreForTest(t, dir)
	l := st.NotificationLog()
	if _, ok := l.Query("r", "g"); ok {
		t.Fatal("entry in an empty log")
	}
	if err := l.Log("r", "g", nil, nil, silT0, 0); err == nil {
		t.Error("Log with zero retention succeeded")
	}
	if err := l.Log("r", "g", []uint64{3, 1, 3}, []uint64{7}, silT0, silHour); err != nil {
		t.Fatal(err)
	}
	// Receiver names are length-prefixed: ("r", "g") and ("rg", "") differ.
	if err := l.Log("rg", "", []uint64{9}, nil, silT0, 3*silHour); err != nil {
		t.Fatal(err)
	}
	if err := l.Log("other", "g", []uint64{5}, nil, silT0.Add(time.Minute), 2*silHour); err != nil {
		t.Fatal(err)
	}
	check := func(l *NotificationLog) {
		t.Helper()
		e, ok := l.Query("r", "g")
		if !ok {
			t.Fatal("entry not found")
		}
		if e.Receiver != "r" || e.GroupKey != "g" || !e.Timestamp.Equal(silT0) || !e.ExpiresAt.Equal(silT0.Add(silHour)) ||
			!slices.Equal(e.FiringAlerts, []uint64{1, 3}) || !slices.Equal(e.ResolvedAlerts, []uint64{7}) {
			t.Errorf("entry: %+v", e)
		}
		if e, ok := l.Query("rg", ""); !ok || !slices.Equal(e.FiringAlerts, []uint64{9}) || e.ResolvedAlerts != nil {
			t.Errorf("entry (rg, \"\"): %+v, %v", e, ok)
		}
	}
	check(l)
	// Query returns a copy.
	e, _ := l.Query("r", "g")
	e.FiringAlerts[0] = 100
	check(l)

	st = reopenStoreForTest(t, st, dir)
	l = st.NotificationLog()
	check(l)

	// A new notification replaces the entry.
	if err := l.Log("r", "g", nil, []uint64{1, 3}, silT0.Add(time.Minute), silHour); err != nil {
		t.Fatal(err)
	}
	if e, _ := l.Query("r", "g"); len(e.FiringAlerts) != 0 || !slices.Equal(e.ResolvedAlerts, []uint64{1, 3}) {
		t.Errorf("replaced entry: %+v", e)
	}

	// GC: ("r", "g") expires at +61m, ("other", "g") at +121m, ("rg", "") at +180m.
	for _, tc := range []struct {
		at   time.Duration
		want int
	}{{61*time.Minute - 1, 0}, {61 * time.Minute, 1}, {61 * time.Minute, 0}, {150 * time.Minute, 1}} {
		n, err := l.GC(silT0.Add(tc.at))
		if err != nil || n != tc.want {
			t.Errorf("GC(+%s) = %d, %v; want %d", tc.at, n, err, tc.want)
		}
	}
	st = reopenStoreForTest(t, st, dir)
	l = st.NotificationLog()
	if _, ok := l.Query("r", "g"); ok {
		t.Error("collected entry back after reopen")
	}
	if _, ok := l.Query("other", "g"); ok {
		t.Error("collected entry back after reopen")
	}
	if _, ok := l.Query("rg", ""); !ok {
		t.Error("live entry lost")
	}
}

func TestNotificationLogConcurrent(t *testing.T) {
	l := openStoreForTest(t, t.TempDir()).NotificationLog()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				if err := l.Log("r", string(rune('a'+i)), []uint64{uint64(j)}, nil, silT0.Add(time.Duration(j)*time.Minute), silHour); err != nil {
					t.Error(err)
					return
				}
				l.Query("r", "a")
				if _, err := l.GC(silT0); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	for i := range 8 {
		if e, ok := l.Query("r", string(rune('a'+i))); !ok || !slices.Equal(e.FiringAlerts, []uint64{19}) {
			t.Errorf("group %d: %+v, %v", i, e, ok)
		}
	}
}

func TestNeedsUpdate(t *testing.T) {
	const repeat = 4 * time.Hour
	now := silT0.Add(time.Hour)
	entry := func(firing, resolved []uint64, sent time.Time) *Entry {
		return &Entry{FiringAlerts: firing, ResolvedAlerts: resolved, Timestamp: sent}
	}
	recent := silT0 // one hour ago, within the repeat interval
	for _, tc := range []struct {
		name             string
		entry            *Entry
		firing, resolved []uint64
		sendResolved     bool
		at               time.Time
		want             bool
	}{
		{"first notification", nil, []uint64{1}, nil, false, now, true},
		{"nothing ever fired", nil, nil, []uint64{1}, true, now, false},
		{"nothing changed", entry([]uint64{1, 2}, nil, recent), []uint64{1, 2}, nil, false, now, false},
		{"fewer firing", entry([]uint64{1, 2}, nil, recent), []uint64{2}, nil, false, now, false},
		{"new firing alert", entry([]uint64{1, 2}, nil, recent), []uint64{1, 3}, nil, false, now, true},
		{"resolved, send_resolved", entry([]uint64{1, 2}, nil, recent), []uint64{1}, []uint64{2}, true, now, true},
		{"resolved, no send_resolved", entry([]uint64{1, 2}, nil, recent), []uint64{1}, []uint64{2}, false, now, false},
		{"resolved already sent", entry([]uint64{1}, []uint64{2}, recent), []uint64{1}, []uint64{2}, true, now, false},
		{"all resolved", entry([]uint64{1}, nil, recent), nil, []uint64{1}, false, now, true},
		{"all resolved, already sent", entry(nil, []uint64{1}, recent), nil, []uint64{1}, true, now, false},
		{"fired and resolved in between", entry(nil, nil, recent), nil, []uint64{4}, true, now, false},
		{"repeat interval not passed", entry([]uint64{1}, nil, recent), []uint64{1}, nil, false, recent.Add(repeat), false},
		{"repeat interval passed", entry([]uint64{1}, nil, recent), []uint64{1}, nil, false, recent.Add(repeat + time.Nanosecond), true},
		{"repeat does not apply when nothing fires", entry(nil, []uint64{1}, recent), nil, []uint64{1}, true, recent.Add(2 * repeat), false},
	} {
		if got := NeedsUpdate(tc.entry, tc.firing, tc.resolved, repeat, tc.at, tc.sendResolved); got != tc.want {
			t.Errorf("%s: NeedsUpdate = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNeedsUpdateUnsortedEntry(t *testing.T) {
	e := &Entry{FiringAlerts: []uint64{9, 2, 5}, Timestamp: silT0}
	if NeedsUpdate(e, []uint64{5, 9}, nil, time.Hour, silT0, false) {
		t.Error("subset of an unsorted entry reported as new")
	}
}
