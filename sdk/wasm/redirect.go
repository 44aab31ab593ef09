package wasm

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxRedirects is how many redirects Client.Do follows, as net/http's
// Client does by default.
const maxRedirects = 10

// hopFunc makes one HTTP request, following no redirect: req's method,
// URL and header, with body as its body (none when nil). The body of
// req is not read. The response's Request is req.
type hopFunc func(req *http.Request, body []byte) (*http.Response, error)

// do sends req with hop and follows the redirects of its answers as
// net/http's Client does with its default policy and no cookie jar,
// each hop a request of its own:
//
//   - 301, 302 and 303 are followed with GET and no body (a HEAD stays
//     a HEAD), 307 and 308 with the same method and body; the body is
//     read once, so a 307 or 308 can always send it again;
//   - a relative Location is resolved against the URL of the request
//     it answers; a 3xx without Location is the response;
//   - the headers of req are sent again, but Authorization,
//     WWW-Authenticate, Cookie, Cookie2, Proxy-Authorization and
//     Proxy-Authenticate are dropped once a hop leaves req's host and
//     its subdomains, and the headers about the body when the body is
//     dropped; a Referer names the previous hop unless it goes from
//     https to http;
//   - the 10th redirect is an error, returned with its response, whose
//     body is closed.
//
// Its errors are *url.Error, with the Op net/http gives them ("Get",
// "Post"...) and the URL of the hop that failed. The user information
// of a URL is sent as basic authentication when req has no
// Authorization header, as net/http does.
func do(req *http.Request, hop hopFunc) (*http.Response, error) {
	op := urlErrorOp(req.Method)
	if req.URL == nil {
		closeBody(req)
		return nil, &url.Error{Op: op, Err: errors.New("http: nil Request.URL")}
	}
	var (
		body []byte
		err  error
	)
	if req.Body != nil && req.Body != http.NoBody {
		body, err = io.ReadAll(req.Body)
	}
	closeBody(req)
	if err != nil {
		return nil, &url.Error{Op: op, URL: stripPassword(req.URL), Err: fmt.Errorf("read request body: %w", err)}
	}

	initial := req
	var (
		hops           int
		stripSensitive bool
		dropBody       bool
	)
	for {
		send := withURLAuth(req)
		hops++
		var hopBody []byte
		if !dropBody {
			hopBody = body
		}
		resp, err := hop(send, hopBody)
		if err != nil {
			return nil, &url.Error{Op: op, URL: stripPassword(req.URL), Err: err}
		}
		method, follow, keepBody := redirectBehavior(req.Method, resp.StatusCode)
		if !follow {
			return resp, nil
		}
		loc := resp.Header.Get("Location")
		if loc == "" {
			// A 3xx without Location is seen in the wild: it is the
			// answer.
			return resp, nil
		}
		closeResponse(resp)
		u, err := req.URL.Parse(loc)
		if err != nil {
			return nil, &url.Error{Op: op, URL: stripPassword(req.URL), Err: fmt.Errorf("failed to parse Location header %q: %v", loc, err)}
		}
		if !keepBody {
			// Once a hop drops the body, no later hop sends it.
			dropBody = true
		}
		if !stripSensitive && initial.URL.Host != u.Host && !sameDomain(initial.URL, u) {
			stripSensitive = true
		}
		next := (&http.Request{
			Method: method,
			URL:    u,
			Header: redirectHeader(initial.Header, stripSensitive, dropBody),
		}).WithContext(initial.Context())
		if ref := refererForURL(req.URL, u, next.Header.Get("Referer")); ref != "" {
			next.Header.Set("Referer", ref)
		}
		if hops >= maxRedirects {
			return resp, &url.Error{Op: op, URL: loc, Err: fmt.Errorf("stopped after %d redirects", maxRedirects)}
		}
		req = next
	}
}

// redirectBehavior says whether an answer of status to a request of
// method is followed, with which method, and whether the body is sent
// again; net/http's rule.
func redirectBehavior(method string, status int) (next string, follow, keepBody bool) {
	if method == "" {
		method = http.MethodGet
	}
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther:
		if method != http.MethodGet && method != http.MethodHead {
			method = http.MethodGet
		}
		return method, true, false
	case http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return method, true, true
	}
	return method, false, false
}

// redirectHeader copies the headers of the first request for a later
// hop, without the sensitive ones when stripSensitive, and without those
// about the body when dropBody.
func redirectHeader(h http.Header, stripSensitive, dropBody bool) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "Www-Authenticate", "Cookie", "Cookie2", "Proxy-Authorization", "Proxy-Authenticate":
			if stripSensitive {
				continue
			}
		case "Content-Encoding", "Content-Language", "Content-Location", "Content-Type":
			if dropBody {
				continue
			}
		}
		out[k] = vs
	}
	return out
}

// sameDomain reports whether dest's host is initial's or one of its
// subdomains, to which net/http still sends the sensitive headers. As
// in net/http, an ASCII host name is compared as written.
func sameDomain(initial, dest *url.URL) bool {
	sub, parent := dest.Hostname(), initial.Hostname()
	if sub == parent {
		return true
	}
	// A host with a colon or a percent sign is an IPv6 address, maybe
	// with a zone: no subdomain of anything.
	if strings.ContainsAny(sub, ":%") {
		return false
	}
	return strings.HasSuffix(sub, "."+parent)
}

// refererForURL is the Referer of a hop from lastReq to newReq: the
// last URL without its user information, unless the caller set one, and
// none from https to http.
func refererForURL(lastReq, newReq *url.URL, explicit string) string {
	if lastReq.Scheme == "https" && newReq.Scheme == "http" {
		return ""
	}
	if explicit != "" {
		return explicit
	}
	ref := *lastReq
	ref.User = nil
	return ref.String()
}

// withURLAuth returns req, or a copy of it sending the user information
// of its URL as basic authentication when it has no Authorization.
func withURLAuth(req *http.Request) *http.Request {
	u := req.URL.User
	if u == nil || req.Header.Get("Authorization") != "" {
		return req
	}
	password, _ := u.Password()
	out := req.Clone(req.Context())
	if out.Header == nil {
		out.Header = http.Header{}
	}
	out.SetBasicAuth(u.Username(), password)
	return out
}

// urlErrorOp is the Op of the *url.Error of a request of method, as
// net/http names it: "Get", "Post"...
func urlErrorOp(method string) string {
	if method == "" {
		return "Get"
	}
	return method[:1] + strings.ToLower(method[1:])
}

// stripPassword is u for an error: its password, if any, masked.
func stripPassword(u *url.URL) string {
	if _, ok := u.User.Password(); ok {
		return strings.Replace(u.String(), u.User.String()+"@", u.User.Username()+":***@", 1)
	}
	return u.String()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// closeResponse reads a little of a redirect's body, as net/http does
// to reuse its connection, and closes it.
func closeResponse(resp *http.Response) {
	io.CopyN(io.Discard, resp.Body, 2<<10)
	resp.Body.Close()
}
