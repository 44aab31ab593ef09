package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// resource is a kind of object the test API server serves.
type resource struct {
	prefix string // "/api/v1" or "/apis/GROUP/VERSION"
	name   string // "pods"
	kind   string // "Pod"
}

func (r resource) apiVersion() string {
	if r.prefix == "/api/v1" {
		return "v1"
	}
	return strings.TrimPrefix(r.prefix, "/apis/")
}

var resources = []resource{
	{"/api/v1", "pods", "Pod"},
	{"/api/v1", "services", "Service"},
	{"/api/v1", "endpoints", "Endpoints"},
	{"/api/v1", "nodes", "Node"},
	{"/api/v1", "namespaces", "Namespace"},
	{"/apis/discovery.k8s.io/v1", "endpointslices", "EndpointSlice"},
	{"/apis/networking.k8s.io/v1", "ingresses", "Ingress"},
	{"/apis/apps/v1", "replicasets", "ReplicaSet"},
	{"/apis/batch/v1", "jobs", "Job"},
}

// event is one change to an object, as a watch sends it.
type event struct {
	rv     int
	typ    string // ADDED, MODIFIED, DELETED
	ns     string
	object map[string]any
}

// apiServer answers list and watch requests in the shapes a Kubernetes
// API server sends, JSON-encoded: a list with its resourceVersion, a
// watch as a stream of {"type", "object"} events, and, for a watch that
// asks for the initial events (client-go's watch-list), an ADDED event
// per object and a BOOKMARK marking their end. The test changes objects
// with add, update and remove, which watches then stream.
type apiServer struct {
	*httptest.Server
	mu      sync.Mutex
	rv      int
	objects map[string]map[string]map[string]any // resource name, namespace/name
	events  map[string][]event
	changed chan struct{} // closed and replaced on every change
	done    chan struct{} // closed when the test ends, ending watches
}

func newAPIServer(t *testing.T) *apiServer {
	t.Helper()
	s := &apiServer{
		rv: 1, objects: map[string]map[string]map[string]any{}, events: map[string][]event{},
		changed: make(chan struct{}), done: make(chan struct{}),
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		close(s.done)
		s.Close()
	})
	return s
}

func resourceOf(kind string) resource {
	for _, r := range resources {
		if r.kind == kind {
			return r
		}
	}
	panic("unknown kind " + kind)
}

func (s *apiServer) change(typ string, obj map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := resourceOf(obj["kind"].(string))
	meta := obj["metadata"].(map[string]any)
	ns, _ := meta["namespace"].(string)
	key := ns + "/" + meta["name"].(string)
	s.rv++
	meta["resourceVersion"] = strconv.Itoa(s.rv)
	if meta["uid"] == nil {
		meta["uid"] = fmt.Sprintf("uid-%s-%s", r.name, key)
	}
	obj["apiVersion"] = r.apiVersion()
	if s.objects[r.name] == nil {
		s.objects[r.name] = map[string]map[string]any{}
	}
	if typ == "DELETED" {
		delete(s.objects[r.name], key)
	} else {
		s.objects[r.name][key] = obj
	}
	s.events[r.name] = append(s.events[r.name], event{rv: s.rv, typ: typ, ns: ns, object: clone(obj)})
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *apiServer) add(obj map[string]any)    { s.change("ADDED", obj) }
func (s *apiServer) update(obj map[string]any) { s.change("MODIFIED", obj) }
func (s *apiServer) remove(obj map[string]any) { s.change("DELETED", obj) }

func clone(obj map[string]any) map[string]any {
	b, _ := json.Marshal(obj)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

func (s *apiServer) serve(w http.ResponseWriter, r *http.Request) {
	var res resource
	ns := ""
	for _, c := range resources {
		rest, ok := strings.CutPrefix(r.URL.Path, c.prefix+"/")
		if !ok {
			continue
		}
		if after, ok := strings.CutPrefix(rest, "namespaces/"); ok && strings.Contains(after, "/") {
			ns, rest, _ = strings.Cut(after, "/")
		}
		if rest == c.name {
			res = c
			break
		}
	}
	if res.name == "" || r.Method != http.MethodGet {
		http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	q := r.URL.Query()
	if q.Get("watch") != "true" && q.Get("watch") != "1" {
		s.mu.Lock()
		items := s.items(res.name, ns)
		list := map[string]any{"kind": res.kind + "List", "apiVersion": res.apiVersion(),
			"metadata": map[string]any{"resourceVersion": strconv.Itoa(s.rv)}, "items": items}
		s.mu.Unlock()
		_ = json.NewEncoder(w).Encode(list)
		return
	}
	s.watch(w, r, res, ns)
}

// items returns the objects of a resource in a namespace, or in all
// of them; s.mu is held.
func (s *apiServer) items(name, ns string) []map[string]any {
	items := []map[string]any{}
	for _, key := range slices.Sorted(maps.Keys(s.objects[name])) {
		if ns == "" || strings.HasPrefix(key, ns+"/") {
			items = append(items, s.objects[name][key])
		}
	}
	return items
}

func (s *apiServer) watch(w http.ResponseWriter, r *http.Request, res resource, ns string) {
	flusher := w.(http.Flusher)
	enc := json.NewEncoder(w)
	q := r.URL.Query()
	s.mu.Lock()
	last, _ := strconv.Atoi(q.Get("resourceVersion"))
	var initial []map[string]any
	if q.Get("sendInitialEvents") == "true" {
		for _, obj := range s.items(res.name, ns) {
			initial = append(initial, map[string]any{"type": "ADDED", "object": obj})
		}
		last = s.rv
		initial = append(initial, map[string]any{"type": "BOOKMARK", "object": map[string]any{
			"kind": res.kind, "apiVersion": res.apiVersion(),
			"metadata": map[string]any{"resourceVersion": strconv.Itoa(s.rv),
				"annotations": map[string]any{"k8s.io/initial-events-end": "true"}},
		}})
	} else if last == 0 {
		last = s.rv
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	for _, e := range initial {
		_ = enc.Encode(e)
	}
	flusher.Flush()
	for {
		s.mu.Lock()
		var pending []event
		for _, e := range s.events[res.name] {
			if e.rv > last && (ns == "" || e.ns == ns) {
				pending = append(pending, e)
			}
		}
		changed := s.changed
		s.mu.Unlock()
		for _, e := range pending {
			if err := enc.Encode(map[string]any{"type": e.typ, "object": e.object}); err != nil {
				return
			}
			last = e.rv
		}
		flusher.Flush()
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}
