package push

import (
	"bytes"
	"encoding/base64"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"
)

// FuzzGroupingOf reads any push path. It must not panic, and a grouping
// it reads, written back as a path with every value in base64, reads
// back the same.
func FuzzGroupingOf(f *testing.F) {
	for _, s := range []string{
		"/metrics/job/app", "/metrics/job/app/instance/a", "/metrics/job@base64/YXBw/path@base64/L3Zhci90bXA",
		"/metrics/job/app/instance", "/metrics/job/", "/metrics/job/app/__name__/x", "/metrics/job/app/a@base64/=",
		"/metrics/job@base64/=", "/metrics/job/a/b/c/d/e/f", "/metrics/job/a//b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		grouping, err := groupingOf(path)
		if err != nil {
			return
		}
		if grouping[model.JobLabel] == "" {
			t.Fatalf("groupingOf(%q) = %v, without a job", path, grouping)
		}
		enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		var b strings.Builder
		b.WriteString("/metrics/job@base64/" + enc(grouping[model.JobLabel]))
		for _, name := range slices.Sorted(maps.Keys(grouping)) {
			if name != model.JobLabel {
				b.WriteString("/" + name + "@base64/" + enc(grouping[name]))
			}
		}
		again, err := groupingOf(b.String())
		if err != nil {
			t.Fatalf("groupingOf(%q) = %v, written back as %q, which does not read: %v", path, grouping, b.String(), err)
		}
		if !maps.Equal(grouping, again) {
			t.Fatalf("groupingOf(%q) = %v, written back as %q, reads %v", path, grouping, b.String(), again)
		}
	})
}

// Request shapes of FuzzPush, picked by its first argument.
var (
	fuzzMethods   = []string{http.MethodPut, http.MethodPost, http.MethodDelete}
	fuzzTypes     = []string{"text/plain; version=0.0.4", "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited", ""}
	fuzzEncodings = []string{"", "gzip", "snappy"}
)

// fuzzBodyLimit is the push body limit of FuzzPush.
const fuzzBodyLimit = 1 << 20

// FuzzPush sends pushes of any path and body, in any format and
// encoding, to the push API over a store. It must not panic, a push is
// accepted or refused as the client's fault (4xx), and it allocates
// memory in proportion to the body limit, whatever its sizes claim.
func FuzzPush(f *testing.F) {
	text := "# TYPE jobs_total counter\njobs_total{queue=\"a\"} 3\nbatch_seconds 1.5\n"
	mf := &dto.MetricFamily{Name: proto.String("temp"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(21.5)}}}}
	var pb bytes.Buffer
	if _, err := protodelim.MarshalTo(&pb, mf); err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(0), "/metrics/job/app/instance/a", []byte(text))
	f.Add(uint8(1), "/metrics/job@base64/YXBw", []byte(text))
	f.Add(uint8(3), "/metrics/job/app", pb.Bytes())
	f.Add(uint8(0), "/metrics/job/app", []byte("x 1 1700000000000\n"))
	f.Add(uint8(0), "/metrics/job/app", []byte("# TYPE x counter\nx -1\n"))
	f.Add(uint8(3), "/metrics/job/app", []byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add(uint8(2), "/metrics/job/app", []byte(nil))

	st, err := Open(Options{Dir: f.TempDir(), MaxGroups: 100, Now: func() time.Time { return time.Unix(1_700_000_000, 0) }})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	mux := http.NewServeMux()
	NewHandler(st, HandlerOptions{MaxBodyBytes: fuzzBodyLimit}).Register(mux)
	f.Fuzz(func(t *testing.T, shape uint8, path string, body []byte) {
		method := fuzzMethods[int(shape)%len(fuzzMethods)]
		ctype := fuzzTypes[int(shape/3)%len(fuzzTypes)]
		encoding := fuzzEncodings[int(shape/9)%len(fuzzEncodings)]
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?#\x00") {
			path = "/metrics/job/" + base64.RawURLEncoding.EncodeToString([]byte(path))
		}
		req := httptest.NewRequest(method, "/", bytes.NewReader(body))
		req.URL.Path = path
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Content-Encoding", encoding)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		runtime.ReadMemStats(&after)
		if rec.Code >= 500 {
			t.Fatalf("%s %s (%s, %s): %d %s", method, path, ctype, encoding, rec.Code, rec.Body)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 64*fuzzBodyLimit+100*uint64(len(body)) {
			t.Fatalf("%s %s (%s, %s) of %d bytes allocated %d MB", method, path, ctype, encoding, len(body), n>>20)
		}
	})
}
