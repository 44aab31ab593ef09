package pluginhost

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/sdk"
)

// logBuffer collects a logger's JSON lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was logged.
func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the logged lines whose message contains substr.
func (b *logBuffer) lines(substr string) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(b.buf.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil {
			continue
		}
		if msg, _ := m["@message"].(string); strings.Contains(msg, substr) {
			out = append(out, m)
		}
	}
	return out
}

func testLogger() (hclog.Logger, *logBuffer) {
	b := &logBuffer{}
	return hclog.New(&hclog.LoggerOptions{Output: b, Level: hclog.Trace, JSONFormat: true}), b
}

// loadGuest loads a test guest with opts, from the shared compilation
// cache unless opts names another.
func loadGuest(t *testing.T, name string, opts WasmOptions) *WasmPlugin {
	t.Helper()
	path, cache := guest(t, name)
	opts.Path = path
	if opts.CacheDir == "" {
		opts.CacheDir = cache
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := LoadWasm(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// families indexes families by name.
func families(fs []*dto.MetricFamily) map[string]*dto.MetricFamily {
	out := map[string]*dto.MetricFamily{}
	for _, f := range fs {
		out[f.GetName()] = f
	}
	return out
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// greeting is the greeting the exporter guest's metrics echo.
func greeting(t *testing.T, fs []*dto.MetricFamily) string {
	t.Helper()
	f := families(fs)["guest_config_info"]
	if f == nil || len(f.Metric) != 1 {
		t.Fatalf("no guest_config_info in %v", fs)
	}
	return labelsOf(f.Metric[0])["greeting"]
}

func TestWasmExporter(t *testing.T) {
	logger, logs := testLogger()
	p := loadGuest(t, "exporter", WasmOptions{Logger: logger})
	ctx := testContext(t)

	info, kind, err := p.Info(ctx)
	if err != nil || kind != sdk.KindExporter || info.Name != "test-exporter" || info.Version != "0.1.0" ||
		info.Description != "Echoes its config as metrics." || len(info.Capabilities) != 1 || info.Capabilities[0] != "echo" {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	schema, err := p.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]sdk.AttributeType{
		"greeting": sdk.TypeString, "factor": sdk.TypeNumber, "enabled": sdk.TypeBool, "interval": sdk.TypeDuration,
		"tags": sdk.TypeStringList, "labels": sdk.TypeStringMap, "token": sdk.TypeString, "series": sdk.TypeNumber,
		"mode": sdk.TypeString,
	}
	if len(schema) != len(want) {
		t.Errorf("schema %+v", schema)
	}
	for name, typ := range want {
		if a, ok := schema.Attribute(name); !ok || a.Type != typ {
			t.Errorf("attribute %s: %+v, want type %s", name, a, typ)
		}
	}
	greet, _ := schema.Attribute("greeting")
	factor, _ := schema.Attribute("factor")
	interval, _ := schema.Attribute("interval")
	token, _ := schema.Attribute("token")
	if !greet.Required || greet.Description != "What to say." || factor.Default != 1.0 || interval.Default != "30s" || !token.Sensitive {
		t.Errorf("schema %+v", schema)
	}

	if _, err := p.Collect(ctx); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("collect before configure: %v", err)
	}
	if err := p.Notify(ctx, &sdk.Notification{}); err == nil || !strings.Contains(err.Error(), "not a notifier plugin") {
		t.Errorf("notify an exporter: %v", err)
	}
	if err := p.Discover(ctx, nil); err == nil || !strings.Contains(err.Error(), "not a discovery plugin") {
		t.Errorf("discover an exporter: %v", err)
	}

	config := `{"greeting": "hello", "factor": 2.5, "interval": "1m", "tags": ["a", "b"], "labels": {"team": "ops"}}`
	if err := p.Configure(ctx, []byte(config)); err != nil {
		t.Fatal(err)
	}
	got, err := p.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fams := families(got)
	labels := labelsOf(fams["guest_config_info"].Metric[0])
	if labels["greeting"] != "hello" || labels["enabled"] != "true" || labels["interval"] != "1m0s" || labels["tags"] != "a,b" || labels["team"] != "ops" {
		t.Errorf("config info %v", labels)
	}
	if v := fams["guest_factor"].Metric[0].GetGauge().GetValue(); v != 2.5 {
		t.Errorf("factor %v", v)
	}
	if len(logs.lines("collecting")) == 0 {
		t.Errorf("the guest's log line did not reach the logger:\n%s", logs.buf.String())
	}

	// A guest that reports its target down answers its families with
	// the target's error, in the same CollectResponse.
	if err := p.Configure(ctx, []byte(`{"greeting": "down", "mode": "down"}`)); err != nil {
		t.Fatal(err)
	}
	got, err = p.Collect(ctx)
	if te := sdk.AsTargetError(err); te == nil || te.Err.Error() != "the guest's target refused the connection" {
		t.Errorf("collect of a guest whose target is down: %v, want a target error", err)
	}
	if greeting(t, got) != "down" {
		t.Errorf("the families of a target error are lost: %v", got)
	}

	// A collection far larger than one chunk comes back whole, as one
	// family.
	if err := p.Configure(ctx, []byte(`{"greeting": "big", "series": 3000}`)); err != nil {
		t.Fatal(err)
	}
	got, err = p.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range got {
		if f.GetName() == "guest_series" {
			n++
			if len(f.Metric) != 3000 || labelsOf(f.Metric[2999])["i"] != "2999" {
				t.Errorf("guest_series has %d metrics", len(f.Metric))
			}
		}
	}
	if n != 1 {
		t.Errorf("guest_series appears %d times", n)
	}
}

func TestWasmConfigureErrors(t *testing.T) {
	p := loadGuest(t, "exporter", WasmOptions{})
	ctx := testContext(t)
	if err := p.Configure(ctx, []byte(`{"greeting": "kept"}`)); err != nil {
		t.Fatal(err)
	}
	for config, attr := range map[string]string{
		`{"greeting": "x", "factor": "two"}`:    "factor",
		`{"greeting": 3}`:                       "greeting",
		`{"factor": 2}`:                         "greeting",
		`{"greeting": "x", "interval": "soon"}`: "interval",
		`{"greeting": "x", "tags": [1]}`:        "tags",
		`{"greeting": "x", "colour": "red"}`:    "colour",
		`{"greeting": "   "}`:                   "greeting",
	} {
		var ae *sdk.AttributeError
		err := p.Configure(ctx, []byte(config))
		if !errors.As(err, &ae) || ae.Attribute != attr {
			t.Errorf("configure %s: %v, want an *sdk.AttributeError naming %q", config, err, attr)
		}
	}
	if err := p.Configure(ctx, []byte(`{"greeting": "x", "token": 123456}`)); err == nil || strings.Contains(err.Error(), "123456") {
		t.Errorf("a sensitive value of the wrong type: %v", err)
	}
	// The refused configs left the accepted one in place.
	got, err := p.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g := greeting(t, got); g != "kept" {
		t.Errorf("greeting %q after refused configs, want %q", g, "kept")
	}
}

// TestWasmConcurrentCalls calls from many goroutines at once, across a
// reconfiguration: every call sees the config of its time, on whichever
// instance it lands.
func TestWasmConcurrentCalls(t *testing.T) {
	p := loadGuest(t, "exporter", WasmOptions{PoolSize: 4})
	ctx := testContext(t)
	for _, g := range []string{"one", "two"} {
		if err := p.Configure(ctx, []byte(fmt.Sprintf(`{"greeting": %q}`, g))); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 256)
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 4 {
					got, err := p.Collect(ctx)
					if err != nil {
						errs <- err
						return
					}
					if f := families(got)["guest_config_info"]; f == nil || labelsOf(f.Metric[0])["greeting"] != g {
						errs <- fmt.Errorf("collected %v, want greeting %q", got, g)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
	s := p.Stats()
	if s.Started < 1 || s.Started > 4 || s.Discarded != 0 || s.Calls != 2+2*32*4 {
		t.Errorf("stats %+v", s)
	}
}

// TestWasmRecycle retires instances after MaxCallsPerInstance calls; a
// fresh instance gets the config before its first call.
func TestWasmRecycle(t *testing.T) {
	p := loadGuest(t, "exporter", WasmOptions{PoolSize: 1, MaxCallsPerInstance: 3})
	ctx := testContext(t)
	if err := p.Configure(ctx, []byte(`{"greeting": "recycled"}`)); err != nil {
		t.Fatal(err)
	}
	// Configure is the first instance's first call; guest_calls counts
	// the collections of an instance.
	var seq []float64
	for range 6 {
		got, err := p.Collect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if g := greeting(t, got); g != "recycled" {
			t.Errorf("a fresh instance has greeting %q", g)
		}
		seq = append(seq, families(got)["guest_calls"].Metric[0].GetGauge().GetValue())
	}
	if fmt.Sprint(seq) != "[1 2 1 2 3 1]" {
		t.Errorf("calls per instance %v, want [1 2 1 2 3 1]", seq)
	}
	if s := p.Stats(); s.Started != 3 || s.Recycled != 2 || s.Discarded != 0 {
		t.Errorf("stats %+v", s)
	}
}

func notification(action string, annotations map[string]string) *sdk.Notification {
	return &sdk.Notification{
		Version: "4", GroupKey: "{}:{alertname=\"Test\"}", Status: "firing", Receiver: "team",
		CommonLabels: map[string]string{"action": action}, CommonAnnotations: annotations,
		Alerts: []sdk.Alert{{Status: "firing", Labels: map[string]string{"alertname": "Test"}, StartsAt: time.Now()}},
	}
}

func TestWasmNotifier(t *testing.T) {
	logger, logs := testLogger()
	p := loadGuest(t, "notifier", WasmOptions{
		Logger: logger, CallTimeout: 2 * time.Second, StderrLimitBytes: 1000, AllowHosts: []string{"127.0.0.1"},
	})
	ctx := testContext(t)
	if err := p.Configure(ctx, []byte(`{"prefix": "test: "}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Collect(ctx); err == nil || !strings.Contains(err.Error(), "not an exporter plugin") {
		t.Errorf("collect from a notifier: %v", err)
	}
	ok := func(t *testing.T) {
		t.Helper()
		if err := p.Notify(ctx, notification("ok", nil)); err != nil {
			t.Fatalf("the next call: %v", err)
		}
	}

	t.Run("errors", func(t *testing.T) {
		ok(t)
		err := p.Notify(ctx, notification("permanent", nil))
		if err == nil || !sdk.IsPermanent(err) || !strings.Contains(err.Error(), "test: rejected") {
			t.Errorf("permanent: %v", err)
		}
		err = p.Notify(ctx, notification("retry", nil))
		if err == nil || sdk.IsPermanent(err) || !strings.Contains(err.Error(), "test: try again") {
			t.Errorf("retry: %v", err)
		}
		err = p.Notify(ctx, notification("panic", nil))
		if err == nil || sdk.IsPermanent(err) || !strings.Contains(err.Error(), "told to panic") {
			t.Errorf("panic: %v", err)
		}
		if err := p.Notify(ctx, notification("deadline", nil)); err != nil {
			t.Errorf("deadline: %v", err)
		}
		ok(t)
	})

	t.Run("log", func(t *testing.T) {
		if err := p.Notify(ctx, notification("log", nil)); err != nil {
			t.Fatal(err)
		}
		lines := logs.lines("hello from the guest")
		if len(lines) != 1 || lines[0]["@level"] != "info" || lines[0]["group"] != "{}:{alertname=\"Test\"}" {
			t.Errorf("logged %v", lines)
		}
	})

	t.Run("loop", func(t *testing.T) {
		before := p.Stats().Discarded
		start := time.Now()
		err := p.Notify(ctx, notification("loop", nil))
		t.Log(err)
		if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not return within") {
			t.Errorf("loop: %v", err)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("the loop was stopped after %s", took)
		}
		if d := p.Stats().Discarded - before; d != 1 {
			t.Errorf("%d instances discarded, want 1", d)
		}
		ok(t)
	})

	t.Run("sleep", func(t *testing.T) {
		start := time.Now()
		err := p.Notify(ctx, notification("sleep", nil))
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("sleep: %v", err)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("the sleep was stopped after %s", took)
		}
		ok(t)
	})

	t.Run("exit", func(t *testing.T) {
		err := p.Notify(ctx, notification("exit", nil))
		t.Log(err)
		if err == nil || !strings.Contains(err.Error(), "exited with code 3") {
			t.Errorf("exit: %v", err)
		}
		ok(t)
	})

	t.Run("stderr", func(t *testing.T) {
		if err := p.Notify(ctx, notification("stderr", map[string]string{"bytes": "10000"})); err != nil {
			t.Fatal(err)
		}
		lines := logs.lines(strings.Repeat("e", 99))
		if len(lines) == 0 || len(lines) > 10 || lines[0]["stream"] != "stderr" {
			t.Errorf("%d lines of stderr logged, want at most 10", len(lines))
		}
		if len(logs.lines("output limit")) == 0 {
			t.Error("no warning about the output limit")
		}
		// The budget is per call.
		if err := p.Notify(ctx, notification("stderr", map[string]string{"bytes": "300"})); err != nil {
			t.Fatal(err)
		}
		if n := len(logs.lines(strings.Repeat("e", 99))); n != len(lines)+3 {
			t.Errorf("%d lines of stderr logged in all, want %d", n, len(lines)+3)
		}
	})

	t.Run("http", func(t *testing.T) {
		var (
			mu    sync.Mutex
			paths []string
		)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			paths = append(paths, r.URL.Path)
			mu.Unlock()
			if r.URL.Path == "/redirect" {
				http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
				return
			}
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("X-Answer", "yes")
			fmt.Fprintf(w, "%s %s %s", r.Method, r.Header.Get("X-Test"), body)
		}))
		defer srv.Close()
		u, _ := url.Parse(srv.URL)

		err := p.Notify(ctx, notification("http", map[string]string{
			"url": srv.URL + "/hook?token=secret", "body": "hi", "want": "200 yes POST guest hi",
		}))
		if err != nil {
			t.Fatalf("allowed host: %v", err)
		}

		// The same server by another name is not allowed, nor a redirect
		// to it; the refusal is logged without the URL's path.
		other := "http://localhost:" + u.Port() + "/refused?token=secret"
		for _, target := range []string{other, srv.URL + "/redirect?to=" + url.QueryEscape(other)} {
			err = p.Notify(ctx, notification("http", map[string]string{"url": target, "want": "never"}))
			if err == nil || !sdk.IsPermanent(err) || !strings.Contains(err.Error(), "not in allow_hosts") || strings.Contains(err.Error(), "secret") {
				t.Errorf("%s: %v", target, err)
			}
		}
		refusals := logs.lines("not in allow_hosts")
		if len(refusals) != 2 || refusals[0]["host"] != "localhost:"+u.Port() || strings.Contains(logs.buf.String(), "/refused") {
			t.Errorf("refusals logged: %v", refusals)
		}
		mu.Lock()
		if fmt.Sprint(paths) != "[/hook /redirect]" {
			t.Errorf("the server saw %v", paths)
		}
		mu.Unlock()
		ok(t)
	})
}

// TestWasmMemoryLimit has a module allocate without bound.
func TestWasmMemoryLimit(t *testing.T) {
	logger, logs := testLogger()
	defer func() { t.Log(logs.buf.String()) }()
	p := loadGuest(t, "notifier", WasmOptions{Logger: logger, MemoryLimitBytes: 32 << 20, CallTimeout: time.Minute})
	ctx := testContext(t)
	if err := p.Configure(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	err := p.Notify(ctx, notification("alloc", nil))
	t.Log(err)
	if err == nil || !errors.Is(err, ErrWasmMemoryLimit) || sdk.IsPermanent(err) {
		t.Errorf("alloc: %v", err)
	}
	if d := p.Stats().Discarded; d != 1 {
		t.Errorf("%d instances discarded, want 1", d)
	}
	if err := p.Notify(ctx, notification("ok", nil)); err != nil {
		t.Fatalf("the next call: %v", err)
	}
}

// TestWasmHTTPPort allows a host on one port only.
func TestWasmHTTPPort(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Answer", "port")
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	ctx := testContext(t)
	for allow, allowed := range map[string]bool{u.Host: true, "127.0.0.1:1": false} {
		p := loadGuest(t, "notifier", WasmOptions{AllowHosts: []string{allow}})
		if err := p.Configure(ctx, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		err := p.Notify(ctx, notification("http", map[string]string{"url": srv.URL, "want": "202 port "}))
		if allowed != (err == nil) {
			t.Errorf("allow_hosts %q: %v", allow, err)
		}
	}
}

// TestWasmHTTPRedirects has a module's client follow redirects, each hop
// a request of the host's, as net/http's Client follows them.
func TestWasmHTTPRedirects(t *testing.T) {
	var (
		mu    sync.Mutex
		paths []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.Host+r.URL.Path)
		mu.Unlock()
		switch {
		case strings.HasPrefix(r.URL.Path, "/r/"):
			code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
			w.Header().Set("Location", r.URL.Query().Get("to"))
			w.WriteHeader(code)
			return
		case strings.HasPrefix(r.URL.Path, "/chain/") && r.URL.Path != "/chain/0":
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/chain/"))
			w.Header().Set("Location", strconv.Itoa(n-1))
			w.WriteHeader(http.StatusFound)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Answer", "echo")
		fmt.Fprintf(w, "%s %s auth=%s body=%s", r.Method, r.URL.Path, r.Header.Get("Authorization"), body)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	other := "http://localhost:" + u.Port()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	logger, logs := testLogger()
	defer func() { t.Log(logs.String()) }()
	p := loadGuest(t, "notifier", WasmOptions{Logger: logger, CallTimeout: 10 * time.Second, AllowHosts: []string{"127.0.0.1", "localhost"}})
	ctx := testContext(t)
	if err := p.Configure(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	to := func(code int, loc string) string {
		return fmt.Sprintf("%s/r/%d?to=%s", srv.URL, code, url.QueryEscape(loc))
	}
	for _, c := range []struct {
		name, url, auth string
		want            string // the answer, or a part of the error
		paths           []string
	}{
		{name: "303 turns the POST into a GET", url: to(303, "/echo"), want: "200 echo GET /echo auth= body="},
		{name: "307 keeps the POST and its body", url: to(307, "/echo"), want: "200 echo POST /echo auth= body=hi"},
		{name: "the same host keeps Authorization", url: to(307, srv.URL+"/echo"), auth: "Bearer t", want: "200 echo POST /echo auth=Bearer t body=hi"},
		{
			name: "another host gets no Authorization", url: to(307, other+"/echo"), auth: "Bearer t", want: "200 echo POST /echo auth= body=hi",
			paths: []string{u.Host + "/r/307", "localhost:" + u.Port() + "/echo"},
		},
		{name: "a relative Location", url: srv.URL + "/chain/3", want: "200 echo GET /chain/0 auth= body="},
		{name: "9 redirects are followed", url: srv.URL + "/chain/9", want: "200 echo GET /chain/0 auth= body="},
		{name: "a 3xx without Location is the answer", url: to(302, ""), want: "302  "},
		{name: "the 10th redirect is an error", url: srv.URL + "/chain/10", want: "url.Error Op=Post URL=0 Err=stopped after 10 redirects"},
		{name: "a failed hop", url: to(308, closed.URL+"/x"), want: "url.Error Op=Post URL=" + closed.URL + "/x Err=POST " + strings.TrimPrefix(closed.URL, "http://") + ":"},
	} {
		mu.Lock()
		paths = nil
		mu.Unlock()
		err := p.Notify(ctx, notification("http", map[string]string{"url": c.url, "body": "hi", "auth": c.auth, "want": c.want, "show_error": "1"}))
		if strings.HasPrefix(c.want, "url.Error") {
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
			}
		} else if err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		mu.Lock()
		if c.paths != nil && fmt.Sprint(paths) != fmt.Sprint(c.paths) {
			t.Errorf("%s: the server saw %v, want %v", c.name, paths, c.paths)
		}
		mu.Unlock()
	}

	// A hop to a host not allowed is refused by the host.
	p = loadGuest(t, "notifier", WasmOptions{Logger: logger, CallTimeout: 10 * time.Second, AllowHosts: []string{"127.0.0.1"}})
	if err := p.Configure(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	paths = nil
	mu.Unlock()
	err := p.Notify(ctx, notification("http", map[string]string{"url": to(307, other+"/echo"), "want": "never", "show_error": "1"}))
	want := "url.Error Op=Post URL=" + other + "/echo Err=host not in allow_hosts"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a hop to a host not allowed: %v, want an error with %q", err, want)
	}
	mu.Lock()
	if fmt.Sprint(paths) != "["+u.Host+"/r/307]" {
		t.Errorf("the server saw %v", paths)
	}
	mu.Unlock()
}

func TestWasmClose(t *testing.T) {
	p := loadGuest(t, "notifier", WasmOptions{CallTimeout: time.Minute})
	ctx := testContext(t)
	if err := p.Configure(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Notify(ctx, notification("loop", nil)) }()
	time.Sleep(200 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "closed") {
			t.Errorf("a call in progress at Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not stop a call in progress")
	}
	if err := p.Notify(ctx, notification("ok", nil)); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("a call after Close: %v", err)
	}
}

// TestWasmMinimal loads a module written against ABI.md alone.
func TestWasmMinimal(t *testing.T) {
	p := loadGuest(t, "minimal", WasmOptions{})
	ctx := testContext(t)
	info, kind, err := p.Info(ctx)
	if err != nil || info.Name != "minimal" || info.Version != "0.0.1" || kind != sdk.KindNotifier {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	if s, err := p.Schema(ctx); err != nil || len(s) != 0 {
		t.Errorf("schema %v: %v", s, err)
	}
	if err := p.Configure(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Notify(ctx, notification("ok", nil)); err != nil {
		t.Fatal(err)
	}
}

func TestWasmRefused(t *testing.T) {
	ctx := testContext(t)
	path, cache := guest(t, "minimal")
	code, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(code)
	if p, err := LoadWasm(ctx, WasmOptions{Path: path, CacheDir: cache, Checksum: sum[:]}); err != nil {
		t.Errorf("the right checksum: %v", err)
	} else {
		p.Close()
	}
	wrong := sha256.Sum256([]byte("something else"))
	_, err = LoadWasm(ctx, WasmOptions{Path: path, CacheDir: cache, Checksum: wrong[:]})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), fmt.Sprintf("%x", sum)) ||
		!strings.Contains(err.Error(), fmt.Sprintf("%x", wrong)) {
		t.Errorf("a wrong checksum: %v", err)
	}

	for name, want := range map[string]string{
		"abi3":       "speaks Wasm ABI version 3, this host speaks versions 1 to 2",
		"discoverer": "discovery plugin of Wasm ABI version 1, which has no discover call",
		"command":    "-buildmode=c-shared",
	} {
		path, cache := guest(t, name)
		p, err := LoadWasm(ctx, WasmOptions{Path: path, CacheDir: cache})
		if err == nil {
			p.Close()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, want)
		}
	}

	if _, err := LoadWasm(ctx, WasmOptions{Path: path, AllowHosts: []string{"https://example.com/"}}); err == nil || !strings.Contains(err.Error(), "allow_hosts") {
		t.Errorf("a URL in allow_hosts: %v", err)
	}
	if _, err := LoadWasm(ctx, WasmOptions{Path: filepath.Join(t.TempDir(), "missing.wasm")}); err == nil || !strings.Contains(err.Error(), "missing.wasm") {
		t.Errorf("a missing file: %v", err)
	}
}

// TestWasmCompilationCache loads a module with a cache directory of its
// own, which then holds it compiled.
func TestWasmCompilationCache(t *testing.T) {
	dir := t.TempDir()
	p := loadGuest(t, "minimal", WasmOptions{CacheDir: dir})
	p.Close()
	files := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return err
	})
	if err != nil || files == 0 {
		t.Errorf("the cache directory holds %d files: %v", files, err)
	}
	// A second load finds it there.
	loadGuest(t, "minimal", WasmOptions{CacheDir: dir})
}

func TestAllowHosts(t *testing.T) {
	allow, err := parseAllowHosts([]string{"Hooks.Example.com", "10.0.0.1:8080", "*.corp.example", "[::1]:9000", "[fe80::1]"})
	if err != nil {
		t.Fatal(err)
	}
	p := &WasmPlugin{allow: allow}
	for raw, want := range map[string]bool{
		"https://hooks.example.com/services/x":  true,
		"http://hooks.example.com:8080/":        true,
		"https://HOOKS.example.com./":           true,
		"https://example.com/":                  false,
		"https://evil.hooks.example.com/":       false,
		"http://10.0.0.1:8080/":                 true,
		"http://10.0.0.1/":                      false,
		"https://a.corp.example/":               true,
		"https://a.b.corp.example/":             true,
		"https://corp.example/":                 false,
		"https://corp.example.evil/":            false,
		"http://[::1]:9000/":                    true,
		"http://[::1]:9001/":                    false,
		"http://[fe80::1]:1234/":                true,
		"https://hooks.example.com@evil.com/":   false,
		"https://evil.com#@hooks.example.com/":  false,
		"https://evil.com/?hooks.example.com":   false,
		"https://evil.com\\@hooks.example.com/": false,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		if got := p.allowed(u); got != want {
			t.Errorf("%s: allowed %v, want %v", raw, got, want)
		}
	}
	for _, bad := range []string{"", "https://example.com", "example.com/path", "*", "*.", "a.*.com", "example.com:http", "example.com:70000", "user@example.com"} {
		if _, err := parseAllowHosts([]string{bad}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestHostOpensWasm opens a plugin block whose source is a .wasm module.
func TestHostOpensWasm(t *testing.T) {
	path, cache := guest(t, "minimal")
	h := New(Options{CacheDir: cache})
	ctx := testContext(t)
	conn, err := h.Open(ctx, &hclconfig.Plugin{Name: "m", Source: path, MemoryLimit: 32 << 20, CallTimeout: 5 * time.Second, AllowHosts: []string{"example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w, ok := conn.(*WasmPlugin)
	if !ok || w.opts.MemoryLimitBytes != 32<<20 || w.opts.CallTimeout != 5*time.Second || len(w.allow) != 1 || w.opts.CacheDir != cache {
		t.Fatalf("opened %T %+v", conn, w)
	}
	if info, kind, err := conn.Info(ctx); err != nil || info.Name != "minimal" || kind != sdk.KindNotifier {
		t.Errorf("info %+v, kind %v: %v", info, kind, err)
	}
}

// TestWasmInterpreted: a module loaded in the interpreter, as vigil config
// validate loads them, answers as a compiled one: its info, its schema,
// its refusal of a bad config, and a collection.
func TestWasmInterpreted(t *testing.T) {
	p := loadGuest(t, "exporter", WasmOptions{Interpret: true})
	ctx := testContext(t)
	if info, kind, err := p.Info(ctx); err != nil || kind != sdk.KindExporter || info.Name != "test-exporter" {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	schema, err := p.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := schema.Attribute("greeting"); !ok || !a.Required || a.Type != sdk.TypeString {
		t.Errorf("schema %+v", schema)
	}
	if err := p.Configure(ctx, []byte(`{"factor": 2}`)); err == nil || !strings.Contains(err.Error(), "greeting") {
		t.Errorf("a config without greeting: %v", err)
	}
	if err := p.Configure(ctx, []byte(`{"greeting": "hi"}`)); err != nil {
		t.Fatal(err)
	}
	got, err := p.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g := greeting(t, got); g != "hi" {
		t.Errorf("greeting %q", g)
	}
}

// TestWasmInterpretReadsACompiledCache: a module loaded to be
// interpreted, as vigil config validate loads it, leaves a compilation
// cache as it is; once the cache holds the module compiled, it is read
// back from there, with the interrupt checks of compiled code, and
// works as before.
func TestWasmInterpretReadsACompiledCache(t *testing.T) {
	ctx := testContext(t)
	path, _ := guest(t, "minimal")
	code, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	load := func() (flagged bool) {
		t.Helper()
		p, err := LoadWasm(ctx, WasmOptions{Path: path, CacheDir: dir, Interpret: true})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if err := p.Configure(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if err := p.Notify(ctx, notification("ok", nil)); err != nil {
			t.Fatal(err)
		}
		inst, err := p.acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer p.release(inst, false)
		return inst.flag != nil
	}
	if load() {
		t.Error("with an empty cache the module was compiled, not interpreted")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 || readMark(compiledMark(dir, sha256.Sum256(code))) != nil {
		t.Fatalf("interpreting the module wrote to the cache: %d entries", len(entries))
	}
	if err := PrecompileWasm(ctx, path, dir); err != nil {
		t.Fatal(err)
	}
	if readMark(compiledMark(dir, sha256.Sum256(code))) == nil {
		t.Fatal("the compiled module is not noted in the cache")
	}
	if !load() {
		t.Error("with the module compiled in the cache it was interpreted")
	}
}

// TestWasmCompiledMarkKeepsTheRewrittenModule: compiling into a cache
// keeps the module as rewritten for the interrupt flag beside it, and a
// later load compiles that, not a new rewrite; a kept module cut short
// is rewritten again, and works.
func TestWasmCompiledMarkKeepsTheRewrittenModule(t *testing.T) {
	ctx := testContext(t)
	rewrite := func(name string) (path string, code, rewritten []byte) {
		t.Helper()
		path, _ = guest(t, name)
		code, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if rewritten, err = instrumentModule(code); err != nil {
			t.Fatal(err)
		}
		return path, code, rewritten
	}
	path, code, rewritten := rewrite("minimal") // a notifier
	_, _, exporter := rewrite("v1exporter")
	dir := t.TempDir()
	mark := compiledMark(dir, sha256.Sum256(code))
	kind := func() sdk.Kind {
		t.Helper()
		p, err := LoadWasm(ctx, WasmOptions{Path: path, CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		_, k, err := p.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	// Marks of another version, and a temporary file of a writer that
	// stopped an hour ago, are removed when a mark is written; a recent
	// one, which a writer may still be writing, is not.
	old := filepath.Join(dir, "vigil-compiled-v0.0.1-i0")
	stale, recent := filepath.Join(filepath.Dir(mark), ".mark-1"), filepath.Join(filepath.Dir(mark), ".mark-2")
	for _, f := range []string{filepath.Join(old, "ab"), stale, recent} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(stale, time.Now().Add(-2*staleMarkAge), time.Now().Add(-2*staleMarkAge)); err != nil {
		t.Fatal(err)
	}
	if k := kind(); k != sdk.KindNotifier {
		t.Fatalf("kind %v, want a notifier", k)
	}
	for f, want := range map[string]bool{old: false, stale: false, recent: true} {
		if _, err := os.Stat(f); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", f, err == nil, want)
		}
	}
	if kept := readMark(mark); !bytes.Equal(kept, rewritten) {
		t.Fatalf("the mark does not keep the rewritten module (%d bytes, want %d)", len(kept), len(rewritten))
	}

	// What the mark keeps is what a load compiles: here another module.
	writeMark(mark, exporter)
	if k := kind(); k != sdk.KindExporter {
		t.Fatalf("kind %v, want the exporter the mark keeps", k)
	}

	// A mark cut short, or with a byte changed, is rewritten.
	good, err := os.ReadFile(mark)
	if err != nil {
		t.Fatal(err)
	}
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 1
	for name, damaged := range map[string][]byte{"cut short": good[:len(good)/2], "with a byte changed": flipped} {
		if err := os.WriteFile(mark, damaged, 0o644); err != nil {
			t.Fatal(err)
		}
		if k := kind(); k != sdk.KindNotifier {
			t.Fatalf("a mark %s: kind %v, want a notifier", name, k)
		}
		if kept := readMark(mark); !bytes.Equal(kept, rewritten) {
			t.Fatalf("a mark %s was not written again (%d bytes, want %d)", name, len(kept), len(rewritten))
		}
	}
}
