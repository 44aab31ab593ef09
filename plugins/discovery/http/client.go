//go:build !wasip1

package main

import (
	"crypto/tls"
	"net/http"

	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/sdk"
)

// newClient returns the client the program polls with: its own
// connections, with TLS 1.2 at least.
func newClient(insecure bool) (*http.Client, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: insecure, //nolint:gosec // the user asked for it.
	}
	return &http.Client{Transport: transport}, nil
}

// logger is the program's logger, which the host reads on stderr.
func logger() hclog.Logger { return sdk.Logger() }
