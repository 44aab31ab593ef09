package main

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"

	"github.com/vigilmon/vigil/bench/harness"
)

// maxWriteBody bounds the body of one remote-write request, compressed
// and decompressed.
const maxWriteBody = 64 << 20

// receiver is the remote-write receiver both agents send to, on
// 127.0.0.1: POST /write/<sender>, Remote-Write 1.0 (snappy-compressed
// prometheus.WriteRequest). It decodes every request and counts its
// samples per sender, and finds the samples that came twice: a sample of
// a series not newer than the newest one received of the series. (The
// queues send each series in timestamp order, its samples through one
// shard; a retried request that had in fact arrived resends them.)
type receiver struct {
	url string // the base URL; a sender posts to url + "/" + sender
	srv *harness.Server

	mu      sync.Mutex
	senders map[string]*senderCounts // keys fixed at start
}

// senderCounts are what one sender delivered.
type senderCounts struct {
	requests int
	bad      int // requests that could not be decoded, answered 400
	lastBad  string
	// samples are the samples of the targets' series that arrived the
	// first time; duplicates those that arrived again, or out of order.
	samples, duplicates int64
	// stale are the stale markers of the targets' series, written when
	// the targets closed; not counted in samples.
	stale int64
	// own are the samples of the series the sender makes of its scrapes
	// (up, scrape_*), stale markers included.
	own int64
	// scraped is the sum of the sender's scrape_samples_scraped samples:
	// the samples its scrapes took, by its own count.
	scraped float64
	newest  map[uint64]int64 // by series (a hash of its labels): its newest timestamp
}

// receiverStats are a sender's counts at one time.
type receiverStats struct {
	requests, bad              int
	lastBad                    string
	samples, duplicates, stale int64
	own                        int64
	scraped                    float64
	series                     int
}

// newReceiver returns a receiver for the given senders, not serving.
func newReceiver(senders []string) *receiver {
	r := &receiver{senders: map[string]*senderCounts{}}
	for _, s := range senders {
		r.senders[s] = &senderCounts{newest: map[uint64]int64{}}
	}
	return r
}

// start serves r on a free port of 127.0.0.1.
func (r *receiver) start() error {
	srv, err := harness.Serve("the remote-write receiver", r)
	if err != nil {
		return err
	}
	r.srv, r.url = srv, "http://"+srv.Addr+"/write"
	return nil
}

// stop stops serving.
func (r *receiver) stop() { r.srv.Close() }

// stats returns sender's counts.
func (r *receiver) stats(sender string) receiverStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.senders[sender]
	return receiverStats{
		requests: c.requests, bad: c.bad, lastBad: c.lastBad,
		samples: c.samples, duplicates: c.duplicates, stale: c.stale, own: c.own,
		scraped: c.scraped, series: len(c.newest),
	}
}

// ServeHTTP takes one remote-write request.
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	sender, ok := strings.CutPrefix(req.URL.Path, "/write/")
	if _, known := r.senders[sender]; !ok || !known || req.Method != http.MethodPost {
		http.NotFound(w, req)
		return
	}
	wr, err := decodeWriteRequest(req)
	if err != nil {
		r.mu.Lock()
		c := r.senders[sender]
		c.requests++
		c.bad++
		c.lastBad = err.Error()
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.count(sender, wr)
	w.WriteHeader(http.StatusNoContent)
}

// decodeWriteRequest reads a Remote-Write 1.0 request's body.
func decodeWriteRequest(req *http.Request) (*prompb.WriteRequest, error) {
	if enc := req.Header.Get("Content-Encoding"); enc != "snappy" {
		return nil, fmt.Errorf("content encoding %q, want snappy", enc)
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" && !strings.Contains(ct, "proto=prometheus.WriteRequest") {
		return nil, fmt.Errorf("content type %q, want Remote-Write 1.0's application/x-protobuf", ct)
	}
	compressed, err := io.ReadAll(io.LimitReader(req.Body, maxWriteBody+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the body: %w", err)
	}
	if len(compressed) > maxWriteBody {
		return nil, fmt.Errorf("body larger than %d bytes", maxWriteBody)
	}
	if n, err := snappy.DecodedLen(compressed); err != nil || n > maxWriteBody {
		return nil, fmt.Errorf("body not snappy-compressed or larger than %d bytes decompressed (%v)", maxWriteBody, err)
	}
	raw, err := snappy.Decode(nil, compressed)
	if err != nil {
		return nil, fmt.Errorf("cannot decompress the body: %w", err)
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("cannot decode the write request: %w", err)
	}
	return &wr, nil
}

// count adds the samples of wr to sender's counts.
func (r *receiver) count(sender string, wr *prompb.WriteRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.senders[sender]
	c.requests++
	for _, ts := range wr.Timeseries {
		name := metricName(ts.Labels)
		if !strings.HasPrefix(name, metricPrefix) {
			c.own += int64(len(ts.Samples))
			if name == "scrape_samples_scraped" {
				for _, s := range ts.Samples {
					if !value.IsStaleNaN(s.Value) && !math.IsNaN(s.Value) {
						c.scraped += s.Value
					}
				}
			}
			continue
		}
		key := seriesKey(ts.Labels)
		newest, seen := c.newest[key]
		for _, s := range ts.Samples {
			switch {
			case value.IsStaleNaN(s.Value):
				c.stale++
			case seen && s.Timestamp <= newest:
				c.duplicates++
			default:
				c.samples++
				newest, seen = s.Timestamp, true
			}
		}
		if seen {
			c.newest[key] = newest
		}
	}
}

// metricName returns the value of the __name__ label.
func metricName(ls []prompb.Label) string {
	for _, l := range ls {
		if l.Name == "__name__" {
			return l.Value
		}
	}
	return ""
}

// seriesKey returns a hash of a series' labels, in the order they came:
// both agents send them sorted by name.
func seriesKey(ls []prompb.Label) uint64 {
	d := xxhash.New()
	for _, l := range ls {
		_, _ = d.WriteString(l.Name)
		_, _ = d.Write([]byte{0xff})
		_, _ = d.WriteString(l.Value)
		_, _ = d.Write([]byte{0xff})
	}
	return d.Sum64()
}
