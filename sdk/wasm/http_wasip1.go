//go:build wasip1

package wasm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
	"unsafe"
)

//go:wasmimport vigil http_request
func hostHTTPRequest(ptr unsafe.Pointer, size uint32) uint64

// HTTPClient returns the client a plugin makes HTTP requests with. In a
// module its requests go through the host's http_request import; built
// for anything else, as in a plugin's unit tests, it is a plain
// *http.Client underneath.
//
// The host makes each request on the module's behalf, to the hosts that
// the plugin block's allow_hosts lists only: a request to any other
// fails with an error wrapping ErrHostNotAllowed. The host does not
// follow redirects; the client does, each hop checked again. A request
// ends at the call's deadline at the latest.
//
// A Client costs nothing to make: call HTTPClient where a request is
// made rather than keeping a Client in the plugin's notifier, exporter or
// discoverer. The SDK holds those in interfaces, and when a module calls
// methods by name, as text/template does, the linker keeps every
// exported method of every type such a value reaches: through Do,
// *http.Response, and through its TLS field, crypto/x509's certificate
// verification, 1.6 MB of a module.
func HTTPClient() *Client { return &Client{} }

// Client makes a plugin's HTTP requests, as an *http.Client with its
// default policy would: it follows up to 10 redirects as net/http does,
// dropping the Authorization and Cookie headers on a hop to another
// host, and the errors of Do are *url.Error. Unlike *http.Client, it
// has no Transport: in a module, the host's http_request import makes
// each request, so crypto/tls and net/http's Transport are not linked
// in, which keeps the module small and its loading quick. Built for
// anything but wasip1, it is a plain *http.Client.
//
// As with an *http.Client, the errors of Do quote the request's URL: a
// plugin whose URLs hold secrets, as webhook URLs do, should report the
// error the url.Error wraps instead. The zero Client is ready to use.
type Client struct{}

// Do sends req and returns the answer, following redirects. As with
// net/http, the body of the answer must be closed, and a non-2xx status
// is no error.
func (*Client) Do(req *http.Request) (*http.Response, error) { return do(req, hostRequest) }

// CloseIdleConnections does nothing: the host keeps the connections.
// It is there so that a Client can stand in for an *http.Client.
func (*Client) CloseIdleConnections() {}

// hostRequest makes one request through the http_request import.
func hostRequest(req *http.Request, body []byte) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	msg := HTTPRequest{Method: req.Method, URL: req.URL.String(), Header: req.Header, Body: body}
	if msg.Method == "" {
		msg.Method = http.MethodGet
	}
	if d, ok := req.Context().Deadline(); ok {
		left := time.Until(d).Milliseconds()
		if left <= 0 {
			// Less than a millisecond is left: the host could not
			// bound the request.
			return nil, context.DeadlineExceeded
		}
		msg.TimeoutMillis = left
	}
	in := appendHTTPRequest(nil, &msg)
	ptr, size := Unpack(hostHTTPRequest(unsafe.Pointer(unsafe.SliceData(in)), uint32(len(in))))
	out, ok := pinned[ptr]
	delete(pinned, ptr)
	if ptr == 0 || !ok || uint32(len(out)) < size {
		return nil, errors.New("the host gave no response to http_request")
	}
	var resp HTTPResponse
	if err := decodeHTTPResponse(out[:size], &resp); err != nil {
		return nil, fmt.Errorf("decode the host's response: %w", err)
	}
	switch {
	case resp.Denied:
		return nil, fmt.Errorf("%w: %s", ErrHostNotAllowed, resp.Error)
	case resp.Error != "":
		return nil, errors.New(resp.Error)
	}
	header := http.Header(resp.Header)
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{
		Status:        strconv.Itoa(resp.Status) + " " + http.StatusText(resp.Status),
		StatusCode:    resp.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(bytes.NewReader(resp.Body)),
		ContentLength: int64(len(resp.Body)),
		Request:       req,
	}, nil
}
