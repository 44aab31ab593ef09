package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"
)

// requirePushgatewayEnv names the environment variable that, when set,
// makes a missing prometheus-pushgateway fail TestPushgatewayDifferential
// instead of skipping it.
const requirePushgatewayEnv = "VIGIL_REQUIRE_PUSHGATEWAY"

// startPushgateway runs Debian's prometheus-pushgateway, with its admin
// API, on a free loopback port until the test ends, and returns its
// address; it skips t without the binary unless VIGIL_REQUIRE_PUSHGATEWAY
// is set.
func startPushgateway(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("prometheus-pushgateway")
	if err != nil {
		if os.Getenv(requirePushgatewayEnv) != "" {
			t.Fatalf("prometheus-pushgateway is required (%s is set) but missing: %v", requirePushgatewayEnv, err)
		}
		t.Skipf("needs prometheus-pushgateway (apt-get install prometheus-pushgateway); set %s=1 to fail instead of skipping", requirePushgatewayEnv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// Debian's build persists to /var/lib/prometheus unless told where.
	cmd := exec.Command(path, "--web.listen-address="+addr, "--web.enable-admin-api", "--log.level=error",
		"--persistence.file="+filepath.Join(t.TempDir(), "pushgateway.data"))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("prometheus-pushgateway exited: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus-pushgateway not ready within 30s:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pushRequest is one request of the differential test.
type pushRequest struct {
	method, path string
	body         []byte
	header       []string // name, value, ...
}

func (r pushRequest) String() string { return r.method + " " + r.path }

// answer is the status and body of an answer.
type answer struct {
	Status int
	Body   string
}

func send(t *testing.T, addr string, r pushRequest) answer {
	t.Helper()
	req, err := http.NewRequest(r.method, "http://"+addr+r.path, bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(r.header); i += 2 {
		req.Header.Set(r.header[i], r.header[i+1])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s to %s: %v", r, addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b)}
}

// protoBody encodes families in the delimited protobuf format.
func protoBody(t *testing.T, families ...*dto.MetricFamily) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeProtoDelim))
	for _, mf := range families {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

// consistencyPrefix starts the Pushgateway's answer to an inconsistent
// push; what follows is client_golang's message, whose wording depends on
// the version the Pushgateway was built with.
const consistencyPrefix = "pushed metrics are invalid or inconsistent with existing metrics: "

// TestPushgatewayDifferential sends the same pushes, good and bad, to
// Debian's Pushgateway and to vigil, and compares the status codes and
// error texts, /api/v1/metrics (times aside) and the exposition of the
// groups.
func TestPushgatewayDifferential(t *testing.T) {
	gateway := startPushgateway(t)
	srv := startPushServer(t, filepath.Join(t.TempDir(), "data"))
	protoType := "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
	requests := []pushRequest{
		{method: "PUT", path: "/metrics/job/j1", body: []byte("# HELP a Some a.\n# TYPE a counter\na{x=\"1\"} 1\na{x=\"2\"} 2\nb 3\n")},
		{method: "PUT", path: "/metrics/job/j1/instance/i1", body: []byte("a{x=\"1\"} 4\n")},
		{method: "POST", path: "/metrics/job/j1", body: []byte("c 5\n")},
		{method: "POST", path: "/metrics/job/j1", body: []byte("# TYPE b gauge\nb{job=\"other\",x=\"y\"} 6\n")},
		{method: "PUT", path: "/metrics/job@base64/ajI=/path@base64/L3Zhci90bXA", body: []byte("# TYPE g gauge\ng 1\n")},
		{method: "PUT", path: "/metrics/job@base64/ajM/empty@base64/=", body: []byte("# TYPE g gauge\ng 2\n")},
		{method: "PUT", path: "/metrics/job/j4/instance/i4", body: []byte("# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 3\nh_sum 2.5\nh_count 3\n# TYPE s summary\ns{quantile=\"0.9\"} 7\ns_sum 8\ns_count 9\n")},
		{method: "PUT", path: "/metrics/job/j5", header: []string{"Content-Type", protoType}, body: protoBody(t, &dto.MetricFamily{
			Name: proto.String("p"), Help: proto.String("From protobuf."), Type: dto.MetricType_GAUGE.Enum(),
			Metric: []*dto.Metric{{Label: []*dto.LabelPair{{Name: proto.String("k"), Value: proto.String("v")}}, Gauge: &dto.Gauge{Value: proto.Float64(11)}}},
		})},
		{method: "POST", path: "/metrics/job/j6", header: []string{"Content-Encoding", "gzip"}, body: gzipped("z 12\n")},
		{method: "DELETE", path: "/metrics/job@base64/ajM/empty@base64/="},
		{method: "DELETE", path: "/metrics/job/nothing"},
		// Refused ones.
		{method: "PUT", path: "/metrics/job/j7", body: []byte("x 1 1000\n")},
		{method: "PUT", path: "/metrics/job/j1/instance/i1", body: []byte("# TYPE a gauge\na 4\n")},
		{method: "PUT", path: "/metrics/job/j8", body: []byte("# TYPE d gauge\nd 1\nd 2\n")},
		{method: "PUT", path: "/metrics/job/j8", body: []byte("x{ 1\n")},
		{method: "PUT", path: "/metrics/job/j8", header: []string{"Content-Type", protoType}, body: []byte("\x05garbage")},
		{method: "PUT", path: "/metrics/job/j1/a", body: []byte("x 1\n")},
		{method: "PUT", path: "/metrics/job/j1/__a/b", body: []byte("x 1\n")},
		{method: "PUT", path: "/metrics/job/j1/a-b/c", body: []byte("x 1\n")},
		{method: "PUT", path: "/metrics/job/j1/a@base64/!!", body: []byte("x 1\n")},
		{method: "PUT", path: "/metrics/job@base64/=", body: []byte("x 1\n")},
		{method: "GET", path: "/metrics/job/j1"},
		// Not sent: a job name that is not base64, such as
		// /metrics/job@base64/!!. The Pushgateway answers 400, with an
		// empty name in its text where vigil names the input, and then
		// answers no other push (version 1.5.1); core/push's tests check
		// vigil's answer.
	}
	for _, r := range requests {
		want, got := send(t, gateway, r), send(t, srv.addr, r)
		if want.Status != got.Status {
			t.Errorf("%s: vigil answered %d %q, the Pushgateway %d %q", r, got.Status, got.Body, want.Status, want.Body)
			continue
		}
		if want.Status < 300 || r.method == "GET" {
			continue
		}
		// The texts of client_golang's consistency errors and of the
		// protobuf decoder depend on their versions: the Pushgateway's and
		// vigil's must start alike.
		if prefix, ok := versionedPrefix(want.Body); ok {
			if !strings.HasPrefix(got.Body, prefix) {
				t.Errorf("%s: vigil answered %q, the Pushgateway %q", r, got.Body, want.Body)
			}
			continue
		}
		if want.Body != got.Body {
			t.Errorf("%s: vigil answered %q, the Pushgateway %q", r, got.Body, want.Body)
		}
	}

	wantJSON, gotJSON := groupsOf(t, gateway), groupsOf(t, srv.addr)
	if diff := cmp.Diff(wantJSON, gotJSON); diff != "" {
		t.Errorf("/api/v1/metrics (-Pushgateway +vigil):\n%s", diff)
	}
	wantExp, gotExp := exposedGroups(t, "http://"+gateway+"/metrics"), exposedGroups(t, "http://"+srv.addr+"/push/metrics")
	if diff := cmp.Diff(wantExp, gotExp); diff != "" {
		t.Errorf("exposition (-Pushgateway +vigil):\n%s", diff)
	}
	if !strings.Contains(gotExp, `b{instance="",job="j1",x="y"} 6`) || !strings.Contains(gotExp, `g{instance="",job="j2",path="/var/tmp"} 1`) {
		t.Errorf("the exposition lacks pushed series:\n%s", gotExp)
	}

	// Wiping empties both.
	wipe := pushRequest{method: "PUT", path: "/api/v1/admin/wipe"}
	if want, got := send(t, gateway, wipe), send(t, srv.addr, wipe); want.Status != got.Status {
		t.Errorf("wipe: vigil answered %d, the Pushgateway %d", got.Status, want.Status)
	}
	// The Pushgateway wipes after it answered.
	waitFor(t, "the Pushgateway wiped", func() bool { return len(groupsOf(t, gateway)) == 0 })
	if got := groupsOf(t, srv.addr); len(got) != 0 {
		t.Errorf("vigil after the wipe: %v", got)
	}
	srv.stop(t)
}

// versionedPrefix returns the start of an error text whose rest depends
// on the versions of the libraries that made it.
func versionedPrefix(body string) (string, bool) {
	for _, prefix := range []string{consistencyPrefix, "proto:"} {
		if strings.HasPrefix(body, prefix) {
			return prefix, true
		}
	}
	return "", false
}

// timeValue matches a Unix time in seconds of this century, as the push
// times are.
var timeValue = regexp.MustCompile(`^1\.[5-9][0-9]*e\+09$`)

// groupsOf returns /api/v1/metrics of addr, each group as indented JSON,
// sorted, with every time_stamp and every push time blanked.
func groupsOf(t *testing.T, addr string) []string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/v1/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Status string
		Data   []map[string]any
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range doc.Data {
		for name, v := range g {
			if f, ok := v.(map[string]any); ok && name != "labels" {
				f["time_stamp"] = "T"
				for _, m := range f["metrics"].([]any) {
					m := m.(map[string]any)
					if s, ok := m["value"].(string); ok && timeValue.MatchString(s) {
						m["value"] = "T"
					}
				}
			}
		}
		b, _ := json.MarshalIndent(g, "", "  ")
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

// exposedGroups returns the pushed families of an exposition in the text
// format, without the Pushgateway's own metrics, push times blanked.
func exposedGroups(t *testing.T, url string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	names := make([]string, 0, len(families))
	for name := range families {
		if !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") && !strings.HasPrefix(name, "pushgateway_") && !strings.HasPrefix(name, "promhttp_") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		mf := families[name]
		for _, m := range mf.Metric {
			if g := m.GetGauge(); g != nil && strings.HasPrefix(name, "push_") && g.GetValue() > 1e9 {
				g.Value = proto.Float64(1)
			}
		}
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return fmt.Sprint(b.String())
}
