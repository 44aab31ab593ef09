package remote

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/gogo/protobuf/proto"
	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/tsdb/tsdbutil"

	"github.com/vigilmon/vigil/core/tsdb"
)

// Modes of FuzzReceive's requests, bits of its first argument.
const (
	fuzzV2  = 1 // a Remote-Write 2.0 request, else 1.0
	fuzzRaw = 2 // the body is sent as it is, else snappy-compressed
)

// maxFuzzAlloc bounds what one remote-write request of FuzzReceive may
// allocate, beyond a hundred times its size: the bodies are small.
const maxFuzzAlloc = 64 << 20

// FuzzReceive posts any remote-write body, of either version, compressed
// or as it is, to the receiver over a store. It must not panic, the
// answer is a 2xx or a 4xx (the store has room: a 5xx would be a
// refusal of a good request), and a request allocates memory in
// proportion to its size, whatever its snappy header claims.
func FuzzReceive(f *testing.F) {
	ts := int64(1_700_000_000_000)
	up := v1Series(labels.FromStrings("__name__", "up", "job", "a"), prompb.Sample{Timestamp: ts, Value: 1})
	up.Exemplars = []prompb.Exemplar{{Labels: []prompb.Label{{Name: "trace_id", Value: "abc"}}, Value: 1, Timestamp: ts}}
	h := v1Series(labels.FromStrings("__name__", "latency", "job", "a"))
	h.Histograms = []prompb.Histogram{prompb.FromIntHistogram(ts, tsdbutil.GenerateTestHistogram(3))}
	noName := v1Series(labels.FromStrings("job", "a"), prompb.Sample{Timestamp: ts, Value: 1})
	v2 := v2Request(
		v2Series{labels.FromStrings("__name__", "requests_total", "job", "a"), func(st *writev2.SymbolsTable, s *writev2.TimeSeries) {
			s.Samples = []writev2.Sample{{Value: 5, Timestamp: ts, StartTimestamp: ts - 60000}}
			s.Exemplars = []writev2.Exemplar{{LabelsRefs: st.SymbolizeLabels(labels.FromStrings("trace_id", "xyz"), nil), Value: 1, Timestamp: ts}}
		}},
		v2Series{labels.FromStrings("__name__", "latency", "job", "a"), func(_ *writev2.SymbolsTable, s *writev2.TimeSeries) {
			s.Histograms = []writev2.Histogram{writev2.FromIntHistogram(0, ts, tsdbutil.GenerateTestHistogram(2))}
		}},
		v2Series{labels.FromStrings("__name__", "requests_total", "job", "b"), func(st *writev2.SymbolsTable, s *writev2.TimeSeries) {
			s.Exemplars = []writev2.Exemplar{{LabelsRefs: st.SymbolizeLabels(labels.FromStrings("trace_id", "only"), nil), Value: 1, Timestamp: ts}}
		}},
	)
	for _, msg := range []proto.Message{&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{up, h}}, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{noName}}} {
		raw, err := proto.Marshal(msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(0), raw)
		f.Add(uint8(fuzzRaw), snappy.Encode(nil, raw))
	}
	raw, err := proto.Marshal(v2)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(fuzzV2), raw)
	f.Add(uint8(fuzzV2|fuzzRaw), snappy.Encode(nil, raw))
	// A snappy header claiming a body of 4 GB.
	f.Add(uint8(fuzzRaw), []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0x00})

	db, err := tsdb.Open(f.TempDir(), tsdb.Options{MaxExemplars: 100})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	handler := NewWriteHandler(nil, prometheus.NewRegistry(), db)
	f.Fuzz(func(t *testing.T, mode uint8, body []byte) {
		if mode&fuzzRaw == 0 {
			body = snappy.Encode(nil, body)
		}
		req := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(body))
		req.Header.Set("Content-Encoding", "snappy")
		if mode&fuzzV2 != 0 {
			req.Header.Set("Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request")
			req.Header.Set("X-Prometheus-Remote-Write-Version", "2.0.0")
		} else {
			req.Header.Set("Content-Type", "application/x-protobuf")
			req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		runtime.ReadMemStats(&after)
		if rec.Code >= 500 {
			t.Fatalf("%d: %s", rec.Code, rec.Body)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > maxFuzzAlloc+100*uint64(len(body)) {
			t.Fatalf("a request of %d bytes allocated %d MB (answer %d: %s)", len(body), n>>20, rec.Code, rec.Body)
		}
	})
}
