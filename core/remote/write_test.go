package remote

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/golang/snappy"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/wlog"

	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/hclconfig"
)

// fakeReceiver is a Remote-Write 1.0 receiver that refuses every request
// with 503 while down, and otherwise keeps the samples by series.
type fakeReceiver struct {
	down    atomic.Bool
	refused atomic.Int64
	mu      sync.Mutex
	samples map[string][]prompb.Sample
}

func (f *fakeReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.down.Load() {
		f.refused.Add(1)
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req prompb.WriteRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b := labels.NewScratchBuilder(0)
	for _, ts := range req.Timeseries {
		key := ts.ToLabels(&b, nil).String()
		f.samples[key] = append(f.samples[key], ts.Samples...)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeReceiver) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.samples {
		n += len(s)
	}
	return n
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// remoteWrite is a remote_write block for url, with a small queue and
// short backoffs, so that a test runs quickly.
func remoteWrite(t *testing.T, name, rawURL, protobufMessage string) *hclconfig.RemoteWrite {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := hclconfig.DefaultRemoteWriteQueue
	q.Capacity, q.MaxSamplesPerSend, q.MaxShards = 20, 10, 2
	q.BatchSendDeadline, q.MinBackoff, q.MaxBackoff = 20*time.Millisecond, 5*time.Millisecond, 50*time.Millisecond
	return &hclconfig.RemoteWrite{
		Name: name, URL: u, ProtobufMessage: protobufMessage, RemoteTimeout: 10 * time.Second,
		SendExemplars: true, SendNativeHistograms: true, Queue: q,
	}
}

// TestReceiverDownThenUp sends through a receiver that refuses every
// request for a while, during which the store seals its chunks and
// truncates its write-ahead log again and again; once the receiver is
// back, every sample arrives, each once, with the external labels.
// Without the segments the watcher still needs, the store would delete
// them and the watcher would skip to the end of the log.
func TestReceiverDownThenUp(t *testing.T) {
	receiver := &fakeReceiver{samples: map[string][]prompb.Sample{}}
	receiver.down.Store(true)
	srv := httptest.NewServer(receiver)
	defer srv.Close()

	dir := t.TempDir()
	sender := NewSender(SenderOptions{DataDir: dir})
	db, err := tsdb.Open(dir, tsdb.Options{WALReader: sender})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	defer sender.Close()
	cfg := &hclconfig.Config{
		Global:       hclconfig.Global{ExternalLabels: map[string]string{"replica": "a"}},
		RemoteWrites: []*hclconfig.RemoteWrite{remoteWrite(t, "test", srv.URL+"/api/v1/write", hclconfig.RemoteWriteV1)},
	}
	if err := sender.ApplyConfig(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the watcher to start", func() bool { return watcherStarted(t, sender) })

	// In the future, so that the watcher, which sends only what is newer
	// than its start, sends them all.
	base := time.Now().Add(time.Hour).UnixMilli()
	want := map[string][]prompb.Sample{}
	round := func(r int) {
		t.Helper()
		for i := range 20 {
			app := db.AppenderV2(context.Background())
			for s := range 3 {
				ls := labels.FromStrings("__name__", "outage_test", "series", fmt.Sprint(s))
				smp := prompb.Sample{Timestamp: base + int64(r*1000+i), Value: float64(r*100 + i + s)}
				if _, err := app.Append(0, ls, 0, smp.Timestamp, smp.Value, nil, nil, storage.AppendV2Options{}); err != nil {
					t.Fatal(err)
				}
				key := labels.FromStrings("__name__", "outage_test", "replica", "a", "series", fmt.Sprint(s)).String()
				want[key] = append(want[key], smp)
			}
			if err := app.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	for r := range 5 {
		round(r)
	}
	waitFor(t, "the sender to try the receiver", func() bool { return receiver.refused.Load() > 3 })
	for r := 5; r < 10; r++ {
		round(r)
	}
	if err := db.Compact(); err != nil {
		t.Fatal(err)
	}
	first, last, err := wlog.Segments(filepath.Join(dir, "wal"))
	if err != nil {
		t.Fatal(err)
	}
	if last-first < 9 {
		t.Errorf("segments %d to %d while the receiver is down: the ones not sent should stay", first, last)
	}

	receiver.down.Store(false)
	total := 10 * 20 * 3
	waitFor(t, "every sample to arrive", func() bool {
		// As later commits would: a watcher that is not yet waiting misses
		// a notification, and would read only at its next poll.
		sender.Notify()
		return receiver.count() >= total
	})
	// Anything queued twice would be sent by now too.
	waitFor(t, "the queue to drain", func() bool { return pending(t, sender) == 0 })
	receiver.mu.Lock()
	defer receiver.mu.Unlock()
	if diff := cmp.Diff(want, receiver.samples); diff != "" {
		t.Errorf("received (-want +got):\n%s", diff)
	}
}

// gauge sums the values of the sender's gauge name; false when it has
// none.
func gauge(t *testing.T, s *Sender, name string) (float64, bool) {
	t.Helper()
	families, err := s.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		sum := 0.0
		for _, m := range mf.GetMetric() {
			sum += m.GetGauge().GetValue()
		}
		return sum, len(mf.GetMetric()) > 0
	}
	return 0, false
}

// watcherStarted says whether the sender's watchers report the segment
// they read.
func watcherStarted(t *testing.T, s *Sender) bool {
	_, ok := gauge(t, s, currentSegmentMetric)
	return ok
}

// pending is the samples the sender's queues hold.
func pending(t *testing.T, s *Sender) float64 {
	n, _ := gauge(t, s, "prometheus_remote_storage_samples_pending")
	return n
}

// TestSenderReload applies a changed remote_write block, whose queue then
// sends to the new URL, and a configuration without one, after which the
// sender holds no segment of the log.
func TestSenderReload(t *testing.T) {
	first := &fakeReceiver{samples: map[string][]prompb.Sample{}}
	second := &fakeReceiver{samples: map[string][]prompb.Sample{}}
	srv1, srv2 := httptest.NewServer(first), httptest.NewServer(second)
	defer srv1.Close()
	defer srv2.Close()
	dir := t.TempDir()
	sender := NewSender(SenderOptions{DataDir: dir})
	db, err := tsdb.Open(dir, tsdb.Options{WALReader: sender})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	defer sender.Close()
	if got := sender.LowestSegment(); got != math.MaxInt {
		t.Errorf("without queues the sender holds segment %d", got)
	}
	base := time.Now().Add(time.Hour).UnixMilli()
	send := func(rw *hclconfig.RemoteWrite, to *fakeReceiver, ts int64) {
		t.Helper()
		if err := sender.ApplyConfig(context.Background(), &hclconfig.Config{RemoteWrites: []*hclconfig.RemoteWrite{rw}}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the watcher to start", func() bool { return watcherStarted(t, sender) })
		app := db.AppenderV2(context.Background())
		if _, err := app.Append(0, labels.FromStrings("__name__", "reload_test"), 0, ts, 1, nil, nil, storage.AppendV2Options{}); err != nil {
			t.Fatal(err)
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the sample to arrive", func() bool {
			sender.Notify()
			to.mu.Lock()
			defer to.mu.Unlock()
			s := to.samples[`{__name__="reload_test"}`]
			return len(s) > 0 && s[len(s)-1].Timestamp == ts
		})
	}
	send(remoteWrite(t, "peer", srv1.URL, hclconfig.RemoteWriteV1), first, base)
	if got := sender.LowestSegment(); got == math.MaxInt {
		t.Error("with a queue the sender holds no segment")
	}
	send(remoteWrite(t, "peer", srv2.URL, hclconfig.RemoteWriteV1), second, base+1000)
	if n := first.count(); n != 1 {
		t.Errorf("the first receiver got %d samples, want the one sent before the reload", n)
	}
	if err := sender.ApplyConfig(context.Background(), &hclconfig.Config{}); err != nil {
		t.Fatal(err)
	}
	if got := sender.LowestSegment(); got != math.MaxInt {
		t.Errorf("after the queues were removed the sender holds segment %d", got)
	}
}
