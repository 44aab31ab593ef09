package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/vigilmon/vigil/bench/harness"
)

// receiver is the webhook receiver both systems notify, on 127.0.0.1: it
// keeps when each alert's first firing notification arrived.
type receiver struct {
	url string
	w   *workload
	srv *harness.Server

	mu        sync.Mutex
	first     []time.Time   // by alert index; zero until its first firing notification
	delivered int           // alerts whose first firing notification arrived
	all       chan struct{} // closed when every alert was delivered
	messages  int           // messages taken
	firing    int           // firing alerts in the messages, repeats included
	bad       int           // messages that could not be read, or named unknown alerts
	lastBad   string
}

// webhookMessage is the part of Alertmanager's webhook message, version
// 4, that the receiver reads.
type webhookMessage struct {
	Version string `json:"version"`
	Status  string `json:"status"`
	Alerts  []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

// startReceiver serves the receiver of w's alerts on a free port of
// 127.0.0.1.
func startReceiver(w *workload) (*receiver, error) {
	r := &receiver{w: w}
	r.reset()
	srv, err := harness.Serve("the receiver", r)
	if err != nil {
		return nil, err
	}
	r.srv, r.url = srv, "http://"+srv.Addr+"/hook"
	return r, nil
}

// ServeHTTP takes one webhook message.
func (r *receiver) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	now := time.Now()
	body, err := io.ReadAll(io.LimitReader(req.Body, 64<<20))
	var m webhookMessage
	if err == nil {
		err = json.Unmarshal(body, &m)
	}
	if err == nil && (req.Method != http.MethodPost || m.Version != "4") {
		err = fmt.Errorf("%s with version %q", req.Method, m.Version)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.bad++
		r.lastBad = err.Error()
		http.Error(rw, "unexpected message", http.StatusBadRequest)
		return
	}
	r.messages++
	for _, a := range m.Alerts {
		if a.Status != "firing" {
			continue
		}
		r.firing++
		i, ok := r.w.index[alertKey(a.Labels["group"], a.Labels["instance"])]
		if !ok || a.Labels["alertname"] != alertName {
			r.bad++
			r.lastBad = fmt.Sprintf("unknown alert %v", a.Labels)
			continue
		}
		if r.first[i].IsZero() {
			r.first[i] = now
			r.delivered++
			if r.delivered == len(r.first) {
				close(r.all)
			}
		}
	}
	_, _ = io.WriteString(rw, "ok")
}

// reset forgets every arrival, for the next system.
func (r *receiver) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.first = make([]time.Time, r.w.len())
	r.delivered, r.messages, r.firing, r.bad, r.lastBad = 0, 0, 0, 0, ""
	r.all = make(chan struct{})
}

// allDelivered returns the channel closed once every alert arrived.
func (r *receiver) allDelivered() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.all
}

// receiverStats is what the receiver took since its last reset.
type receiverStats struct {
	first                 []time.Time
	delivered             int
	messages, firing, bad int
	lastBad               string
}

// stats returns a copy of what the receiver took since its last reset.
func (r *receiver) stats() receiverStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return receiverStats{
		first: append([]time.Time(nil), r.first...), delivered: r.delivered,
		messages: r.messages, firing: r.firing, bad: r.bad, lastBad: r.lastBad,
	}
}

// stop ends the receiver's server.
func (r *receiver) stop() { r.srv.Close() }
