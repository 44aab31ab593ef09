package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// receiver is the suite's loopback HTTP endpoint, on 127.0.0.1 only. A
// notifier delivers to it: it answers every request other than GET with
// its status, 200 unless a check says otherwise. A discoverer polls it:
// it answers GET with target groups in the format of Prometheus's
// http_sd_configs, two groups until a check drops one.
type receiver struct {
	URL    string
	srv    *http.Server
	status atomic.Int32
	groups atomic.Int32
	posts  atomic.Int64
	gets   atomic.Int64
}

// receiverGroups are the groups the receiver lists.
var receiverGroups = []map[string]any{
	{"targets": []string{"127.0.0.1:9100"}, "labels": map[string]string{"conformance_group": "a"}},
	{"targets": []string{"127.0.0.1:9101"}, "labels": map[string]string{"conformance_group": "b"}},
}

func newReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("cannot start the loopback receiver: %w", err)
	}
	r := &receiver{URL: "http://" + ln.Addr().String()}
	r.status.Store(http.StatusOK)
	r.groups.Store(int32(len(receiverGroups)))
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	io.Copy(io.Discard, io.LimitReader(req.Body, 16<<20))
	if req.Method == http.MethodGet {
		r.gets.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(receiverGroups[:r.groups.Load()])
		return
	}
	r.posts.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(r.status.Load()))
	fmt.Fprintln(w, `{"status":"ok"}`)
}

func (r *receiver) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if r.srv.Shutdown(ctx) != nil {
		r.srv.Close()
	}
}
