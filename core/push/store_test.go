package push

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"go.uber.org/goleak"

	"github.com/vigilmon/vigil/internal/concurrencytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a settable clock for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testServer serves a store opened in dir with opts over the push API.
type testServer struct {
	t     *testing.T
	store *Store
	srv   *httptest.Server
	clock *clock
}

func newTestServer(t *testing.T, dir string, opts Options, hopts HandlerOptions) *testServer {
	t.Helper()
	c := &clock{t: time.Unix(1_700_000_000, 0).UTC()}
	opts.Dir, opts.Now = dir, c.now
	st, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	NewHandler(st, hopts).Register(mux)
	srv := httptest.NewServer(mux)
	ts := &testServer{t: t, store: st, srv: srv, clock: c}
	t.Cleanup(ts.close)
	return ts
}

func (ts *testServer) close() {
	if ts.srv == nil {
		return
	}
	ts.srv.Close()
	if err := ts.store.Close(); err != nil {
		ts.t.Error(err)
	}
	ts.srv = nil
}

// do sends a request and returns the status and body of the answer.
func (ts *testServer) do(method, path, body string, header ...string) (int, string) {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.srv.URL+path, strings.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// mustDo is do, failing the test unless the status is want.
func (ts *testServer) mustDo(want int, method, path, body string) {
	ts.t.Helper()
	if code, msg := ts.do(method, path, body); code != want {
		ts.t.Fatalf("%s %s: %d %q, want %d", method, path, code, msg, want)
	}
}

// exposition is what /push/metrics serves, in the text format.
func (ts *testServer) exposition() string {
	ts.t.Helper()
	_, body := ts.do(http.MethodGet, "/push/metrics", "", "Accept", "text/plain")
	return body
}

// pushed returns the pushed samples of the exposition, without the push
// times, one line each, sorted.
func (ts *testServer) pushed() []string {
	ts.t.Helper()
	var out []string
	for _, line := range strings.Split(ts.exposition(), "\n") {
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "push_") {
			continue
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out
}

func TestGroupingOfPath(t *testing.T) {
	for path, want := range map[string]string{
		"/metrics/job/batch":                           `map[job:batch]`,
		"/metrics/job/batch/":                          `map[job:batch]`,
		"/metrics/job/batch/instance/h1/dc/eu":         `map[dc:eu instance:h1 job:batch]`,
		"/metrics/job@base64/YmF0Y2gvMQ":               `map[job:batch/1]`,
		"/metrics/job@base64/YmF0Y2gvMQ==":             `map[job:batch/1]`,
		"/metrics/job/batch/path@base64/L3Zhci90bXA=":  `map[job:batch path:/var/tmp]`,
		"/metrics/job/batch/path@base64/L3Zhci90bXA":   `map[job:batch path:/var/tmp]`,
		"/metrics/job/batch/empty@base64/=":            `map[empty: job:batch]`,
		"/metrics/job/batch/job/other":                 `map[job:batch]`,
		"/metrics/job/batch/a":                         `odd number of components in label string "/a"`,
		"/metrics/job/batch/__name__/x":                `improper label name "__name__"`,
		"/metrics/job/batch/1a/x":                      `improper label name "1a"`,
		"/metrics/job/batch/a-b/x":                     `improper label name "a-b"`,
		"/metrics/job/batch/p@base64/%21%21":           `invalid base64 encoding for label p="!!": illegal base64 data at input byte 0`,
		"/metrics/job@base64/%21":                      `invalid base64 encoding in job name "!": illegal base64 data at input byte 0`,
		"/metrics/job@base64/=":                        `job name is required`,
		"/metrics/job@base64/=/instance@base64/aDE":    `job name is required`,
		"/metrics/job/batch/instance@base64/aDE/dc/eu": `map[dc:eu instance:h1 job:batch]`,
	} {
		t.Run(path, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPut, path, nil)
			g, err := groupingOf(req.URL.Path)
			got := fmt.Sprint(g)
			if err != nil {
				got = err.Error()
			}
			if got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func TestPutPostDelete(t *testing.T) {
	ts := newTestServer(t, t.TempDir(), Options{}, HandlerOptions{})
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/batch/instance/h1", "a 1\nb 2\n")
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/batch/instance/h2", "a 10\n")
	// POST replaces the families it names and keeps the others.
	ts.mustDo(http.StatusOK, http.MethodPost, "/metrics/job/batch/instance/h1", "b 3\nc 4\n")
	want := []string{
		`a{instance="h1",job="batch"} 1`, `a{instance="h2",job="batch"} 10`,
		`b{instance="h1",job="batch"} 3`, `c{instance="h1",job="batch"} 4`,
	}
	if diff := cmp.Diff(want, ts.pushed()); diff != "" {
		t.Fatalf("after POST (-want +got):\n%s", diff)
	}
	// PUT replaces the whole group.
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/batch/instance/h1", "d 5\n")
	want = []string{`a{instance="h2",job="batch"} 10`, `d{instance="h1",job="batch"} 5`}
	if diff := cmp.Diff(want, ts.pushed()); diff != "" {
		t.Fatalf("after PUT (-want +got):\n%s", diff)
	}
	// DELETE removes the group, and answers 202 even for a group that is
	// not there, as the Pushgateway does.
	ts.mustDo(http.StatusAccepted, http.MethodDelete, "/metrics/job/batch/instance/h2", "")
	ts.mustDo(http.StatusAccepted, http.MethodDelete, "/metrics/job/none", "")
	want = []string{`d{instance="h1",job="batch"} 5`}
	if diff := cmp.Diff(want, ts.pushed()); diff != "" {
		t.Fatalf("after DELETE (-want +got):\n%s", diff)
	}
	if !strings.Contains(ts.exposition(), `push_time_seconds{instance="h1",job="batch"} 1.7e+09`) {
		t.Errorf("no push_time_seconds of the clock's time:\n%s", ts.exposition())
	}
}

// TestGroupingLabelsWin pushes metrics whose job and grouping labels
// differ from the grouping key's: the Pushgateway sets the key's values,
// and gives metrics without an instance an empty one.
func TestGroupingLabelsWin(t *testing.T) {
	ts := newTestServer(t, t.TempDir(), Options{}, HandlerOptions{})
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/batch/dc/eu", `a{job="other",dc="us",x="1"} 1`+"\n")
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/batch2", `a{instance="h9"} 2`+"\n")
	want := []string{`a{dc="eu",instance="",job="batch",x="1"} 1`, `a{instance="h9",job="batch2"} 2`}
	if diff := cmp.Diff(want, ts.pushed()); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestConsistencyErrors(t *testing.T) {
	ts := newTestServer(t, t.TempDir(), Options{}, HandlerOptions{})
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/a", "# TYPE m counter\nm 1\n")
	const prefix = "pushed metrics are invalid or inconsistent with existing metrics: "
	for name, tc := range map[string]struct {
		path, body string
		code       int
		msg        string // the whole text, or what follows prefix in it
	}{
		"timestamp":             {"/metrics/job/b", "x 1 1234\n", 400, prefix + "pushed metrics must not have timestamps\n"},
		"type of another group": {"/metrics/job/b", "# TYPE m gauge\nm 1\n", 400, `is not a COUNTER`},
		"a series twice":        {"/metrics/job/b", "# TYPE g gauge\ng 1\ng 2\n", 400, `was collected before with the same name and label values`},
		"parse error":           {"/metrics/job/b", "m{ 1\n", 400, "text format parsing error in line 1: invalid label name for metric \"m\"\n"},
	} {
		t.Run(name, func(t *testing.T) {
			code, msg := ts.do(http.MethodPut, tc.path, tc.body)
			ok := msg == tc.msg || strings.HasPrefix(msg, prefix) && strings.Contains(msg, tc.msg)
			if code != tc.code || !ok {
				t.Errorf("got %d %q, want %d %q", code, msg, tc.code, tc.msg)
			}
		})
	}
	// A refused push records its time in the group's
	// push_failure_time_seconds, making the group if needed, as the
	// Pushgateway does; a parse error does not reach the store.
	exp := ts.exposition()
	if !strings.Contains(exp, `push_failure_time_seconds{instance="",job="b"} 1.7e+09`) ||
		!strings.Contains(exp, `push_time_seconds{instance="",job="b"} 0`) {
		t.Errorf("refused pushes not recorded:\n%s", exp)
	}
	if got := ts.pushed(); len(got) != 1 || got[0] != `m{instance="",job="a"} 1` {
		t.Errorf("refused pushes changed the groups: %v", got)
	}
}

func TestLimits(t *testing.T) {
	ts := newTestServer(t, t.TempDir(), Options{MaxGroups: 2}, HandlerOptions{MaxBodyBytes: 64})
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/a", "m 1\n")
	big := strings.Repeat("m 1\n", 20)
	code, msg := ts.do(http.MethodPut, "/metrics/job/a", big)
	if code != http.StatusRequestEntityTooLarge || msg != "the pushed body is larger than the limit of 64 bytes (server { push_body_size_limit })\n" {
		t.Errorf("large body: %d %q", code, msg)
	}
	// The limit holds for the body uncompressed.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(big))
	zw.Close()
	if code, _ := ts.do(http.MethodPut, "/metrics/job/a", gz.String(), "Content-Encoding", "gzip"); code != http.StatusRequestEntityTooLarge {
		t.Errorf("large gzipped body: %d", code)
	}
	gz.Reset()
	zw = gzip.NewWriter(&gz)
	zw.Write([]byte("m 7\n"))
	zw.Close()
	if code, msg := ts.do(http.MethodPut, "/metrics/job/a", gz.String(), "Content-Encoding", "gzip"); code != http.StatusOK {
		t.Errorf("gzipped body: %d %q", code, msg)
	}
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/b", "m 2\n")
	code, msg = ts.do(http.MethodPut, "/metrics/job/c", "m 3\n")
	if code != http.StatusBadRequest || msg != "too many groups: the push store holds 2 groups, its limit; delete one or raise server { push_max_groups }\n" {
		t.Errorf("third group: %d %q", code, msg)
	}
	// A group already there still takes pushes.
	ts.mustDo(http.StatusOK, http.MethodPost, "/metrics/job/b", "n 2\n")
	want := []string{`m{instance="",job="a"} 7`, `m{instance="",job="b"} 2`, `n{instance="",job="b"} 2`}
	if diff := cmp.Diff(want, ts.pushed()); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestGroupsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	ts := newTestServer(t, dir, Options{}, HandlerOptions{})
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/a/instance/h1", "# HELP m Some help.\n# TYPE m counter\nm{x=\"1\"} 1\n")
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/b", "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n")
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/c", "x 1\n")
	ts.mustDo(http.StatusAccepted, http.MethodDelete, "/metrics/job/c", "")
	ts.mustDo(http.StatusBadRequest, http.MethodPut, "/metrics/job/b", "x 1 1\n")
	before, beforeJSON := ts.exposition(), groupsJSON(t, ts.srv.URL)
	ts.close()

	ts = newTestServer(t, dir, Options{}, HandlerOptions{})
	if after := ts.exposition(); after != before {
		t.Errorf("exposition after reopening:\n%s\nbefore:\n%s", after, before)
	}
	if after := groupsJSON(t, ts.srv.URL); after != beforeJSON {
		t.Errorf("/api/v1/metrics after reopening:\n%s\nbefore:\n%s", after, beforeJSON)
	}
	if !strings.Contains(before, `h_bucket{instance="",job="b",le="1"} 1`) || strings.Contains(before, `job="c"`) {
		t.Errorf("unexpected exposition:\n%s", before)
	}
}

func TestTTL(t *testing.T) {
	ts := newTestServer(t, t.TempDir(), Options{TTL: time.Hour}, HandlerOptions{})
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/a", "m 1\n")
	ts.clock.advance(40 * time.Minute)
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/b", "m 2\n")
	// A refused push does not make a group live longer.
	ts.mustDo(http.StatusBadRequest, http.MethodPut, "/metrics/job/a", "m 1 1\n")
	ts.clock.advance(20*time.Minute - time.Nanosecond)
	if got := ts.pushed(); len(got) != 2 {
		t.Fatalf("before the TTL: %v", got)
	}
	ts.clock.advance(time.Nanosecond)
	want := []string{`m{instance="",job="b"} 2`}
	if diff := cmp.Diff(want, ts.pushed()); diff != "" {
		t.Fatalf("after a's TTL (-want +got):\n%s", diff)
	}
	if got := groupsJSON(t, ts.srv.URL); strings.Contains(got, `"job":"a"`) {
		t.Errorf("expired group in the JSON API: %s", got)
	}
	// A push makes it live again; b expires in its turn.
	ts.mustDo(http.StatusOK, http.MethodPost, "/metrics/job/b", "m 3\n")
	ts.clock.advance(59 * time.Minute)
	if got := ts.pushed(); len(got) != 1 {
		t.Fatalf("b pushed again: %v", got)
	}
	ts.clock.advance(time.Minute)
	if got := ts.pushed(); len(got) != 0 {
		t.Fatalf("after b's TTL: %v", got)
	}
	// Expired groups are gone from disk too.
	var n int
	if err := ts.store.load(); err != nil {
		t.Fatal(err)
	}
	n = len(ts.store.Groups())
	if n != 0 {
		t.Errorf("%d groups on disk after expiry", n)
	}
}

func TestWipe(t *testing.T) {
	ts := newTestServer(t, t.TempDir(), Options{}, HandlerOptions{EnableWipe: true})
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/a", "m 1\n")
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/b", "m 2\n")
	ts.mustDo(http.StatusAccepted, http.MethodPut, "/api/v1/admin/wipe", "")
	if got := ts.exposition(); got != "" {
		t.Errorf("after wipe:\n%s", got)
	}
	off := newTestServer(t, t.TempDir(), Options{}, HandlerOptions{})
	off.mustDo(http.StatusNotFound, http.MethodPut, "/api/v1/admin/wipe", "")
}

// groupsJSON returns /api/v1/metrics with its groups sorted by their
// labels (the Pushgateway lists them in no order).
func groupsJSON(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/api/v1/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Status string           `json:"status"`
		Data   []map[string]any `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	sort.Slice(doc.Data, func(i, j int) bool {
		return fmt.Sprint(doc.Data[i]["labels"]) < fmt.Sprint(doc.Data[j]["labels"])
	})
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestConcurrentReads reads the exposition, in every format, and the
// JSON API from many goroutines at once: the families they share with the
// store must give every reader the answer it gets alone.
func TestConcurrentReads(t *testing.T) {
	ts := newTestServer(t, t.TempDir(), Options{}, HandlerOptions{})
	for i := range 20 {
		body := fmt.Sprintf("# TYPE m counter\nm{x=\"%d\"} %d\nm{x=\"b\"} 1\n# TYPE h histogram\nh_bucket{le=\"1\"} %d\nh_bucket{le=\"+Inf\"} %d\nh_sum 1\nh_count %d\n", i, i, i, i, i)
		ts.mustDo(http.StatusOK, http.MethodPut, fmt.Sprintf("/metrics/job/j%d/instance/i%d", i%3, i), body)
	}
	// Two groups with a family of the same name, the first with room
	// left in its slice of metrics: merging them must not write there.
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/solo", "u{x=\"z\"} 1\nu{x=\"m\"} 2\nu{x=\"a\"} 3\n")
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/solo2", "u{x=\"q\"} 4\n")
	get := func(accept string) concurrencytest.Call {
		return func() ([]byte, error) {
			req, _ := http.NewRequest(http.MethodGet, ts.srv.URL+"/push/metrics", nil)
			req.Header.Set("Accept", accept)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			return io.ReadAll(resp.Body)
		}
	}
	concurrencytest.Compare(t, 8, 20, map[string]concurrencytest.Call{
		"text":     get("text/plain"),
		"protobuf": get(string(expfmt.NewFormat(expfmt.TypeProtoDelim))),
		"json":     func() ([]byte, error) { return []byte(groupsJSON(t, ts.srv.URL)), nil },
	})
}

// TestPushOnAFullDisk checks that a push is refused with 503 while the
// SpaceCheck says the disk is full, and taken once it no longer does.
func TestPushOnAFullDisk(t *testing.T) {
	full := true
	ts := newTestServer(t, t.TempDir(), Options{}, HandlerOptions{SpaceCheck: func() error {
		if full {
			return errors.New("disk full: 0 bytes free")
		}
		return nil
	}})
	code, msg := ts.do(http.MethodPut, "/metrics/job/a", "x 1\n")
	if code != http.StatusServiceUnavailable || !strings.Contains(msg, "disk full") {
		t.Fatalf("push on a full disk: %d %q, want 503 saying the disk is full", code, msg)
	}
	if got := ts.pushed(); len(got) != 0 {
		t.Fatalf("stored on a full disk: %v", got)
	}
	full = false
	ts.mustDo(http.StatusOK, http.MethodPut, "/metrics/job/a", "x 1\n")
	if got := ts.pushed(); len(got) != 1 {
		t.Fatalf("stored once space is back: %v", got)
	}
}
