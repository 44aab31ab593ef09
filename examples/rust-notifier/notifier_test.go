// Package rustnotifier tests the notifier written in Rust beside it
// (notifier.rs): built with rustc into a WebAssembly module, Vigil's
// plugin host loads it and delivers notifications through it. cmd/vigil's
// tests run the conformance suite on it and have a vigil server notify
// through it.
package rustnotifier

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilmon/vigil/core/pluginhost"
	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/sdk"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// Source is the notifier's source file, relative to the module's root.
const Source = "examples/rust-notifier/notifier.rs"

// receiver records what it is sent and answers with its status.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	bodies   [][]byte
	requests []*http.Request
	status   int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: http.StatusOK}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.bodies = append(r.bodies, b)
		r.requests = append(r.requests, req)
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

// last returns the last request and its body, decoded.
func (r *receiver) last(t *testing.T) (*http.Request, map[string]any) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bodies) == 0 {
		t.Fatal("the receiver got nothing")
	}
	var msg map[string]any
	if err := json.Unmarshal(r.bodies[len(r.bodies)-1], &msg); err != nil {
		t.Fatalf("the body is not JSON: %v\n%s", err, r.bodies[len(r.bodies)-1])
	}
	return r.requests[len(r.requests)-1], msg
}

// notification is a notification with every field set, and characters
// JSON must escape.
func notification(status string) *sdk.Notification {
	at := time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC)
	n := &sdk.Notification{
		Version: "4", GroupKey: `{}:{alertname="Disk\"Full"}`, Status: status, Receiver: "ops", TruncatedAlerts: 1,
		GroupLabels:       map[string]string{"alertname": `Disk"Full`},
		CommonLabels:      map[string]string{"alertname": `Disk"Full`, "severity": "page"},
		CommonAnnotations: map[string]string{"summary": "a <disk> & a\nline – ünïcödé 🔥"},
		ExternalURL:       "http://vigil.example:9090",
	}
	for _, inst := range []string{"b", "a", "c"} {
		a := sdk.Alert{
			Status: status, StartsAt: at, GeneratorURL: "http://vigil.example:9090/graph?g0.expr=x%3E1&x=\\",
			Labels:      map[string]string{"alertname": `Disk"Full`, "severity": "page", "instance": inst},
			Annotations: map[string]string{"summary": "disk of " + inst},
			Fingerprint: "0123456789abcde" + inst,
		}
		if status == "resolved" {
			a.EndsAt = at.Add(time.Hour)
		}
		n.Alerts = append(n.Alerts, a)
	}
	return n
}

// TestModule has the plugin host deliver notifications through the
// module, and compares what it posts with what the webhook plugin, in
// Go, posts for the same notifications.
func TestModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module")
	}
	module := testplugins.BuildRustWasm(t, Source)
	r := newReceiver(t)
	u, err := url.Parse(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	load := func(allow ...string) *pluginhost.WasmPlugin {
		p, err := pluginhost.LoadWasm(ctx, pluginhost.WasmOptions{Path: module, AllowHosts: allow})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	p := load(u.Host)

	info, kind, err := p.Info(ctx)
	if err != nil || kind != sdk.KindNotifier || info.Name != "rswebhook" || !reflect.DeepEqual(info.Capabilities, []string{sdk.CapabilityDeliversToURL}) {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	schema, err := p.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := schema.Attribute("url"); !ok || !a.Required || !a.Sensitive || a.Type != sdk.TypeString {
		t.Errorf("url attribute %+v", a)
	}
	if a, ok := schema.Attribute("max_alerts"); !ok || a.Default != float64(0) {
		t.Errorf("max_alerts attribute %+v", a)
	}

	var ae *sdk.AttributeError
	for config, attribute := range map[string]string{
		`{"url": "ftp://example.com/x"}`:                             "url",
		`{"url": "http:///x"}`:                                       "url",
		`{"url": 5}`:                                                 "url",
		`{"max_alerts": 1}`:                                          "url",
		`{"url": "http://a", "max_alerts": -1}`:                      "max_alerts",
		`{"url": "http://a", "max_alerts": 1.5}`:                     "max_alerts",
		`{"url": "http://a", "headers": {"Content-Type": "text/x"}}`: "headers",
		`{"url": "http://a", "headers": {"X-Key": "a\nb"}}`:          "headers",
		`{"url": "http://a", "headers": {"Bad Name": "x"}}`:          "headers",
		`{"url": "http://a", "headers": ["X-Key"]}`:                  "headers",
	} {
		if err := p.Configure(ctx, []byte(config)); !errors.As(err, &ae) || ae.Attribute != attribute {
			t.Errorf("config %s: %v, want an error about %s", config, err, attribute)
		}
	}

	webhook, err := client.Start(client.Options{Path: testplugins.Build(t, "plugins/notifier/webhook")})
	if err != nil {
		t.Fatal(err)
	}
	defer webhook.Kill()
	for _, status := range []string{"firing", "resolved"} {
		for _, max := range []int{0, 2} {
			config := []byte(`{"url": "` + r.URL + `/hook/secret", "max_alerts": ` + strconv.Itoa(max) + `, "headers": {"X-Api-Key": "k1"}}`)
			if err := p.Configure(ctx, config); err != nil {
				t.Fatal(err)
			}
			if err := p.Notify(ctx, notification(status)); err != nil {
				t.Fatal(err)
			}
			req, got := r.last(t)
			if req.Method != http.MethodPost || req.URL.Path != "/hook/secret" || req.Header.Get("Content-Type") != "application/json" ||
				req.Header.Get("X-Api-Key") != "k1" || req.Header.Get("User-Agent") != "Vigil" {
				t.Errorf("request %s %s, headers %v", req.Method, req.URL, req.Header)
			}
			if alerts := got["alerts"].([]any); (max == 0 && len(alerts) != 3) || (max == 2 && len(alerts) != 2) || got["truncatedAlerts"] != float64(1+3-len(alerts)) {
				t.Errorf("max_alerts %d: %d alerts, truncatedAlerts %v", max, len(alerts), got["truncatedAlerts"])
			}

			if err := webhook.Configure(ctx, config); err != nil {
				t.Fatal(err)
			}
			if err := webhook.Notify(ctx, notification(status)); err != nil {
				t.Fatal(err)
			}
			if _, want := r.last(t); !reflect.DeepEqual(got, want) {
				t.Errorf("%s, max_alerts %d: the module posted\n%v\nthe webhook plugin\n%v", status, max, got, want)
			}
		}
	}

	for status, permanent := range map[int]bool{http.StatusBadRequest: true, http.StatusNotFound: true, http.StatusTooManyRequests: false, http.StatusServiceUnavailable: false} {
		r.respond(status)
		err := p.Notify(ctx, notification("firing"))
		if err == nil || sdk.IsPermanent(err) != permanent || strings.Contains(err.Error(), "secret") {
			t.Errorf("answer %d: %v, want permanent %v", status, err, permanent)
		}
	}
	r.respond(http.StatusOK)

	// Without the receiver in allow_hosts, the host refuses the request,
	// and retrying cannot help.
	p = load("127.0.0.1:1")
	if err := p.Configure(ctx, []byte(`{"url": "`+r.URL+`/hook/secret"}`)); err != nil {
		t.Fatal(err)
	}
	if err := p.Notify(ctx, notification("firing")); err == nil || !sdk.IsPermanent(err) || !strings.Contains(err.Error(), "allow_hosts") || strings.Contains(err.Error(), "secret") {
		t.Errorf("a host not allowed: %v", err)
	}
}
