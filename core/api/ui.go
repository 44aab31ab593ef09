package api

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"html"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
)

// uiFiles is the web UI as web/ builds it (make ui): index.html, and the
// scripts and styles under assets/, whose names carry a hash of their
// content.
//
//go:embed ui/dist
var uiFiles embed.FS

// UIPages are the paths the UI's pages answer at, the same as
// Prometheus's where it has the page. / and /query are the query page,
// and /graph too, where Prometheus 2's links and the generator URLs of
// alerts point.
var UIPages = []string{
	"/", "/query", "/graph", "/targets", "/service-discovery", "/rules", "/alerts",
	"/alert-groups", "/silences", "/status", "/tsdb-status", "/config", "/flags", "/plugins",
	"/dashboards", "/dashboards/{name}",
}

// RegisterUI serves the web UI: its document at each of UIPages (the page
// picks what to show by the path) and its assets under /assets/. Assets
// are sent gzipped to clients that accept it, and may be cached for good:
// a new build gives them new names. prefix is the path the server's
// routes are under for its clients (route_prefix), "" for the root: the
// document's <base> says it, and the UI's links, assets and API calls,
// all relative, resolve against it.
func RegisterUI(mux Mux, prefix string) {
	dist, err := fs.Sub(uiFiles, "ui/dist")
	if err != nil {
		panic(fmt.Sprintf("the embedded UI has no ui/dist: %v", err))
	}
	index, err := fs.ReadFile(dist, "index.html")
	if err != nil {
		panic(fmt.Sprintf("the embedded UI has no index.html; run make ui: %v", err))
	}
	index = withBase(index, prefix)
	page := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(index)
	}
	for _, p := range UIPages {
		if p == "/" {
			p = "/{$}"
		}
		mux.HandleFunc("GET "+p, page)
	}
	mux.Handle("GET /assets/", &assetHandler{files: dist})
}

// withBase adds <base href="PREFIX/"> to the head of the document index.
func withBase(index []byte, prefix string) []byte {
	base := fmt.Sprintf("<head>\n<base href=\"%s/\">", html.EscapeString(prefix))
	return bytes.Replace(index, []byte("<head>"), []byte(base), 1)
}

// assetHandler serves the UI's assets from files, each gzipped once, on
// its first request.
type assetHandler struct {
	files fs.FS
	mu    sync.Mutex
	gz    map[string][]byte
}

// ServeHTTP answers an asset, gzipped when the client accepts it.
func (h *assetHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	body, err := fs.ReadFile(h.files, name)
	if err != nil || !strings.HasPrefix(name, "assets/") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(name)))
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Add("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		gz, err := h.gzipped(name, body)
		if err == nil {
			w.Header().Set("Content-Encoding", "gzip")
			body = gz
		}
	}
	w.Write(body)
}

// gzipped returns body gzipped, compressing it on the first call for name.
func (h *assetHandler) gzipped(name string, body []byte) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if gz, ok := h.gz[name]; ok {
		return gz, nil
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("cannot gzip %s: %w", name, err)
	}
	if _, err := zw.Write(body); err != nil {
		return nil, fmt.Errorf("cannot gzip %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("cannot gzip %s: %w", name, err)
	}
	if h.gz == nil {
		h.gz = map[string][]byte{}
	}
	h.gz[name] = buf.Bytes()
	return buf.Bytes(), nil
}

// acceptsGzip reports whether the request's Accept-Encoding lists gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}
