package api

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// getRaw fetches path from srv without the client's own decompression, so
// that the test sees the bytes the server sent.
func getRaw(t *testing.T, srv *httptest.Server, path, acceptEncoding string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestUIPagesAndAssets(t *testing.T) {
	mux := http.NewServeMux()
	RegisterUI(mux, "")
	srv := httptest.NewServer(mux)
	defer srv.Close()

	built, err := fs.ReadFile(uiFiles, "ui/dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	// The document says where the UI is, the root: its links, assets and
	// API calls are relative to it.
	index := bytes.Replace(built, []byte("<head>"), []byte("<head>\n<base href=\"/\">"), 1)
	if bytes.Equal(index, built) {
		t.Fatalf("index.html has no <head>:\n%s", built)
	}
	for _, page := range UIPages {
		resp, body := getRaw(t, srv, page, "")
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !bytes.Equal(body, index) {
			t.Errorf("GET %s: %s %q, %d bytes; want the UI's index.html", page, resp.Status, resp.Header.Get("Content-Type"), len(body))
		}
	}

	// Every asset the document names is served, gzipped to a client that
	// accepts it and plain to one that does not, cacheable for good.
	assets := regexp.MustCompile(`"\.(/assets/[^"]+)"`).FindAllStringSubmatch(string(index), -1)
	if len(assets) < 2 {
		t.Fatalf("index.html names %d assets, want a script and a style sheet:\n%s", len(assets), index)
	}
	for _, m := range assets {
		path := m[1]
		want, err := fs.ReadFile(uiFiles, "ui/dist"+path)
		if err != nil {
			t.Fatalf("index.html names %s, which the build lacks: %v", path, err)
		}
		resp, body := getRaw(t, srv, path, "br, gzip;q=0.8")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" ||
			!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Fatalf("GET %s accepting gzip: %s, headers %v", path, resp.Status, resp.Header)
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("GET %s gunzipped: %d bytes, %v; want the %d bytes of the build", path, len(got), err, len(want))
		}
		if len(body) >= len(want) {
			t.Errorf("GET %s: gzipped %d bytes, plain %d", path, len(body), len(want))
		}
		resp, body = getRaw(t, srv, path, "gzip;q=0")
		if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, want) {
			t.Errorf("GET %s refusing gzip: encoding %q, %d bytes; want the %d plain bytes", path, resp.Header.Get("Content-Encoding"), len(body), len(want))
		}
		wantType := map[bool]string{true: "text/javascript", false: "text/css"}[strings.HasSuffix(path, ".js")]
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, wantType) {
			t.Errorf("GET %s: Content-Type %q, want %s", path, ct, wantType)
		}
	}

	for _, path := range []string{"/assets/missing.js", "/no-such-page", "/assets/"} {
		if resp, _ := getRaw(t, srv, path, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", path, resp.Status)
		}
	}
}

func TestUIUnderPrefix(t *testing.T) {
	mux := http.NewServeMux()
	RegisterUI(mux, "/vi<gil")
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, body := getRaw(t, srv, "/targets", "")
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`<head>
<base href="/vi&lt;gil/">`)) {
		t.Errorf("GET /targets: %s, want the document with its base under the prefix, escaped:\n%s", resp.Status, body)
	}
}
