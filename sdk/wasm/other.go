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
// plugin's unit tests, it is a plain client.
//
// As with any *http.Client, the errors of Do quote the request's URL
// (they are *url.Error): a plugin whose URLs hold secrets, as webhook
// URLs do, should report the error the url.Error wraps instead.
func HTTPClient() *http.Client { return &http.Client{} }

// Logger returns the logger a plugin should use. In a module it logs
// through the host's log import, under the plugin's name; built for
// anything else it logs to stderr.
func Logger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Trace})
}

// Now returns the current time: the host's clock in a module, the
// system's otherwise.
func Now() time.Time { return time.Now() }
