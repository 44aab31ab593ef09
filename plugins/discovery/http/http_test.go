package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/discovery/discoverytest"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// wait bounds every wait in these tests.
const wait = 10 * time.Second

// sdServer is an HTTP SD endpoint whose answer the test changes.
type sdServer struct {
	*httptest.Server
	polls atomic.Int64

	mu          sync.Mutex
	status      int
	contentType string
	body        string
	headers     []http.Header
}

func newSDServer(t *testing.T, tlsServer bool) *sdServer {
	s := &sdServer{status: http.StatusOK, contentType: "application/json", body: "[]"}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.headers = append(s.headers, r.Header.Clone())
		status, ct, body := s.status, s.contentType, s.body
		s.polls.Add(1)
		s.mu.Unlock()
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	})
	s.Server = httptest.NewUnstartedServer(h)
	// A client that refuses the certificate is expected here, not news.
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsServer {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func (s *sdServer) answer(status int, contentType, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.contentType, s.body = status, contentType, body
}

func (s *sdServer) lastHeader() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.headers[len(s.headers)-1]
}

// waitPolls waits until n more polls than now have read the answer.
// Polls follow each other, so once a poll has started, the one before it
// has been handled: after waitPolls(2), a poll has seen the answer set
// before and its outcome is known.
func (s *sdServer) waitPolls(t *testing.T, n int64) {
	t.Helper()
	target := s.polls.Load() + n
	deadline := time.Now().Add(wait)
	for s.polls.Load() < target {
		if time.Now().After(deadline) {
			t.Fatalf("the server was not polled %d more times", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func configure(t *testing.T, values map[string]any) (*httpDiscoverer, *discoverytest.LogBuffer) {
	t.Helper()
	cfg, err := httpPlugin.Schema.Values(values)
	if err != nil {
		t.Fatal(err)
	}
	d, err := newHTTPDiscoverer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	logs := &discoverytest.LogBuffer{}
	d.log = hclog.New(&hclog.LoggerOptions{Output: logs, JSONFormat: true})
	return d, logs
}

func none(t *testing.T, updates <-chan []sdk.TargetGroup) {
	t.Helper()
	select {
	case u := <-updates:
		t.Fatalf("unexpected update %+v", u)
	default:
	}
}

func group(url string, i int, labels map[string]string, addrs ...string) sdk.TargetGroup {
	g := sdk.TargetGroup{Source: fmt.Sprintf("%s:%d", url, i), Labels: map[string]string{"__meta_url": url}, Targets: []map[string]string{}}
	for k, v := range labels {
		g.Labels[k] = v
	}
	for _, a := range addrs {
		g.Targets = append(g.Targets, map[string]string{"__address__": a})
	}
	return g
}

func TestConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		values map[string]any
		attr   string
	}{
		"no url":               {map[string]any{}, "url"},
		"not a url":            {map[string]any{"url": "http://[::1"}, "url"},
		"other scheme":         {map[string]any{"url": "ftp://127.0.0.1/sd"}, "url"},
		"no host":              {map[string]any{"url": "http:///sd"}, "url"},
		"zero interval":        {map[string]any{"url": "http://127.0.0.1/sd", "refresh_interval": "0s"}, "refresh_interval"},
		"zero timeout":         {map[string]any{"url": "http://127.0.0.1/sd", "timeout": "0s"}, "timeout"},
		"password alone":       {map[string]any{"url": "http://127.0.0.1/sd", "basic_auth_password": "p"}, "basic_auth_password"},
		"bearer and basic":     {map[string]any{"url": "http://127.0.0.1/sd", "basic_auth_username": "u", "bearer_token": "t"}, "bearer_token"},
		"skip verify not bool": {map[string]any{"url": "http://127.0.0.1/sd", "tls_insecure_skip_verify": "yes"}, "tls_insecure_skip_verify"},
	} {
		cfg, err := httpPlugin.Schema.Values(tc.values)
		if err == nil {
			_, err = newHTTPDiscoverer(cfg)
		}
		var ae *sdk.AttributeError
		if !errors.As(err, &ae) || ae.Attribute != tc.attr {
			t.Errorf("%s: %v, want an error about %q", name, err, tc.attr)
		}
	}
	d, _ := configure(t, map[string]any{"url": "https://127.0.0.1/sd"})
	if d.interval != time.Minute || d.timeout != time.Minute {
		t.Errorf("defaults: refresh_interval %s, timeout %s", d.interval, d.timeout)
	}
	d, _ = configure(t, map[string]any{"url": "https://127.0.0.1/sd", "timeout": "5s"})
	if d.timeout != 5*time.Second {
		t.Errorf("timeout %s", d.timeout)
	}
}

func TestDiscover(t *testing.T) {
	srv := newSDServer(t, false)
	url := srv.URL + "/sd"
	srv.answer(http.StatusOK, "application/json; charset=utf-8",
		`[{"targets": ["127.0.0.1:1", "127.0.0.1:2"], "labels": {"team": "x"}}, {"targets": ["127.0.0.1:3"]}]`)
	d, logs := configure(t, map[string]any{"url": url, "refresh_interval": "50ms", "bearer_token": "s3cret"})
	updates := discoverytest.Run(t, d)

	check := func(step string, want ...sdk.TargetGroup) {
		t.Helper()
		if diff := cmp.Diff(want, discoverytest.Next(t, updates)); diff != "" {
			t.Fatalf("%s: update (-want +got):\n%s", step, diff)
		}
	}
	check("first poll",
		group(url, 0, map[string]string{"team": "x"}, "127.0.0.1:1", "127.0.0.1:2"),
		group(url, 1, nil, "127.0.0.1:3"))
	h := srv.lastHeader()
	for name, want := range map[string]string{
		"Accept":                                "application/json",
		"User-Agent":                            "Vigil",
		"X-Prometheus-Refresh-Interval-Seconds": "0.05",
		"Authorization":                         "Bearer s3cret",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("header %s: %q, want %q", name, got, want)
		}
	}

	// Unchanged answers send nothing.
	srv.waitPolls(t, 2)
	none(t, updates)

	// Failed polls keep the last groups: nothing is sent, each is logged.
	for name, answer := range map[string]struct {
		status      int
		contentType string
		body        string
		log         string
	}{
		"server error":  {http.StatusInternalServerError, "application/json", `[]`, "500 Internal Server Error"},
		"content type":  {http.StatusOK, "text/plain", `[]`, "unsupported Content-Type"},
		"bad json":      {http.StatusOK, "application/json", `[{"targets": [`, "cannot parse the response"},
		"unknown field": {http.StatusOK, "application/json", `[{"targets": [], "lables": {}}]`, "unknown field"},
		"bad target":    {http.StatusOK, "application/json", `[{"targets": ["http://a/metrics"]}]`, "not a valid host:port"},
	} {
		srv.answer(answer.status, answer.contentType, answer.body)
		srv.waitPolls(t, 2)
		none(t, updates)
		if !strings.Contains(logs.String(), answer.log) {
			t.Errorf("%s: not logged as %q:\n%s", name, answer.log, logs.String())
		}
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("the bearer token is in the logs:\n%s", logs.String())
	}

	srv.answer(http.StatusOK, "application/json", `[{"targets": ["127.0.0.1:1"], "labels": {"team": "x"}}]`)
	check("shrink", group(url, 0, map[string]string{"team": "x"}, "127.0.0.1:1"), sdk.TargetGroup{Source: url + ":1"})

	srv.answer(http.StatusOK, "application/json", `[]`)
	check("empty", sdk.TargetGroup{Source: url + ":0"})
}

func TestBasicAuth(t *testing.T) {
	srv := newSDServer(t, false)
	d, _ := configure(t, map[string]any{"url": srv.URL, "basic_auth_username": "user", "basic_auth_password": "pass"})
	if u := discoverytest.Next(t, discoverytest.Run(t, d)); len(u) != 0 {
		t.Fatalf("update %+v", u)
	}
	req := &http.Request{Header: srv.lastHeader()}
	if user, pass, ok := req.BasicAuth(); !ok || user != "user" || pass != "pass" {
		t.Errorf("basic auth %q %q %v", user, pass, ok)
	}
}

func TestTLS(t *testing.T) {
	srv := newSDServer(t, true)
	srv.answer(http.StatusOK, "application/json", `[{"targets": ["127.0.0.1:1"]}]`)

	d, logs := configure(t, map[string]any{"url": srv.URL, "refresh_interval": "50ms"})
	updates := discoverytest.Run(t, d)
	deadline := time.Now().Add(wait)
	for !strings.Contains(logs.String(), "certificate") {
		if time.Now().After(deadline) {
			t.Fatalf("an untrusted certificate was not logged:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	none(t, updates)

	d, _ = configure(t, map[string]any{"url": srv.URL, "tls_insecure_skip_verify": true})
	if diff := cmp.Diff([]sdk.TargetGroup{group(srv.URL, 0, nil, "127.0.0.1:1")}, discoverytest.Next(t, discoverytest.Run(t, d))); diff != "" {
		t.Fatalf("update (-want +got):\n%s", diff)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			select {
			case <-r.Context().Done():
				return
			case <-release:
			}
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"targets": ["127.0.0.1:1"]}]`)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	d, logs := configure(t, map[string]any{"url": srv.URL, "refresh_interval": "200ms", "timeout": "50ms"})
	updates := discoverytest.Run(t, d)
	// The first poll times out and is logged; the second succeeds.
	if diff := cmp.Diff([]sdk.TargetGroup{group(srv.URL, 0, nil, "127.0.0.1:1")}, discoverytest.Next(t, updates)); diff != "" {
		t.Fatalf("update (-want +got):\n%s", diff)
	}
	if !strings.Contains(logs.String(), "poll failed") {
		t.Errorf("the timeout was not logged:\n%s", logs.String())
	}
}

func TestSendError(t *testing.T) {
	srv := newSDServer(t, false)
	d, _ := configure(t, map[string]any{"url": srv.URL})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	gone := errors.New("host gone")
	if err := d.Discover(ctx, func([]sdk.TargetGroup) error { return gone }); !errors.Is(err, gone) {
		t.Fatalf("Discover returned %v, want the send error", err)
	}
}
