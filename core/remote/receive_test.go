package remote

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/golang/snappy"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/tsdbutil"

	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/internal/diskguard"
)

// receiver is a store behind the remote-write handler.
type receiver struct {
	db  *tsdb.DB
	url string
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{MaxExemplars: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv := httptest.NewServer(NewWriteHandler(nil, prometheus.NewRegistry(), db))
	t.Cleanup(srv.Close)
	return &receiver{db: db, url: srv.URL}
}

// post sends a request body of protobuf message msg and returns the
// answer's status, body and headers.
func (r *receiver) post(t *testing.T, msg proto.Message, version string) (int, string, http.Header) {
	t.Helper()
	raw, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, r.url, bytes.NewReader(snappy.Encode(nil, raw)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Encoding", "snappy")
	if version == "2" {
		req.Header.Set("Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request")
		req.Header.Set("X-Prometheus-Remote-Write-Version", "2.0.0")
	} else {
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body)), resp.Header
}

// dump lists every sample of the store as "labels st/t value" lines, and
// every exemplar as "labels exemplar labels value@t".
func (r *receiver) dump(t *testing.T) []string {
	t.Helper()
	q, err := r.db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var out []string
	ss := q.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	for ss.Next() {
		s := ss.At()
		it := s.Iterator(nil)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			switch vt {
			case chunkenc.ValFloat:
				ts, v := it.At()
				out = append(out, fmt.Sprintf("%s %d/%d %g", s.Labels(), it.AtST(), ts, v))
			case chunkenc.ValHistogram:
				ts, h := it.AtHistogram(nil)
				out = append(out, fmt.Sprintf("%s %d/%d %s", s.Labels(), it.AtST(), ts, h))
			case chunkenc.ValFloatHistogram:
				ts, h := it.AtFloatHistogram(nil)
				out = append(out, fmt.Sprintf("%s %d/%d %s", s.Labels(), it.AtST(), ts, h))
			}
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	eq, err := r.db.ExemplarQuerier(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res, err := eq.Select(math.MinInt64, math.MaxInt64, []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		for _, e := range r.Exemplars {
			out = append(out, fmt.Sprintf("%s exemplar %s %g@%d", r.SeriesLabels, e.Labels, e.Value, e.Ts))
		}
	}
	return out
}

func v1Series(ls labels.Labels, samples ...prompb.Sample) prompb.TimeSeries {
	ts := prompb.TimeSeries{Samples: samples}
	ls.Range(func(l labels.Label) { ts.Labels = append(ts.Labels, prompb.Label{Name: l.Name, Value: l.Value}) })
	return ts
}

// TestReceiveV1 stores floats, a native histogram and an exemplar sent by
// Remote-Write 1.0.
func TestReceiveV1(t *testing.T) {
	r := newReceiver(t)
	now := time.Now().UnixMilli()
	up := v1Series(labels.FromStrings("__name__", "up", "job", "a"), prompb.Sample{Timestamp: now, Value: 1}, prompb.Sample{Timestamp: now + 1000, Value: 0})
	up.Exemplars = []prompb.Exemplar{{Labels: []prompb.Label{{Name: "trace_id", Value: "abc"}}, Value: 1, Timestamp: now}}
	h := v1Series(labels.FromStrings("__name__", "latency", "job", "a"))
	h.Histograms = []prompb.Histogram{prompb.FromIntHistogram(now, tsdbutil.GenerateTestHistogram(3))}
	status, body, _ := r.post(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{up, h}}, "1")
	if status != http.StatusNoContent {
		t.Fatalf("status %d: %s", status, body)
	}
	want := []string{
		fmt.Sprintf(`{__name__="latency", job="a"} 0/%d %s`, now, tsdbutil.GenerateTestHistogram(3)),
		fmt.Sprintf(`{__name__="up", job="a"} 0/%d 1`, now),
		fmt.Sprintf(`{__name__="up", job="a"} 0/%d 0`, now+1000),
		fmt.Sprintf(`{__name__="up", job="a"} exemplar {trace_id="abc"} 1@%d`, now),
	}
	if diff := cmp.Diff(want, r.dump(t)); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
}

// v2Request builds a Remote-Write 2.0 request of series, each given as
// its labels and a function that fills the rest with the symbol table.
type v2Series struct {
	labels labels.Labels
	fill   func(st *writev2.SymbolsTable, ts *writev2.TimeSeries)
}

func v2Request(series ...v2Series) *writev2.Request {
	st := writev2.NewSymbolTable()
	req := &writev2.Request{}
	for _, s := range series {
		ts := writev2.TimeSeries{LabelsRefs: st.SymbolizeLabels(s.labels, nil)}
		s.fill(&st, &ts)
		req.Timeseries = append(req.Timeseries, ts)
	}
	req.Symbols = st.Symbols()
	return req
}

// TestReceiveV2 stores floats with their start timestamps, a native
// histogram and an exemplar sent by Remote-Write 2.0, and says how many
// it wrote.
func TestReceiveV2(t *testing.T) {
	r := newReceiver(t)
	now := time.Now().UnixMilli()
	req := v2Request(
		v2Series{labels.FromStrings("__name__", "requests_total", "job", "a"), func(st *writev2.SymbolsTable, ts *writev2.TimeSeries) {
			ts.Samples = []writev2.Sample{{Value: 5, Timestamp: now, StartTimestamp: now - 60000}, {Value: 7, Timestamp: now + 1000, StartTimestamp: now - 60000}}
			ts.Exemplars = []writev2.Exemplar{{LabelsRefs: st.SymbolizeLabels(labels.FromStrings("trace_id", "xyz"), nil), Value: 1, Timestamp: now}}
		}},
		v2Series{labels.FromStrings("__name__", "latency", "job", "a"), func(_ *writev2.SymbolsTable, ts *writev2.TimeSeries) {
			ts.Histograms = []writev2.Histogram{writev2.FromIntHistogram(0, now, tsdbutil.GenerateTestHistogram(2))}
		}},
	)
	status, body, header := r.post(t, req, "2")
	if status != http.StatusNoContent {
		t.Fatalf("status %d: %s", status, body)
	}
	if s, h, e := header.Get("X-Prometheus-Remote-Write-Samples-Written"), header.Get("X-Prometheus-Remote-Write-Histograms-Written"), header.Get("X-Prometheus-Remote-Write-Exemplars-Written"); s != "2" || h != "1" || e != "1" {
		t.Errorf("written: %s samples, %s histograms, %s exemplars; want 2, 1, 1", s, h, e)
	}
	want := []string{
		fmt.Sprintf(`{__name__="latency", job="a"} 0/%d %s`, now, tsdbutil.GenerateTestHistogram(2)),
		fmt.Sprintf(`{__name__="requests_total", job="a"} %d/%d 5`, now-60000, now),
		fmt.Sprintf(`{__name__="requests_total", job="a"} %d/%d 7`, now-60000, now+1000),
		fmt.Sprintf(`{__name__="requests_total", job="a"} exemplar {trace_id="xyz"} 1@%d`, now),
	}
	if diff := cmp.Diff(want, r.dump(t)); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
}

// TestReceiveBadInput checks that a request with a bad sample or series
// is answered 400 with the reason and that nothing of it is stored, by
// both versions, although upstream's handler keeps the rest of it.
func TestReceiveBadInput(t *testing.T) {
	now := time.Now().UnixMilli()
	good := labels.FromStrings("__name__", "good", "job", "a")
	for name, tc := range map[string]struct {
		version string
		req     func() proto.Message
		reason  string
	}{
		"v1 series without a name": {"1", func() proto.Message {
			return &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
				v1Series(good, prompb.Sample{Timestamp: now, Value: 1}),
				v1Series(labels.FromStrings("job", "a"), prompb.Sample{Timestamp: now, Value: 1}),
			}}
		}, `series 1, {job="a"}, has no metric name`},
		"v1 label twice": {"1", func() proto.Message {
			ts := v1Series(good, prompb.Sample{Timestamp: now, Value: 1})
			ts.Labels = append(ts.Labels, prompb.Label{Name: "job", Value: "b"})
			return &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts}}
		}, `has the label "job" twice`},
		"v1 out of order": {"1", func() proto.Message {
			return &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
				v1Series(good, prompb.Sample{Timestamp: now, Value: 1}),
				v1Series(labels.FromStrings("__name__", "old", "job", "a"), prompb.Sample{Timestamp: now - 10000, Value: 1}),
			}}
		}, "out of order sample"},
		"v1 too far ahead": {"1", func() proto.Message {
			return &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
				v1Series(good, prompb.Sample{Timestamp: now, Value: 1}, prompb.Sample{Timestamp: now + time.Hour.Milliseconds(), Value: 2}),
			}}
		}, "out of bounds"},
		"v2 series without a name": {"2", func() proto.Message {
			return v2Request(
				v2Series{good, func(_ *writev2.SymbolsTable, ts *writev2.TimeSeries) {
					ts.Samples = []writev2.Sample{{Value: 1, Timestamp: now}}
				}},
				v2Series{labels.FromStrings("job", "a"), func(_ *writev2.SymbolsTable, ts *writev2.TimeSeries) {
					ts.Samples = []writev2.Sample{{Value: 1, Timestamp: now}}
				}},
			)
		}, "invalid metric name or labels"},
		"v2 out of order": {"2", func() proto.Message {
			return v2Request(
				v2Series{good, func(_ *writev2.SymbolsTable, ts *writev2.TimeSeries) {
					ts.Samples = []writev2.Sample{{Value: 1, Timestamp: now}}
				}},
				v2Series{labels.FromStrings("__name__", "old", "job", "a"), func(_ *writev2.SymbolsTable, ts *writev2.TimeSeries) {
					ts.Samples = []writev2.Sample{{Value: 1, Timestamp: now - 10000}}
				}},
			)
		}, "out of order sample"},
		"v2 no samples": {"2", func() proto.Message {
			return v2Request(
				v2Series{good, func(_ *writev2.SymbolsTable, ts *writev2.TimeSeries) {
					ts.Samples = []writev2.Sample{{Value: 1, Timestamp: now}}
				}},
				v2Series{labels.FromStrings("__name__", "empty"), func(*writev2.SymbolsTable, *writev2.TimeSeries) {}},
			)
		}, "must contain at least one sample"},
		"not protobuf": {"1", func() proto.Message { return nil }, "corrupt input"},
	} {
		t.Run(name, func(t *testing.T) {
			r := newReceiver(t)
			// A sample of "old" newer than the one sent, so that one is out
			// of order; the store has no out-of-order window.
			seed := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{v1Series(labels.FromStrings("__name__", "old", "job", "a"), prompb.Sample{Timestamp: now, Value: 0})}}
			if status, body, _ := r.post(t, seed, "1"); status != http.StatusNoContent {
				t.Fatalf("seed: %d %s", status, body)
			}
			before := r.dump(t)
			var status int
			var body string
			var header http.Header
			if msg := tc.req(); msg != nil {
				status, body, header = r.post(t, msg, tc.version)
			} else {
				resp, err := http.Post(r.url, "application/x-protobuf", strings.NewReader("not snappy"))
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				status, body = resp.StatusCode, string(b)
			}
			if status != http.StatusBadRequest || !strings.Contains(body, tc.reason) {
				t.Errorf("answer %d %q, want 400 with %q", status, body, tc.reason)
			}
			if n := header.Get("X-Prometheus-Remote-Write-Samples-Written"); n != "" && n != "0" {
				t.Errorf("the answer says %s samples were written", n)
			}
			if diff := cmp.Diff(before, r.dump(t)); diff != "" {
				t.Errorf("stored (-before +after):\n%s", diff)
			}
		})
	}
}

// TestReceiveConcurrent posts requests of both versions from several
// goroutines at once, each with series of its own, half of them bad, and
// finds exactly the samples of the good ones stored: each request's
// transaction is its own.
func TestReceiveConcurrent(t *testing.T) {
	r := newReceiver(t)
	now := time.Now().UnixMilli()
	var want []string
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		for i := range 8 {
			ls := labels.FromStrings("__name__", "concurrent", "worker", fmt.Sprint(w), "request", fmt.Sprint(i))
			bad := i%2 == 1
			samples := []prompb.Sample{{Timestamp: now, Value: float64(w)}, {Timestamp: now + 1000, Value: float64(i)}}
			if !bad {
				for _, s := range samples {
					want = append(want, fmt.Sprintf("%s 0/%d %g", ls, s.Timestamp, s.Value))
				}
			}
			var msg proto.Message
			version := fmt.Sprint(1 + w%2)
			if version == "1" {
				series := []prompb.TimeSeries{v1Series(ls, samples...)}
				if bad {
					series = append(series, v1Series(labels.FromStrings("worker", "nameless"), samples...))
				}
				msg = &prompb.WriteRequest{Timeseries: series}
			} else {
				fill := func(_ *writev2.SymbolsTable, ts *writev2.TimeSeries) {
					for _, s := range samples {
						ts.Samples = append(ts.Samples, writev2.Sample{Value: s.Value, Timestamp: s.Timestamp})
					}
				}
				series := []v2Series{{ls, fill}}
				if bad {
					series = append(series, v2Series{labels.FromStrings("worker", "nameless"), fill})
				}
				msg = v2Request(series...)
			}
			wg.Go(func() {
				status, body, _ := r.post(t, msg, version)
				if (status == http.StatusNoContent) == bad {
					errs <- fmt.Errorf("request %d of worker %d (bad: %v): %d %s", i, w, bad, status, body)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	slices.Sort(want)
	got := r.dump(t)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
}

// TestReceiveV2ExemplarSeries takes a Remote-Write 2.0 request as
// upstream's sender makes it, with each exemplar in a series of its own
// without samples, which upstream's handler alone refuses: the samples and
// the exemplars are stored, except an exemplar of a series the store does
// not have, which is dropped.
func TestReceiveV2ExemplarSeries(t *testing.T) {
	r := newReceiver(t)
	now := time.Now().UnixMilli()
	ls := labels.FromStrings("__name__", "requests_total", "job", "a")
	exemplarOf := func(trace string, v float64, ts int64) func(st *writev2.SymbolsTable, s *writev2.TimeSeries) {
		return func(st *writev2.SymbolsTable, s *writev2.TimeSeries) {
			s.Exemplars = []writev2.Exemplar{{LabelsRefs: st.SymbolizeLabels(labels.FromStrings("trace_id", trace), nil), Value: v, Timestamp: ts}}
		}
	}
	req := v2Request(
		v2Series{ls, func(_ *writev2.SymbolsTable, s *writev2.TimeSeries) {
			s.Samples = []writev2.Sample{{Value: 3, Timestamp: now}}
		}},
		v2Series{ls, exemplarOf("one", 3, now)},
		v2Series{labels.FromStrings("__name__", "unknown"), exemplarOf("two", 1, now)},
	)
	status, body, header := r.post(t, req, "2")
	if status != http.StatusNoContent {
		t.Fatalf("status %d: %s", status, body)
	}
	if s, e := header.Get("X-Prometheus-Remote-Write-Samples-Written"), header.Get("X-Prometheus-Remote-Write-Exemplars-Written"); s != "1" || e != "1" {
		t.Errorf("written: %s samples, %s exemplars; want 1 and 1", s, e)
	}
	want := []string{
		fmt.Sprintf(`{__name__="requests_total", job="a"} 0/%d 3`, now),
		fmt.Sprintf(`{__name__="requests_total", job="a"} exemplar {trace_id="one"} 3@%d`, now),
	}
	if diff := cmp.Diff(want, r.dump(t)); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
}

// TestReceiveOutOfOrderExemplarKeepsSamples: an exemplar older than the
// newest one its series has, sent beside new samples, is dropped as
// upstream's handler drops it, and the samples of the request are
// stored, by both versions.
func TestReceiveOutOfOrderExemplarKeepsSamples(t *testing.T) {
	now := time.Now().UnixMilli()
	ls := labels.FromStrings("__name__", "requests_total", "job", "a")
	for _, version := range []string{"1", "2"} {
		t.Run("Remote-Write "+version, func(t *testing.T) {
			r := newReceiver(t)
			send := func(v float64, ts, exemplarTS int64) (int, string) {
				var msg proto.Message
				if version == "1" {
					s := v1Series(ls, prompb.Sample{Value: v, Timestamp: ts})
					s.Exemplars = []prompb.Exemplar{{Labels: []prompb.Label{{Name: "trace_id", Value: fmt.Sprint(exemplarTS)}}, Value: v, Timestamp: exemplarTS}}
					msg = &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{s}}
				} else {
					msg = v2Request(v2Series{ls, func(st *writev2.SymbolsTable, s *writev2.TimeSeries) {
						s.Samples = []writev2.Sample{{Value: v, Timestamp: ts}}
						s.Exemplars = []writev2.Exemplar{{LabelsRefs: st.SymbolizeLabels(labels.FromStrings("trace_id", fmt.Sprint(exemplarTS)), nil), Value: v, Timestamp: exemplarTS}}
					}})
				}
				status, body, _ := r.post(t, msg, version)
				return status, body
			}
			if status, body := send(1, now, now); status != http.StatusNoContent {
				t.Fatalf("first request: %d %s", status, body)
			}
			// The second request's sample is newer, its exemplar older.
			if status, body := send(2, now+1000, now-1000); status != http.StatusNoContent {
				t.Fatalf("a request with an out-of-order exemplar: %d %s", status, body)
			}
			want := []string{
				fmt.Sprintf(`{__name__="requests_total", job="a"} 0/%d 1`, now),
				fmt.Sprintf(`{__name__="requests_total", job="a"} 0/%d 2`, now+1000),
				fmt.Sprintf(`{__name__="requests_total", job="a"} exemplar {trace_id="%d"} 1@%d`, now, now),
			}
			if diff := cmp.Diff(want, r.dump(t)); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReceiveRefusesOversizedBodies checks the bounds of a request: a
// body over 32 MB answers 413, and one whose snappy header claims more
// than 32 MB decoded answers 400 (FuzzReceive checks that it does so
// without allocating what it claims).
func TestReceiveRefusesOversizedBodies(t *testing.T) {
	r := newReceiver(t)
	for name, tc := range map[string]struct {
		body   []byte
		status int
	}{
		"too long":         {make([]byte, maxWriteBytes+1), http.StatusRequestEntityTooLarge},
		"claims 4 GB":      {[]byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0x00}, http.StatusBadRequest},
		"claims 32 MB + 1": {snappyHeader(maxWriteBytes + 1), http.StatusBadRequest},
	} {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, r.url, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Encoding", "snappy")
			req.Header.Set("Content-Type", "application/x-protobuf")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.status)
			}
		})
	}
}

// snappyHeader is the start of a snappy block claiming n bytes decoded.
func snappyHeader(n int) []byte {
	var b []byte
	for ; n >= 0x80; n >>= 7 {
		b = append(b, byte(n)|0x80)
	}
	return append(b, byte(n), 0)
}

// TestReceiveOnAFullDisk checks that a request the store refuses for a
// full disk answers 503, which senders retry, and stores nothing.
func TestReceiveOnAFullDisk(t *testing.T) {
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{SpaceCheck: func() error {
		return fmt.Errorf("%w: 0 bytes free", diskguard.ErrDiskFull)
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv := httptest.NewServer(NewWriteHandler(nil, prometheus.NewRegistry(), db))
	t.Cleanup(srv.Close)
	r := &receiver{db: db, url: srv.URL}
	up := v1Series(labels.FromStrings("__name__", "up", "job", "a"), prompb.Sample{Timestamp: time.Now().UnixMilli(), Value: 1})
	status, body, _ := r.post(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{up}}, "1")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "disk full") {
		t.Fatalf("status %d (%s), want 503 saying the disk is full", status, body)
	}
	if got := r.dump(t); len(got) != 0 {
		t.Errorf("stored on a full disk: %v", got)
	}
}
