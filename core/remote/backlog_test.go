package remote

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/golang/snappy"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"

	"github.com/vigilmon/vigil/internal/hclogslog"
)

// orderedReceiver is a Remote-Write 1.0 receiver that, like a store
// without an out-of-order window, refuses with 400 a whole request with a
// sample not newer than the newest of its series, and refuses every
// request with 503 for its first down ones.
type orderedReceiver struct {
	mu               sync.Mutex
	down             int
	unavailable, bad int
	samples          map[string][]int64 // timestamps by series
}

func (o *orderedReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.down > 0 {
		o.down--
		o.unavailable++
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(r.Body)
	raw, err := snappy.Decode(nil, body)
	var req prompb.WriteRequest
	if err == nil {
		err = proto.Unmarshal(raw, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	newest := map[string]int64{}
	b := labels.NewScratchBuilder(0)
	for _, ts := range req.Timeseries {
		key := ts.ToLabels(&b, nil).String()
		last, ok := newest[key]
		if !ok && len(o.samples[key]) > 0 {
			last, ok = o.samples[key][len(o.samples[key])-1], true
		}
		for _, s := range ts.Samples {
			if ok && s.Timestamp <= last {
				o.bad++
				http.Error(w, "out of order sample", http.StatusBadRequest)
				return
			}
			last, ok = s.Timestamp, true
		}
		newest[key] = last
	}
	for _, ts := range req.Timeseries {
		key := ts.ToLabels(&b, nil).String()
		for _, s := range ts.Samples {
			o.samples[key] = append(o.samples[key], s.Timestamp)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// span is the timestamps from to to.
func span(from, to int64) []int64 {
	var out []int64
	for t := from; t <= to; t++ {
		out = append(out, t)
	}
	return out
}

// TestBacklogSendsWhatWasNotSent writes a log of two series, of which the
// receiver has some samples already, and has a backlog send it from a
// timestamp before what the receiver has, while the receiver is down at
// first: once it is up, each series has every sample once, in order. The
// samples the receiver refuses as out of order are the resent ones only.
// Samples written to the log afterwards are sent by the next CatchUp.
func TestBacklogSendsWhatWasNotSent(t *testing.T) {
	dir := t.TempDir()
	w, err := wlog.New(nil, nil, dir, "none")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var enc record.Encoder
	log := func(recs ...[]byte) {
		t.Helper()
		if err := w.Log(recs...); err != nil {
			t.Fatal(err)
		}
	}
	log(enc.Series([]record.RefSeries{
		{Ref: 1, Labels: labels.FromStrings("__name__", "a")},
		{Ref: 2, Labels: labels.FromStrings("__name__", "b")},
	}, nil))
	appendSamples := func(from, to int64) {
		for ts := from; ts <= to; ts++ {
			log(enc.Samples([]record.RefSample{{Ref: 1, T: ts, V: float64(ts)}, {Ref: 2, T: ts, V: float64(ts)}}, nil))
		}
	}
	appendSamples(1, 20)

	receiver := &orderedReceiver{down: 3, samples: map[string][]int64{
		`{__name__="a", agent="x"}`: span(1, 10),
		`{__name__="b", agent="x"}`: span(1, 8),
	}}
	srv := httptest.NewServer(receiver)
	defer srv.Close()
	u := &commoncfg.URL{}
	if err := u.UnmarshalYAML(func(v any) error { *(v.(*string)) = srv.URL; return nil }); err != nil {
		t.Fatal(err)
	}
	client, err := remote.NewWriteClient("test", &remote.ClientConfig{URL: u, Timeout: model.Duration(10 * time.Second), WriteProtoMsg: "prometheus.WriteRequest"})
	if err != nil {
		t.Fatal(err)
	}
	b := newBacklog(backlogOptions{
		name: "test", walDir: dir, client: client, externalLabels: labels.FromStrings("agent", "x"), after: 5,
		minBackoff: time.Millisecond, maxBackoff: 10 * time.Millisecond,
		logger: hclog.NewNullLogger(), slog: hclogslog.New(hclog.NewNullLogger()),
	})
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	appendSamples(21, 25)
	if err := b.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	receiver.mu.Lock()
	defer receiver.mu.Unlock()
	want := map[string][]int64{`{__name__="a", agent="x"}`: span(1, 25), `{__name__="b", agent="x"}`: span(1, 25)}
	if diff := cmp.Diff(want, receiver.samples); diff != "" {
		t.Errorf("the receiver's samples (-want +got):\n%s", diff)
	}
	if receiver.unavailable != 3 || receiver.bad == 0 {
		t.Errorf("%d requests refused as unavailable, %d as bad; want 3 and some", receiver.unavailable, receiver.bad)
	}
	if b.sent != 25 {
		t.Errorf("the backlog says it sent up to %d, want 25", b.sent)
	}
}
