package registry

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Handler serves a registry folder, as Publish fills it, over HTTP: the
// discovery document, the plugin API's JSON documents (with
// Content-Type application/json), the archives and the SHA256SUMS files
// with their signatures. Only GET and HEAD are answered; folders are
// not listed, and files whose names start with "." are not served. Any
// static web server that serves the folder as it is works as well.
func Handler(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := path.Clean("/" + r.URL.Path)
		for _, part := range strings.Split(p, "/") {
			if strings.HasPrefix(part, ".") && p != "/"+DiscoveryPath {
				http.NotFound(w, r)
				return
			}
		}
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil || fi.IsDir() {
			http.NotFound(w, r)
			return
		}
		if p == "/"+DiscoveryPath || isJSONDocument(p) {
			w.Header().Set("Content-Type", "application/json")
		}
		r.URL.Path = p
		files.ServeHTTP(w, r)
	})
}

// isJSONDocument says whether p is a versions or download document.
func isJSONDocument(p string) bool {
	rest, ok := strings.CutPrefix(p, "/"+apiDir+"/")
	if !ok {
		return false
	}
	parts := strings.Split(rest, "/")
	return (len(parts) == 3 && parts[2] == "versions") || (len(parts) == 6 && parts[3] == "download")
}
