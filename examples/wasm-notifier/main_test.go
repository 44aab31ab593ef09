package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilmon/vigil/core/pluginhost"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/sdk"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// notification is a group of alerts of the given status.
func notification(status string, names ...string) *sdk.Notification {
	n := &sdk.Notification{Version: "4", Status: status, Receiver: "hello"}
	for _, name := range names {
		n.Alerts = append(n.Alerts, sdk.Alert{Status: status, Labels: map[string]string{"alertname": name}, StartsAt: time.Unix(0, 0).UTC()})
	}
	return n
}

func TestText(t *testing.T) {
	for _, c := range []struct {
		n    *sdk.Notification
		want string
	}{
		{notification("firing", "InstanceDown", "DiskFull", "InstanceDown"), "[FIRING:3] DiskFull, InstanceDown"},
		{notification("resolved", "DiskFull"), "[RESOLVED] DiskFull"},
	} {
		if got := text(c.n); got != c.want {
			t.Errorf("text: %q, want %q", got, c.want)
		}
	}
}

// receiver records what the module posts and answers with its status.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
	types  []string
	status int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: http.StatusNoContent}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.bodies = append(r.bodies, string(b))
		r.types = append(r.types, req.Header.Get("Content-Type"))
		w.WriteHeader(r.status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) respond(status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = status
}

// last returns the body and content type of the last message.
func (r *receiver) last(t *testing.T) (body, contentType string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bodies) == 0 {
		t.Fatal("the receiver got no message")
	}
	return r.bodies[len(r.bodies)-1], r.types[len(r.types)-1]
}

// TestModule builds the example as a WebAssembly module and has Vigil's
// plugin host deliver notifications through it to a local receiver.
func TestModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module")
	}
	module := testplugins.BuildWasm(t, "examples/wasm-notifier")
	cache := testplugins.WasmCache(t, module)
	r := newReceiver(t)
	u, err := url.Parse(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	load := func(allow ...string) *pluginhost.WasmPlugin {
		p, err := pluginhost.LoadWasm(ctx, pluginhost.WasmOptions{Path: module, CacheDir: cache, AllowHosts: allow})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	p := load(u.Host)

	info, kind, err := p.Info(ctx)
	if err != nil || kind != sdk.KindNotifier || info.Name != "hello" {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	var ae *sdk.AttributeError
	if err := p.Configure(ctx, []byte(`{"url": "ftp://example.com"}`)); !errors.As(err, &ae) || ae.Attribute != "url" {
		t.Errorf("an ftp url: %v", err)
	}
	config := []byte(`{"url": "` + r.URL + `/hook"}`)
	if err := p.Configure(ctx, config); err != nil {
		t.Fatal(err)
	}

	if err := p.Notify(ctx, notification("firing", "InstanceDown", "DiskFull")); err != nil {
		t.Fatal(err)
	}
	if body, ct := r.last(t); body != `{"text":"[FIRING:2] DiskFull, InstanceDown"}` || ct != "application/json" {
		t.Errorf("received %s (%s)", body, ct)
	}
	if err := p.Notify(ctx, notification("resolved", "DiskFull")); err != nil {
		t.Fatal(err)
	}
	if body, _ := r.last(t); body != `{"text":"[RESOLVED] DiskFull"}` {
		t.Errorf("received %s", body)
	}

	for status, permanent := range map[int]bool{http.StatusBadRequest: true, http.StatusServiceUnavailable: false} {
		r.respond(status)
		err := p.Notify(ctx, notification("firing", "InstanceDown"))
		if err == nil || sdk.IsPermanent(err) != permanent {
			t.Errorf("answer %d: %v, want permanent %v", status, err, permanent)
		}
	}

	// Without the receiver in allow_hosts, the host refuses the request.
	p = load("127.0.0.1:1")
	if err := p.Configure(ctx, config); err != nil {
		t.Fatal(err)
	}
	if err := p.Notify(ctx, notification("firing", "InstanceDown")); err == nil || !sdk.IsPermanent(err) || !strings.Contains(err.Error(), "allow_hosts") {
		t.Errorf("a host not allowed: %v", err)
	}
}
