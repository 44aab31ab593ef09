package diskguard

import (
	"bytes"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestGuard follows a disk that fills and empties again: Check refuses
// below the reserve, naming the folder and the bytes, the metrics and the
// log say so once, and it lets writes through again once space is back.
func TestGuard(t *testing.T) {
	var free atomic.Uint64
	free.Store(1000)
	var logs bytes.Buffer
	g := New(Options{
		Dir: "/data", MinFree: 500,
		FreeSpace: func(dir string) (uint64, error) {
			if dir != "/data" {
				t.Errorf("free space asked of %q", dir)
			}
			return free.Load(), nil
		},
		Logger: hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info}),
	})
	want := func(full float64, freeBytes uint64) {
		t.Helper()
		expo := "# HELP vigil_storage_disk_full " + "1 while the free space of the data folder's filesystem is below server { min_free_disk } and new samples are refused, else 0.\n" +
			"# TYPE vigil_storage_disk_full gauge\nvigil_storage_disk_full " + map[float64]string{0: "0", 1: "1"}[full] + "\n"
		if err := testutil.CollectAndCompare(g.Collector(), strings.NewReader(expo), "vigil_storage_disk_full"); err != nil {
			t.Error(err)
		}
		if got := testutil.ToFloat64(onlyFree{g}); got != float64(freeBytes) {
			t.Errorf("vigil_storage_disk_free_bytes = %v, want %d", got, freeBytes)
		}
	}

	if err := g.Check(); err != nil {
		t.Fatalf("1000 bytes free, reserve 500: %v", err)
	}
	want(0, 1000)

	free.Store(499)
	err := g.Refresh()
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("499 bytes free, reserve 500: %v, want ErrDiskFull", err)
	}
	for _, s := range []string{`"/data"`, "499 bytes free", "min_free_disk (500 bytes)"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %s", err, s)
		}
	}
	if err := g.Check(); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("Check after a full reading: %v", err)
	}
	g.Refresh()
	want(1, 499)

	free.Store(500)
	if err := g.Refresh(); err != nil {
		t.Fatalf("500 bytes free, reserve 500: %v", err)
	}
	want(0, 500)

	out := logs.String()
	if n := strings.Count(out, "disk full"); n != 1 {
		t.Errorf("%d lines say the disk is full, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "free_bytes=499") || !strings.Contains(out, "min_free_bytes=500") || !strings.Contains(out, "disk space is back") {
		t.Errorf("the log does not say how full the disk was and that space is back:\n%s", out)
	}
}

// onlyFree is the guard's free-bytes gauge alone, for testutil.ToFloat64.
type onlyFree struct{ g *Guard }

func (o onlyFree) Describe(ch chan<- *prometheus.Desc) { ch <- descFree }
func (o onlyFree) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric, 3)
	o.g.Collector().Collect(all)
	close(all)
	for m := range all {
		if m.Desc() == descFree {
			ch <- m
		}
	}
}

// TestGuardOff checks that a reserve of 0, a nil guard and a free space
// that cannot be read let every write through, and that the free space
// shows without a reserve.
func TestGuardOff(t *testing.T) {
	some := func(string) (uint64, error) { return 7, nil }
	off := New(Options{Dir: "/data", FreeSpace: some})
	if err := off.Refresh(); err != nil {
		t.Errorf("reserve 0: %v", err)
	}
	if got := testutil.ToFloat64(onlyFree{off}); got != 7 {
		t.Errorf("reserve 0: vigil_storage_disk_free_bytes = %v, want 7", got)
	}
	var g *Guard
	if err := g.Check(); err != nil {
		t.Errorf("nil guard: %v", err)
	}
	unreadable := func(string) (uint64, error) { return 0, errors.New("no statfs here") }
	if err := New(Options{Dir: "/data", MinFree: 1, FreeSpace: unreadable}).Refresh(); err != nil {
		t.Errorf("unreadable free space: %v", err)
	}
}

// TestSystemFreeSpace reads the free space of a real folder, where the
// system tells it.
func TestSystemFreeSpace(t *testing.T) {
	if systemFreeSpace == nil {
		t.Skip("this system does not tell the free space of a filesystem to Vigil")
	}
	if _, err := systemFreeSpace(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if _, err := systemFreeSpace("/surely/not/a/folder"); err == nil {
		t.Error("no error for a folder that does not exist")
	}
}
