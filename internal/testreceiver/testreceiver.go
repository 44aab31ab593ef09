// Package testreceiver is the HTTP endpoint of notifier tests: it listens
// on loopback, records the requests it gets and answers each with the
// status and body the test sets. Start with New.
package testreceiver

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Request is a request the receiver recorded.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// Receiver is a recording HTTP endpoint on 127.0.0.1; its URL is the
// embedded server's.
type Receiver struct {
	*httptest.Server

	accept   func(*http.Request) bool
	mu       sync.Mutex
	status   int
	body     string
	requests []Request
}

// New starts a receiver that answers status and body until Respond says
// otherwise; it stops when the test ends. accept, when not nil, decides
// which requests are recorded: the others are answered 400 and left out,
// as a real endpoint refuses what is not meant for it.
func New(t testing.TB, status int, body string, accept func(*http.Request) bool) *Receiver {
	r := &Receiver{accept: accept, status: status, body: body}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		if r.accept != nil && !r.accept(req) {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.requests = append(r.requests, Request{req.Method, req.URL.Path, req.Header.Clone(), b})
		status, answer := r.status, r.body
		r.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(r.Close)
	return r
}

// Respond sets the status and body of the answers from now on.
func (r *Receiver) Respond(status int, body string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.body = status, body
}

// Last returns the last request recorded; the test fails when there is
// none.
func (r *Receiver) Last(t testing.TB) Request {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.requests) == 0 {
		t.Fatal("the receiver got no request")
	}
	return r.requests[len(r.requests)-1]
}

// LastJSON decodes the body of the last request recorded as a T.
func LastJSON[T any](t testing.TB, r *Receiver) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Last(t).Body, &v); err != nil {
		t.Fatalf("the last request's body: %v", err)
	}
	return v
}
