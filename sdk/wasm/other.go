//go:build !wasip1

package wasm

import (
	"net/http"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
)

// HTTPClient returns the client a plugin makes HTTP requests with. In a
// module its requests go through the host's http_request import, to the
// hosts the plugin block's allow_hosts lists only (others fail with an
// error wrapping ErrHostNotAllowed); built for anything else, as in a
// plugin's unit tests, it is a plain *http.Client underneath.
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
type Client struct{ client http.Client }

// Do sends req and returns the answer, following redirects. As with
// net/http, the body of the answer must be closed, and a non-2xx status
// is no error.
func (c *Client) Do(req *http.Request) (*http.Response, error) { return c.client.Do(req) }

// CloseIdleConnections closes the connections the client keeps open
// (in a module, the host keeps them, and it does nothing).
func (c *Client) CloseIdleConnections() { c.client.CloseIdleConnections() }

// Logger returns the logger a plugin should use. In a module it logs
// through the host's log import, under the plugin's name; built for
// anything else it logs to stderr.
func Logger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Trace})
}

// Now returns the current time: the host's clock in a module, the
// system's otherwise.
func Now() time.Time { return time.Now() }
