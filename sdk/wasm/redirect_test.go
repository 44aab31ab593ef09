package wasm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// redirectServer answers:
//
//	/r/CODE?to=LOC  with status CODE and Location LOC (none if LOC is empty)
//	/chain/N        with a 302 to the relative chain/N-1, and /chain/0 as /echo
//	/echo           with what it got, in the body and in X-Echo
func redirectServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/r/"):
			code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
			if to := r.URL.Query().Get("to"); to != "" {
				w.Header().Set("Location", to)
			}
			w.WriteHeader(code)
			return
		case strings.HasPrefix(r.URL.Path, "/chain/") && r.URL.Path != "/chain/0":
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/chain/"))
			w.Header().Set("Location", strconv.Itoa(n-1))
			w.WriteHeader(http.StatusFound)
			return
		}
		body, _ := io.ReadAll(r.Body)
		echo := fmt.Sprintf("%s %s auth=%q cookie=%q type=%q x=%q ref=%q body=%q",
			r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Cookie"), r.Header.Get("Content-Type"),
			r.Header.Get("X-Test"), r.Header.Get("Referer"), body)
		w.Header().Set("X-Echo", echo)
		fmt.Fprint(w, echo)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// transportHop makes each hop with an http.Transport, which follows no
// redirect, as the host's http_request does.
func transportHop(t *testing.T) (hopFunc, *[]string) {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	var hops []string
	return func(req *http.Request, body []byte) (*http.Response, error) {
		hops = append(hops, req.Method+" "+req.URL.String())
		r := req.Clone(req.Context())
		if r.Header == nil {
			r.Header = http.Header{}
		}
		r.Body, r.ContentLength = nil, int64(len(body))
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		resp, err := tr.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		resp.Request = req
		return resp, nil
	}, &hops
}

// TestDoRedirects follows redirects with do and with net/http's Client,
// which must agree.
func TestDoRedirects(t *testing.T) {
	srv := redirectServer(t)
	other := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	for _, c := range []struct {
		name, method, url, body string
		header                  http.Header
		want                    string // X-Echo, or the status when there is none
		hops                    int
	}{
		{
			name: "303 turns a POST into a GET without body", method: "POST", url: srv.URL + "/r/303?to=/echo", body: "hi",
			header: http.Header{"Content-Type": {"text/plain"}, "X-Test": {"kept"}},
			want:   `GET /echo auth="" cookie="" type="" x="kept" ref="` + srv.URL + `/r/303?to=/echo" body=""`, hops: 2,
		},
		{
			name: "302 keeps a HEAD", method: "HEAD", url: srv.URL + "/r/302?to=/echo",
			want: `HEAD /echo auth="" cookie="" type="" x="" ref="` + srv.URL + `/r/302?to=/echo" body=""`, hops: 2,
		},
		{
			name: "307 keeps the method and body", method: "POST", url: srv.URL + "/r/307?to=/echo", body: "hi",
			header: http.Header{"Content-Type": {"text/plain"}},
			want:   `POST /echo auth="" cookie="" type="text/plain" x="" ref="` + srv.URL + `/r/307?to=/echo" body="hi"`, hops: 2,
		},
		{
			name: "308 then 307 keep the body", method: "PUT", url: srv.URL + "/r/308?to=" + url.QueryEscape("/r/307?to=/echo"), body: "hi",
			want: `PUT /echo auth="" cookie="" type="" x="" ref="` + srv.URL + `/r/307?to=/echo" body="hi"`, hops: 3,
		},
		{
			name: "a 301 drops the body for good", method: "POST", url: srv.URL + "/r/301?to=" + url.QueryEscape("/r/307?to=/echo"), body: "hi",
			want: `GET /echo auth="" cookie="" type="" x="" ref="` + srv.URL + `/r/307?to=/echo" body=""`, hops: 3,
		},
		{
			name: "the same host keeps Authorization", method: "POST", url: srv.URL + "/r/302?to=" + url.QueryEscape(srv.URL+"/echo"),
			header: http.Header{"Authorization": {"Bearer t"}, "Cookie": {"c=1"}, "X-Test": {"x"}},
			want:   `GET /echo auth="Bearer t" cookie="c=1" type="" x="x" ref="` + srv.URL + `/r/302?to=` + url.QueryEscape(srv.URL+"/echo") + `" body=""`, hops: 2,
		},
		{
			name: "another host gets no Authorization nor Cookie", method: "POST", url: srv.URL + "/r/307?to=" + url.QueryEscape(other+"/echo"), body: "b",
			header: http.Header{"Authorization": {"Bearer t"}, "Cookie": {"c=1"}, "X-Test": {"x"}},
			want:   `POST /echo auth="" cookie="" type="" x="x" ref="` + srv.URL + `/r/307?to=` + url.QueryEscape(other+"/echo") + `" body="b"`, hops: 2,
		},
		{
			name: "nor back on the first host", method: "GET", url: srv.URL + "/r/302?to=" + url.QueryEscape(other+"/r/302?to="+url.QueryEscape(srv.URL+"/echo")),
			header: http.Header{"Authorization": {"Bearer t"}},
			want:   `GET /echo auth="" cookie="" type="" x="" ref="` + other + `/r/302?to=` + url.QueryEscape(srv.URL+"/echo") + `" body=""`, hops: 3,
		},
		{
			name: "a relative Location", method: "GET", url: srv.URL + "/chain/3",
			want: `GET /chain/0 auth="" cookie="" type="" x="" ref="` + srv.URL + `/chain/1" body=""`, hops: 4,
		},
		{
			name: "9 redirects are followed", method: "GET", url: srv.URL + "/chain/9",
			want: `GET /chain/0 auth="" cookie="" type="" x="" ref="` + srv.URL + `/chain/1" body=""`, hops: 10,
		},
		{
			name: "a 3xx without Location is the answer", method: "GET", url: srv.URL + "/r/302",
			want: "302", hops: 1,
		},
		{
			name: "a 304 is the answer", method: "GET", url: srv.URL + "/r/304?to=/echo",
			want: "304", hops: 1,
		},
		{
			name: "the URL's user is basic authentication", method: "GET", url: strings.Replace(srv.URL, "://", "://u:p@", 1) + "/r/302?to=/echo",
			want: `GET /echo auth="Basic dTpw" cookie="" type="" x="" ref="` + srv.URL + `/r/302?to=/echo" body=""`, hops: 2,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got [2]string
			hop, hops := transportHop(t)
			for i, client := range []func(*http.Request) (*http.Response, error){
				func(req *http.Request) (*http.Response, error) { return do(req, hop) },
				(&http.Client{}).Do,
			} {
				var body io.Reader
				if c.body != "" {
					body = strings.NewReader(c.body)
				}
				req, err := http.NewRequestWithContext(t.Context(), c.method, c.url, body)
				if err != nil {
					t.Fatal(err)
				}
				for k, vs := range c.header {
					req.Header[k] = vs
				}
				resp, err := client(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				got[i] = resp.Header.Get("X-Echo")
				if got[i] == "" {
					got[i] = strconv.Itoa(resp.StatusCode)
				}
			}
			if got[0] != c.want {
				t.Errorf("got  %s\nwant %s", got[0], c.want)
			}
			if got[1] != got[0] {
				t.Errorf("net/http got %s", got[1])
			}
			if len(*hops) != c.hops {
				t.Errorf("%d hops, want %d: %q", len(*hops), c.hops, *hops)
			}
		})
	}
}

// TestDoErrors checks that the errors of do are *url.Error as net/http's.
func TestDoErrors(t *testing.T) {
	srv := redirectServer(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name, method, url string
		ctx               context.Context
		op, errURL, err   string
		is                error
		resp              bool
	}{
		{
			name: "10 redirects", method: "GET", url: srv.URL + "/chain/10",
			op: "Get", errURL: "0", err: "stopped after 10 redirects", resp: true,
		},
		{
			name: "no server", method: "POST", url: closed.URL + "/hook",
			op: "Post", errURL: closed.URL + "/hook", err: "connection refused",
		},
		{
			name: "no server after a redirect", method: "PUT", url: srv.URL + "/r/307?to=" + url.QueryEscape(closed.URL+"/x"),
			op: "Put", errURL: closed.URL + "/x", err: "connection refused",
		},
		{
			name: "a bad Location", method: "GET", url: srv.URL + "/r/302?to=" + url.QueryEscape("http://[::1"),
			op: "Get", errURL: srv.URL + "/r/302?to=" + url.QueryEscape("http://[::1"), err: `failed to parse Location header "http://[::1"`,
		},
		{
			name: "a password is masked", method: "GET", url: strings.Replace(closed.URL, "://", "://u:secret@", 1) + "/x",
			op: "Get", errURL: strings.Replace(closed.URL, "://", "://u:***@", 1) + "/x", err: "connection refused",
		},
		{
			name: "a canceled context", method: "POST", url: srv.URL + "/echo", ctx: canceled,
			op: "Post", errURL: srv.URL + "/echo", is: context.Canceled,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := c.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			hop, _ := transportHop(t)
			for i, client := range []func(*http.Request) (*http.Response, error){
				func(req *http.Request) (*http.Response, error) { return do(req, hop) },
				(&http.Client{}).Do,
			} {
				who := [...]string{"do", "net/http"}[i]
				req, err := http.NewRequestWithContext(ctx, c.method, c.url, strings.NewReader("body"))
				if err != nil {
					t.Fatal(err)
				}
				resp, err := client(req)
				var ue *url.Error
				if !errors.As(err, &ue) {
					t.Fatalf("%s: %T %v, want a *url.Error", who, err, err)
				}
				if ue.Op != c.op || ue.URL != c.errURL || !strings.Contains(ue.Err.Error(), c.err) || (c.is != nil && !errors.Is(err, c.is)) {
					t.Errorf("%s: Op %q URL %q Err %v, want %q %q %q %v", who, ue.Op, ue.URL, ue.Err, c.op, c.errURL, c.err, c.is)
				}
				if (resp != nil) != c.resp {
					t.Errorf("%s: response %v with the error", who, resp)
				}
			}
		})
	}
}

// TestSameDomain checks which hops keep the sensitive headers: the
// first host and its subdomains only, as net/http's
// shouldCopyHeaderOnRedirect.
func TestSameDomain(t *testing.T) {
	for _, c := range []struct {
		initial, dest string
		want          bool
	}{
		{"https://example.com/a", "https://example.com:8443/b", true},
		{"https://example.com/a", "https://hooks.example.com/b", true},
		{"https://hooks.example.com/a", "https://example.com/b", false},
		{"https://example.com/a", "https://badexample.com/b", false},
		{"https://example.com/a", "https://example.org/b", false},
		{"http://[::1]:80/a", "http://[::1]:81/b", true},
		{"http://[::1]/a", "http://[fe80::1%25.example.com]/b", false},
	} {
		i, _ := url.Parse(c.initial)
		d, _ := url.Parse(c.dest)
		if got := sameDomain(i, d); got != c.want {
			t.Errorf("%s -> %s: %v, want %v", c.initial, c.dest, got, c.want)
		}
	}
}

// TestZeroClient: a Client made without HTTPClient sends requests too.
func TestZeroClient(t *testing.T) {
	srv := redirectServer(t)
	for _, c := range []*Client{new(Client), HTTPClient()} {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/chain/2", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/chain/0" {
			t.Errorf("status %d at %s, want 200 at /chain/0", resp.StatusCode, resp.Request.URL.Path)
		}
		c.CloseIdleConnections()
	}
}
